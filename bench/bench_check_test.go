package bench

import (
	"context"
	"sync/atomic"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

type countSink struct{ n atomic.Int64 }

func (c *countSink) Export(_ context.Context, r []*record.Record) error {
	c.n.Add(int64(len(r)))
	return nil
}
func (c *countSink) Shutdown(context.Context) error { return nil }

type otelCount struct{ n atomic.Int64 }

func (c *otelCount) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	c.n.Add(int64(len(s)))
	return nil
}
func (c *otelCount) Shutdown(context.Context) error { return nil }

// TestWorkloadsExport checks that both sides of BenchmarkCompareOTel really
// export the spans they create, so the comparison measures the same work.
func TestWorkloadsExport(t *testing.T) {
	const pairs = 100
	sink := &countSink{}
	trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{sink}})
	ctx := context.Background()
	for i := 0; i < pairs; i++ {
		pctx, parent := trace.Start(ctx, "parent")
		_, child := trace.Start(pctx, "child", trace.WithAttr("http.method", "GET"), trace.WithAttr("retry", 1))
		child.End()
		parent.End()
	}
	trace.Stop()
	if got := sink.n.Load(); got != 2*pairs {
		t.Errorf("tracegen exported %d spans, want %d", got, 2*pairs)
	}

	oc := &otelCount{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(oc, sdktrace.WithBlocking()))
	tr := tp.Tracer("check")
	for i := 0; i < pairs; i++ {
		pctx, parent := tr.Start(ctx, "parent")
		_, child := tr.Start(pctx, "child")
		child.End()
		parent.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := oc.n.Load(); got != 2*pairs {
		t.Errorf("otel exported %d spans, want %d", got, 2*pairs)
	}
}
