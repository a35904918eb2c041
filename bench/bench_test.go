package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// discard is tracegen's sink; it counts what it receives.
type discard struct{ n *atomic.Int64 }

func (d discard) Export(_ context.Context, r []*record.Record) error {
	d.n.Add(int64(len(r)))
	return nil
}
func (discard) Shutdown(context.Context) error { return nil }

// ReleasesRecords: the sink keeps nothing, so tracegen may recycle records
// (as it does for its json and jsonl exporters).
func (discard) ReleasesRecords() bool { return true }

// otelDiscard is the OpenTelemetry SDK's sink; it counts what it receives.
type otelDiscard struct{ n *atomic.Int64 }

func (d otelDiscard) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	d.n.Add(int64(len(s)))
	return nil
}
func (otelDiscard) Shutdown(context.Context) error { return nil }

// BenchmarkCompareOTel runs the same workload through tracegen and the
// OpenTelemetry SDK. Both pipelines run in blocking mode, so every span is
// exported (exported/op is 2) and neither side gains by dropping spans.
func BenchmarkCompareOTel(b *testing.B) {
	b.Run("tracegen", func(b *testing.B) {
		var n atomic.Int64
		trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{discard{&n}}})
		before := trace.ReadStats()
		ctx := context.Background()
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			pctx, parent := trace.Start(ctx, "parent")
			_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
			child.End()
			parent.End()
		}
		trace.Stop()
		cpu.report(b)
		after := trace.ReadStats()
		b.ReportMetric(float64(after.Dropped-before.Dropped)/float64(b.N), "dropped/op")
		b.ReportMetric(float64(n.Load())/float64(b.N), "exported/op")
	})
	b.Run("otel", func(b *testing.B) {
		var n atomic.Int64
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(otelDiscard{&n}, sdktrace.WithBlocking()),
		)
		tr := tp.Tracer("bench")
		ctx := context.Background()
		attrs := oteltrace.WithAttributes(attribute.String("http.method", "GET"), attribute.Int("retry", 1))
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			pctx, parent := tr.Start(ctx, "parent")
			_, child := tr.Start(pctx, "child", attrs)
			child.End()
			parent.End()
		}
		_ = tp.Shutdown(ctx)
		cpu.report(b)
		b.ReportMetric(float64(n.Load())/float64(b.N), "exported/op")
	})
}

// BenchmarkDisabled is a parent and a child span, with two attributes on
// the child, when tracing is disabled (no exporter configured). The
// noopts and plain-calls sub-benchmarks put the figure in context: the
// same pair without options, and two ordinary non-inlined calls (the floor
// on the machine at hand).
func BenchmarkDisabled(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	defer trace.Stop()
	ctx := context.Background()
	b.Run("pair", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pctx, parent := trace.Start(ctx, "parent")
			_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
			child.End()
			parent.End()
		}
	})
	b.Run("noopts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pctx, parent := trace.Start(ctx, "parent")
			_, child := trace.Start(pctx, "child")
			child.End()
			parent.End()
		}
	})
	b.Run("plain-calls", func(b *testing.B) {
		for b.Loop() {
			c, _ := plainCall(ctx, "parent")
			_, _ = plainCall(c, "child")
		}
	})
}

//go:noinline
func plainCall(ctx context.Context, _ string) (context.Context, *trace.Span) { return ctx, nil }

// BenchmarkBegin is the no-context path: a parent and a child found through
// the goroutine-local current span.
func BenchmarkBegin(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{discard{new(atomic.Int64)}}})
	defer trace.Stop()
	b.ReportAllocs()
	for b.Loop() {
		parent := trace.Begin("parent")
		child := trace.Begin("child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
		child.End()
		parent.End()
	}
}

// BenchmarkParallel is CompareOTel's tracegen workload on 1, 2 and 8
// goroutines at once, each starting and ending its share of the b.N
// parent+child pairs. ns/op is wall time per pair over all goroutines: with
// no shared lock on the hot path it falls as goroutines are added, down to
// the single-goroutine figure divided by the cores (GOMAXPROCS).
func BenchmarkParallel(b *testing.B) {
	for _, goroutines := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("g%d", goroutines), func(b *testing.B) {
			var n atomic.Int64
			trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{discard{&n}}})
			defer trace.Stop()
			ctx := context.Background()
			b.ReportAllocs()
			var wg sync.WaitGroup
			b.ResetTimer()
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := g; i < b.N; i += goroutines {
						pctx, parent := trace.Start(ctx, "parent")
						_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
						child.End()
						parent.End()
					}
				}()
			}
			wg.Wait()
		})
	}
}

// BenchmarkUnsampled is BenchmarkDisabled's pair with tracing on and no
// trace sampled (TRACEGEN_SAMPLE far below 1): root, the pair is a new
// unsampled trace each time (its parent is allocated, to carry the
// decision); beneath, the pair runs inside an unsampled trace (neither span
// is allocated). Compare with Disabled/pair in the same run.
func BenchmarkUnsampled(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, SampleRatio: 1e-18, Exporters: []export.Exporter{discard{new(atomic.Int64)}}})
	defer trace.Stop()
	ctx := context.Background()
	pair := func(ctx context.Context) {
		pctx, parent := trace.Start(ctx, "parent")
		_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
		child.End()
		parent.End()
	}
	b.Run("root", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pair(ctx)
		}
	})
	b.Run("beneath", func(b *testing.B) {
		rctx, root := trace.Start(ctx, "root")
		defer root.End()
		b.ReportAllocs()
		for b.Loop() {
			pair(rctx)
		}
	})
}
