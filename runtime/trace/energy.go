package trace

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// The energy sampler.
//
// One goroutine, started by the first span of a pipeline (start hook) and
// stopped by Shutdown/Stop (stop hook), wakes every TRACEGEN_SAMPLE_INTERVAL
// (default 100 ms). Each time it asks the sensor.Meter for the energy of the
// interval (CPU, memory and GPU energy this process caused; the idle part is
// kept apart) and splits that energy among the spans that were using the
// CPU. Go has no per-goroutine CPU clock, so the split is a sampling
// profiler: a goroutine dump (runtime.Stack with all=true) lists every
// goroutine with its state; each goroutine that is running or runnable
// counts one, and its count goes to the innermost span current on that
// goroutine (the core's goroutine-local current span). The interval's CPU
// and memory energy is divided by the total count, including goroutines
// that run outside any span (their share stays unattributed), so the sum
// over all spans never exceeds what the process drew. GPU energy uses the
// same counts plus goroutines in a system call (cgo calls into CUDA show as
// "syscall"). Like pprof, this is unbiased in expectation; spans much
// shorter than the interval are attributed statistically.
//
// Cost control: a goroutine dump stops the world and formats every stack;
// it costs about 10 µs per goroutine, plus the time to preempt running
// goroutines (0.5-3 ms measured on a loaded 2-core VM). Dumps therefore run
// on a budget, TRACEGEN_ENERGY_BUDGET (default 0.005: 0.5 % of one core):
// each interval earns interval × budget of dump time, a dump is taken when
// the earned time covers the typical (moving average) dump cost, and the
// energy of intervals without a dump is carried to the next dump. No dump
// is taken when no span is current or when the process used no energy since
// the last dump. Fewer dumps make the split noisier, and the energy carried
// over a gap goes to what runs at its end: the split is biased only at span
// boundaries, by at most one gap.
//
// Nothing of this runs unless tracing is enabled, and TRACEGEN_ENERGY=off
// disables it entirely (no goroutine, no file read). Sync mode
// (TRACEGEN_SYNC=1) promises no background goroutine, so it samples no
// energy either; LLM estimates are still converted.

// EnvSampleInterval sets the sampling period (a Go duration or
// milliseconds; default 100ms, clamped to [10ms, 10s]).
const EnvSampleInterval = "TRACEGEN_SAMPLE_INTERVAL"

// DefaultSampleInterval is the sampling period (10 Hz).
const DefaultSampleInterval = 100 * time.Millisecond

// EnvEnergyBudget is the share of one core goroutine dumps may use.
const EnvEnergyBudget = "TRACEGEN_ENERGY_BUDGET"

// DefaultEnergyBudget is 0.5 % of one core.
const DefaultEnergyBudget = 0.005

// maxDumpGoroutines is the most goroutines a dump is taken with (a dump of
// 10,000 goroutines pauses the program for about 0.1 s).
var maxDumpGoroutines = 10000 // a variable for tests

// maxDumpBytes caps the goroutine dump buffer.
const maxDumpBytes = 16 << 20

// EnergyStats are the process-wide energy counters (joules unless said).
type EnergyStats struct {
	// Source is the energy_source label of measured energy ("" when the
	// sampler never ran).
	Source string
	// ProcessJ is the active energy this process drew while sampled
	// (CPU + memory + GPU); AttributedJ the part given to spans;
	// UnattributedJ the rest (goroutines outside spans, intervals with no
	// running span goroutine). AttributedJ + UnattributedJ == ProcessJ.
	ProcessJ, AttributedJ, UnattributedJ float64
	// IdleJ is the idle (static) energy of the CPUs the process may use;
	// never attributed.
	IdleJ float64
	// ProcessCPU is the CPU time of the process over the sampled intervals.
	ProcessCPU time.Duration
	// Samples counts meter reads, Dumps goroutine dumps, SensorErrors
	// intervals with a sensor error.
	Samples, Dumps, SensorErrors uint64
	// DumpCost is the mean wall time of one goroutine dump, DumpMax the
	// longest, DumpTotal their sum.
	DumpCost, DumpMax, DumpTotal time.Duration
	// Interval is the sampling period in use.
	Interval time.Duration
}

