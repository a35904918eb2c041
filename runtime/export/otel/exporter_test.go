package otel

import (
	"context"
	"errors"
	"strings"
	"testing"

	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracegen-dev/tracegen/runtime/export"
	_ "github.com/tracegen-dev/tracegen/runtime/otelbridge"
	"github.com/tracegen-dev/tracegen/runtime/propagation"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	tgtest "github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// program sets up the global TracerProvider as a program does, with the
// SDK's in-memory exporter and the given options, for the rest of the test.
func program(t *testing.T, opts ...sdktrace.TracerProviderOption) *tracetest.InMemoryExporter {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithSyncer(mem)}, opts...)...)
	prev := otelapi.GetTracerProvider()
	otelapi.SetTracerProvider(tp)
	t.Cleanup(func() { tp.Shutdown(context.Background()); otelapi.SetTracerProvider(prev) })
	return mem
}

// record spans with tracegen, exporting to e as well as to the recorder.
func recordWith(t *testing.T, e export.Exporter) *tgtest.Recorder {
	return tgtest.NewRecorder(t, tgtest.WithConfig(trace.Config{Exporters: []export.Exporter{e}}))
}

// TestInMemory: every field of tracegen's spans arrives in the program's
// pipeline as tracegen recorded it.
func TestInMemory(t *testing.T) {
	mem := program(t, sdktrace.WithIDGenerator(IDGenerator(nil)))
	e := New()
	rec := recordWith(t, e)

	remote := propagation.TraceContext{TraceID: record.TraceID{0x4b, 15: 1}, SpanID: record.SpanID{0xf0, 7: 2}, Sampled: true}
	root := trace.Define("agent", trace.TypeAgent, trace.KindServer, trace.WithAttr("user", "alice"),
		trace.WithInherited("tenant", "t1"), trace.WithTags("prod")).Start(propagation.ContextWith(context.Background(), remote))
	child := trace.Define("tool", trace.TypeTool, trace.KindClient, trace.WithAttr("n", 3), trace.WithAttr("ratio", 0.5),
		trace.WithAttr("ok", true), trace.WithAttr("list", []string{"a", "b"}), trace.WithAttr("obj", map[string]int{"x": 1})).Begin()
	child.RecordError(errors.New("boom"))
	child.End()
	root.SetStatus(record.StatusOK, "")
	root.End()

	got := map[string]tracetest.SpanStub{}
	for _, s := range mem.GetSpans() {
		got[s.Name] = s
	}
	if len(got) != 2 || e.Stats().Handed != 2 {
		t.Fatalf("the program's exporter got %v, stats %+v; want agent and tool", mem.GetSpans(), e.Stats())
	}
	for _, r := range rec.Spans() {
		s := got[r.Name]
		if s.SpanContext.TraceID() != oteltrace.TraceID(r.TraceID) || s.SpanContext.SpanID() != oteltrace.SpanID(r.SpanID) ||
			s.Parent.SpanID() != oteltrace.SpanID(r.ParentSpanID) || s.Parent.IsRemote() != r.RemoteParent {
			t.Errorf("%s: ids %s/%s parent %s remote %v, want %s/%s %s %v", r.Name, s.SpanContext.TraceID(), s.SpanContext.SpanID(),
				s.Parent.SpanID(), s.Parent.IsRemote(), r.TraceID, r.SpanID, r.ParentSpanID, r.RemoteParent)
		}
		if !s.StartTime.Equal(r.Start) || !s.EndTime.Equal(r.End) {
			t.Errorf("%s: %v..%v, want %v..%v", r.Name, s.StartTime, s.EndTime, r.Start, r.End)
		}
		if !s.SpanContext.IsSampled() || s.InstrumentationScope.Name != ScopeName {
			t.Errorf("%s: sampled %v scope %q", r.Name, s.SpanContext.IsSampled(), s.InstrumentationScope.Name)
		}
	}
	agent, tool := got["agent"], got["tool"]
	if agent.SpanKind != oteltrace.SpanKindServer || agent.Status.Code != codes.Ok || tool.SpanKind != oteltrace.SpanKindClient {
		t.Errorf("kinds %v %v, agent status %v", agent.SpanKind, tool.SpanKind, agent.Status)
	}
	if tool.Status.Code != codes.Error || tool.Status.Description != "boom" || len(tool.Events) != 1 || tool.Events[0].Name != "exception" ||
		!tool.Events[0].Time.Equal(rec.Span("tool").Events[0].Time) {
		t.Errorf("tool status %v events %v", tool.Status, tool.Events)
	}
	want := map[string]attribute.Value{
		"user": attribute.StringValue("alice"), "tenant": attribute.StringValue("t1"),
		AttrType: attribute.StringValue("agent"), AttrTags: attribute.StringSliceValue([]string{"prod"}),
	}
	checkAttrs(t, "agent", agent.Attributes, want)
	checkAttrs(t, "tool", tool.Attributes, map[string]attribute.Value{
		"tenant": attribute.StringValue("t1"), "n": attribute.Int64Value(3), "ratio": attribute.Float64Value(0.5),
		"ok": attribute.BoolValue(true), "list": attribute.StringSliceValue([]string{"a", "b"}),
		"obj": attribute.StringValue(`{"x":1}`), AttrType: attribute.StringValue("tool"),
	})
}

