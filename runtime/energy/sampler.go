package energy

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

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// The energy sampler.
//
// One goroutine, (*sampler).run, started by the first span of a pipeline
// (the Start hook), wakes every tick (TRACEGEN_SAMPLE_INTERVAL / 20, 5 ms by
// default) and reads which goroutines that have a current span are on a
// CPU: running, or runnable (waiting for a P, which is also how a goroutine
// looks that the sampler itself just displaced). The state is read straight
// from each goroutine's g (sched.go): no stop-the-world, no stack
// formatting. Each tick's CPU time (getrusage, from one tick to the next) is
// shared by every goroutine of the process that is on a CPU (runtime/metrics
// counts them, goroutines outside spans and the runtime's own included), one
// share per goroutine; a span goroutine's share goes to its innermost
// current span at once, priced at the meter's current price (the CPU
// model's joules per CPU-second, or the recent RAPL price). Memory energy
// follows the CPU share; GPU energy is shared the same way with goroutines in
// a system call counted too (a cgo call into CUDA shows as one).
//
// Every interval (TRACEGEN_SAMPLE_INTERVAL, 100 ms) the sampler reads the
// sensor.Meter, which gives the interval's measured or modelled energy
// (idle energy kept apart), and settles: each span gets exactly the share
// of the interval's energy that its ticks' CPU shares are of the
// interval's CPU time; spans still open receive the difference from what
// they were given provisionally (zero with the CPU model, whose price is
// exact), and a span that ended during the interval hands a positive
// difference to its nearest open ancestor (a negative one is booked as
// unattributed, so that a parent still covers the records of its
// children). The sum over spans is the process's energy minus what ran
// outside spans.
//
// Without the g layout (other architectures, or a runtime that moved the
// fields), the split falls back to goroutine dumps on a budget
// (dump.go), once per interval.
//
// The goroutine exits once no span has been current and none started for
// energyIdleExit (30 ms), after settling the last interval, and the next
// span starts it again (the pipeline's wake hook); the time in between is
// not sampled. Nothing of this runs unless tracing is enabled, and
// TRACEGEN_ENERGY=off disables it entirely (no goroutine, no file read).
// Sync mode (TRACEGEN_SYNC=1) promises no background goroutine, so it
// samples no energy either; LLM estimates are still converted.

// EnvSampleInterval sets the sampling period (a Go duration or
// milliseconds; default 100ms, clamped to [10ms, 10s]).
const EnvSampleInterval = "TRACEGEN_SAMPLE_INTERVAL"

// DefaultSampleInterval is the sampling period (10 Hz).
const DefaultSampleInterval = 100 * time.Millisecond

// EnvEnergyBudget is the share of one core the sampler may use.
const EnvEnergyBudget = "TRACEGEN_ENERGY_BUDGET"

// DefaultEnergyBudget is 0.5 % of one core.
const DefaultEnergyBudget = 0.005

// ticksPerInterval: the scheduler state is read this many times per
// interval (every 5 ms at the default interval), but never more often
// than every minTick.
const (
	ticksPerInterval = 20
	minTick          = 2 * time.Millisecond
)

// energyIdleExit is how long the sampler goroutine stays without a current
// span and without a new one before it exits (well inside goleak's default
// retries, about 0.4 s).
const energyIdleExit = 30 * time.Millisecond

// maxDumpGoroutines is the most goroutines a dump is taken with (a dump of
// 10,000 goroutines pauses the program for about 0.1 s).
var maxDumpGoroutines = 10000 // a variable for tests

// maxDumpBytes caps the goroutine dump buffer.
const maxDumpBytes = 16 << 20

// Stats are the process-wide energy counters (joules unless said).
type Stats struct {
	// Source is the energy_source label of measured energy ("" when the
	// sampler never ran).
	Source string
	// Split is how energy is split among spans: "scheduler" (the state of
	// span goroutines read every tick) or "dump" (goroutine dumps on a
	// budget, where the g layout is unknown).
	Split string
	// ProcessJ is the active energy this process drew while sampled
	// (CPU + memory + GPU); AttributedJ the part given to spans;
	// UnattributedJ the rest (goroutines outside spans, the runtime,
	// intervals with no running span goroutine). AttributedJ +
	// UnattributedJ == ProcessJ.
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
	// Interval is the sampling period in use, Tick the period of
	// scheduler-state samples.
	Interval, Tick time.Duration
	// Ticks counts scheduler-state samples, TickTotal the wall time spent
	// in them (the goroutine's wake-ups not included).
	Ticks     uint64
	TickTotal time.Duration
	// Starts counts starts of the sampler goroutine: the first span, then
	// the first span after each idle exit.
	Starts uint64
}

