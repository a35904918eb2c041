package energy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/trace"

	"github.com/tracegen-dev/tracegen/runtime/energy"
)

// The three-span program, run again and again as separate processes, the
// way a user runs an instrumented program: the environment configures the
// runtime (defaults for the sampler: 100 ms interval, default budget, every
// CPU), spans go to a JSONL file, and the program's own ground truth (the CPU
// time of each span's thread) comes back on stdout.
//
// The test binary is the program: when envEnergyProgram is set, init runs
// the program and exits before any test starts.

const envEnergyProgram = "TRACEGEN_TEST_ENERGY_PROGRAM"

// programReport is what the program prints.
type programReport struct {
	SpanCPU    map[string]time.Duration // thread CPU time inside each span
	SpanWall   map[string]time.Duration
	ProcessJ   float64
	ProcessCPU time.Duration
	Stats      energy.Stats
	// SamplerExit is how long the energy sampler's goroutine outlived the
	// last span (-1: still there after a second), Goroutines the dump then.
	SamplerExit time.Duration
	Goroutines  string
}

func init() {
	if os.Getenv(envEnergyProgram) == "three-span" {
		if path := os.Getenv("TRACEGEN_TEST_ENERGY_TRACE"); path != "" {
			var mu sync.Mutex
			var buf bytes.Buffer
			t0 := time.Now()
			energy.SetTrace(func(format string, args ...any) {
				mu.Lock()
				fmt.Fprintf(&buf, "%8.3f ", time.Since(t0).Seconds()*1e3)
				fmt.Fprintf(&buf, format+"\n", args...)
				mu.Unlock()
			})
			defer func() {
				mu.Lock()
				os.WriteFile(path, buf.Bytes(), 0o644)
				os.Exit(0)
			}()
		}
		threeSpanProgram()
		if os.Getenv("TRACEGEN_TEST_ENERGY_TRACE") != "" {
			return // the deferred write exits
		}
		os.Exit(0)
	}
}

// threeSpanProgram: a root span "run" with a 400 ms busy span, a span that
// sleeps while the busy one works, an 800 ms busy span side by side, then a
// 30 ms busy span alone (shorter than the 100 ms sampling interval).
func threeSpanProgram() {
	unit := calibrateCPU(400 * time.Millisecond) // the program's own setup, before any span
	rep := programReport{SpanCPU: map[string]time.Duration{}, SpanWall: map[string]time.Duration{}}
	var mu sync.Mutex
	// work runs f in a span on a goroutine locked to its thread, so that the
	// thread's CPU clock is the span's CPU time.
	work := func(ctx context.Context, name string, f func()) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, s := trace.Start(ctx, name)
		t0, c0 := time.Now(), threadCPU()
		f()
		c, w := threadCPU()-c0, time.Since(t0)
		s.End()
		mu.Lock()
		rep.SpanCPU[name], rep.SpanWall[name] = c, w
		mu.Unlock()
	}
	ctx, root := trace.Start(context.Background(), "run")
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		work(ctx, "busy", func() { sink2.Add(spin(unit)) })
		close(done)
	}()
	go func() {
		defer wg.Done()
		work(ctx, "idle", func() { <-done })
	}()
	go func() {
		defer wg.Done()
		work(ctx, "double", func() { sink2.Add(spin(2 * unit)) })
	}()
	wg.Wait()
	work(ctx, "short", func() { sink2.Add(spin(unit * 30 / 400)) })
	root.End()
	ended := time.Now()
	buf := make([]byte, 1<<20)
	rep.SamplerExit = -1
	for time.Since(ended) < time.Second {
		dump := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(dump, "(*sampler)") {
			rep.SamplerExit = time.Since(ended)
			break
		}
		rep.Goroutines = dump
		time.Sleep(time.Millisecond)
	}
	trace.Stop()
	rep.Stats = energy.ReadStats()
	rep.ProcessJ, rep.ProcessCPU = rep.Stats.ProcessJ, rep.Stats.ProcessCPU
	json.NewEncoder(os.Stdout).Encode(rep)
}

// calibrateCPU returns the work units that take about d of CPU time here
// (thread CPU time, so that a loaded machine makes spans longer, not
// lighter).
func calibrateCPU(d time.Duration) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := 1 << 16
	for {
		c0 := threadCPU()
		sink2.Add(spin(n))
		if c := threadCPU() - c0; c > 20*time.Millisecond {
			return int(float64(n) * float64(d) / float64(c))
		}
		n *= 2
	}
}

