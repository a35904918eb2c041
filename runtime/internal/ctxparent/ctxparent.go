// Package ctxparent carries a parent span that lives outside this process's
// tracegen spans (another service's, an OpenTelemetry span, an exported span)
// in a context.Context, as a trace id and a span id. runtime/trace reads it
// when a new span has no tracegen parent in its context: first a parent set
// with With, then whatever the registered reader finds (runtime/otelbridge
// registers one for OpenTelemetry span contexts). The other way, a
// registered decorator writes a tracegen span's ids into the context Start
// returns, in the form another tracer reads. It imports nothing outside the
// standard library, so the runtime links OpenTelemetry only where the
// program already does.
package ctxparent

import (
	"context"
	"sync/atomic"
)

// Remote is a parent span known by its ids.
type Remote struct {
	TraceID [16]byte
	SpanID  [8]byte
	Sampled bool
}

// Valid reports whether both ids are non-zero.
func (r Remote) Valid() bool { return r.TraceID != [16]byte{} && r.SpanID != [8]byte{} }

type key struct{}

// With returns a context whose spans are children of r.
func With(ctx context.Context, r Remote) context.Context {
	return context.WithValue(ctx, key{}, r)
}

// Reader finds a parent in a context another library put there.
type Reader func(context.Context) (Remote, bool)

var reader atomic.Pointer[Reader]

// SetReader registers the reader FromContext falls back to.
func SetReader(r Reader) { reader.Store(&r) }

// HasReader reports whether a reader is registered (a bridge is linked).
func HasReader() bool { return reader.Load() != nil }

// FromContext returns the parent carried by ctx: one set with With, else
// one the registered reader finds.
func FromContext(ctx context.Context) (Remote, bool) {
	if r, ok := ctx.Value(key{}).(Remote); ok && r.Valid() {
		return r, true
	}
	if f := reader.Load(); f != nil {
		if r, ok := (*f)(ctx); ok && r.Valid() {
			return r, true
		}
	}
	return Remote{}, false
}

// Decorator writes the ids of a local span into a context for another
// tracer (an OpenTelemetry span context), so that its spans started from
// the context are children of the local span.
type Decorator func(ctx context.Context, local Remote) context.Context

var decorator atomic.Pointer[Decorator]

// SetDecorator registers the decorator Decorate applies.
func SetDecorator(d Decorator) { decorator.Store(&d) }

// Decorate returns ctx decorated with local by the registered decorator, or
// ctx itself when there is none.
func Decorate(ctx context.Context, local Remote) context.Context {
	if d := decorator.Load(); d != nil {
		return (*d)(ctx, local)
	}
	return ctx
}
