package energy

import (
	"runtime"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// Goroutine dumps: parsing them, and the split they give where the g layout
// is unknown (see the end of this file).

// gCount is one goroutine of a dump: its id and whether it counts for CPU
// (running, runnable) and GPU (those, plus syscall) attribution.
type gCount struct {
	id       int64
	cpu, gpu int
}

type dumpCounts struct {
	gs  []gCount // goroutines that count (the caller excluded)
	all []int64  // every goroutine id in the dump
}

// parseDump reads the header lines of a runtime.Stack(all=true) dump,
// "goroutine 18 [running]:" or "goroutine 7 [chan receive, 2 minutes]:".
// The first goroutine is the caller (the sampler itself) and is skipped.
func parseDump(b []byte) dumpCounts { return parseDumpInto(b, dumpCounts{}) }

// parseDumpInto is parseDump reusing the slices of out.
func parseDumpInto(b []byte, out dumpCounts) dumpCounts {
	out.gs, out.all = out.gs[:0], out.all[:0]
	first := true
	for i := 0; i < len(b); {
		// b[i:] starts a line.
		end := i
		for end < len(b) && b[end] != '\n' {
			end++
		}
		line := b[i:end]
		i = end + 1
		const prefix = "goroutine "
		if len(line) < len(prefix)+3 || string(line[:len(prefix)]) != prefix {
			continue
		}
		rest := line[len(prefix):]
		var id int64
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			id = id*10 + int64(rest[j]-'0')
			j++
		}
		if j == 0 {
			continue
		}
		// The state is between the first '[' and the next ',' or ']'.
		k := j
		for k < len(rest) && rest[k] != '[' {
			k++
		}
		if k == len(rest) {
			continue
		}
		k++
		e := k
		for e < len(rest) && rest[e] != ',' && rest[e] != ']' {
			e++
		}
		state := string(rest[k:e])
		out.all = append(out.all, id)
		if first {
			first = false
			continue
		}
		var c gCount
		switch state {
		case "running", "runnable":
			c = gCount{id: id, cpu: 1, gpu: 1}
		case "syscall":
			c = gCount{id: id, gpu: 1}
		default:
			continue
		}
		out.gs = append(out.gs, c)
	}
	return out
}

// The fallback split, where the g layout is unknown: one goroutine dump per
// interval at most, on a budget.
//
// A goroutine dump stops the world and formats every stack; it costs about
// 10 µs per goroutine, plus the time to preempt running goroutines (0.5-3
// ms measured on a loaded 2-core VM). Dumps therefore run on a budget,
// TRACEGEN_ENERGY_BUDGET (default 0.005: 0.5 % of one core): each interval
// earns interval × budget of dump time, a dump is taken when the earned
// time covers the typical (moving average) dump cost, and the energy of
// intervals without a dump is carried to the next dump. Each goroutine that
// is running or runnable counts one, and its count goes to the innermost
// span current on that goroutine; GPU energy counts goroutines in a system
// call too.

// dumpSampleLocked reads the meter and, budget permitting, splits the
// energy since the last dump by a goroutine dump; s.mu is held.
func (s *sampler) dumpSampleLocked(now time.Time) {
	defer func() {
		if v := recover(); v != nil {
			energyLogOnce("sample-panic", "energy sampler: %v; sampling stops", v)
			s.meter = nil
		}
	}()
	proc, err := s.meter.CPUTime()
	rd := s.meter.ReadWith(now, proc, err)
	s.lastRead, s.readProc = now, proc
	s.account(rd)
	s.carry.CPUJ += rd.CPUJ
	s.carry.MemoryJ += rd.MemoryJ
	s.carry.GPUJ += rd.GPUJ
	s.carry.ProcessCPU += rd.ProcessCPU
	defer s.publish()
	if s.carry.ActiveJ() == 0 {
		return
	}
	if spanCore().CurrentCount() == 0 {
		s.stats.UnattributedJ += s.carry.ActiveJ()
		s.carry = sensor.Reading{}
		return
	}
	// Earn dump time; keep at most a few dumps' worth so that a long quiet
	// spell does not pay for a burst of dumps. The next dump is priced at
	// the moving average of past costs, not at the last one: a single slow
	// dump (a stalled stop-the-world) must not stop dumps for long, or the
	// energy of a long gap would all go to whoever runs at its end. Debt is
	// floored at one second's budget for the same reason.
	s.tokens += time.Duration(float64(rd.Elapsed) * s.budget)
	s.tokens = min(s.tokens, max(4*s.typCost, 4*time.Duration(float64(s.interval)*s.budget)))
	if s.tokens < s.typCost {
		return
	}
	if n := runtime.NumGoroutine(); n > maxDumpGoroutines {
		// A dump stops the world for about 10 µs per goroutine: too long here.
		energyLogOnce("too-many-goroutines", "%d goroutines: energy is measured but not split among spans (goroutine dumps would pause the program too long)", n)
		s.stats.UnattributedJ += s.carry.ActiveJ()
		s.carry = sensor.Reading{}
		return
	}
	s.attributeDump()
}