// sampler owns the meter. Sampling state is guarded by mu (the goroutine,
// the stop hook and Impact may all ask for a sample); the goroutine's life
// (running, stop, done) by samplerMu.
type sampler struct {
	interval time.Duration
	budget   float64 // share of one core for the sampler's work
	meter    *sensor.Meter

	// Guarded by samplerMu.
	running bool          // a run goroutine exists (or is about to)
	stop    chan struct{} // closed to stop the current run goroutine
	done    chan struct{} // closed when it has returned
	starts  uint64

	// readMu serialises sampling (a tick, a settlement, a dump) and with
	// it the meter; mu guards the sampling state and is released while the
	// meter is read. Order: readMu, then mu.
	readMu    sync.Mutex
	mu        sync.Mutex
	tails     atomic.Bool // energyTail may credit ends (scheduler split with thread clocks)
	ivNext    interval    // the next interval's storage, swapped in by settlements
	primed    bool        // the meter's interval and the ticks' start are set (resume)
	inited    bool
	sched     bool // the scheduler-state split is usable
	counts    *schedCounts
	tick      time.Duration
	tickCost  time.Duration // moving average of a tick's cost
	onCPU     bool          // a span goroutine was on a CPU at the latest tick
	quietAt   time.Time     // the previous step, for quietRate
	quietProc time.Duration // process CPU time then
	lastTick  time.Time     // time of the latest tick
	lastProc  time.Duration // process CPU time then
	lastRead  time.Time     // time of the latest meter read
	primedAt  time.Time     // when the meter's counters were primed
	unseen    bool          // the run's first tick window is still open
	readProc  time.Duration // process CPU time then
	lastLive  time.Time     // latest live-intensity refresh
	price     sensor.Price
	iv        interval
	items     []tickItem
	tickNo    uint64                   // ticks so far
	tailCPU   float64                  // CPU seconds energyTail credited since the last tick
	threads   map[uint64]*threadSeen   // nil without thread clocks
	bases     []threadBaseline         // reused by readThreads
	lastSpan  map[int64]*spanhook.Node // goroutine -> span credited at the last tick
	dead      []int64                  // goroutines that exited inside a span (seen at a tick)
	current   int                      // goroutines with a current span at the latest tick
	activeAt  time.Time
	seenSpans uint64 // spanCore().SpansStarted() at activeAt
	closes    int
	stats     Stats

	// Goroutine dumps (the fallback split, and the rare pruning of dead
	// goroutines whose g was reused).
	buf       []byte
	dcounts   dumpCounts
	carry     sensor.Reading // energy of intervals whose dump was skipped
	tokens    time.Duration  // dump time earned and not spent (may be a little negative)
	typCost   time.Duration  // moving average of dump costs: the price of the next one
	dumpNanos int64
	prunes    int
}

// interval is what the ticks of the current interval gave each span.
type interval struct {
	cpuSec, sec float64                          // the interval's CPU seconds and seconds so far
	m           map[*spanhook.Node]intervalShare // spans that got a share
	given       float64                          // joules given provisionally
}

// intervalShare is one span's part of an interval: the CPU time credited
// to it, its GPU weight (seconds × share) and the joules it was given at
// the ticks, per source.
type intervalShare struct {
	cpu, gpu float64
	prov     [3]float64
}

// sources in interval order.
var ivSources = [3]record.EnergySource{record.EnergyCPU, record.EnergyMemory, record.EnergyGPU}

type tickItem struct {
	goid int64
	sp   *spanhook.Node
	cpu  bool    // on a CPU (else in a system call: GPU share only)
	tid  uint64  // its thread, when running and known
	used float64 // CPU seconds credited for the tick
	// ancestor: sp is the open ancestor of the span now current on goid,
	// given half the window when that span started in it.
	ancestor bool
}

// energyTrace, when set (tests), is told about every tick and settlement.
var energyTrace func(format string, args ...any)

var (
	samplerMu  sync.Mutex
	samplerCur *sampler
	samplerNow atomic.Pointer[sampler] // samplerCur, for End (energyTail)
	lastStats  atomic.Pointer[Stats]

	// energyAsleep is the pipeline's wake flag: true while the sampler
	// goroutine has exited idle and the next span must start it again.
	energyAsleep atomic.Bool

	// schedOnce discovers the g layout once per process.
	schedOnce      sync.Once
	schedOK        bool         // span goroutines' states can be read
	threadsOK      bool         // and their threads' CPU clocks
	statusProbeVal *statusProbe // started with the g table, used by schedOnce
	// forceDumpSplit makes new samplers split by goroutine dumps (tests).
	forceDumpSplit atomic.Bool

	// getenv reads the environment for the energy files; tests replace it.
	energyGetenv = export.Getenv
)

func init() {
	spanhook.Register(spanhook.Hooks{
		Start:  startEnergy,
		Stop:   stopEnergy,
		End:    endHook,
		Note:   noteSpanGoroutine,
		AddLLM: addLLM,
		Asleep: &energyAsleep,
		Wake:   wakeEnergy,
	})
}

// spanCore returns the span core, which runtime/trace installs at init.
func spanCore() spanhook.Core { return spanhook.CoreOf() }

// maxChain bounds the walks along parent links (as the core's walks).
const maxChain = 256

