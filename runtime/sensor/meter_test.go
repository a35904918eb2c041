package sensor

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock drives the process and machine counters of a Meter.
type fakeClock struct {
	proc, busy time.Duration
	rss        uint64
}

func (f *fakeClock) options(root string) Options {
	return Options{
		RAPLRoot:    root,
		CgroupRoot:  "/nonexistent",
		Host:        &Host{CPUName: "AMD EPYC 7302 16-Core Processor", Sockets: 1, Threads: 4, MemoryBytes: 16 << 30, Arch: "amd64"},
		NoGPU:       true,
		ProcessCPU:  func() (time.Duration, error) { return f.proc, nil },
		MachineBusy: func() (time.Duration, error) { return f.busy, nil },
		RSS:         func() (uint64, error) { return f.rss, nil },
	}
}

func TestMeterCPUModel(t *testing.T) {
	f := &fakeClock{rss: 1 << 30}
	m := NewMeter(f.options("/nonexistent"))
	if m.Source() != "cpu-model" {
		t.Fatalf("source = %q", m.Source())
	}
	t0 := time.Unix(1000, 0)
	if r := m.Read(t0); r.Elapsed != 0 || r.ActiveJ() != 0 {
		t.Fatalf("priming read = %+v", r)
	}
	// 1 s of wall time, 0.5 s of CPU: active = 0.5 × 0.9 × 155/4 W.
	f.proc = 500 * time.Millisecond
	r := m.Read(t0.Add(time.Second))
	perCPU := 155.0 / 4
	if want := 0.5 * 0.9 * perCPU; math.Abs(r.CPUJ-want) > 1e-9 {
		t.Errorf("CPUJ = %v, want %v", r.CPUJ, want)
	}
	if want := 0.1 * perCPU * 4 * 1; math.Abs(r.IdleJ-want) > 1e-9 {
		t.Errorf("IdleJ = %v, want %v", r.IdleJ, want)
	}
	if want := 10.0 / 16; math.Abs(r.MemoryJ-want) > 1e-9 { // 10 W for 16 GB, 1 GB resident, 1 s
		t.Errorf("MemoryJ = %v, want %v", r.MemoryJ, want)
	}
	// A sleeping interval costs no active CPU energy.
	r = m.Read(t0.Add(2 * time.Second))
	if r.CPUJ != 0 {
		t.Errorf("idle interval CPUJ = %v", r.CPUJ)
	}
	// Twice the CPU, twice the energy.
	f.proc += time.Second
	r1 := m.Read(t0.Add(3 * time.Second))
	f.proc += 2 * time.Second
	r2 := m.Read(t0.Add(4 * time.Second))
	if math.Abs(r2.CPUJ/r1.CPUJ-2) > 1e-9 {
		t.Errorf("2x CPU gave %v× energy", r2.CPUJ/r1.CPUJ)
	}
}

func TestMeterRAPL(t *testing.T) {
	root := t.TempDir()
	writeZone(t, root, "intel-rapl:0", "package-0", 0, maxRange)
	f := &fakeClock{}
	m := NewMeter(f.options(root))
	if m.Source() != "rapl" {
		t.Fatalf("source = %q, probes %+v", m.Source(), m.Probes())
	}
	t0 := time.Unix(1000, 0)
	m.Read(t0)
	// Idle second: 10 J, sets the idle floor at 10 W.
	setEnergy(t, root, "intel-rapl:0", 10_000_000)
	f.busy += 100 * time.Millisecond
	r := m.Read(t0.Add(time.Second))
	if r.CPUJ != 0 || math.Abs(r.IdleJ-10) > 1e-9 {
		t.Errorf("idle second: %+v", r)
	}
	// Busy second: 50 J, machine busy 2 s of CPU, ours 1 s: (50-10)/2 = 20 J.
	setEnergy(t, root, "intel-rapl:0", 60_000_000)
	f.busy += 2 * time.Second
	f.proc += time.Second
	r = m.Read(t0.Add(2 * time.Second))
	if math.Abs(r.CPUJ-20) > 1e-9 || math.Abs(r.MachineJ-50) > 1e-9 {
		t.Errorf("busy second CPUJ = %v, MachineJ = %v; want 20 and 50", r.CPUJ, r.MachineJ)
	}
	// Counters become unreadable: the meter reports it and falls back.
	m.rapl.readFile = func(p string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	f.proc += time.Second
	r = m.Read(t0.Add(3 * time.Second))
	if !errors.Is(r.Err, ErrRAPLPermission) || m.Source() != "cpu-model" {
		t.Errorf("after permission loss: err %v source %q", r.Err, m.Source())
	}
	if want := 1 * 0.9 * 155.0 / 4; math.Abs(r.CPUJ-want) > 1e-9 {
		t.Errorf("fallback CPUJ = %v, want %v", r.CPUJ, want)
	}
}

func TestMeterRAPLPermissionProbe(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root reads anything; the injected-error path is covered by
		// TestRAPLErrors and TestMeterRAPL. Here check the probe text for the
		// missing-RAPL case instead, which every machine can reproduce.
		m := NewMeter((&fakeClock{}).options(t.TempDir()))
		p := probe(m, "rapl")
		if p.OK || !strings.Contains(p.Detail, "no package") || !errors.Is(p.Err, ErrNoRAPL) {
			t.Errorf("rapl probe = %+v, want an Err wrapping ErrNoRAPL", p)
		}
		return
	}
	root := t.TempDir()
	writeZone(t, root, "intel-rapl:0", "package-0", 0, maxRange)
	os.Chmod(root+"/intel-rapl:0/energy_uj", 0)
	m := NewMeter((&fakeClock{}).options(root))
	if p := probe(m, "rapl"); p.OK || !strings.Contains(p.Detail, "chmod") || !errors.Is(p.Err, ErrRAPLPermission) {
		t.Errorf("rapl probe = %+v", p)
	}
}

