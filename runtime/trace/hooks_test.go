package trace

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Lifecycle hooks registered once for the tests below; they act only while
// hookTest is set.
var (
	hookTest              atomic.Bool
	hookStarts, hookStops atomic.Int64
)

func init() {
	onTracingStart(func() {
		if hookTest.Load() {
			hookStarts.Add(1)
			panic("start hook bug")
		}
	})
	onTracingStop(func(context.Context) {
		if hookTest.Load() {
			hookStops.Add(1)
		}
	})
}

func TestLifecycleHooks(t *testing.T) {
	hookStarts.Store(0) // from an earlier run of this test (-count)
	hookStops.Store(0)
	hookTest.Store(true)
	defer hookTest.Store(false)
	log := &syncBuffer{}
	mem := setup(t, Config{ErrorLog: log})
	if hookStarts.Load() != 0 {
		t.Fatal("start hook ran before the first span (start must be lazy)")
	}
	s := Begin("first")
	s.End()
	s = Begin("second")
	s.End()
	Stop()
	if hookStarts.Load() != 1 || hookStops.Load() != 1 {
		t.Errorf("start hook ran %d times, stop hook %d times; want 1 and 1", hookStarts.Load(), hookStops.Load())
	}
	if !strings.Contains(log.String(), "tracegen: start hook panicked: start hook bug") {
		t.Errorf("hook panic not logged: %q", log.String())
	}
	if mem.Total() != 2 {
		t.Errorf("a panicking hook lost spans: %d exported", mem.Total())
	}
}

func TestCurrentSpanIteration(t *testing.T) {
	setup(t, Config{})
	const n = 5
	var ready, release sync.WaitGroup
	ready.Add(n)
	release.Add(1)
	var done sync.WaitGroup
	ids := make([]int64, n)
	spans := make([]*Span, n)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			spans[i] = Begin("worker")
			inner := Begin("inner")
			ids[i] = curGoid()
			ready.Done()
			release.Wait()
			inner.End()
			spans[i].End()
		}()
	}
	ready.Wait()
	seen := map[int64]string{}
	eachCurrentSpan(func(g int64, s *Span) bool {
		seen[g] = s.rec.Name
		return true
	})
	for _, id := range ids {
		if seen[id] != "inner" {
			t.Errorf("goroutine %d: current %q, want the innermost span", id, seen[id])
		}
	}
	// Pruning: pretend the first goroutine died.
	if got := pruneCurrent(func(g int64) bool { return g != ids[0] }); got != 1 {
		t.Errorf("pruneCurrent removed %d entries, want 1", got)
	}
	release.Done()
	done.Wait()
	if currentCount() != 0 {
		t.Errorf("%d current entries left", currentCount())
	}
}

func TestMemoryExporterInsideTee(t *testing.T) {
	mem := export.NewMemory(10)
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{export.NewTee(discard{}, mem)}})
	t.Cleanup(Stop)
	if MemoryExporter() != mem {
		t.Error("MemoryExporter() did not find the memory exporter inside a tee")
	}
	_, s := Start(context.Background(), "s", WithAttributes(record.String("a", "1"), record.Bool("b", true)), KindProducer)
	if s.SpanID() == (record.SpanID{}) || s.Name() != "s" || s.String() != "trace.Span(s)" {
		t.Error("span accessors")
	}
	s.End()
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := mem.Spans(export.NameIs("s"))[0]
	if r.Kind != record.KindProducer || len(r.Attrs) != 2 {
		t.Errorf("kind %s attrs %v", r.Kind, r.Attrs)
	}
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{discard{}}})
	if MemoryExporter() != nil {
		t.Error("MemoryExporter() kept the memory exporter of an older configuration")
	}
}

func TestSpanContextDeadline(t *testing.T) {
	setup(t, Config{})
	base, cancel := context.WithTimeout(context.Background(), 3600e9)
	defer cancel()
	ctx, s := Start(base, "s")
	defer s.End()
	want, _ := base.Deadline()
	if got, ok := ctx.Deadline(); !ok || !got.Equal(want) {
		t.Errorf("Deadline() = %v %t", got, ok)
	}
}

// TestSamplerSeesOnlyBuiltSpans mimics the energy sampler: it visits current
// spans from another goroutine while spans start and end. Under -race this
// fails if a span is published before it is fully built.
func TestSamplerSeesOnlyBuiltSpans(t *testing.T) {
	setup(t, Config{SampleRatio: 0.5})
	stop := make(chan struct{})
	var visits atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			eachCurrentSpan(func(_ int64, s *Span) bool {
				if !s.TraceID().IsValid() {
					t.Error("current span without a trace id")
				}
				s.AddEnergy(record.EnergyCPU, 1)
				visits.Add(1)
				return true
			})
		}
	}()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				ctx, s := Start(context.Background(), "outer")
				_, c := Start(ctx, "inner", WithAttr("i", i))
				c.End()
				s.End()
			}
		}()
	}
	for visits.Load() == 0 {
		s := Begin("keep-one-current")
		s.End()
	}
	close(stop)
	wg.Wait()
}
