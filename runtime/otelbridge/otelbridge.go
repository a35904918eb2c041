// Package otelbridge makes tracegen spans and OpenTelemetry spans one trace,
// both ways, once it is linked (a blank import):
//
//   - a tracegen span started from a context that carries an OpenTelemetry
//     span context, and no tracegen span, takes that span's trace id and has
//     it as its parent (marked as a remote parent);
//   - the context that trace.Start and Definition.StartContext return (the
//     rebind directive key) also carries the new span's ids as an
//     OpenTelemetry span context, so OpenTelemetry-instrumented code that
//     starts spans from it makes children of the tracegen span.
//
// tracegen adds the import to package main by itself when the module already
// requires go.opentelemetry.io/otel/trace, so programs that do not use
// OpenTelemetry never link it and their module graphs do not grow by it.
package otelbridge

import (
	"context"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracegen-dev/tracegen/runtime/internal/ctxparent"
)

func init() {
	ctxparent.SetReader(fromOTel)
	ctxparent.SetDecorator(toOTel)
}

func toOTel(ctx context.Context, local ctxparent.Remote) context.Context {
	flags := oteltrace.TraceFlags(0)
	if local.Sampled {
		flags = oteltrace.FlagsSampled
	}
	return oteltrace.ContextWithSpanContext(ctx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: local.TraceID, SpanID: local.SpanID, TraceFlags: flags}))
}

func fromOTel(ctx context.Context) (ctxparent.Remote, bool) {
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ctxparent.Remote{}, false
	}
	return ctxparent.Remote{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Sampled: sc.IsSampled()}, true
}