// spanEnergy reads a JSONL file: joules and energy_source by span name.
func spanEnergy(t *testing.T, path string) (map[string]float64, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, src := map[string]float64{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Name   string `json:"name"`
			Impact struct {
				EnergyKWh    float64 `json:"energy_kwh"`
				EnergySource string  `json:"energy_source"`
			} `json:"impact"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, dup := j[r.Name]; dup {
			t.Fatalf("%s: span %q twice", path, r.Name)
		}
		j[r.Name], src[r.Name] = r.Impact.EnergyKWh*3.6e6, r.Impact.EnergySource
	}
	return j, src
}

// fakeRAPL is a powercap tree in the kernel's format (intel-rapl:0 with
// name, energy_uj, max_energy_range_uj; a core sub-zone, which the meter
// must skip, and a dram sub-zone, which it must add) for a machine whose
// package draws idleW plus perCPU watts per busy CPU (the machine's busy
// time from /proc/stat, other processes included) and whose DRAM draws a
// constant 0.5 W. The test's machine idles at 10 % of its full-load power,
// the meter's model when it never sees the machine idle (a program busy
// from its first span to its last); TestMeterRAPLFloorPrior covers a
// machine that idles higher.
//
// The kernel computes a counter when it is read; here a writer replaces
// each energy_uj (by rename: a reader never sees half a file) every 2 ms,
// from a thread of its own that sleeps in nanosleep, so that the counters
// follow the busy time the meter reads even on a loaded machine (with a Go
// ticker, whose wake-ups wait for the scheduler on the process's other
// threads, they lagged by up to 250 ms; at real-time priority the writer
// starved the reader on a kernel lock for seconds).
type fakeRAPL struct {
	root          string
	idleW, perCPU float64
	stop, done    chan struct{}
}

const fakeRAPLRange = 262143328850 // max_energy_range_uj of a real package zone

func startFakeRAPL(t *testing.T, idleW, perCPU float64) *fakeRAPL {
	t.Helper()
	f := &fakeRAPL{root: t.TempDir(), idleW: idleW, perCPU: perCPU, stop: make(chan struct{}), done: make(chan struct{})}
	busy0, err := procStatBusy()
	if err != nil {
		t.Skipf("no /proc/stat: %v", err)
	}
	t0 := time.Now()
	// Start well inside the range, so that the counters never wrap here.
	const base = 100_000_000_000
	type zone struct {
		dir    string
		joules func(el, busy float64) float64
	}
	zones := []zone{
		{"intel-rapl:0", func(el, busy float64) float64 { return f.idleW*el + f.perCPU*busy }},
		{"intel-rapl:0:0", func(el, busy float64) float64 { return 0.8 * f.perCPU * busy }},
		{"intel-rapl:0:1", func(el, busy float64) float64 { return 0.5 * el }},
	}
	names := []string{"package-0", "core", "dram"}
	write := func(dir string, uj float64) error {
		p := filepath.Join(f.root, dir, "energy_uj")
		if err := os.WriteFile(p+".tmp", []byte(strconv.FormatUint(uint64(base+uj), 10)+"\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(p+".tmp", p)
	}
	update := func() {
		busy, err := procStatBusy()
		if err != nil {
			return
		}
		el := time.Since(t0).Seconds()
		for _, z := range zones {
			write(z.dir, 1e6*z.joules(el, (busy-busy0).Seconds()))
		}
	}
	os.MkdirAll(filepath.Join(f.root, "intel-rapl"), 0o755) // the control-type directory
	for i, z := range zones {
		d := filepath.Join(f.root, z.dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for file, v := range map[string]string{"name": names[i], "max_energy_range_uj": strconv.Itoa(fakeRAPLRange), "enabled": "1"} {
			if err := os.WriteFile(filepath.Join(d, file), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	update()
	go func() {
		defer close(f.done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pause := syscall.NsecToTimespec(int64(2 * time.Millisecond))
		for {
			select {
			case <-f.stop:
				return
			default:
			}
			syscall.Nanosleep(&pause, nil)
			update()
		}
	}()
	t.Cleanup(func() { close(f.stop); <-f.done })
	return f
}

// procStatBusy is the machine's busy CPU time (all but idle and iowait).
func procStatBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: %q", line)
	}
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		x, _ := strconv.ParseFloat(v, 64)
		busy += x
	}
	return time.Duration(busy / 100 * float64(time.Second)), nil // USER_HZ
}

// TestEnergyRepeated runs the three-span program ten times with the CPU
// model and ten times with a RAPL tree, and checks every run: each span of
// at least 50 ms that computes gets energy within ±25 % of its share of the
// process's CPU time, the 30 ms span (shorter than the interval) gets a
// proportional estimate, the sleeping span less than a tenth of the busy one
// of equal length, and the root covers its children. A run that misses one
// of the checks other load can move is repeated, up to three attempts.
func TestEnergyRepeated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program 20 times, about 30 s")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the ground truth is the CPU clock of each span's thread (Linux)")
	}
	if raceDetector {
		// The measured program is this test binary: built with -race it runs
		// 5-10× slower beside the detector's own threads, which is not the
		// split under test. scripts/test runs this test without -race.
		t.Skip("measures a program built with -race; run it without -race (scripts/test does)")
	}
	runs := 10
	if v, err := strconv.Atoi(os.Getenv("TRACEGEN_TEST_ENERGY_RUNS")); err == nil && v > 0 {
		runs = v
	}
	for _, sensor := range []string{"cpu-model", "rapl"} {
		t.Run(sensor, func(t *testing.T) {
			raplRoot := t.TempDir() // empty: no RAPL, the CPU model
			if sensor == "rapl" {
				// 2 CPUs: 1.5 W + 0.5 W DRAM idle, 20 W at full load.
				raplRoot = startFakeRAPL(t, 1.5, 9).root
			}
			for i := 1; i <= runs; i++ {
				// A run that misses a check is repeated, up to three
				// attempts: the price the meter sees follows the whole
				// machine's busy time (so does the fake RAPL counter),
				// which other load on a shared VM moves from one interval
				// to the next. A misattribution misses every attempt.
				var misses []string
				for attempt := 1; attempt <= 3; attempt++ {
					m := runThreeSpan(t, sensor, raplRoot, i, attempt)
					if len(m) == 0 {
						if misses != nil {
							t.Logf("run %d passed at attempt %d after: %s", i, attempt, strings.Join(misses, "; "))
						}
						misses = nil
						break
					}
					for _, x := range m {
						misses = append(misses, fmt.Sprintf("attempt %d: %s", attempt, x))
					}
				}
				for _, m := range misses {
					t.Error(m)
				}
			}
		})
	}
}

// runThreeSpan runs the program once and checks it. What holds on any
// machine (no output on stderr, a root that covers its children, the energy
// source, attributed + unattributed = process) is an error at once; what
// other load on the machine can move (each span's share, the root against
// the process, the sampler's exit) is returned, for the caller to repeat the
// run.
func runThreeSpan(t *testing.T, sensor, raplRoot string, i, attempt int) (misses []string) {
	t.Helper()
	miss := func(format string, args ...any) { misses = append(misses, fmt.Sprintf(format, args...)) }
	jsonl := filepath.Join(t.TempDir(), "spans.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	trace := ""
	if dir := os.Getenv("TRACEGEN_TEST_ENERGY_TRACE_DIR"); dir != "" {
		trace = filepath.Join(dir, fmt.Sprintf("%s-%d.txt", sensor, i))
	}
	cmd.Env = append(os.Environ(), envEnergyProgram+"=three-span", "TRACEGEN_TEST_ENERGY_TRACE="+trace,
		"TRACEGEN_EXPORTER=jsonl", "TRACEGEN_JSONL_PATH="+jsonl, "TRACEGEN_GPU=off",
		"TRACEGEN_RAPL_ROOT="+raplRoot, "TRACEGEN_SAMPLE_INTERVAL=", "TRACEGEN_ENERGY_BUDGET=", "GOMAXPROCS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	busy0, _ := procStatBusy()
	out, err := cmd.Output()
	busy1, _ := procStatBusy()
	if err != nil {
		t.Fatalf("run %d: %v\n%s", i, err, stderr.String())
	}
	// The machine's busy time beside the program's: other load, which moves
	// the price the meter sees (and the fake RAPL counter follows it).
	other := busy1 - busy0 - (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
	var rep programReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("run %d: %v\n%s", i, err, out)
	}
	j, src := spanEnergy(t, jsonl)
	share := func(name string) float64 {
		return rep.ProcessJ * rep.SpanCPU[name].Seconds() / rep.ProcessCPU.Seconds()
	}
	var line strings.Builder
	fmt.Fprintf(&line, "%s run %2d (attempt %d):", sensor, i, attempt)
	for _, n := range []string{"busy", "double", "short"} {
		fmt.Fprintf(&line, " %s %.3f J (%.2f of CPU share, %v CPU)", n, j[n], j[n]/share(n), rep.SpanCPU[n].Round(time.Millisecond))
	}
	fmt.Fprintf(&line, "; idle %.4f J; run %.3f J; process %.3f J %v CPU; %d samples, %d ticks, %d dumps; sampler exit %v; other busy CPU %v",
		j["idle"], j["run"], rep.ProcessJ, rep.ProcessCPU.Round(time.Millisecond), rep.Stats.Samples, rep.Stats.Ticks, rep.Stats.Dumps, rep.SamplerExit.Round(time.Millisecond), other.Round(time.Millisecond))
	t.Log(line.String())

	if stderr.Len() > 0 {
		t.Errorf("run %d: stderr: %s", i, stderr.String())
	}
	for _, n := range []string{"busy", "double"} {
		if r := j[n] / share(n); !(r >= 0.75 && r <= 1.25) {
			miss("run %d: %s got %.4f J, %.2f × its share of the process's CPU time (%.4f J); want within ±25%%", i, n, j[n], r, share(n))
		}
	}
	if r := j["short"] / share("short"); !(r >= 0.75 && r <= 1.25) {
		miss("run %d: the 30 ms span got %.4f J, %.2f × its CPU share (%.4f J); want a proportional estimate within ±25%%", i, j["short"], r, share("short"))
	}
	if !(j["idle"] < j["busy"]/10) {
		miss("run %d: sleeping span %.4f J, busy span of the same length %.4f J: want less than a tenth", i, j["idle"], j["busy"])
	}
	children := j["busy"] + j["idle"] + j["double"] + j["short"]
	if j["run"] < children*(1-1e-9) {
		t.Errorf("run %d: root %.6f J < sum of its children %.6f J", i, j["run"], children)
	}
	// Each span ends with a provisional share: its CPU time since the
	// meter's last reading, at the price of the interval before. The
	// reading after settles the process's figure at the real price, but the
	// span was exported already, and the root carries its children's
	// figures. So the root may exceed the process by what those shares can
	// be off: at most one interval's CPU time of each span, priced within
	// the ±25 % the spans are held to. (A bound of one tick failed in CI
	// under load: the root 2.3 % over, its children already 2.1 %.)
	price := rep.ProcessJ / max(rep.ProcessCPU.Seconds(), 1e-9)
	var provisional time.Duration
	for _, n := range []string{"busy", "idle", "double", "short"} {
		provisional += min(rep.SpanCPU[n], energy.DefaultSampleInterval)
	}
	slack := 0.25 * provisional.Seconds() * price
	if j["run"] > rep.ProcessJ*1.01+slack {
		miss("run %d: root %.6f J > process energy %.6f J (+1 %% and %.6f J for the provisional shares of %v CPU)", i, j["run"], rep.ProcessJ, slack, provisional)
	}
	for _, n := range []string{"busy", "double", "short", "run"} {
		if src[n] != sensor {
			t.Errorf("run %d: %s: energy_source %q, want %q", i, n, src[n], sensor)
		}
	}
	if math.Abs(rep.Stats.AttributedJ+rep.Stats.UnattributedJ-rep.ProcessJ) > 1e-9*max(rep.ProcessJ, 1) {
		t.Errorf("run %d: attributed %v + unattributed %v != process %v", i, rep.Stats.AttributedJ, rep.Stats.UnattributedJ, rep.ProcessJ)
	}
	// The sampler exits energyIdleExit (30 ms) after the last span, plus a
	// tick; a loaded machine may delay it a little, but it must stay well
	// inside goleak's default retries (about 0.4 s).
	if rep.SamplerExit < 0 || rep.SamplerExit > 150*time.Millisecond {
		miss("run %d: the energy sampler outlived the last span by %v, want at most 150 ms; last dump:\n%s", i, rep.SamplerExit, rep.Goroutines)
	}
	return misses
}
