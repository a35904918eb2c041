package bench

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// discard is tracegen's sink.
type discard struct{}

func (discard) Export(context.Context, []*record.Record) error { return nil }
func (discard) Shutdown(context.Context) error                 { return nil }

// otelDiscard is the OpenTelemetry SDK's sink.
type otelDiscard struct{}

func (otelDiscard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (otelDiscard) Shutdown(context.Context) error                             { return nil }

func BenchmarkCompareOTel(b *testing.B) {
	b.Run("tracegen", func(b *testing.B) {
		trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{discard{}}})
		defer trace.Stop()
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
		trace.Flush(ctx)
		cpu.report(b)
		after := trace.ReadStats()
		b.ReportMetric(float64(after.Dropped-before.Dropped)/float64(b.N), "dropped/op")
	})
	b.Run("otel", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(otelDiscard{}),
		)
		defer func() { _ = tp.Shutdown(context.Background()) }()
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
		_ = tp.ForceFlush(ctx)
		cpu.report(b)
	})
}

// BenchmarkDisabled is a parent and a child span, with two attributes on
// the child, when tracing is disabled (no exporter configured).
func BenchmarkDisabled(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	defer trace.Stop()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		pctx, parent := trace.Start(ctx, "parent")
		_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
		child.End()
		parent.End()
	}
}

// BenchmarkBegin is the no-context path: a parent and a child found through
// the goroutine-local current span.
func BenchmarkBegin(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{discard{}}})
	defer trace.Stop()
	b.ReportAllocs()
	for b.Loop() {
		parent := trace.Begin("parent")
		child := trace.Begin("child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
		child.End()
		parent.End()
	}
}

// cpuClock measures the process CPU time (all goroutines: the caller, the
// batchers, the garbage collector) over a benchmark loop. On a shared,
// noisy machine it is a steadier basis for comparing the two sides than
// wall time.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}
