package energy_test

import (
	"context"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/energy"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// energyEnv installs a fake environment for the energy package.
func energyEnv(t *testing.T, kv ...string) {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	t.Cleanup(energy.SetGetenv(func(k string) string { return m[k] }))
}

// spin does n units of CPU work.
func spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 17
	}
	return x
}

var (
	sink  uint64
	sink2 atomic.Uint64
)

// calibrate returns the work units that take at least about d of CPU here
// (the fastest of a few runs, so a loaded machine makes spans longer, not
// shorter).
func calibrate(d time.Duration) int {
	n := 1 << 16
	for {
		t0 := time.Now()
		sink += spin(n)
		if time.Since(t0) > 20*time.Millisecond {
			break
		}
		n *= 2
	}
	best := time.Duration(math.MaxInt64)
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		sink += spin(n)
		best = min(best, time.Since(t0))
	}
	return int(float64(n) * float64(d) / float64(best))
}

func TestEnergyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 3 s")
	}
	const intensity, pue = 100.0, 1.5
	// A larger dump budget than the default gives enough samples for the
	// ratios to be stable in a test of a few seconds.
	energyEnv(t, "TRACEGEN_GRID_INTENSITY", "100", "TRACEGEN_PUE", "1.5", energy.EnvSampleInterval, "20ms", energy.EnvEnergyBudget, "0.3",
		"TRACEGEN_GPU", "off")
	mem := setup(t, trace.Config{})
	// One P: the Go scheduler shares it fairly between the working
	// goroutines (the OS of a loaded machine may not share two threads
	// fairly, and a runnable goroutine counts like a running one).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	unit := calibrate(750 * time.Millisecond)

	// The three spans run side by side, so that they see the same machine
	// (other processes come and go on a shared 2-core box); the idle one
	// sleeps for as long as the busy one works.
	ctx, root := trace.Start(context.Background(), "main")
	waitSampler(t)
	var wg sync.WaitGroup
	busyDone := make(chan time.Duration, 1)
	var busyCPU, doubleCPU time.Duration // thread CPU time: the ground truth
	wg.Add(3)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, s := trace.Start(ctx, "busy")
		defer s.End()
		t0, c0 := time.Now(), threadCPU()
		sink2.Add(spin(unit))
		busyCPU = threadCPU() - c0
		busyDone <- time.Since(t0)
	}()
	go func() {
		defer wg.Done()
		_, s := trace.Start(ctx, "idle")
		defer s.End()
		d := <-busyDone
		busyDone <- d
	}()
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, s := trace.Start(ctx, "double")
		defer s.End()
		c0 := threadCPU()
		sink2.Add(spin(2 * unit))
		doubleCPU = threadCPU() - c0
	}()
	wg.Wait()
	busyWall := <-busyDone
	live := energy.Impact(ctx)
	root.End()
	final := energy.Impact(ctx)
	recs := finish(t, mem)
	st := energy.ReadStats()

	busy, idle, double, main := recs["busy"], recs["idle"], recs["double"], recs["main"]
	j := func(r *record.Record) float64 { return r.Impact.EnergyKWh * 3.6e6 }
	t.Logf("busy %.3f J (%v wall, %v CPU), idle %.3f J, double %.3f J (%v CPU), main %.3f J; process %.3f J, attributed %.3f J, dumps %d, dump cost %v",
		j(busy), busyWall, busyCPU, j(idle), j(double), doubleCPU, j(main), st.ProcessJ, st.AttributedJ, st.Dumps, st.DumpCost)

	if j(busy) <= 0 {
		t.Fatalf("busy span got no energy: %+v", busy.Impact)
	}
	if j(idle) > 0.2*j(busy) {
		t.Errorf("idle span got %.3f J, busy %.3f J: sleeping must cost far less", j(idle), j(busy))
	}
	if r := j(double) / j(busy); r < 1.4 || r > 2.8 {
		t.Errorf("double/busy energy = %.2f, want about 2", r)
	}
	// Against the ground truth: the CPU time each working goroutine's thread
	// really used (Linux).
	if busyCPU > 0 && doubleCPU > 0 {
		want := doubleCPU.Seconds() / busyCPU.Seconds()
		if got := j(double) / j(busy); got < 0.7*want || got > 1.4*want {
			t.Errorf("double/busy energy = %.2f, CPU time ratio %.2f: energy does not follow CPU", got, want)
		}
	}
	children := j(busy) + j(idle) + j(double)
	if j(main) < children*(1-1e-9) {
		t.Errorf("parent %.6f J < sum of children %.6f J", j(main), children)
	}
	if j(main) > st.ProcessJ*(1+1e-9) {
		t.Errorf("root %.6f J > process energy %.6f J", j(main), st.ProcessJ)
	}
	if math.Abs(st.AttributedJ+st.UnattributedJ-st.ProcessJ) > 1e-6*max(st.ProcessJ, 1) {
		t.Errorf("attributed %v + unattributed %v != process %v", st.AttributedJ, st.UnattributedJ, st.ProcessJ)
	}
	f := energy.Factors()
	for _, r := range []*record.Record{busy, idle, double, main} {
		if want := r.Impact.EnergyKWh * pue * intensity; r.Impact.CO2eG != want {
			t.Errorf("%s: co2e_g = %v, want energy_kwh × PUE × intensity = %v", r.Name, r.Impact.CO2eG, want)
		}
		if want := r.Impact.EnergyKWh * (0 + pue*f.OffsiteWaterLPerKWh); math.Abs(r.Impact.WaterL-want) > 1e-15 {
			t.Errorf("%s: water_l = %v, want %v", r.Name, r.Impact.WaterL, want)
		}
		if r.Impact.EnergyKWh > 0 && !strings.Contains(r.Impact.EnergySource, "model") && !strings.Contains(r.Impact.EnergySource, "rapl") {
			t.Errorf("%s: energy_source = %q", r.Name, r.Impact.EnergySource)
		}
	}
	if live.EnergyKWh <= 0 || live.Complete || live.BySource["cpu"] <= 0 {
		t.Errorf("Impact while running = %+v", live)
	}
	if !final.Complete || final.EnergyKWh != main.Impact.EnergyKWh || final.CO2eG != main.Impact.CO2eG {
		t.Errorf("Impact after end = %+v, root record %+v", final, main.Impact)
	}
	rep := map[string]energy.NameImpact{}
	for _, n := range energy.Report() {
		rep[n.Name] = n
	}
	if n := rep["busy"]; n.Count < 1 || n.MaxKWh < busy.Impact.EnergyKWh || n.MinKWh > busy.Impact.EnergyKWh {
		t.Errorf("report line busy = %+v", n)
	}
}