// startEnergy starts the sampler unless energy is off or one exists. It
// runs on the goroutine of the first span and must not block: the meter is
// built on the sampler goroutine.
func startEnergy() {
	if sensor.Disabled(energyGetenv) {
		return
	}
	if spanCore().State().Sync {
		return // sync mode promises no goroutine: no sampling
	}
	samplerMu.Lock()
	defer samplerMu.Unlock()
	if samplerCur != nil {
		return
	}
	// Goroutines that spans become current on record their g from now on
	// (the first span's goroutine included: setCurrent comes after this).
	if goroutine.HaveG && goroutine.IDOffset() != 0 && gtab.Load() == nil {
		gtab.Store(new(gTable))
		statusProbeVal = startStatusProbe()
		// Let it park now, while this goroutine holds a P (a few
		// microseconds): the sampler then finds the layout at once, even
		// when the program keeps every P busy from here on.
		for i := 0; i < 100 && !statusProbeVal.parked(); i++ {
			runtime.Gosched()
		}
	}
	interval := sampleIntervalFromEnv()
	s := &sampler{interval: interval, budget: budgetFromEnv(), tick: tickFor(interval)}
	s.iv.reset()
	s.ivNext.reset()
	// The meter is built here, on the first span's goroutine, which holds a
	// P: about 5 ms once per process (probing sensors, parsing the TDP and
	// impact tables). On a helper goroutine it could take a second when the
	// program's goroutines keep every P busy (each of its system calls then
	// waits for a P), and spans ending before it was ready would get no
	// energy.
	s.meter = processMeter()
	ensureFactors()
	s.stats.Interval = interval
	samplerCur = s
	samplerNow.Store(s)
	// The CPU used from here on counts, even while the meter is being built
	// on the sampler goroutine (tens of milliseconds on a loaded machine).
	at := time.Now()
	cpu, err := sensor.ProcessCPU()
	s.launch(nil, at, cpu, err)
}

// launch starts a run goroutine; samplerMu is held.
func (s *sampler) launch(prev chan struct{}, at time.Time, cpu time.Duration, err error) {
	s.running = true
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	s.starts++
	go s.run(prev, s.stop, s.done, at, cpu, err)
}

// wakeEnergy restarts the sampler after an idle exit; the pipeline calls
// it on the goroutine of the span that found energyAsleep set.
func wakeEnergy() {
	samplerMu.Lock()
	defer samplerMu.Unlock()
	s := samplerCur
	if s == nil || s.running {
		return
	}
	at := time.Now()
	cpu, err := sensor.ProcessCPU()
	s.launch(s.done, at, cpu, err)
}

func tickFor(interval time.Duration) time.Duration {
	return min(max(interval/ticksPerInterval, minTick), interval)
}