// sampler owns the meter; sample is serialised by mu (ticker, stop hook and
// Impact may all ask for a sample).
type sampler struct {
	interval time.Duration
	meter    *sensor.Meter
	stop     chan struct{}
	done     chan struct{}

	mu          sync.Mutex
	buf         []byte
	counts      dumpCounts    // reused between dumps
	startAt     time.Time     // when the start hook ran
	startCPU    time.Duration // process CPU time then
	startErr    error
	carry       sensor.Reading // energy of intervals whose dump was skipped
	budget      float64        // share of one core for dumps
	tokens      time.Duration  // dump time earned and not spent (may be a little negative)
	lastCost    time.Duration  // cost of the latest dump
	typCost     time.Duration  // moving average of dump costs: the price of the next one
	dumpNanos   int64          // total
	stats       EnergyStats
	errLogged   map[string]bool
	pruneTicker int
}

var (
	samplerMu  sync.Mutex
	samplerCur *sampler
	lastStats  atomic.Pointer[EnergyStats]

	// getenv reads the environment for the energy files; tests replace it.
	energyGetenv = os.Getenv
)

func init() {
	onTracingStart(startEnergy)
	onTracingStop(stopEnergy)
	onSpanEnd(energyEndHook)
}

// startEnergy starts the sampler unless energy is off or one is running.
// It runs on the goroutine of the first span and must not block: the meter
// is built on the sampler goroutine.
func startEnergy() {
	if sensor.Disabled(energyGetenv) {
		return
	}
	if p := active.Load(); p != nil && p.syncMode {
		return // sync mode promises no goroutine: no sampling
	}
	samplerMu.Lock()
	defer samplerMu.Unlock()
	if samplerCur != nil {
		return
	}
	s := &sampler{
		interval: sampleIntervalFromEnv(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		budget:   budgetFromEnv(),
		startAt:  time.Now(),
	}
	// The CPU used from here on counts, even while the meter is being built
	// on the sampler goroutine (tens of milliseconds on a loaded machine).
	s.startCPU, s.startErr = sensor.ProcessCPU()
	s.stats.Interval = s.interval
	samplerCur = s
	go s.run()
}

// stopEnergy takes a last sample (so energy up to Stop is in the records
// still to be exported) and stops the sampler, unless a newer pipeline that
// has already started took over (Configure).
func stopEnergy(ctx context.Context) {
	p := active.Load()
	takenOver := p != nil && p != disabledP && p.started.Load()
	samplerMu.Lock()
	s := samplerCur
	switch {
	case s == nil:
		samplerMu.Unlock()
	case takenOver:
		samplerMu.Unlock()
		s.sampleNow()
	default:
		samplerCur = nil
		samplerMu.Unlock()
		close(s.stop)
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
	if p == nil || p == disabledP {
		writeReportAtStop() // tracing is over (Stop/Shutdown), not replaced
	}
}

// EnvImpactReport asks for the per-name impact report at Stop: "stderr", or
// a file path (written, not appended).
const EnvImpactReport = "TRACEGEN_IMPACT_REPORT"

func writeReportAtStop() {
	dst := strings.TrimSpace(energyGetenv(EnvImpactReport))
	switch dst {
	case "", "0", "off", "false":
		return
	case "stderr", "1", "true":
		WriteImpactReport(os.Stderr) //nolint:errcheck // best effort, like every diagnostic
		return
	}
	f, err := os.Create(dst)
	if err != nil {
		energyLogOnce("report", "%s: %v", EnvImpactReport, err)
		return
	}
	if err := WriteImpactReport(f); err != nil {
		energyLogOnce("report", "%s: %v", EnvImpactReport, err)
	}
	if err := f.Close(); err != nil {
		energyLogOnce("report-close", "%s: %v", EnvImpactReport, err)
	}
}

func budgetFromEnv() float64 {
	v := strings.TrimSpace(energyGetenv(EnvEnergyBudget))
	if v == "" {
		return DefaultEnergyBudget
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f <= 1) {
		energyLogOnce("budget", "%s=%q: want a fraction of one core in (0, 1]; using %g", EnvEnergyBudget, v, DefaultEnergyBudget)
		return DefaultEnergyBudget
	}
	return f
}

func sampleIntervalFromEnv() time.Duration {
	v := strings.TrimSpace(energyGetenv(EnvSampleInterval))
	if v == "" {
		return DefaultSampleInterval
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if ms, err2 := strconv.Atoi(v); err2 == nil {
			d, err = time.Duration(ms)*time.Millisecond, nil
		}
	}
	if err != nil || d <= 0 {
		energyLogOnce("interval", "%s=%q: want a duration such as 100ms; using %s", EnvSampleInterval, v, DefaultSampleInterval)
		return DefaultSampleInterval
	}
	return min(max(d, 10*time.Millisecond), 10*time.Second)
}

func (s *sampler) run() {
	defer close(s.done)
	s.init()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	live := time.NewTicker(liveRefreshEvery)
	defer live.Stop()
	for {
		select {
		case <-s.stop:
			s.sampleNow()
			return
		case <-t.C:
			s.sampleNow()
		case <-live.C:
			refreshLive()
		}
	}
}

// The meter is built once per process (probing sensors and parsing tables
// costs milliseconds) and shared by successive samplers; it is never closed.
var (
	meterOnce sync.Once
	meterVal  *sensor.Meter
)

func processMeter() *sensor.Meter {
	meterOnce.Do(func() {
		defer func() {
			if v := recover(); v != nil {
				energyLogOnce("init-panic", "energy sensors: %v; energy is not measured", v)
				meterVal = nil
			}
		}()
		opts, errs := sensor.OptionsFromEnv(energyGetenv)
		for _, err := range errs {
			energyLogOnce(err.Error(), "%v", err)
		}
		m := sensor.NewMeter(opts)
		for _, p := range m.Probes() {
			if p.Name == "rapl" && strings.Contains(p.Detail, "permission") {
				energyLogOnce("rapl-perm", "RAPL energy counters are not readable (%s); using the CPU model", p.Detail)
			}
		}
		meterVal = m
	})
	return meterVal
}

// init gets the meter and the impact factors; it runs on the sampler
// goroutine, never on the span's.
func (s *sampler) init() {
	m := processMeter()
	ensureFactors()
	refreshLive()
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == nil {
		return
	}
	s.meter = m
	s.stats.Source = m.Source()
	if s.startErr == nil {
		m.PrimeAt(s.startAt, s.startCPU) // the first interval starts at the start hook
	} else {
		m.Read(time.Now()) // re-prime: energy before this sampler is nobody's
	}
}

// sampleNow reads the meter and attributes the interval.
func (s *sampler) sampleNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meter == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			energyLogOnce("sample-panic", "energy sampler: %v; sampling stops", v)
			s.meter = nil
		}
	}()
	rd := s.meter.Read(time.Now())
	s.stats.Samples++
	if rd.Err != nil {
		s.stats.SensorErrors++
		energyLogOnce("sensor:"+firstWord(rd.Err.Error()), "energy sensor: %v (falling back to the model)", rd.Err)
		s.stats.Source = s.meter.Source()
	}
	s.stats.ProcessCPU += rd.ProcessCPU
	s.stats.IdleJ += rd.IdleJ
	s.stats.ProcessJ += rd.ActiveJ()

	s.carry.CPUJ += rd.CPUJ
	s.carry.MemoryJ += rd.MemoryJ
	s.carry.GPUJ += rd.GPUJ
	s.carry.ProcessCPU += rd.ProcessCPU
	if s.carry.ActiveJ() == 0 {
		s.publish()
		return
	}
	if currentCount() == 0 {
		s.stats.UnattributedJ += s.carry.ActiveJ()
		s.carry = sensor.Reading{}
		s.publish()
		return
	}
	// Earn dump time; keep at most a few dumps' worth so that a long quiet
	// spell does not pay for a burst of dumps.
	// The next dump is priced at the moving average of past costs, not at the
	// last one: a single slow dump (a stalled stop-the-world) must not stop
	// dumps for long, or the energy of a long gap would all go to whoever
	// runs at its end. Debt is floored at one second's budget for the same
	// reason; over time the budget holds.
	s.tokens += time.Duration(float64(rd.Elapsed) * s.budget)
	s.tokens = min(s.tokens, max(4*s.typCost, 4*time.Duration(float64(s.interval)*s.budget)))
	if s.tokens < s.typCost {
		s.publish()
		return
	}
	if n := runtime.NumGoroutine(); n > maxDumpGoroutines {
		// A dump stops the world for about 10 µs per goroutine: too long here.
		energyLogOnce("too-many-goroutines", "%d goroutines: energy is measured but not split among spans (goroutine dumps would pause the program too long)", n)
		s.stats.UnattributedJ += s.carry.ActiveJ()
		s.carry = sensor.Reading{}
		s.publish()
		return
	}
	s.attribute()
	s.publish()
}

