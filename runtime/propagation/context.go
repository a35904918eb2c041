package propagation

import (
	"context"
	"net/http"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/internal/ctxparent"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Extract reads the trace context of a request's headers. It returns
// false when there is no traceparent, when there are several, or when it
// is invalid (its tracestate is then ignored too, as the W3C
// recommendation says).
func Extract(h http.Header) (TraceContext, bool) {
	tps := h.Values(TraceparentHeader)
	if len(tps) != 1 {
		return TraceContext{}, false
	}
	tc, err := ParseTraceparent(strings.Trim(tps[0], " \t"))
	if err != nil {
		return TraceContext{}, false
	}
	if ts := h.Values(TracestateHeader); len(ts) > 0 {
		tc.TraceState = ParseTraceState(strings.Join(ts, ","))
	}
	if bg := h.Values(BaggageHeader); len(bg) > 0 {
		tc.Baggage = ParseBaggage(strings.Join(bg, ","))
	}
	return tc, true
}

// carried is what a joined trace context hands on to requests made
// beneath: its tracestate and baggage, kept in the context of the span
// that joined it.
type carried struct {
	traceID    [16]byte
	traceState string
	baggage    string
}

type carriedKey struct{}

// ContextWith returns a context whose spans join tc's trace as children of
// its span (a remote parent), and beneath which requests carry tc's
// tracestate and baggage.
func ContextWith(ctx context.Context, tc TraceContext) context.Context {
	if !tc.Valid() {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if tc.TraceState != "" || tc.Baggage != "" {
		ctx = context.WithValue(ctx, carriedKey{}, &carried{tc.TraceID, tc.TraceState, tc.Baggage})
	}
	return ctxparent.With(ctx, ctxparent.Remote{TraceID: tc.TraceID, SpanID: tc.SpanID, Sampled: tc.Sampled})
}

// Join returns the context a traced function that receives r (and ctx)
// starts its span from: ctx joined to the trace r's headers name. When
// ctx already carries a tracegen span, or tracing is disabled, or r has
// no valid traceparent, ctx is returned as it is. A nil ctx stands for
// r's context.
func Join(ctx context.Context, r *http.Request) context.Context {
	if ctx == nil {
		ctx = context.Background()
		if r != nil {
			ctx = r.Context()
		}
	}
	if r == nil || trace.SpanFromContext(ctx) != nil || !trace.Enabled() {
		return ctx
	}
	tc, ok := Extract(r.Header)
	if !ok {
		return ctx
	}
	return ContextWith(ctx, tc)
}

// Context is Join(r.Context(), r), for a function, such as an
// http.HandlerFunc, whose only context is its request's. A nil r gives
// context.Background().
func Context(r *http.Request) context.Context { return Join(nil, r) }

// FromContext returns the trace context a request made with ctx on the
// calling goroutine carries: the tracegen span in ctx, else the
// goroutine's current span, else a remote parent ctx carries (a joined
// trace context, or an OpenTelemetry span context with runtime/otelbridge
// linked). It returns false when tracing is disabled or there is none. A
// span that has ended counts as unsampled.
func FromContext(ctx context.Context) (TraceContext, bool) {
	if !trace.Enabled() {
		return TraceContext{}, false
	}
	if ctx == nil {
		ctx = context.Background()
	}
	s := trace.SpanFromContext(ctx)
	if s == nil {
		s = trace.Current()
	}
	return fromSpan(ctx, s)
}

// fromSpan is the trace context of s (nil: of ctx's remote parent).
func fromSpan(ctx context.Context, s *trace.Span) (TraceContext, bool) {
	var tc TraceContext
	if s != nil {
		tc.TraceID, tc.SpanID, tc.Sampled = s.TraceID(), s.SpanID(), s.IsRecording()
		ctx = localRoot(s)
	} else if r, ok := ctxparent.FromContext(ctx); ok {
		tc.TraceID, tc.SpanID, tc.Sampled = r.TraceID, r.SpanID, r.Sampled
	}
	if !tc.Valid() {
		return TraceContext{}, false
	}
	c, ok := ctx.Value(carriedKey{}).(*carried)
	if !ok && s != nil && !tc.Sampled {
		// A span beneath an unsampled one stands for that ancestor, the
		// goroutine's current span, and has no chain of its own.
		if cur := trace.Current(); cur != nil {
			c, ok = localRoot(cur).Value(carriedKey{}).(*carried)
		}
	}
	if ok && c.traceID == tc.TraceID {
		tc.TraceState, tc.Baggage = c.traceState, c.baggage
	}
	return tc, true
}

// localRoot returns the outermost tracegen ancestor of s in this process:
// its context is the one it joined a remote trace with.
func localRoot(s *trace.Span) *trace.Span {
	for n := 0; s.Parent() != nil && n < 1024; n++ {
		s = s.Parent()
	}
	return s
}

// Inject writes tc into h: traceparent, and tracestate and baggage when
// tc has them. Headers already present are replaced.
func Inject(h http.Header, tc TraceContext) {
	if !tc.Valid() {
		return
	}
	h.Set(TraceparentHeader, tc.Traceparent())
	if tc.TraceState != "" {
		h.Set(TracestateHeader, tc.TraceState)
	}
	if tc.Baggage != "" {
		h.Set(BaggageHeader, tc.Baggage)
	}
}