// stopEnergy takes a last sample (so energy up to Stop is in the records
// still to be exported) and stops the sampler, unless a newer pipeline that
// has already started took over (Configure).
func stopEnergy(ctx context.Context) {
	st := spanCore().State()
	takenOver := st.On && st.Started
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
		samplerNow.Store(nil)
		running, stop, done := s.running, s.stop, s.done
		s.running = false
		samplerMu.Unlock()
		if running {
			close(stop)
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
	}
	if !st.On {
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
		WriteReport(os.Stderr) //nolint:errcheck // best effort, like every diagnostic
		return
	}
	f, err := os.Create(dst)
	if err != nil {
		energyLogOnce("report", "%s: %v", EnvImpactReport, err)
		return
	}
	if err := WriteReport(f); err != nil {
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

// run is the sampler goroutine. prev is the previous run's done channel
// (after an idle exit), at/cpu/cpuErr the moment and process CPU time from
// which this run samples.
func (s *sampler) run(prev, stop, done chan struct{}, at time.Time, cpu time.Duration, cpuErr error) {
	defer close(done)
	if prev != nil {
		<-prev
	}
	s.resume(at, cpu, cpuErr)
	s.mu.Lock()
	period := s.interval
	if s.sched {
		period = s.tick
	}
	s.mu.Unlock()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			s.sampleNow()
			return
		case <-t.C:
			idle, newPeriod := s.step()
			if idle && s.park() {
				return
			}
			if time.Since(s.lastLive) >= liveRefreshEvery { // only this goroutine touches lastLive
				refreshLive()
				s.lastLive = time.Now()
			}
			if newPeriod != period {
				period = newPeriod
				t.Reset(period)
			}
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

// resume prepares a run. On the first, it discovers the g layout (on the
// sampler goroutine: the probe started by the start hook has parked by
// now). On every run, the meter's next interval starts at at, when the
// process had used cpu of CPU time.
func (s *sampler) resume(at time.Time, cpu time.Duration, cpuErr error) {
	s.mu.Lock()
	first := !s.inited
	s.inited = true
	s.mu.Unlock()
	if first {
		schedOnce.Do(func() {
			schedOK, threadsOK = discoverSched(statusProbeVal)
			statusProbeVal = nil
		})
		sched := schedOK && !forceDumpSplit.Load() && s.meter != nil
		var counts *schedCounts
		if sched {
			counts = newSchedCounts()
		}
		s.mu.Lock()
		s.sched, s.counts = sched, counts
		if sched && threadsOK {
			s.threads = make(map[uint64]*threadSeen)
			s.lastSpan = make(map[int64]*spanhook.Node)
			threadBase.Store(new(threadBaseSet))
			s.tails.Store(true)
		}
		s.stats.Split = "dump"
		if s.sched {
			s.stats.Split = "scheduler"
		}
		s.stats.Tick = s.tick
		s.mu.Unlock()
	}
	if time.Since(s.lastLive) >= liveRefreshEvery { // only this goroutine touches lastLive
		refreshLive()
		s.lastLive = time.Now()
	}
	s.readMu.Lock() // PrimeAt reads the meter
	defer s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	samplerMu.Lock()
	s.stats.Starts = s.starts
	samplerMu.Unlock()
	s.activeAt, s.seenSpans = time.Now(), spanCore().SpansStarted()
	s.iv.reset()
	// Without thread clocks nobody looked at the run's first window (the
	// goroutine was starting); with them, the spans that started in it took
	// baselines (their threads were forgotten at the idle exit, park).
	s.unseen = s.threads == nil
	if s.meter == nil {
		return
	}
	if cpuErr != nil {
		// Without the CPU time at at, start now: the energy before this
		// run is nobody's.
		at = time.Now()
		if cpu, cpuErr = s.meter.CPUTime(); cpuErr != nil {
			cpu = 0
		}
	}
	s.lastTick, s.lastProc, s.lastRead, s.readProc = at, cpu, at, cpu
	s.meter.PrimeAt(at, cpu) // the first interval starts when the span did
	s.primedAt = time.Now()
	s.primed = true
	s.price = s.meter.Price()
	s.stats.Source = s.meter.Source()
	s.publish()
}

func (iv *interval) reset() {
	if iv.m == nil {
		iv.m = make(map[*spanhook.Node]intervalShare)
	}
	clear(iv.m)
	iv.cpuSec, iv.sec, iv.given = 0, 0, 0
}

// quietRate: below this many CPUs of process CPU time (5 % of one core)
// and with no span goroutine on a CPU, a tick finds the process quiet.
const quietRate = 0.05

// firstMachineWindow is the shortest window over which the machine's
// counters (RAPL, /proc/stat in clock ticks of 10 ms) give a usable power
// and busy rate.
const firstMachineWindow = 50 * time.Millisecond

// settleDue reports whether the interval ending now should be settled.
func (s *sampler) settleDue(now time.Time) bool {
	if now.Sub(s.primedAt) < min(firstMachineWindow, s.interval) {
		return false
	}
	if s.iv.sec == 0 && s.current > 0 {
		// Nothing sampled yet (the goroutine started late): settling now
		// would leave the interval's energy unattributed; the next ticks
		// spread it.
		return false
	}
	return now.Sub(s.lastRead) >= s.interval-s.tick/2 || s.lastRead.Before(s.primedAt)
}

// step is one tick of the goroutine: it samples, settles the interval when
// due, and reports whether the process has been idle long enough to exit
// (the last interval is then settled) and the tick period to use.
func (s *sampler) step() (idle bool, period time.Duration) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	c0, clockOK := threadClock()
	now := time.Now()
	period = s.interval
	if s.sched {
		proc, perr := s.meter.CPUTime()
		if perr != nil {
			proc = s.lastProc
		}
		s.tickLocked(now, proc)
		// Settle every interval. The first, which began when the first span
		// did, ends as soon as the machine's counters (primed when the
		// meter was ready) cover firstMachineWindow: that gives RAPL its
		// first price early.
		if s.meter != nil && s.settleDue(now) {
			s.settleLocked(now, proc, perr)
		}
		// The tick's cost is its thread's CPU time (the goroutine rarely
		// moves to another thread inside a tick; wall time then), within
		// the tick's wall time.
		wall := time.Since(now)
		cost := wall
		if c1, ok := threadClock(); ok && clockOK && c1 >= c0 {
			cost = min(c1-c0, wall)
		}
		s.stats.Ticks++
		s.stats.TickTotal += cost
		period = s.tickPeriod(cost)
		if !s.onCPU && proc-s.quietProc < time.Duration(float64(now.Sub(s.quietAt))*quietRate) {
			// Nothing of the process is on a CPU: nothing to split. A
			// wake-up of an idle process costs tens of microseconds (about
			// 55 µs on a 2-vCPU VM, 1 % of a core at 200 Hz), so the ticks
			// slow down to one per interval until the process works again;
			// the CPU of a span that starts meanwhile is still its own (its
			// thread's clock, from the baseline its start took).
			period = s.interval
		}
		s.quietAt, s.quietProc = now, proc
	} else {
		s.current = spanCore().CurrentCount()
		if s.meter != nil {
			s.dumpSampleLocked(now)
		}
	}
	if s.current == 0 {
		// No span: look often enough to exit about energyIdleExit after
		// the last one (and to start splitting again at once).
		period = min(period, energyIdleExit/3)
	}
	if n := spanCore().SpansStarted(); s.current > 0 || n != s.seenSpans {
		s.activeAt, s.seenSpans = now, n
		return false, period
	}
	if now.Sub(s.activeAt) < energyIdleExit {
		return false, period
	}
	// Idle: settle what is pending before the goroutine goes.
	if s.meter != nil && now.After(s.lastRead) {
		if s.sched {
			proc, perr := s.meter.CPUTime()
			if perr != nil {
				proc = s.lastProc
			}
			s.tickLocked(now, proc)
			s.settleLocked(now, proc, perr)
		} else {
			s.dumpSampleLocked(now)
		}
	}
	return true, period
}

// tickPeriod keeps the ticks' own cost within the budget: the period grows
// when a tick costs more than budget × period (thousands of goroutines in
// spans), up to the interval. The cost is a moving average over the recent
// ticks (an outlier counts at most four times the average), so that one
// slow tick (a page fault, a preemption) does not slow the ticks for long.
func (s *sampler) tickPeriod(cost time.Duration) time.Duration {
	switch {
	case s.stats.Ticks <= 4:
		return s.tick // warming up: first reads of metrics, maps, thread clocks
	case s.tickCost == 0:
		s.tickCost = cost
	default:
		s.tickCost += (min(cost, 4*s.tickCost) - s.tickCost) / 16
	}
	return min(max(s.tick, time.Duration(float64(s.tickCost)/s.budget)), s.interval)
}

// park lets the goroutine exit while idle, following the pipeline's wake
// protocol (onSpanStartWake): it reports false when a span started
// meanwhile and the goroutine must go on.
func (s *sampler) park() bool {
	samplerMu.Lock()
	if samplerCur != s || !s.running {
		samplerMu.Unlock()
		return true // stopped: Stop is waiting for done
	}
	s.running = false
	samplerMu.Unlock()
	s.mu.Lock()
	seen := s.seenSpans
	// The threads' readings will be stale by the next run: forget them, so
	// that the next span start on any thread takes a baseline.
	clear(s.threads)
	if tb := threadBase.Load(); tb != nil {
		tb.reset()
	}
	s.mu.Unlock()
	energyAsleep.Store(true)
	if spanCore().SpansStarted() == seen || !energyAsleep.CompareAndSwap(true, false) {
		return true // exit; a span that started meanwhile runs wakeEnergy
	}
	samplerMu.Lock()
	defer samplerMu.Unlock()
	if samplerCur != s {
		return true
	}
	s.running = true
	return false
}

// sampleNow samples and settles the interval now, when the sampler runs.
func (s *sampler) sampleNow() {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meter == nil || !s.primed {
		return // not started yet: nothing sampled to settle
	}
	now := time.Now()
	if !s.sched {
		s.dumpSampleLocked(now)
		return
	}
	if !now.After(s.lastRead) {
		return
	}
	proc, perr := s.meter.CPUTime()
	if perr != nil {
		proc = s.lastProc
	}
	s.tickLocked(now, proc)
	s.settleLocked(now, proc, perr)
}

// tickLocked reads the state of every goroutine with a current span and
// credits each one on a CPU with the CPU time it used in the tick's window
// (from one tick to this one), giving its span that CPU time at the current
// price at once.
//
// A running goroutine is credited with what its thread ran in the window,
// from the thread's CPU clock (where the clocks can be read): the operating
// system may run one thread of the program less than another. Whatever the
// process ran besides (the tick's process CPU time minus those threads') is
// shared equally by everything else on a CPU: runnable span goroutines
// (one the sampler itself displaced looks so), running ones whose thread is
// new to the sampler, and the goroutines outside spans that runtime/metrics
// counts. Without thread clocks every goroutine on a CPU takes an equal
// share of the tick's CPU time.
func (s *sampler) tickLocked(now time.Time, proc time.Duration) {
	dt := now.Sub(s.lastTick)
	if dt <= 0 {
		return
	}
	dp := max(proc-s.lastProc, 0)
	s.lastTick, s.lastProc = now, proc
	s.tickNo++
	unseen := s.unseen
	s.unseen = false
	if unseen {
		s.tailCPU = 0
	}

	t := gtab.Load()
	items, dead := s.items[:0], s.dead[:0]
	n := 0
	spanCore().EachCurrent(func(goid int64, sp *spanhook.Node) bool {
		n++
		g := t.lookup(goid)
		if g == nil {
			return true
		}
		switch st := statusOf(g); st {
		case gsRunning, gsRunnable:
			it := tickItem{goid: goid, sp: sp, cpu: true}
			if st == gsRunning && s.threads != nil {
				it.tid = threadOf(g)
			}
			items = append(items, it)
		case gsSyscall:
			items = append(items, tickItem{goid: goid, sp: sp})
		case gsDead:
			dead = append(dead, goid)
		}
		return true
	})
	s.items, s.dead, s.current = items, dead, n
	s.onCPU = false
	for _, it := range items {
		s.onCPU = s.onCPU || it.cpu
	}
	if len(dead) > 0 {
		// A goroutine that exited inside a span it never ended.
		spanCore().PruneCurrent(func(id int64) bool {
			for _, d := range dead {
				if d == id {
					return false
				}
			}
			return true
		})
	}
	s.readThreads()
	if unseen {
		// Nobody looked during the run's first window (the goroutine was
		// starting): a state read now says little about it, so it is left
		// out of the weights and the settlement spreads its energy like the
		// rest of the interval's.
		clear(s.items)
		return
	}
	s.iv.cpuSec += dp.Seconds()
	s.iv.sec += dt.Seconds()
	tails := s.tailCPU
	s.tailCPU = 0
	if len(items) == 0 {
		return
	}

	// CPU time per goroutine.
	credited, others, nCPU := 0.0, 0, 0 // CPU of the threads credited; goroutines sharing the rest
	for i := range items {
		it := &items[i]
		if !it.cpu {
			continue
		}
		nCPU++
		if th := s.threads[it.tid]; it.tid != 0 && th != nil && th.valid && th.owner != s.tickNo {
			th.owner = s.tickNo // a thread credits one goroutine
			it.used = th.delta.Seconds()
			credited += it.used
			continue
		}
		it.tid = 0
		others++
	}
	onCPU, inSyscall, haveCounts := s.counts.read()
	if !haveCounts {
		onCPU, inSyscall = nCPU, 0
	}
	if s.threads == nil {
		// No thread clocks: equal shares of the tick's CPU time.
		share := dp.Seconds() / float64(max(onCPU, nCPU, 1))
		for i := range items {
			if items[i].cpu {
				items[i].used = share
			}
		}
	} else if others > 0 {
		// The rest: neither the threads credited now nor the tails of the
		// spans that ended since the last tick (energyTail).
		share := max(dp.Seconds()-credited-tails, 0) / float64(max(onCPU-(nCPU-others), others))
		for i := range items {
			if items[i].cpu && items[i].tid == 0 {
				items[i].used = share
			}
		}
	}
	if energyTrace != nil {
		for _, it := range items {
			energyTrace("tick %d dt=%v dp=%v onCPU=%d goid=%d tid=%d cpu=%v used=%.4f credited=%.4f tails=%.4f", s.tickNo, dt, dp, onCPU, it.goid, it.tid, it.cpu, it.used, credited, tails)
		}
	}
	// A child span that started on a goroutine since the last tick shares
	// the window's CPU half and half with the span current then (its
	// ancestor, still open): the start fell anywhere in the window. (A span
	// that ended in the window took its part already, energyTail.)
	var splits []tickItem
	for i := range items {
		it := &items[i]
		prev := s.lastSpan[it.goid]
		if !it.cpu || it.used == 0 || prev == nil || prev == it.sp || !isAncestor(prev, it.sp) || prev.Ended() {
			continue
		}
		it.used /= 2
		splits = append(splits, tickItem{goid: it.goid, sp: prev, cpu: true, used: it.used, ancestor: true})
	}
	if s.lastSpan != nil {
		clear(s.lastSpan)
		for _, it := range items {
			if it.cpu {
				s.lastSpan[it.goid] = it.sp
			}
		}
	}
	items = append(items, splits...)
	denGPU := float64(max(len(items)-len(splits), onCPU+inSyscall))
	sec, cpuSec := dt.Seconds(), dp.Seconds()
	for _, it := range items {
		// Provisional joules: the CPU time at the CPU price, memory by the
		// CPU share of the tick, GPU by an equal share.
		memShare := 0.0
		if cpuSec > 0 {
			memShare = min(it.used/cpuSec, 1)
		}
		gpu := sec / denGPU
		if it.ancestor {
			gpu = 0
		}
		j := [3]float64{it.used * s.price.CPUJPerSec, memShare * sec * s.price.MemoryW, gpu * s.price.GPUW}
		// Give only while sp is still current on its goroutine (End pops it
		// under this lock before it copies the accumulators into the
		// record), or, for the ancestor of a new child, still open.
		cur, mu := spanCore().CurrentLocked(it.goid)
		still := cur == it.sp || (it.ancestor && !it.sp.Ended())
		if still {
			for k, src := range ivSources {
				addEnergyAtomic(it.sp, src, j[k])
			}
		}
		mu.Unlock()
		if !still {
			continue
		}
		e := s.iv.m[it.sp]
		e.cpu += it.used
		e.gpu += gpu
		for k := range j {
			e.prov[k] += j[k]
			s.iv.given += j[k]
		}
		s.iv.m[it.sp] = e
	}
	clear(s.items) // do not keep spans alive
}

// threadSeen is one thread the sampler follows: its CPU clock at the
// latest tick and what it ran since the tick before (delta, valid when the
// clock was read at both).
type threadSeen struct {
	clock, delta time.Duration
	valid        bool
	readAt       uint64 // tick number of the latest read
	usedAt       uint64 // tick number when a span goroutine last ran on it
	owner        uint64 // tick number when it was last credited
}

// readThreads reads the CPU clock of every thread a span goroutine ran on
// lately (the items' threads, added here): reading all of them at every
// tick keeps each one's delta valid however goroutines move between them.
// Threads not used for about a second, or gone, are dropped.
func (s *sampler) readThreads() {
	if s.threads == nil {
		return
	}
	tb := threadBase.Load()
	if tb != nil {
		// Baselines taken by span starts on threads not followed yet: the
		// thread's CPU from the span's start on is the span's.
		s.bases = tb.take(s.bases)
		for _, b := range s.bases {
			if s.threads[b.tid] == nil {
				s.threads[b.tid] = &threadSeen{clock: b.clock, readAt: s.tickNo - 1, usedAt: s.tickNo}
			}
		}
	}
	for _, it := range s.items {
		if it.tid == 0 {
			continue
		}
		th := s.threads[it.tid]
		if th == nil {
			th = &threadSeen{}
			s.threads[it.tid] = th
			if tb != nil {
				tb.add(it.tid)
			}
		}
		th.usedAt = s.tickNo
	}
	for tid, th := range s.threads {
		c, ok := threadClockOf(tid)
		if !ok || s.tickNo-th.usedAt > 200 {
			delete(s.threads, tid)
			if tb != nil {
				tb.remove(tid)
			}
			continue
		}
		th.valid = th.readAt == s.tickNo-1 && c >= th.clock
		th.delta, th.clock, th.readAt = c-th.clock, c, s.tickNo
	}
}

// settleLocked reads the meter for the interval that ends at now (proc is
// the process CPU time then, the same reading the last tick used) and gives
// every span of the interval exactly its share: of CPU and memory energy,
// the share its CPU time is of the interval's CPU time (or of the sum
// credited, when the skew between getrusage and the thread clocks makes
// that larger); of GPU energy, its GPU weight's share of the interval.
//
// The meter is read with s.mu released (s.readMu, held by the caller, keeps
// the meter to this sampling): reading sensors takes tens of microseconds
// (RAPL and /proc/stat files, NVML longer), and the end of a span waits for
// s.mu (energyTail). The interval being settled is set aside meanwhile;
// tails that come in go to the next one.
func (s *sampler) settleLocked(now time.Time, proc time.Duration, perr error) {
	old := s.iv
	s.iv = s.ivNext
	s.iv.reset()
	s.lastRead, s.readProc = now, proc
	s.mu.Unlock()
	rd, ok := s.readMeter(now, proc, perr)
	s.mu.Lock()
	defer func() {
		old.reset()
		s.ivNext = old
	}()
	if !ok {
		s.meter = nil
		return
	}
	s.account(rd)
	credited := 0.0
	for _, e := range old.m {
		credited += e.cpu
	}
	cpuTotal := max(old.cpuSec, credited)
	given := old.given
	if energyTrace != nil {
		energyTrace("settle el=%v cpu=%v cpuJ=%.4f machJ=%.4f idleJ=%.4f ivcpu=%.4f credited=%.4f given=%.4f price=%.3f", rd.Elapsed, rd.ProcessCPU, rd.CPUJ, rd.MachineJ, rd.IdleJ, old.cpuSec, credited, old.given, s.price.CPUJPerSec)
		for sp, e := range old.m {
			energyTrace("  span %s goid=%d cpu=%.4f prov=%.4f exact=%.4f ended=%v", spanCore().Name(sp), sp.Goid, e.cpu, e.prov[0], rd.CPUJ*e.cpu/max(cpuTotal, 1e-12), sp.Ended())
		}
	}
	for sp, e := range old.m {
		var exact [3]float64
		if cpuTotal > 0 {
			exact[0] = rd.CPUJ * e.cpu / cpuTotal
			exact[1] = rd.MemoryJ * e.cpu / cpuTotal
		}
		if old.sec > 0 {
			exact[2] = rd.GPUJ * e.gpu / old.sec
		}
		for k, src := range ivSources {
			c := exact[k] - e.prov[k]
			if c == 0 || math.Abs(c) <= 1e-9*exact[k] {
				continue
			}
			to := sp
			if sp.Ended() {
				if c < 0 {
					continue // already exported with the provisional price
				}
				to = openAncestor(sp)
				if to == nil {
					continue
				}
			}
			addEnergySigned(to, src, c)
			given += c
		}
	}
	s.stats.AttributedJ += given
	s.stats.UnattributedJ = s.stats.ProcessJ - s.stats.AttributedJ
	s.price = s.meter.Price()
	s.closes++
	if s.closes%50 == 0 {
		s.pruneByDump()
	}
	s.publish()
}

// readMeter reads the meter, turning a panic in a sensor into a logged
// stop of sampling.
func (s *sampler) readMeter(now time.Time, proc time.Duration, perr error) (rd sensor.Reading, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			energyLogOnce("sample-panic", "energy sampler: %v; sampling stops", v)
			ok = false
		}
	}()
	return s.meter.ReadWith(now, proc, perr), true
}