func (s *sampler) publish() {
	st := s.stats
	if s.stats.Dumps > 0 {
		st.DumpCost = time.Duration(s.dumpNanos / int64(s.stats.Dumps))
	}
	lastStats.Store(&st)
}

// attribute takes a goroutine dump and splits s.carry among spans.
func (s *sampler) attribute() {
	t0 := time.Now()
	dump := s.dump()
	s.counts = parseDumpInto(dump.b, s.counts)
	counts := s.counts
	cost := time.Since(t0)
	s.stats.Dumps++
	s.dumpNanos += int64(cost)
	s.lastCost = cost
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
			sp := currentOf(g.id)
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
	s.pruneTicker++
	if !dump.truncated && s.pruneTicker%50 == 0 {
		alive := make(map[int64]bool, len(counts.all))
		for _, id := range counts.all {
			alive[id] = true
		}
		pruneCurrent(func(id int64) bool { return alive[id] })
	}
}

// addEnergyAtomic adds joules to an accumulator of sp without reading any
// other field (an unsampled span keeps them and never exports them).
func addEnergyAtomic(sp *Span, src record.EnergySource, j float64) {
	if !(j > 0) || math.IsInf(j, 0) {
		return
	}
	e := sp.energy.Load()
	if e == nil {
		sp.energy.CompareAndSwap(nil, new([record.NumEnergySources]atomic.Uint64))
		e = sp.energy.Load()
	}
	addFloat(&e[src], j)
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

func firstWord(s string) string {
	if i := strings.IndexAny(s, " :"); i > 0 {
		return s[:i]
	}
	return s
}

// energyLogOnce writes one diagnostic line per key per process, on the
// active pipeline's error log.
func energyLogOnce(key, format string, args ...any) {
	if _, dup := energyLogged.LoadOrStore(key, true); dup {
		return
	}
	p := active.Load()
	if p == nil || p == disabledP {
		// After Stop: the pipeline's log is gone; its default is stderr.
		fmt.Fprintf(os.Stderr, "tracegen: "+format+"\n", args...)
		return
	}
	p.logf(format, args...)
}

var energyLogged sync.Map

// ReadEnergyStats returns the energy counters of the latest sampler (zero
// when energy was never sampled).
func ReadEnergyStats() EnergyStats {
	if st := lastStats.Load(); st != nil {
		return *st
	}
	return EnergyStats{}
}

// SampleEnergy takes a sample now (attributing the energy used since the
// last one) when the sampler runs; it returns false otherwise. Impact calls
// it; tests and benchmarks may too.
func SampleEnergy() bool {
	samplerMu.Lock()
	s := samplerCur
	samplerMu.Unlock()
	if s == nil {
		return false
	}
	s.sampleNow()
	return true
}
