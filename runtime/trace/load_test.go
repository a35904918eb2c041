package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// flaky is an exporter that fails, slowly, while down, and can be made to
// hang until released (an endpoint that accepts and never answers).
type flaky struct {
	down    atomic.Bool
	hang    chan struct{} // non-nil: Export blocks until it is closed
	mu      sync.Mutex
	got     atomic.Int64
	failed  atomic.Int64
	hanging atomic.Bool
}

var errDown = errors.New("endpoint down")

func (f *flaky) Export(ctx context.Context, recs []*record.Record) error {
	f.mu.Lock()
	h := f.hang
	f.mu.Unlock()
	if h != nil {
		f.hanging.Store(true)
		<-h // ignores ctx, as a badly written exporter would
		return errDown
	}
	if f.down.Load() {
		time.Sleep(time.Millisecond)
		f.failed.Add(int64(len(recs)))
		return errDown
	}
	f.got.Add(int64(len(recs)))
	return nil
}

func (f *flaky) Shutdown(context.Context) error { return nil }

// TestLoadExportersFailAndRecover drives the real pipeline from many
// goroutines while an exporter fails and recovers and the jsonl exporter
// writes to a full disk (/dev/full) and then to a file again. Memory stays
// bounded (the queue limit, then counted drops), every span is exported or
// dropped exactly once, each exporter warns once, and the final flush gives
// up at its timeout when an exporter hangs.
func TestLoadExportersFailAndRecover(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("needs /dev/full (Linux) to simulate a full disk")
	}
	old := idleOverride.Load()
	idleOverride.Store(int64(10 * time.Millisecond))
	t.Cleanup(func() { idleOverride.Store(old) })
	dir := t.TempDir()
	link, file := filepath.Join(dir, "spans.jsonl"), filepath.Join(dir, "real.jsonl")
	point := func(target string) {
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	point("/dev/full")
	f := &flaky{}
	jl := export.NewJSONL(link)
	log := &syncBuffer{}
	const queue = 256
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{f, jl}, QueueSize: queue, BatchSize: 64,
		ShutdownTimeout: 300 * time.Millisecond, ErrorLog: log})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			Stop()
		}
	})

	before := ReadStats()
	var peak atomic.Uint64
	stopSampling := sampleHeap(&peak)
	const goroutines, perCycle, cycles = 16, 300, 6
	for c := 0; c < cycles; c++ {
		f.down.Store(c%2 == 0)
		if c%2 == 0 {
			point("/dev/full")
		} else {
			point(file)
		}
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perCycle; i++ {
					_, s := Start(context.Background(), "load", WithAttr("i", i))
					s.RecordInput("doc", strings.Repeat("x", 2048)) // 2 KiB of its own per span
					s.AddEvent("step")
					s.End()
				}
			}()
		}
		wg.Wait()
		time.Sleep(40 * time.Millisecond) // idle: the jsonl exporter closes its file and reopens the link
	}
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopSampling()
	st := ReadStats()
	total := uint64(goroutines * perCycle * cycles)
	exported, dropped := st.Exported-before.Exported, st.Dropped-before.Dropped
	t.Logf("%d spans: %d exported, %d dropped; flaky exporter %d delivered, %d failed; peak heap %.1f MiB",
		total, exported, dropped, f.got.Load(), f.failed.Load(), float64(peak.Load())/(1<<20))
	if exported+dropped != total {
		t.Errorf("exported %d + dropped %d = %d, want every one of the %d spans once", exported, dropped, exported+dropped, total)
	}
	if dropped == 0 {
		t.Error("no span dropped: the queue limit was never reached, the test proves nothing")
	}
	if f.got.Load()+f.failed.Load() != int64(exported) {
		t.Errorf("flaky exporter saw %d + %d spans, pipeline exported %d", f.got.Load(), f.failed.Load(), exported)
	}
	if f.got.Load() == 0 || f.failed.Load() == 0 {
		t.Errorf("flaky exporter: %d delivered, %d failed; want both", f.got.Load(), f.failed.Load())
	}
	// Unbounded, the spans' own content alone would be 2 KiB × total.
	if p := peak.Load(); p > 48<<20 {
		t.Errorf("peak heap %d MiB, want under 48 (the spans' content alone is %d MiB)", p>>20, total*2048>>20)
	}
	if b, err := os.ReadFile(file); err != nil || len(b) == 0 {
		t.Errorf("the jsonl exporter did not recover after the full disk: %d bytes, %v", len(b), err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	perExporter := map[string]int{}
	for _, l := range lines {
		for _, name := range []string{"*trace.flaky", "*export.JSONL"} {
			if strings.Contains(l, "exporter "+name+":") {
				perExporter[name]++
			}
		}
	}
	if len(lines) != 2 || perExporter["*trace.flaky"] != 1 || perExporter["*export.JSONL"] != 1 {
		t.Errorf("warnings %q: want one line for each failing exporter", lines)
	}
	if !strings.Contains(log.String(), "no space left on device") {
		t.Errorf("the jsonl warning does not say why: %q", log.String())
	}

	// The final flush: an exporter that never returns holds the batcher,
	// and Stop gives up at the shutdown timeout.
	f.mu.Lock()
	f.hang = make(chan struct{})
	f.mu.Unlock()
	for i := 0; i < 10; i++ {
		_, s := Start(context.Background(), "last")
		s.End()
	}
	for deadline := time.Now().Add(5 * time.Second); !f.hanging.Load() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	p := active.Load()
	t0 := time.Now()
	Stop()
	stopped = true
	if d := time.Since(t0); d < 250*time.Millisecond || d > time.Second {
		t.Errorf("Stop took %v with a hung exporter, want about the 300ms shutdown timeout", d)
	}
	close(f.hang)
	waitBatcherGone(t, p)
}

// sampleHeap records the largest heap seen every millisecond until the
// returned function is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// waitBatcherGone waits for the batcher released after a timed-out Stop.
func waitBatcherGone(t *testing.T, p *pipeline) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		p.mu.Lock()
		running := p.running
		p.mu.Unlock()
		if !running {
			return
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	t.Error("the batcher did not exit after its exporter returned")
}

func TestFailureWarningInterval(t *testing.T) {
	log := &syncBuffer{}
	p := &pipeline{errLog: log, warnEvery: 100 * time.Millisecond}
	for i := 0; i < 20; i++ {
		p.countFailure("otlp", "export", errDown)
	}
	p.countFailure("jsonl", "export", errDown)
	time.Sleep(150 * time.Millisecond)
	p.countFailure("otlp", "export", errDown)
	got := strings.Count(log.String(), "exporter otlp:")
	if got != 2 || strings.Count(log.String(), "exporter jsonl:") != 1 {
		t.Errorf("warnings:\n%s\nwant 2 for otlp (one per interval) and 1 for jsonl", log.String())
	}
}