// waitSampler waits until the sampler has read the meter once (it starts
// with the first span, on its own goroutine).
func waitSampler(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !energy.SamplerReady() {
		if time.Now().After(deadline) {
			t.Fatal("energy sampler did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLLMImpactAndBreakdown(t *testing.T) {
	energyEnv(t, "TRACEGEN_GRID_INTENSITY", "200", "TRACEGEN_GPU", "off")
	mem := setup(t, trace.Config{})
	ctx, root := trace.Start(context.Background(), "agent")
	func() {
		_, s := trace.Start(ctx, "llm.call")
		defer s.End()
		trace.AddLLMImpact(s, "gpt-4o", 3600, 0.5, 0.01) // 1 Wh, CO2e from the provider's grid
		trace.AddLLMImpact(s, "gpt-4o", 3600, 0.5, 0.01)
	}()
	func() {
		_, s := trace.Start(ctx, "llm.call2")
		defer s.End()
		trace.AddLLMImpact(s, "claude", 7200, 2, 0.02)
	}()
	live := energy.Impact(ctx)
	root.End()
	recs := finish(t, mem)
	r := recs["agent"]
	if r.Impact.Joules[record.EnergyLLM] != 14400 {
		t.Errorf("llm joules = %v, want 14400", r.Impact.Joules[record.EnergyLLM])
	}
	local := (r.Impact.EnergyKWh*3.6e6 - 14400) / 3.6e6
	if want := 3.0 + local*200; math.Abs(r.Impact.CO2eG-want) > 1e-9 {
		t.Errorf("co2e = %v, want %v (LLM estimates kept, local energy at 200 g/kWh)", r.Impact.CO2eG, want)
	}
	if !strings.Contains(r.Impact.EnergySource, energy.LLMEnergySource) {
		t.Errorf("energy_source = %q", r.Impact.EnergySource)
	}
	if m := live.ByModel["gpt-4o"]; m.Calls != 2 || math.Abs(m.CO2eG-1) > 1e-12 {
		t.Errorf("live ByModel[gpt-4o] = %+v", m)
	}
	if live.BySource["llm"] != 14400/3.6e6 {
		t.Errorf("live BySource = %v", live.BySource)
	}
	final := energy.Impact(ctx)
	if m := final.ByModel["claude"]; m.Calls != 1 || m.CO2eG != 2 {
		t.Errorf("final ByModel = %+v", final.ByModel)
	}
}

func TestEnergyOff(t *testing.T) {
	energyEnv(t, "TRACEGEN_ENERGY", "off")
	mem := setup(t, trace.Config{})
	before := runtime.NumGoroutine()
	_, s := trace.Start(context.Background(), "x")
	sink += spin(1 << 20)
	n := runtime.NumGoroutine()
	s.End()
	recs := finish(t, mem)
	if energy.SamplerExists() {
		t.Error("sampler started with TRACEGEN_ENERGY=off")
	}
	if n > before+1 { // the pipeline's batcher only
		t.Errorf("goroutines %d -> %d with energy off", before, n)
	}
	if !recs["x"].Impact.IsZero() {
		t.Errorf("impact with energy off = %+v", recs["x"].Impact)
	}
}

func TestImpactWithoutSpan(t *testing.T) {
	if ti := energy.Impact(context.Background()); ti.EnergyKWh != 0 || ti.Complete {
		t.Errorf("Impact without span = %+v", ti)
	}
}

// BenchmarkSample measures one attribution (goroutine dump, parse, split)
// with 50 goroutines inside spans, 4 of them busy: the cost the budget
// rations. The meter read is BenchmarkMeterRead in runtime/sensor.
func BenchmarkSample(b *testing.B) {
	defer energy.SetGetenv(func(k string) string {
		if k == energy.EnvSampleInterval {
			return "10s" // the ticker stays out of the way
		}
		return ""
	})()
	setup(b, trace.Config{})
	stop := spanGoroutines(50, 4)
	b.ResetTimer()
	for range b.N {
		energy.AttributeDump(1)
	}
	b.StopTimer()
	stop()
	// A dump every 100 ms interval, as a share of one core.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*10/1e9*100, "%core@10Hz")
}

// spanGoroutines starts n goroutines inside spans, busy of them computing
// and the others sleeping, waits for the energy sampler, and returns it with
// a function that stops the goroutines.
func spanGoroutines(n, busy int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(compute bool) {
			defer wg.Done()
			_, s := trace.Start(context.Background(), "g")
			defer s.End()
			for {
				select {
				case <-done:
					return
				default:
				}
				if compute {
					sink2.Add(spin(1000))
				} else {
					time.Sleep(time.Millisecond)
				}
			}
		}(i < busy)
	}
	for !energy.SamplerReady() {
		time.Sleep(time.Millisecond)
	}
	return func() { close(done); wg.Wait() }
}

// dumpSplit makes the test's samplers split energy by goroutine dumps, the
// fallback where the g layout is unknown.
func dumpSplit(t *testing.T) {
	energy.ForceDumpSplit.Store(true)
	t.Cleanup(func() { energy.ForceDumpSplit.Store(false) })
}

func TestDumpBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 1 s")
	}
	dumpSplit(t)
	energyEnv(t, energy.EnvSampleInterval, "10ms", "TRACEGEN_GPU", "off", energy.EnvImpactReport, t.TempDir()+"/report.txt")
	setup(t, trace.Config{})
	ctx, root := trace.Start(context.Background(), "root")
	waitSampler(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(busy bool) {
			defer wg.Done()
			_, s := trace.Start(ctx, "g")
			defer s.End()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if busy {
					sink2.Add(spin(10000))
				} else {
					time.Sleep(time.Millisecond)
				}
			}
		}(i < 2)
	}
	t0 := time.Now()
	before := energy.ReadStats()
	time.Sleep(time.Second)
	after := energy.ReadStats()
	el := time.Since(t0)
	close(stop)
	wg.Wait()
	root.End()
	dumps := after.Dumps - before.Dumps
	// Spent ≤ what the window earned + the tokens it may start with (at most
	// four dumps' worth) + the overshoot of its last dump.
	spent := after.DumpTotal - before.DumpTotal
	allowed := time.Duration(float64(el)*energy.DefaultEnergyBudget) + 5*after.DumpMax
	t.Logf("%d samples, %d dumps costing %v in %v (allowed %v)", after.Samples-before.Samples, dumps, spent, el, allowed)
	if spent > allowed {
		t.Errorf("dumps took %v of %v, over the %.1f%% budget", spent, el, energy.DefaultEnergyBudget*100)
	}
	if after.Samples-before.Samples < 3 { // a loaded machine delays ticks; the sampler must still run
		t.Errorf("only %d samples in %v at 10ms", after.Samples-before.Samples, el)
	}
}