func probe(m *Meter, name string) Probe {
	for _, p := range m.Probes() {
		if p.Name == name {
			return p
		}
	}
	return Probe{}
}

type fakeGPU struct{ j float64 }

func (g *fakeGPU) Read(time.Duration) (float64, float64, error) { return g.j, 2 * g.j, nil }
func (g *fakeGPU) Devices() []string                            { return []string{"gpu0 fake (total-energy counter)"} }
func (g *fakeGPU) Close()                                       {}

func TestMeterGPU(t *testing.T) {
	f := &fakeClock{}
	o := f.options("/nonexistent")
	o.NoGPU = false
	o.OpenGPU = func() (GPU, error) { return &fakeGPU{j: 7}, nil }
	m := NewMeter(o)
	if m.Source() != "cpu-model+nvml" || !probe(m, "nvml").OK {
		t.Fatalf("source %q probes %+v", m.Source(), m.Probes())
	}
	t0 := time.Unix(0, 0)
	m.Read(t0)
	if r := m.Read(t0.Add(time.Second)); r.GPUJ != 7 {
		t.Errorf("GPUJ = %v, want 7 (the process's devices only)", r.GPUJ)
	}
	// The default build has no NVML and says how to get it.
	o.OpenGPU = nil
	m = NewMeter(o)
	if p := probe(m, "nvml"); p.OK || !strings.Contains(p.Detail, "nvml") || !errors.Is(p.Err, ErrNoGPU) {
		t.Errorf("nvml probe = %+v", p)
	}
	o.OpenGPU = func() (GPU, error) { return nil, errors.New("libnvidia-ml.so.1: not found") }
	if p := probe(NewMeter(o), "nvml"); !errors.Is(p.Err, ErrNoGPU) || !strings.Contains(p.Detail, "libnvidia-ml") {
		t.Errorf("nvml probe with a failing library = %+v", p)
	}
	o.NoGPU = true
	if p := probe(NewMeter(o), "nvml"); !errors.Is(p.Err, ErrNoGPU) || !strings.Contains(p.Err.Error(), EnvGPU) {
		t.Errorf("nvml probe with %s=off = %+v", EnvGPU, p)
	}
}

func TestMeterNoRAPL(t *testing.T) {
	m := NewMeter((&fakeClock{}).options(t.TempDir() + "/absent"))
	if p := probe(m, "rapl"); p.OK || !errors.Is(p.Err, ErrNoRAPL) {
		t.Errorf("rapl probe = %+v, want an Err wrapping ErrNoRAPL", p)
	}
}

func TestMeterRealHost(t *testing.T) {
	// On the machine running the tests: never panics, gives a sane model.
	m := NewMeter(Options{NoGPU: true})
	defer m.Close()
	t0 := time.Now()
	m.Read(t0)
	x := 0
	for i := 0; i < 3_000_000; i++ {
		x += i % 7
	}
	_ = x
	r := m.Read(t0.Add(50 * time.Millisecond))
	if r.Err != nil {
		t.Errorf("read error: %v", r.Err)
	}
	if r.CPUJ < 0 || r.IdleJ <= 0 || m.CPU().MaxW <= 0 || m.Host().Threads <= 0 {
		t.Errorf("reading %+v host %+v cpu %+v", r, m.Host(), m.CPU())
	}
}

func BenchmarkMeterRead(b *testing.B) {
	m := NewMeter(Options{NoGPU: true})
	t := time.Now()
	m.Read(t)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t = t.Add(100 * time.Millisecond)
		m.Read(t)
	}
}