func checkAttrs(t *testing.T, name string, got []attribute.KeyValue, want map[string]attribute.Value) {
	t.Helper()
	have := map[string]attribute.Value{}
	for _, kv := range got {
		have[string(kv.Key)] = kv.Value
	}
	for k, v := range want {
		if have[k] != v {
			t.Errorf("%s: %s = %v, want %v", name, k, have[k].Emit(), v.Emit())
		}
	}
}

// TestOneTrace: spans the program starts with OpenTelemetry beneath a
// traced function are its children, and traced functions beneath them
// theirs, in the program's pipeline too.
func TestOneTrace(t *testing.T) {
	mem := program(t, sdktrace.WithIDGenerator(IDGenerator(nil)))
	recordWith(t, New())
	ctx, outer := trace.Define("outer").StartContext(context.Background())
	octx, inner := otelapi.Tracer("app").Start(ctx, "otel.inner")
	deep := trace.Define("deep").Start(octx)
	deep.End()
	inner.End()
	outer.End()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range mem.GetSpans() {
		byName[s.Name] = s
	}
	for _, l := range [][2]string{{"otel.inner", "outer"}, {"deep", "otel.inner"}} {
		c, p := byName[l[0]], byName[l[1]]
		if c.Parent.SpanID() != p.SpanContext.SpanID() || c.SpanContext.TraceID() != p.SpanContext.TraceID() || !p.SpanContext.IsValid() {
			t.Errorf("%s: parent %s, want %s (%s)", l[0], c.Parent.SpanID(), l[1], p.SpanContext.SpanID())
		}
	}
}

// TestIDsNotKept: a TracerProvider without the generator, or none at all,
// gets no span with other ids, and Export says why.
func TestIDsNotKept(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *tracetest.InMemoryExporter
	}{
		{"SDK without the generator", func(t *testing.T) *tracetest.InMemoryExporter { return program(t) }},
		{"no TracerProvider", func(t *testing.T) *tracetest.InMemoryExporter {
			prev := otelapi.GetTracerProvider()
			otelapi.SetTracerProvider(oteltrace.NewNoopTracerProvider())
			t.Cleanup(func() { otelapi.SetTracerProvider(prev) })
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := tc.setup(t)
			e := New()
			rec := tgtest.NewRecorder(t)
			trace.Begin("a").End()
			err := e.Export(context.Background(), rec.Spans())
			if !errors.Is(err, ErrIDsNotKept) || !strings.Contains(err.Error(), "sdktrace.WithIDGenerator(otel.IDGenerator(nil))") {
				t.Errorf("Export: %v, want ErrIDsNotKept naming the fix", err)
			}
			if mem != nil && len(mem.GetSpans()) != 0 {
				t.Errorf("%d spans reached the program's exporter with other ids", len(mem.GetSpans()))
			}
			if s := e.Stats(); s.NotKept != 1 || s.Handed != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// countingIDs is a program's own generator: it counts what it is asked.
type countingIDs struct{ n int }

func (c *countingIDs) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	c.n++
	return oteltrace.TraceID{1, 15: byte(c.n)}, oteltrace.SpanID{2, 7: byte(c.n)}
}

func (c *countingIDs) NewSpanID(ctx context.Context, _ oteltrace.TraceID) oteltrace.SpanID {
	c.n++
	return oteltrace.SpanID{3, 7: byte(c.n)}
}

// TestGeneratorDelegates: the program's own spans get their ids from the
// generator it wraps.
func TestGeneratorDelegates(t *testing.T) {
	own := &countingIDs{}
	mem := program(t, sdktrace.WithIDGenerator(IDGenerator(own)))
	ctx, root := otelapi.Tracer("app").Start(context.Background(), "root")
	_, child := otelapi.Tracer("app").Start(ctx, "child")
	child.End()
	root.End()
	if own.n != 2 || root.SpanContext().TraceID() != (oteltrace.TraceID{1, 15: 1}) || child.SpanContext().SpanID() != (oteltrace.SpanID{3, 7: 2}) {
		t.Errorf("asked %d times; root %s, child %s", own.n, root.SpanContext().TraceID(), child.SpanContext().SpanID())
	}
	if len(mem.GetSpans()) != 2 {
		t.Errorf("%d spans", len(mem.GetSpans()))
	}
}

// TestProgramSampler: the program's sampler is consulted. A NeverSample
// provider records nothing (and it is no error: the ids were kept); under
// the default ParentBased(AlwaysSample) everything tracegen sampled goes.
func TestProgramSampler(t *testing.T) {
	mem := program(t, sdktrace.WithIDGenerator(IDGenerator(nil)), sdktrace.WithSampler(sdktrace.NeverSample()))
	e := New()
	rec := tgtest.NewRecorder(t)
	s := trace.Begin("a")
	trace.Begin("b").End()
	s.End()
	if err := e.Export(context.Background(), rec.Spans()); err != nil {
		t.Fatal(err)
	}
	if n := len(mem.GetSpans()); n != 0 {
		t.Errorf("%d spans through a NeverSample provider", n)
	}
}
