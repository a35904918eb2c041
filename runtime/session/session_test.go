package session

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// llmCall makes a finished LLM span like runtime/genai does.
func llmCall(ctx context.Context, model string, in, out int64, err error) {
	_, s := trace.Start(ctx, "chat "+model, trace.TypeLLM, trace.KindClient,
		trace.WithAttr("gen_ai.operation.name", "chat"),
		trace.WithAttr("gen_ai.usage.input_tokens", in), trace.WithAttr("gen_ai.usage.output_tokens", out))
	s.Finish(err, nil)
}

func TestSessionAttributesInherited(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx := WithSession(context.Background(), "s-1", "alice", map[string]any{"plan": "pro", "tier": 2})
	ctx = WithConversation(ctx, "conv-9")
	cctx, agent := trace.Start(ctx, "agent", trace.TypeAgent)
	llmCall(cctx, "gpt-4o", 10, 5, nil)
	agent.End()
	for _, name := range []string{"agent", "chat gpt-4o"} {
		r := rec.Span(name)
		for key, want := range map[string]string{AttrSessionID: "s-1", AttrUserID: "alice", AttrConversationID: "conv-9",
			AttrMetadataPrefix + "plan": "pro", AttrMetadataPrefix + "tier": "2"} {
			if v, _ := r.Lookup(key); v.String() != want {
				t.Errorf("%s: %s = %q, want %q", name, key, v.String(), want)
			}
		}
	}
	if IDFromContext(cctx) != "s-1" {
		t.Errorf("IDFromContext = %q", IDFromContext(cctx))
	}
}

func TestFeedbackTargetsLatestLLMSpan(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx := WithSession(context.Background(), "s-fb", "bob", nil)
	llmCall(ctx, "first", 1, 1, nil)
	llmCall(ctx, "second", 2, 2, nil)
	if err := Feedback(ctx, ThumbsDown(), "wrong answer"); err != nil {
		t.Fatal(err)
	}
	second := rec.Span("chat second")
	fb := rec.Span("feedback")
	if fb.TraceID != second.TraceID || fb.ParentSpanID != second.SpanID {
		t.Errorf("feedback span trace %s parent %s, want trace %s parent %s", fb.TraceID, fb.ParentSpanID, second.TraceID, second.SpanID)
	}
	if len(fb.Events) != 1 || fb.Events[0].Name != EventFeedback {
		t.Fatalf("events %+v", fb.Events)
	}
	got := map[string]string{}
	for _, a := range fb.Events[0].Attrs {
		got[a.Key] = a.Value.String()
	}
	if got[AttrFeedbackThumbs] != "down" || got[AttrFeedbackText] != "wrong answer" || got[AttrFeedbackSpanID] != second.SpanID.String() {
		t.Errorf("feedback event attrs %v", got)
	}
	if v, _ := fb.Lookup(AttrSessionID); v.String() != "s-fb" {
		t.Errorf("feedback span session.id %q", v.String())
	}
	// Later, from another request, by id.
	if err := FeedbackFor(context.Background(), "s-fb", Score(4.5), ""); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rec.Children(second) {
		if r.Name == "feedback" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d feedback spans under the rated span, want 2", n)
	}
}

func TestFeedbackErrors(t *testing.T) {
	tracetest.NewRecorder(t)
	if err := Feedback(context.Background(), ThumbsUp(), ""); !errors.Is(err, ErrNoSession) {
		t.Errorf("no session: %v", err)
	}
	ctx := WithSession(context.Background(), "s-empty", "", nil)
	if err := Feedback(ctx, ThumbsUp(), ""); !errors.Is(err, ErrNoLLMSpan) {
		t.Errorf("no LLM span yet: %v", err)
	}
	if err := Feedback(ctx, Score(nan()), ""); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("NaN score: %v", err)
	}
	cctx := WithConversation(context.Background(), "c-only")
	llmCall(cctx, "m", 1, 1, nil)
	if err := Feedback(cctx, ThumbsUp(), ""); err != nil {
		t.Errorf("conversation feedback: %v", err)
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestTrackerBounded(t *testing.T) {
	tr := newTracker(3)
	for i, id := range []string{"a", "b", "c", "d"} {
		tr.record(id, &record.Record{Type: record.TypeLLM, Name: id, SpanID: record.SpanID{byte(i + 1)}})
	}
	if _, ok := tr.latest("a"); ok {
		t.Error("oldest session kept beyond the bound")
	}
	if r, ok := tr.latest("d"); !ok || r.Name != "d" {
		t.Errorf("latest(d) = %v %v", r, ok)
	}
	if len(tr.last) != 3 || tr.order.Len() != 3 {
		t.Errorf("tracker holds %d/%d entries, want 3", len(tr.last), tr.order.Len())
	}
	tr.record("b", &record.Record{Type: record.TypeTool, Name: "tool"})
	if r, _ := tr.latest("b"); r.Name != "b" {
		t.Errorf("a tool span replaced the LLM span: %v", r)
	}
}

func TestTotalsFromMemoryAndJSONL(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	alice := WithSession(context.Background(), "s-a", "alice", nil)
	bob := WithSession(context.Background(), "s-b", "bob", nil)
	actx, agent := trace.Start(alice, "agent", trace.TypeAgent)
	llmCall(actx, "m", 10, 5, nil)
	llmCall(actx, "m", 20, 7, errors.New("rate limited"))
	agent.End()
	llmCall(bob, "m", 3, 4, nil)
	llmCall(context.Background(), "m", 1, 1, nil)

	want := map[string]Totals{
		"alice": {Calls: 2, Errors: 1, InputTokens: 30, OutputTokens: 12},
		"bob":   {Calls: 1, InputTokens: 3, OutputTokens: 4},
		NoGroup: {Calls: 1, InputTokens: 1, OutputTokens: 1},
	}
	check := func(src string, got map[string]Totals) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: groups %v, want %v", src, Sorted(got), Sorted(want))
		}
		for k, w := range want {
			if g := got[k]; g != w {
				t.Errorf("%s: %s = %+v, want %+v", src, k, g, w)
			}
		}
	}
	check("memory", ByUser(rec.Spans()))

	var buf bytes.Buffer
	for _, r := range rec.Spans() {
		buf.Write(r.AppendJSON(nil))
		buf.WriteByte('\n')
	}
	got, err := ReadJSONL(&buf, AttrUserID)
	if err != nil {
		t.Fatal(err)
	}
	check("jsonl", got)

	if _, err := ReadJSONL(strings.NewReader("{\"type\":\"llm\"}\n\nnot json\n"), AttrUserID); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("malformed JSONL: %v, want an error on line 3", err)
	}
}
