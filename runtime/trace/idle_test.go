package trace

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// The batcher goroutine exits once the pipeline is idle and starts again
// with the next span (pipeline.go, "Idle exit").

// batchers counts batcher goroutines, from a goroutine dump (one that has
// not run yet shows its go statement's wrapper, not run, on top).
func batchers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "created by github.com/tracegen-dev/tracegen/runtime/trace.(*pipeline).enqueue")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitBatchers waits up to limit for the number of batchers to become want
// and returns how long that took.
func waitBatchers(t *testing.T, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for batchers() != want {
		if time.Since(start) > limit {
			t.Fatalf("after %v: %d batcher goroutines, want %d", limit, batchers(), want)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return time.Since(start)
}

func running(p *pipeline) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// TestIdleExitGoleak is what a test suite using go.uber.org/goleak sees:
// spans end, the suite checks for leaks straight away with goleak's default
// retries, and the check passes; the goroutine count is back where it was;
// later spans are exported, none lost.
func TestIdleExitGoleak(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off") // the energy sampler has its own idle exit (runtime/energy)
	mem := setup(t, Config{})
	baseline := settledGoroutines()
	ignore := goleak.IgnoreCurrent()
	starts := batcherStarts.Load()

	for round := 1; round <= 3; round++ {
		ctx, root := Start(context.Background(), "root")
		for i := 0; i < 10; i++ {
			_, c := Start(ctx, "child")
			c.End()
		}
		root.End()
		if n := batchers(); n != 1 {
			t.Fatalf("round %d: %d batcher goroutines right after End, want 1", round, n)
		}
		goleak.VerifyNone(t, ignore) // default retries: about 0.4 s in all
		if n := runtime.NumGoroutine(); n != baseline {
			t.Errorf("round %d: %d goroutines after the leak check, %d before the spans", round, n, baseline)
		}
		if got := mem.Total(); got != uint64(11*round) {
			t.Errorf("round %d: exported %d spans before any Flush, want %d", round, got, 11*round)
		}
	}
	if got := batcherStarts.Load() - starts; got != 3 {
		t.Errorf("batcher started %d times over 3 idle periods, want 3", got)
	}
}

// TestIdleExitTime measures how long the batcher outlives the last span:
// at least one idle period, and well inside goleak's retry window.
func TestIdleExitTime(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	setup(t, Config{})
	var worst time.Duration
	for i := 0; i < 5; i++ {
		s := Begin("x")
		s.End()
		end := time.Now()
		waitBatchers(t, 0, 2*time.Second)
		d := time.Since(end)
		if d < idleTimeout {
			t.Errorf("batcher exited %v after the last span, before the idle period (%v)", d, idleTimeout)
		}
		worst = max(worst, d)
	}
	t.Logf("batcher gone %v after the last span (worst of 5; idle period %v)", worst, idleTimeout)
	// goleak retries for about 430 ms; 2 idle periods plus scheduling slack.
	if worst > 200*time.Millisecond {
		t.Errorf("batcher outlived the last span by %v", worst)
	}
}

// TestIdleBoundaryLosesNothing hammers the boundary between "the batcher
// decides to exit" and "a span is queued": with a tiny idle period the
// batcher exits and restarts thousands of times while spans end and Flush
// is called from several goroutines. Every span must be exported exactly
// once, none dropped, and every Flush must return. Run it with -race.
func TestIdleBoundaryLosesNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"blocking", Config{Blocking: true, QueueSize: 8, BatchSize: 4}},
		{"batch1", Config{BatchSize: 1, FlushInterval: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TRACEGEN_ENERGY", "off")
			idleOverride.Store(int64(500 * time.Microsecond))
			t.Cleanup(func() { idleOverride.Store(0) })
			mem := setup(t, tc.cfg)
			before := ReadStats()
			starts := batcherStarts.Load()
			// Waves: workers end a few spans each, then everything pauses
			// for a time drawn around the idle period, so that spans keep
			// arriving just as the batcher decides to exit.
			const workers, rounds, perRound = 6, 300, 2
			const each = rounds * perRound
			idle := time.Duration(idleOverride.Load())
			r := rand.New(rand.NewPCG(1, 2))
			var flushErr atomic.Value
			for i := 0; i < rounds; i++ {
				var wg sync.WaitGroup
				for w := 0; w < workers; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						for k := 0; k < perRound; k++ {
							s := Begin("load")
							s.SetAttr("w", w)
							s.End()
						}
						if (i+w)%16 == 0 {
							ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
							if err := Flush(ctx); err != nil {
								flushErr.Store(err)
							}
							cancel()
						}
					}(w)
				}
				wg.Wait()
				time.Sleep(time.Duration(r.Int64N(int64(4 * idle))))
			}
			if err, _ := flushErr.Load().(error); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if err := Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := mem.Total(); got != workers*each {
				t.Errorf("exported %d spans, want %d", got, workers*each)
			}
			if d := ReadStats().Dropped - before.Dropped; d != 0 {
				t.Errorf("%d spans dropped", d)
			}
			seen := map[record.SpanID]bool{}
			for _, r := range mem.Spans() {
				if seen[r.SpanID] {
					t.Fatalf("span %v exported twice", r.SpanID)
				}
				seen[r.SpanID] = true
			}
			restarts := batcherStarts.Load() - starts
			t.Logf("%d spans, batcher started %d times", workers*each, restarts)
			if restarts < rounds/10 {
				t.Errorf("batcher started only %d times: the boundary was hardly exercised", restarts)
			}
			waitBatchers(t, 0, 2*time.Second)
		})
	}
}

