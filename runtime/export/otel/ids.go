package otel

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// SDKIDGenerator is the method set of the SDK's sdktrace.IDGenerator,
// which [IDGenerator] returns and takes.
type SDKIDGenerator interface {
	NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID)
	NewSpanID(ctx context.Context, traceID oteltrace.TraceID) oteltrace.SpanID
}

// IDGenerator returns the generator a TracerProvider must be built with
// (sdktrace.WithIDGenerator) for Export to keep tracegen's ids: for the
// spans Export starts it answers with their ids, and for every other span
// it asks next, or, when next is nil, makes random ids as the SDK's
// default generator does. It is safe for concurrent use.
func IDGenerator(next SDKIDGenerator) SDKIDGenerator {
	if next == nil {
		next = randomIDs{}
	}
	return &generator{next: next}
}

type generator struct{ next SDKIDGenerator }

// ids are the ids Export wants for the span it starts from a context.
type ids struct {
	trace oteltrace.TraceID
	span  oteltrace.SpanID
}

type idsKey struct{}

func withIDs(ctx context.Context, t [16]byte, s [8]byte) context.Context {
	return context.WithValue(ctx, idsKey{}, ids{t, s})
}

// NewIDs implements sdktrace.IDGenerator for a root span.
func (g *generator) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	if w, ok := ctx.Value(idsKey{}).(ids); ok {
		return w.trace, w.span
	}
	return g.next.NewIDs(ctx)
}

// NewSpanID implements sdktrace.IDGenerator for a span with a parent.
func (g *generator) NewSpanID(ctx context.Context, traceID oteltrace.TraceID) oteltrace.SpanID {
	if w, ok := ctx.Value(idsKey{}).(ids); ok && w.trace == traceID {
		return w.span
	}
	return g.next.NewSpanID(ctx, traceID)
}

// randomIDs makes non-zero random ids, as the SDK's default generator.
type randomIDs struct{}

func (randomIDs) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	var t oteltrace.TraceID
	for !t.IsValid() {
		binary.NativeEndian.PutUint64(t[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t, randomIDs{}.NewSpanID(ctx, t)
}

func (randomIDs) NewSpanID(context.Context, oteltrace.TraceID) oteltrace.SpanID {
	var s oteltrace.SpanID
	for !s.IsValid() {
		binary.NativeEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}