// energyTail credits a span that ends with the CPU time its thread used
// since the sampler's last tick: without it, the tail of every span (up to
// a tick, 5 ms by default) would be lost to it and shared at the next tick
// by whatever else is on a CPU then. The span's End hook calls it on the
// span's goroutine, only for spans the ticks have seen (they have energy);
// it reads the thread's own CPU clock (one system call) and never waits:
// while the sampler is busy, the tail is left to the next tick.
func energyTail(sp *spanhook.Node, r *record.Record) {
	s := samplerNow.Load()
	if s == nil || !s.tails.Load() || sp.Goid != goroutine.ID() {
		return
	}
	// Waits at most for a tick's work (microseconds): settlements read the
	// meter with s.mu released.
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sched || s.threads == nil || s.unseen {
		return
	}
	tid := gettid()
	c, ok := threadClock()
	if !ok {
		return
	}
	var tail time.Duration
	if th := s.threads[tid]; th != nil && th.readAt == s.tickNo && c > th.clock {
		// Since the thread was read at the last tick, and not more than the
		// span lasted: what the thread ran before the span began (its
		// parent, say) cannot be the span's.
		tail = min(c-th.clock, time.Since(s.lastTick), r.End.Sub(r.Start))
		th.clock += tail // the next tick credits what comes after
	} else if tb := threadBase.Load(); th == nil && tb != nil {
		// No tick read the thread since this span started on it: since
		// the baseline the start took (a span shorter than a tick, or one
		// whose ticks were late).
		c0, ok := tb.takeFor(tid, sp)
		if !ok || c <= c0 {
			return
		}
		tail = c - c0
		s.threads[tid] = &threadSeen{clock: c, readAt: s.tickNo, usedAt: s.tickNo}
	} else {
		return // the thread was not read at the last tick
	}
	if energyTrace != nil {
		energyTrace("tail %s goid=%d tid=%d %v", spanCore().Name(sp), sp.Goid, tid, tail)
	}
	cpu := tail.Seconds()
	s.tailCPU += cpu
	j := [3]float64{cpu * s.price.CPUJPerSec, cpu * s.price.MemoryW, 0}
	e := s.iv.m[sp]
	e.cpu += cpu
	total := 0.0
	for k, src := range ivSources {
		e.prov[k] += j[k]
		s.iv.given += j[k]
		r.Impact.Joules[src] += j[k]
		if sp.Parent != nil {
			sp.Parent.Add(src, j[k])
		}
	}
	s.iv.m[sp] = e
	for _, x := range r.Impact.Joules {
		total += x
	}
	r.Impact.EnergyKWh = total / 3.6e6
}

