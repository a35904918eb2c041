// Package otelbridge makes tracegen spans join OpenTelemetry traces: once it
// is linked (a blank import), a tracegen span started from a context that
// carries an OpenTelemetry span context, and no tracegen span, takes that
// span's trace id and has it as its parent (marked as a remote parent).
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

func init() { ctxparent.SetReader(fromOTel) }

func fromOTel(ctx context.Context) (ctxparent.Remote, bool) {
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ctxparent.Remote{}, false
	}
	return ctxparent.Remote{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Sampled: sc.IsSampled()}, true
}
