package tracetest_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

func TestRecorderFinds(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx, root := trace.Start(context.Background(), "root", trace.TypeAgent, trace.WithInherited("session.id", "s1"))
	_, a := trace.Start(ctx, "step", trace.WithAttr("n", 1))
	a.End()
	_, b := trace.Start(ctx, "step", trace.WithAttr("n", 2))
	b.End()
	_, tool := trace.Start(ctx, "tool", trace.TypeTool)
	tool.End()
	if got := rec.Names(); !slices.Equal(got, []string{"step", "step", "tool"}) {
		t.Errorf("before the root ends: Names() = %v", got)
	}
	root.End()

	r := rec.Span("root")
	if r.Type != record.TypeAgent || !r.IsLocalRoot() {
		t.Errorf("root: type %v, local root %v", r.Type, r.IsLocalRoot())
	}
	if got := names(rec.ByName("step")); !slices.Equal(got, []string{"step", "step"}) {
		t.Errorf("ByName(step) = %v", got)
	}
	if got := rec.ByAttr("n", 2); len(got) != 1 || got[0].SpanID != b.SpanID() {
		t.Errorf("ByAttr(n, 2) = %v, want the second step", got)
	}
	if got := rec.ByAttr("session.id", "s1"); len(got) != 4 {
		t.Errorf("ByAttr on an inherited attribute found %d spans, want 4", len(got))
	}
	if got := names(rec.Children(r)); !slices.Equal(got, []string{"step", "step", "tool"}) {
		t.Errorf("Children(root) = %v", got)
	}
	if p := rec.Parent(rec.Span("tool")); p == nil || p.SpanID != r.SpanID {
		t.Errorf("Parent(tool) = %v, want root", p)
	}
	if p := rec.Parent(r); p != nil {
		t.Errorf("Parent(root) = %v, want nil", p)
	}
	if got := rec.Attr(rec.Span("tool"), "session.id").Str(); got != "s1" {
		t.Errorf("Attr(tool, session.id) = %q", got)
	}
	if got := rec.Spans(export.TypeIs(record.TypeTool)); len(got) != 1 || got[0].Name != "tool" {
		t.Errorf("Spans(TypeIs(tool)) = %v", got)
	}
	rec.Reset()
	if n := len(rec.Spans()); n != 0 {
		t.Errorf("%d spans after Reset", n)
	}
	trace.Begin("again").End()
	if got := rec.Only().Name; got != "again" {
		t.Errorf("Only() = %q after Reset", got)
	}
}

func names(spans []*record.Record) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// fatalTB records the message of Fatalf and ends the goroutine, as
// testing.T does; the rest is the real test's.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fails runs f on a goroutine of its own and returns what it passed to
// tb.Fatalf, or "" when it returned normally.
func fails(tb *fatalTB, f func()) string {
	tb.msg = ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	return tb.msg
}

func TestRecorderFailures(t *testing.T) {
	ftb := &fatalTB{TB: t}
	rec := tracetest.NewRecorder(ftb, tracetest.WithCapacity(3))
	for _, n := range []string{"a", "b", "b"} {
		trace.Begin(n).End()
	}
	for _, tt := range []struct {
		name string
		f    func()
		want string
	}{
		{"absent", func() { rec.Span("c") }, `no span "c" among the 3 recorded: ["a" "b" "b"]`},
		{"ambiguous", func() { rec.Span("b") }, `2 spans "b" among the 3 recorded, want one: ["a" "b" "b"]`},
		{"not only", func() { rec.Only() }, `3 spans recorded, want 1: ["a" "b" "b"]`},
		{"no attribute", func() { rec.Attr(rec.Span("a"), "k") }, `span "a" has no attribute k`},
		{"second recorder", func() { tracetest.NewRecorder(ftb) }, "must not run in parallel"},
		{"present", func() { rec.Span("a") }, ""},
	} {
		got := fails(ftb, tt.f)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: Fatalf(%q), want it to contain %q", tt.name, got, tt.want)
		}
	}
	trace.Begin("d").End()
	if got := fails(ftb, func() { rec.Spans() }); !strings.Contains(got, "4 spans ended but the recorder keeps 3") {
		t.Errorf("overflow: Fatalf(%q)", got)
	}
}