func TestMeterPrimeAt(t *testing.T) {
	f := &fakeClock{proc: 10 * time.Second}
	m := NewMeter(f.options("/nonexistent"))
	t0 := time.Unix(1000, 0)
	// Baseline taken before the meter existed: 10 s of CPU at t0.
	f.proc = 12 * time.Second // 2 s of CPU while the meter was built
	m.PrimeAt(t0, 10*time.Second)
	r := m.Read(t0.Add(4 * time.Second))
	if r.Elapsed != 4*time.Second || r.ProcessCPU != 2*time.Second {
		t.Errorf("after PrimeAt: elapsed %v cpu %v, want 4s and 2s", r.Elapsed, r.ProcessCPU)
	}
	if p, err := ProcessCPU(); err != nil || p <= 0 {
		t.Errorf("ProcessCPU = %v, %v", p, err)
	}
}

// A machine that never idles while sampled (a program busy from its first
// span on): without the prior, the lowest power seen (at 2 busy CPUs) would
// be the floor and the dynamic energy zero.
func TestMeterRAPLFloorPrior(t *testing.T) {
	for _, tt := range []struct {
		name          string
		idleW, perCPU float64 // the machine: idleW + perCPU × busy CPUs
		wantJPerCPU   [2]float64
	}{
		// Idle at 10 % of full load (4 CPUs: 4 + 4×9 = 40 W): the prior is
		// the machine, the price 9 J per busy CPU-second at any load.
		{"idle at 10 %", 4, 9, [2]float64{9, 9}},
		// Idle at 40 % (16 + 4×6 = 40 W): the prior floor (about 5.1 W from
		// the intervals at 2 busy CPUs, 5.5 W with those at 1) is too low,
		// the price too high (6 J per busy CPU-second in truth), the more
		// so the lower the load: the bias docs/energy.md states.
		{"idle at 40 %", 16, 6, [2]float64{11.45, 16.6}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeZone(t, root, "intel-rapl:0", "package-0", 0, maxRange)
			f := &fakeClock{}
			m := NewMeter(f.options(root))
			t0 := time.Unix(1000, 0)
			m.Read(t0)
			var uj float64
			for i, busy := range []float64{2, 2, 2, 1, 1} { // busy CPUs, this process's too
				uj += 1e6 * (tt.idleW + tt.perCPU*busy)
				setEnergy(t, root, "intel-rapl:0", uint64(uj))
				f.busy += time.Duration(busy * float64(time.Second))
				f.proc += time.Duration(busy * float64(time.Second))
				r := m.Read(t0.Add(time.Duration(i+1) * time.Second))
				if r.CPUJ <= 0 {
					t.Fatalf("interval %d (busy %v): CPUJ = %v, want > 0", i, busy, r.CPUJ)
				}
				k := 0
				if busy == 1 {
					k = 1
				}
				if got := r.CPUJ / busy; math.Abs(got-tt.wantJPerCPU[k]) > 0.05*tt.wantJPerCPU[k] {
					t.Errorf("interval %d (busy %v): %.2f J per CPU-second, want %.2f", i, busy, got, tt.wantJPerCPU[k])
				}
				if p := m.Price(); math.Abs(p.CPUJPerSec-r.CPUJ/busy) > 0.5*r.CPUJ/busy {
					t.Errorf("interval %d: price %v J per CPU-second after a reading of %v", i, p.CPUJPerSec, r.CPUJ/busy)
				}
			}
			// An idle interval makes the lowest power the floor, as before.
			uj += 1e6 * tt.idleW
			setEnergy(t, root, "intel-rapl:0", uint64(uj))
			f.busy += 10 * time.Millisecond
			r := m.Read(t0.Add(6 * time.Second))
			uj += 1e6 * (tt.idleW + tt.perCPU*2)
			setEnergy(t, root, "intel-rapl:0", uint64(uj))
			f.busy += 2 * time.Second
			f.proc += 2 * time.Second
			r = m.Read(t0.Add(7 * time.Second))
			if got := r.CPUJ / 2; math.Abs(got-tt.perCPU) > 0.05*tt.perCPU {
				t.Errorf("after an idle second: %.2f J per CPU-second, want %v", got, tt.perCPU)
			}
		})
	}
}

