package otelbridge_test

import (
	"context"
	"testing"

	oteltrace "go.opentelemetry.io/otel/trace"

	_ "github.com/tracegen-dev/tracegen/runtime/otelbridge"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

func TestOTelParentAdoption(t *testing.T) {
	tid := oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	sid := oteltrace.SpanID{0, 0xf0, 0x67, 0xaa, 1, 2, 3, 4}
	tests := []struct {
		name    string
		flags   oteltrace.TraceFlags
		exports bool
	}{
		{"sampled", oteltrace.FlagsSampled, true},
		{"unsampled", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: tc.flags, Remote: true})
			ctx := oteltrace.ContextWithRemoteSpanContext(context.Background(), sc)
			cctx, s := trace.Start(ctx, "adopted")
			_, c := trace.Start(cctx, "child")
			c.End()
			s.End()
			if !tc.exports {
				if n := len(rec.Spans()); n != 0 {
					t.Errorf("%d spans exported although the OTel parent is not sampled", n)
				}
				return
			}
			r := rec.Span("adopted")
			if r.TraceID != record.TraceID(tid) || r.ParentSpanID != record.SpanID(sid) || !r.RemoteParent || !r.IsLocalRoot() {
				t.Errorf("trace %s parent %s remote %t, want %s %s true", r.TraceID, r.ParentSpanID, r.RemoteParent, tid, sid)
			}
			if ch := rec.Span("child"); ch.TraceID != r.TraceID || ch.ParentSpanID != r.SpanID || ch.RemoteParent {
				t.Errorf("child not nested under the adopted span")
			}
		})
	}
}

// Generated code hands callees the context it was given, so the request's
// OpenTelemetry span stays in ctx below the span that joined its trace: it
// must not flatten the tree. A span context the current span's chain does
// not know was made beneath it, and is the better parent.
func TestOTelParentAgainstCurrentSpan(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	tid := oteltrace.TraceID{0x4b, 0xf9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	reqCtx := oteltrace.ContextWithRemoteSpanContext(context.Background(), oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: tid, SpanID: oteltrace.SpanID{1, 1, 1, 1, 1, 1, 1, 1}, TraceFlags: oteltrace.FlagsSampled, Remote: true}))
	root := trace.Define("root").Start(reqCtx)
	child := trace.Define("child").Start(reqCtx) // the unchanged request context
	child.End()
	beneath := oteltrace.ContextWithSpanContext(reqCtx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: tid, SpanID: oteltrace.SpanID{2, 2, 2, 2, 2, 2, 2, 2}, TraceFlags: oteltrace.FlagsSampled}))
	under := trace.Define("under-otel").Start(beneath)
	under.End()
	other := oteltrace.ContextWithSpanContext(context.Background(), oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: oteltrace.TraceID{9}, SpanID: oteltrace.SpanID{9}, TraceFlags: oteltrace.FlagsSampled}))
	foreign := trace.Define("foreign-trace").Start(other)
	foreign.End()
	root.End()
	r := rec.Span("root")
	if r.ParentSpanID != (record.SpanID{1, 1, 1, 1, 1, 1, 1, 1}) || !r.RemoteParent {
		t.Errorf("root did not join the request's trace: parent %s", r.ParentSpanID)
	}
	if c := rec.Span("child"); c.ParentSpanID != r.SpanID || c.TraceID != r.TraceID {
		t.Errorf("child: parent %s, want the current span %s", c.ParentSpanID, r.SpanID)
	}
	if u := rec.Span("under-otel"); u.ParentSpanID != (record.SpanID{2, 2, 2, 2, 2, 2, 2, 2}) || !u.RemoteParent {
		t.Errorf("under-otel: parent %s, want the OpenTelemetry span beneath root", u.ParentSpanID)
	}
	// A span context made beneath root in another trace (OpenTelemetry code
	// that started its own trace, a parent extracted from a message).
	if f := rec.Span("foreign-trace"); f.ParentSpanID != (record.SpanID{9}) || f.TraceID != (record.TraceID{9}) {
		t.Errorf("foreign-trace: trace %s parent %s, want the span context it was given", f.TraceID, f.ParentSpanID)
	}
}