func TestNoDumpWithTooManyGoroutines(t *testing.T) {
	dumpSplit(t)
	energyEnv(t, energy.EnvSampleInterval, "10ms", "TRACEGEN_GPU", "off")
	old := *energy.MaxDumpGoroutines
	*energy.MaxDumpGoroutines = 1
	energy.ForgetLogged("too-many-goroutines") // logged once per process
	defer func() { *energy.MaxDumpGoroutines = old }()
	log := &syncBuffer{}
	mem := setup(t, trace.Config{ErrorLog: log})
	_, s := trace.Start(context.Background(), "busy")
	waitSampler(t)
	for energy.ReadStats().UnattributedJ == 0 {
		sink2.Add(spin(1 << 20))
	}
	st := energy.ReadStats()
	s.End()
	recs := finish(t, mem)
	if st.Dumps != 0 || recs["busy"].Impact.EnergyKWh != 0 {
		t.Errorf("dumps %d, span energy %v: want no dump and no attribution", st.Dumps, recs["busy"].Impact.EnergyKWh)
	}
	if !strings.Contains(log.String(), "not split among spans") {
		t.Errorf("no log line about the skipped dumps; log: %q", log.String())
	}
}

func TestImpactIncludesRunningChildren(t *testing.T) {
	energyEnv(t, "TRACEGEN_GPU", "off")
	setup(t, trace.Config{})
	ctx, root := trace.Start(context.Background(), "root")
	started, release := make(chan *trace.Span), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, s := trace.Start(ctx, "child")
		defer s.End()
		s.AddEnergy(record.EnergyCPU, 7)
		started <- s
		<-release
	}()
	<-started
	ti := energy.Impact(ctx)
	close(release)
	<-done
	root.End()
	if ti.BySource["cpu"] < 7/3.6e6 {
		t.Errorf("Impact while the child runs = %+v, want its 7 J included", ti)
	}
}
