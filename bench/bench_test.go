package bench

import (
	"context"
	"testing"

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
		b.ResetTimer()
		for b.Loop() {
			pctx, parent := trace.Start(ctx, "parent")
			_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
			child.End()
			parent.End()
		}
		b.StopTimer()
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
		b.ResetTimer()
		for b.Loop() {
			pctx, parent := tr.Start(ctx, "parent")
			_, child := tr.Start(pctx, "child", attrs)
			child.End()
			parent.End()
		}
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