// recorder notes the calls the pipeline makes.
type recorder struct {
	mu                     sync.Mutex
	exported, idles, shuts int
}

func (r *recorder) Export(_ context.Context, recs []*record.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exported += len(recs)
	return nil
}

func (r *recorder) Idle(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idles++
	return nil
}

func (r *recorder) Shutdown(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shuts++
	return nil
}

func (r *recorder) counts() (exported, idles, shuts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exported, r.idles, r.shuts
}

// TestFlushShutdownWhileIdle: with no batcher running, Flush returns at once
// and Shutdown shuts the exporters down itself; exporters that implement
// export.Idler are told when the pipeline goes idle, also through a Tee.
func TestFlushShutdownWhileIdle(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	direct, teed := &recorder{}, &recorder{}
	mem := setup(t, Config{FlushInterval: time.Hour}, direct, export.NewTee(teed))
	p := active.Load()
	for i := 0; i < 3; i++ {
		s := Begin("a")
		s.End()
	}
	if !running(p) {
		t.Fatal("no batcher running after End")
	}
	waitBatchers(t, 0, 2*time.Second)
	if running(p) {
		t.Fatal("running still set after the batcher exited")
	}
	// Exported without Flush although FlushInterval is an hour: idle
	// pipelines export what they hold before the batcher exits.
	for _, r := range []*recorder{direct, teed} {
		if e, i, s := r.counts(); e != 3 || i != 1 || s != 0 {
			t.Errorf("after going idle: exported %d, idle calls %d, shutdowns %d; want 3, 1, 0", e, i, s)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	t0 := time.Now()
	if err := Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 100*time.Millisecond {
		t.Errorf("Flush of an idle pipeline took %v", d)
	}
	if batchers() != 0 {
		t.Error("Flush of an idle pipeline started a batcher")
	}
	late := Begin("late")
	before := ReadStats()
	if err := Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{direct, teed} {
		if _, _, s := r.counts(); s != 1 {
			t.Errorf("shutdowns %d after Shutdown of an idle pipeline, want 1", s)
		}
	}
	late.End()
	if d := ReadStats().Dropped - before.Dropped; d != 1 {
		t.Errorf("span ended after Shutdown: dropped %d, want 1", d)
	}
	if batchers() != 0 {
		t.Error("a span ended after Shutdown started a batcher")
	}
	if mem.Total() != 3 {
		t.Errorf("memory exporter has %d spans, want 3", mem.Total())
	}
}

// TestShutdownWhileRunning: Shutdown with spans queued and the batcher
// running exports them and stops the batcher for good.
func TestShutdownWhileRunning(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	rec := &recorder{}
	setup(t, Config{FlushInterval: time.Hour}, rec)
	for i := 0; i < 5; i++ {
		s := Begin("a")
		s.End()
	}
	if err := Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e, _, s := rec.counts(); e != 5 || s != 1 {
		t.Errorf("after Shutdown: exported %d, shutdowns %d; want 5, 1", e, s)
	}
	if n := batchers(); n != 0 {
		t.Errorf("%d batchers after Shutdown returned", n)
	}
}

// TestShutdownTimeoutWhileRunning: a stuck exporter makes Shutdown give up
// at its deadline; a second Shutdown reports the same.
func TestShutdownTimeoutWhileRunning(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	stuck := &gate{release: make(chan struct{})}
	setup(t, Config{FlushInterval: time.Hour}, stuck)
	p := active.Load()
	s := Begin("a")
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a stuck exporter: %v", err)
	}
	if err := p.shutdown(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second shutdown of the pipeline: %v", err)
	}
	close(stuck.release)
	waitBatchers(t, 0, 2*time.Second)
}

// fdsTo lists this process's open file descriptors that point at path.
func fdsTo(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// TestJSONLNoFDWhenIdle: the jsonl exporter holds its file only while the
// pipeline is busy; once idle, no descriptor is open, and the next spans
// are appended to the same file.
func TestJSONLNoFDWhenIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd entries")
	}
	t.Setenv("TRACEGEN_ENERGY", "off")
	// A long idle period, so that the check "open while busy" cannot race
	// with the idle exit.
	idleOverride.Store(int64(300 * time.Millisecond))
	t.Cleanup(func() { idleOverride.Store(0) })
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "spans.jsonl")
	j := export.NewJSONL(path)
	setup(t, Config{}, j)
	for round := 1; round <= 3; round++ {
		for i := 0; i < 4; i++ {
			s := Begin("a")
			s.End()
		}
		if err := Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := fdsTo(t, path); n != 1 {
			t.Errorf("round %d: %d descriptors on %s while the batcher runs, want 1", round, n, path)
		}
		waitBatchers(t, 0, 2*time.Second)
		if n := fdsTo(t, path); n != 0 {
			t.Errorf("round %d: %d descriptors on %s once idle, want 0", round, n, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(string(data), "\n"); lines != 4*round {
			t.Errorf("round %d: %d lines in the file, want %d", round, lines, 4*round)
		}
	}
}

// spanInIdle is an exporter whose first Idle call ends a span on another
// goroutine: that span is queued after the batcher decided to go idle and
// before it exits, the narrowest point of the boundary.
type spanInIdle struct {
	recorder
	once sync.Once
}

func (e *spanInIdle) Idle(ctx context.Context) error {
	e.once.Do(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s := Begin("during-idle")
			s.End()
		}()
		<-done
	})
	return e.recorder.Idle(ctx)
}