// The context Start returns carries the span for OpenTelemetry too: a span
// OpenTelemetry code starts from it is a child, and a tracegen span
// started beneath that one is its child in turn.
func TestOTelSeesTracegenSpan(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx, s := trace.Define("outer").StartContext(context.Background())
	sc := oteltrace.SpanContextFromContext(ctx)
	if !sc.IsValid() || record.SpanID(sc.SpanID()) != s.SpanID() || record.TraceID(sc.TraceID()) != s.TraceID() || !sc.IsSampled() {
		t.Fatalf("span context in the returned context: %v, want the span's ids", sc)
	}
	// What an OpenTelemetry tracer does for a child: a new span id, same trace.
	child := oteltrace.ContextWithSpanContext(ctx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID: sc.TraceID(), SpanID: oteltrace.SpanID{7, 7, 7, 7, 7, 7, 7, 7}, TraceFlags: oteltrace.FlagsSampled}))
	deep := trace.Define("deep").Start(child)
	deep.End()
	s.End()
	if d := rec.Span("deep"); d.ParentSpanID != (record.SpanID{7, 7, 7, 7, 7, 7, 7, 7}) || d.TraceID != rec.Span("outer").TraceID {
		t.Errorf("deep: parent %s, want the OpenTelemetry span beneath outer", d.ParentSpanID)
	}
}

// With the bridge linked, the context Start returns costs the span context
// OpenTelemetry code reads; generated code without rebind returns none.
func TestBridgeAllocations(t *testing.T) {
	tracetest.NewRecorder(t)
	ctx := context.Background()
	def := trace.Define("plain")
	plain := testing.AllocsPerRun(200, func() { def.Start(ctx).End() })
	withCtx := testing.AllocsPerRun(200, func() {
		_, s := def.StartContext(ctx)
		s.End()
	})
	if withCtx-plain > 3 {
		t.Errorf("StartContext costs %v allocations more than Start with the bridge, want at most 3", withCtx-plain)
	}
}

// A framework's own OpenTelemetry spans (Genkit starts one per flow,
// generation and model call) sit between the tracegen spans of a run and
// are exported nowhere tracegen's spans go. Beneath a GenAI span, and for a
// GenAI span, an OpenTelemetry span of the same trace is passed over: the
// tracegen span is the parent, wherever it comes from (the context or the
// goroutine's current span). Elsewhere the OpenTelemetry span stays the
// parent (TestOTelSeesTracegenSpan), and so does one of another trace.
func TestOTelBeneathFramework(t *testing.T) {
	otelChild := func(ctx context.Context, trace oteltrace.TraceID) context.Context {
		return oteltrace.ContextWithSpanContext(ctx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
			TraceID: trace, SpanID: oteltrace.SpanID{7, 7, 7, 7, 7, 7, 7, 7}, TraceFlags: oteltrace.FlagsSampled}))
	}
	tests := []struct {
		name       string
		outer      []trace.StartOption
		inner      []trace.StartOption
		fromOuter  bool // the OpenTelemetry span is started from the outer span's context, else from a bare one
		otherTrace bool
		wantOuter  bool // the inner span's parent is the outer span, else the OpenTelemetry span
	}{
		{"llm beneath chain, context", []trace.StartOption{trace.TypeChain}, []trace.StartOption{trace.TypeLLM}, true, false, true},
		{"llm beneath chain, current span", []trace.StartOption{trace.TypeChain}, []trace.StartOption{trace.TypeLLM}, false, false, true},
		{"llm beneath plain span", nil, []trace.StartOption{trace.TypeLLM}, true, false, true},
		{"plain beneath agent", []trace.StartOption{trace.TypeAgent}, nil, true, false, true},
		{"tool beneath plain span", nil, []trace.StartOption{trace.TypeTool}, true, false, true},
		{"plain beneath plain span", nil, nil, true, false, false},
		{"llm beneath chain, other trace", []trace.StartOption{trace.TypeChain}, []trace.StartOption{trace.TypeLLM}, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			ctx, outer := trace.Start(context.Background(), "outer", tc.outer...)
			tid := oteltrace.TraceID(outer.TraceID())
			if tc.otherTrace {
				tid = oteltrace.TraceID{9, 9}
			}
			base := ctx
			if !tc.fromOuter {
				base = context.Background()
			}
			_, inner := trace.Start(otelChild(base, tid), "inner", tc.inner...)
			inner.End()
			outer.End()
			in, out := rec.Span("inner"), rec.Span("outer")
			want := record.SpanID{7, 7, 7, 7, 7, 7, 7, 7}
			if tc.wantOuter {
				want = out.SpanID
			}
			if in.ParentSpanID != want || in.TraceID != record.TraceID(tid) || in.RemoteParent == tc.wantOuter {
				t.Errorf("inner: trace %s parent %s remote %t, want trace %s parent %s", in.TraceID, in.ParentSpanID, in.RemoteParent, tid, want)
			}
		})
	}
}