// TestRecorderRestores: spans that started before the recorder end into
// the pipeline they started on, which keeps running and is active again
// after the recorder's test.
func TestRecorderRestores(t *testing.T) {
	outer := export.NewMemory(10)
	t.Cleanup(trace.Override(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{outer}}))
	before := trace.Begin("before")
	t.Run("recorder", func(t *testing.T) {
		rec := tracetest.NewRecorder(t)
		before.End()
		trace.Begin("inside").End()
		if got := rec.Names(); !slices.Equal(got, []string{"inside"}) {
			t.Errorf("recorded %v, want [inside]", got)
		}
		if trace.MemoryExporter() == outer {
			t.Error("MemoryExporter is the outer one while the recorder is active")
		}
	})
	trace.Begin("after").End()
	if err := trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := names(outer.Spans()); !slices.Equal(got, []string{"before", "after"}) {
		t.Errorf("outer pipeline got %v, want [before after]", got)
	}
	if trace.MemoryExporter() != outer {
		t.Error("MemoryExporter not restored")
	}
}

func TestRecorderRestoresDisabled(t *testing.T) {
	t.Cleanup(trace.Override(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}}))
	t.Run("recorder", func(t *testing.T) {
		tracetest.NewRecorder(t)
		if !trace.Enabled() {
			t.Error("tracing off under a recorder")
		}
	})
	if trace.Enabled() {
		t.Error("tracing still on after the recorder's test")
	}
}

func TestRecorderWithConfig(t *testing.T) {
	also := export.NewMemory(10)
	rec := tracetest.NewRecorder(t, tracetest.WithConfig(trace.Config{
		DisableContent: true, ServiceName: "svc", Exporters: []export.Exporter{also},
	}))
	s := trace.Begin("a")
	s.RecordInput("prompt", "secret")
	s.End()
	r := rec.Only()
	if len(r.Input) != 0 {
		t.Errorf("input captured with DisableContent: %v", r.Input)
	}
	if !slices.ContainsFunc(r.Resource, func(a record.Attr) bool { return a.Key == "service.name" && a.Value.Str() == "svc" }) {
		t.Errorf("resource %v, want service.name=svc", r.Resource)
	}
	if n := len(also.Spans()); n != 1 {
		t.Errorf("the extra exporter got %d spans, want 1", n)
	}
	if trace.MemoryExporter() == also {
		t.Error("MemoryExporter is the extra exporter, not the recorder's")
	}
}

func TestEndTest(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	for _, failed := range []bool{false, true} {
		rec.Reset()
		s := trace.Begin("TestX")
		tracetest.EndTest(s, failedTB{failed: failed})
		r := rec.Only()
		if got := r.Status == record.StatusError; got != failed {
			t.Errorf("failed=%v: span status %v", failed, r.Status)
		}
	}
}

// failedTB is a testing.TB whose Failed reports failed.
type failedTB struct {
	testing.TB
	failed bool
}

func (f failedTB) Failed() bool { return f.failed }

// TestWithBackground: the pipeline runs in the background (spans are
// batched, not exported inside End) and reads flush it first.
func TestWithBackground(t *testing.T) {
	rec := tracetest.NewRecorder(t, tracetest.WithBackground())
	before := trace.ReadStats().Exported
	_, s := trace.Start(context.Background(), "bg")
	s.End()
	// The batcher exports a lone span after its idle period (25 ms), not
	// inside End as sync mode does.
	if n := trace.ReadStats().Exported - before; n != 0 {
		t.Errorf("%d spans exported inside End: the pipeline runs in sync mode", n)
	}
	if got := rec.Span("bg").Name; got != "bg" {
		t.Errorf("span %q", got)
	}
}