// account adds a meter reading to the counters.
func (s *sampler) account(rd sensor.Reading) {
	s.stats.Samples++
	if rd.Err != nil {
		s.stats.SensorErrors++
		energyLogOnce("sensor:"+firstWord(rd.Err.Error()), "energy sensor: %v (falling back to the model)", rd.Err)
		s.stats.Source = s.meter.Source()
	}
	s.stats.ProcessCPU += rd.ProcessCPU
	s.stats.IdleJ += rd.IdleJ
	s.stats.ProcessJ += rd.ActiveJ()
}

// isAncestor reports whether a is an ancestor of n.
func isAncestor(a, n *spanhook.Node) bool {
	for c, k := n.Parent, 0; c != nil && k < maxChain; c, k = c.Parent, k+1 {
		if c == a {
			return true
		}
	}
	return false
}

// openAncestor returns the nearest ancestor of sp that has not ended.
func openAncestor(sp *spanhook.Node) *spanhook.Node {
	for a, n := sp.Parent, 0; a != nil && n < maxChain; a, n = a.Parent, n+1 {
		if !a.Ended() {
			return a
		}
	}
	return nil
}

func (s *sampler) publish() {
	st := s.stats
	if s.stats.Dumps > 0 {
		st.DumpCost = time.Duration(s.dumpNanos / int64(s.stats.Dumps))
	}
	lastStats.Store(&st)
}