func TestSpanQueuedWhileGoingIdle(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	e := &spanInIdle{}
	mem := setup(t, Config{FlushInterval: time.Hour}, e)
	starts := batcherStarts.Load()
	s := Begin("first")
	s.End()
	waitBatchers(t, 0, 2*time.Second)
	if got := mem.Total(); got != 2 {
		t.Fatalf("exported %d spans, want 2 (the span ended during Idle was lost)", got)
	}
	if got := batcherStarts.Load() - starts; got != 1 {
		t.Errorf("batcher started %d times, want 1: the span queued during Idle found it running", got)
	}
	if _, idles, _ := e.counts(); idles != 2 {
		t.Errorf("Idle called %d times, want 2 (once per idle decision)", idles)
	}
}

// BenchmarkIdleCycle measures one busy period after an idle one: the End
// that starts the batcher, its export, the exporters' Idle (the jsonl file
// closed, reopened by the next period) and the exit. cpu-us/op is process
// CPU time per cycle. Compare with BenchmarkBusyEnd, the same End into a
// batcher that is already running.
func BenchmarkIdleCycle(b *testing.B) {
	for _, name := range []string{"discard", "jsonl"} {
		b.Run(name, func(b *testing.B) {
			benchEnergyOff(b)
			idleOverride.Store(int64(time.Millisecond))
			defer idleOverride.Store(0)
			sig := &idleSignal{ch: make(chan struct{}, 1)}
			exps := []export.Exporter{sig}
			if name == "jsonl" {
				exps = append(exps, export.NewJSONL(filepath.Join(b.TempDir(), "b.jsonl")))
			}
			Configure(Config{IgnoreEnv: true, Exporters: exps, ErrorLog: &syncBuffer{}})
			defer Stop()
			p := active.Load()
			cpu0 := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s := Begin("x")
				s.End()
				<-sig.ch // the batcher is going idle: it exits right after
				for running(p) {
					runtime.Gosched()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// idleSignal discards records and signals each Idle call.
type idleSignal struct {
	discard
	ch chan struct{}
}

func (s *idleSignal) Idle(context.Context) error {
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return nil
}

func BenchmarkBusyEnd(b *testing.B) {
	benchEnergyOff(b)
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{discard{}}, ErrorLog: &syncBuffer{}})
	defer Stop()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := Begin("x")
		s.End()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N)/1000, "cpu-us/op")
}

func benchEnergyOff(b *testing.B) { b.Setenv("TRACEGEN_ENERGY", "off") }

// settledGoroutines returns the goroutine count once goroutines of earlier
// tests that are on their way out (an energy sampler's idle exit, a
// batcher's) have gone: when it has not fallen for 100 ms, or after 2 s.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for deadline, still := time.Now().Add(2*time.Second), time.Now(); time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if m := runtime.NumGoroutine(); m < n {
			n, still = m, time.Now()
		} else if time.Since(still) > 100*time.Millisecond {
			break
		}
	}
	return n
}

func processCPU() time.Duration {
	d, _ := sensor.ProcessCPU()
	return d
}