// Counters read again before RAPL updated them: the interval is priced at
// the latest rate and the machine's window stays open, so that the next
// reading covers both intervals.
func TestMeterRAPLStillCounters(t *testing.T) {
	root := t.TempDir()
	writeZone(t, root, "intel-rapl:0", "package-0", 0, maxRange)
	f := &fakeClock{}
	m := NewMeter(f.options(root))
	t0 := time.Unix(1000, 0)
	m.Read(t0)
	setEnergy(t, root, "intel-rapl:0", 10_000_000) // idle second: 10 W
	f.busy += 10 * time.Millisecond
	m.Read(t0.Add(time.Second))
	setEnergy(t, root, "intel-rapl:0", 40_000_000) // 30 J, 2 busy CPUs, ours 1: 10 J
	f.busy += 2 * time.Second
	f.proc += time.Second
	if r := m.Read(t0.Add(2 * time.Second)); math.Abs(r.CPUJ-10) > 1e-9 {
		t.Fatalf("CPUJ = %v, want 10", r.CPUJ)
	}
	// 100 ms later the counter has not moved: 0.1 s of our CPU at 10 J per
	// busy CPU-second.
	f.busy += 200 * time.Millisecond
	f.proc += 100 * time.Millisecond
	r := m.Read(t0.Add(2100 * time.Millisecond))
	if math.Abs(r.CPUJ-1) > 1e-9 || r.Err != nil {
		t.Errorf("still counter: CPUJ = %v, err %v; want 1 J at the latest rate", r.CPUJ, r.Err)
	}
	// The next reading's machine window spans both intervals: 1.1 s, 33 J,
	// 2.2 busy CPU-seconds (10 W idle: 22 J dynamic, 10 per busy CPU-second).
	setEnergy(t, root, "intel-rapl:0", 73_000_000)
	f.busy += 2 * time.Second
	f.proc += time.Second
	r = m.Read(t0.Add(3100 * time.Millisecond))
	if math.Abs(r.CPUJ-10) > 0.5 {
		t.Errorf("after the still interval: CPUJ = %v, want about 10", r.CPUJ)
	}
}

// ReadWith with the CPU time the caller read gives the same reading as
// Read; Price is the model's per CPU-second price without RAPL.
func TestMeterReadWithAndPrice(t *testing.T) {
	f := &fakeClock{rss: 1 << 30}
	m := NewMeter(f.options("/nonexistent"))
	t0 := time.Unix(1000, 0)
	m.Read(t0)
	f.proc = 500 * time.Millisecond
	proc, err := m.CPUTime()
	if err != nil || proc != f.proc {
		t.Fatalf("CPUTime = %v, %v", proc, err)
	}
	f.proc = 900 * time.Millisecond // moves after the caller's reading
	r := m.ReadWith(t0.Add(time.Second), proc, nil)
	if r.ProcessCPU != 500*time.Millisecond {
		t.Errorf("ReadWith used CPU %v, want the caller's 500ms", r.ProcessCPU)
	}
	p := m.Price()
	if want := 0.9 * 155.0 / 4; math.Abs(p.CPUJPerSec-want) > 1e-9 || math.Abs(r.CPUJ-0.5*want) > 1e-9 {
		t.Errorf("price %v J per CPU-second, reading %v J; want %v and %v", p.CPUJPerSec, r.CPUJ, want, 0.5*want)
	}
	if math.Abs(p.MemoryW-10.0/16) > 1e-9 {
		t.Errorf("memory price %v W, want %v", p.MemoryW, 10.0/16)
	}
}

// After PrimeAt the machine's counters cover only the time since PrimeAt;
// their power and busy rate apply to the whole interval (since at).
func TestMeterPrimeAtMachineWindow(t *testing.T) {
	root := t.TempDir()
	writeZone(t, root, "intel-rapl:0", "package-0", 0, maxRange)
	f := &fakeClock{}
	m := NewMeter(f.options(root))
	t0 := time.Now().Add(-10 * time.Second)
	m.Read(t0)
	setEnergy(t, root, "intel-rapl:0", 10_000_000) // idle second: floor 10 W
	f.busy += 10 * time.Millisecond
	m.Read(t0.Add(time.Second))
	// The interval began 1 s before PrimeAt primed the machine's counters.
	f.proc = 5 * time.Second
	m.PrimeAt(time.Now().Add(-time.Second), 4*time.Second)
	primed := m.machineLast
	// 1 s of counters: 30 J (30 W, 2 busy CPUs, 20 W dynamic); our CPU 2 s
	// over the 2 s interval, at 2 busy CPUs: 1 s of the dynamic power.
	setEnergy(t, root, "intel-rapl:0", 40_000_000)
	f.busy += 2 * time.Second
	f.proc += time.Second
	r := m.Read(primed.Add(time.Second))
	if r.Elapsed < 1900*time.Millisecond || r.ProcessCPU != 2*time.Second {
		t.Fatalf("interval %v, CPU %v; want about 2 s and 2 s", r.Elapsed, r.ProcessCPU)
	}
	if math.Abs(r.CPUJ-20) > 0.1 || math.Abs(r.MachineJ-30*r.Elapsed.Seconds()) > 0.1 {
		t.Errorf("CPUJ %v, MachineJ %v; want 20 J and the machine's 30 W over the interval", r.CPUJ, r.MachineJ)
	}
}