// addEnergyAtomic adds joules to an accumulator of sp without reading any
// other field (an unsampled span keeps them and never exports them).
func addEnergyAtomic(sp *spanhook.Node, src record.EnergySource, j float64) {
	if !(j > 0) || math.IsInf(j, 0) {
		return
	}
	addEnergySigned(sp, src, j)
}

// addEnergySigned is addEnergyAtomic for a settlement, which may be
// negative (never below zero in total).
func addEnergySigned(sp *spanhook.Node, src record.EnergySource, j float64) {
	sp.Settle(src, j)
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
	if c := spanCore(); c != nil {
		c.Logf(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, "tracegen: "+format+"\n", args...)
}

var energyLogged sync.Map

// ReadStats returns the energy counters of the latest sampler (zero
// when energy was never sampled).
func ReadStats() Stats {
	if st := lastStats.Load(); st != nil {
		return *st
	}
	return Stats{}
}

// Sample takes a sample now (attributing the energy used since the
// last one) when the sampler runs; it returns false otherwise. Impact calls
// it; tests and benchmarks may too. While the sampler is parked (idle exit)
// there is nothing pending and it returns true.
func Sample() bool {
	samplerMu.Lock()
	s := samplerCur
	running := s != nil && s.running
	samplerMu.Unlock()
	if s == nil {
		return false
	}
	if running {
		s.sampleNow()
	}
	return true
}