// attributeDump takes a goroutine dump and splits s.carry among spans.
func (s *sampler) attributeDump() {
	t0 := time.Now()
	dump := s.dump()
	s.dcounts = parseDumpInto(dump.b, s.dcounts)
	counts := s.dcounts
	cost := time.Since(t0)
	s.stats.Dumps++
	s.dumpNanos += int64(cost)
	if s.typCost == 0 {
		s.typCost = cost
	} else {
		s.typCost = (4*s.typCost + cost) / 5
	}
	s.tokens = max(s.tokens-cost, -time.Duration(float64(time.Second)*s.budget))
	s.stats.DumpMax = max(s.stats.DumpMax, cost)
	s.stats.DumpTotal += cost

	cpuW, gpuW := 0, 0
	for _, g := range counts.gs {
		cpuW += g.cpu
		gpuW += g.gpu
	}
	attributed := 0.0
	if cpuW > 0 || gpuW > 0 {
		for _, g := range counts.gs {
			sp := spanCore().CurrentOf(g.id)
			if sp == nil {
				continue
			}
			// addEnergyAtomic, not AddEnergy: a span reached through the
			// current-span map may still be initialising on its goroutine,
			// so only its atomic accumulators may be touched here.
			if cpuW > 0 && g.cpu > 0 {
				f := float64(g.cpu) / float64(cpuW)
				addEnergyAtomic(sp, record.EnergyCPU, s.carry.CPUJ*f)
				addEnergyAtomic(sp, record.EnergyMemory, s.carry.MemoryJ*f)
				attributed += (s.carry.CPUJ + s.carry.MemoryJ) * f
			}
			if gpuW > 0 && g.gpu > 0 {
				f := float64(g.gpu) / float64(gpuW)
				addEnergyAtomic(sp, record.EnergyGPU, s.carry.GPUJ*f)
				attributed += s.carry.GPUJ * f
			}
		}
	}
	s.stats.AttributedJ += attributed
	s.stats.UnattributedJ += s.carry.ActiveJ() - attributed
	s.carry = sensor.Reading{}

	// Drop current-span entries of goroutines that exited inside a span.
	s.prunes++
	if !dump.truncated && s.prunes%50 == 0 {
		s.pruneDead(counts.all)
	}
}

// pruneByDump drops the current spans of goroutines that exited inside a
// span whose g was reused since (the ticks only see a dead g that was not).
// It takes a goroutine dump, so it runs rarely (every 50 intervals) and
// only when there are current spans.
func (s *sampler) pruneByDump() {
	if s.current == 0 || runtime.NumGoroutine() > maxDumpGoroutines {
		return
	}
	dump := s.dump()
	if dump.truncated {
		return
	}
	s.dcounts = parseDumpInto(dump.b, s.dcounts)
	s.pruneDead(s.dcounts.all)
}

func (s *sampler) pruneDead(all []int64) {
	alive := make(map[int64]bool, len(all))
	for _, id := range all {
		alive[id] = true
	}
	spanCore().PruneCurrent(func(id int64) bool { return alive[id] })
}

type dumpResult struct {
	b         []byte
	truncated bool
}

// dump returns runtime.Stack(all) in a buffer grown as needed (up to
// maxDumpBytes).
func (s *sampler) dump() dumpResult {
	if s.buf == nil {
		s.buf = make([]byte, 64<<10)
	}
	for {
		n := runtime.Stack(s.buf, true)
		if n < len(s.buf) {
			return dumpResult{b: s.buf[:n]}
		}
		if len(s.buf) >= maxDumpBytes {
			return dumpResult{b: s.buf[:n], truncated: true}
		}
		s.buf = make([]byte, 2*len(s.buf))
	}
}
