package llmhttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/session"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// These tests go through runtime/genai and runtime/trace for real (no fake
// sink) and check the exported records.

// llmSpans returns the LLM spans rec recorded.
func llmSpans(rec *tracetest.Recorder) []*record.Record {
	return rec.Spans(export.TypeIs(record.TypeLLM))
}

func do(t *testing.T, ctx context.Context, url, body string, header map[string]string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

func TestIntegrationSpan(t *testing.T) {
	t.Setenv("TRACEGEN_CAPTURE_CONTENT", "true")
	rec := tracetest.NewRecorder(t)
	srv, _ := fake(t, 200, "application/json", []byte(`{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
 "content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":50}}`))
	ctx, parent := trace.Start(context.Background(), "agent", trace.TypeAgent)
	do(t, ctx, srv.URL+"/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"hi there"}]}`,
		map[string]string{"anthropic-version": "2023-06-01"})
	parent.End()
	spans := llmSpans(rec)
	if len(spans) != 1 {
		t.Fatalf("%d LLM spans", len(spans))
	}
	r := spans[0]
	if r.Name != "chat claude-sonnet-4-5" || r.Kind != record.KindClient || r.ParentSpanID != parent.SpanID() {
		t.Errorf("span %q kind %v parent %s", r.Name, r.Kind, r.ParentSpanID)
	}
	for key, want := range map[string]string{
		"gen_ai.provider.name": "anthropic", "gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet-4-5",
		"gen_ai.response.model": "claude-sonnet-4-5-20250929", "gen_ai.response.id": "msg_01",
		"gen_ai.request.max_tokens": "256", "gen_ai.usage.input_tokens": "10", "gen_ai.usage.output_tokens": "50",
		"server.address": "127.0.0.1", "tracegen.transport": "llmhttp",
	} {
		if v, _ := r.Lookup(key); v.String() != want {
			t.Errorf("%s = %q, want %q", key, v.String(), want)
		}
	}
	in, _ := r.Lookup("gen_ai.input.messages")
	out, _ := r.Lookup("gen_ai.output.messages")
	if !strings.Contains(in.String(), "hi there") || !strings.Contains(out.String(), "Hello!") {
		t.Errorf("captured content: input %q output %q", in.String(), out.String())
	}
	if r.Impact.Joules[record.EnergyLLM] <= 0 || r.Impact.CO2eG <= 0 {
		t.Errorf("no footprint estimate: %+v", r.Impact)
	}
}

func TestIntegrationHTTPError(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	srv, _ := fake(t, 429, "application/json", []byte(`{"error":{"message":"Rate limit reached","type":"requests"}}`))
	do(t, context.Background(), srv.URL+"/v1/chat/completions", `{"model":"gpt-4o"}`, nil)
	spans := llmSpans(rec)
	if len(spans) != 1 {
		t.Fatalf("%d LLM spans", len(spans))
	}
	r := spans[0]
	if r.Status != record.StatusError || !strings.Contains(r.StatusMsg, "429") {
		t.Errorf("status %v %q, want error mentioning 429", r.Status, r.StatusMsg)
	}
	if v, _ := r.Lookup("http.response.status_code"); v.Int64() != 429 {
		t.Errorf("http.response.status_code = %v", v)
	}
	if _, ok := r.Lookup("error.type"); !ok {
		t.Error("no error.type")
	}
	if r.Impact.Joules[record.EnergyLLM] != 0 {
		t.Errorf("a failed call without usage got an estimate: %+v", r.Impact)
	}
}

func TestIntegrationContentOffByDefault(t *testing.T) {
	t.Setenv("TRACEGEN_CAPTURE_CONTENT", "")
	rec := tracetest.NewRecorder(t)
	srv, _ := fake(t, 200, "application/json", []byte(`{"id":"c","model":"gpt-4o","choices":[{"message":{"content":"secret answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`))
	do(t, context.Background(), srv.URL+"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"secret question"}]}`, nil)
	js := string(llmSpans(rec)[0].AppendJSON(nil))
	if strings.Contains(js, "secret") {
		t.Errorf("content recorded without TRACEGEN_CAPTURE_CONTENT: %s", js)
	}
}

// TestIntegrationSession: a transport span inside session.WithSession
// carries the session ids, is the target of Feedback, and counts in the
// per-user totals.
func TestIntegrationSession(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	srv, _ := fake(t, 200, "application/json", []byte(`{"id":"c1","model":"gpt-4o","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3}}`))
	ctx := session.WithSession(context.Background(), "sess-42", "alice", nil)
	do(t, ctx, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o"}`, nil)
	if err := session.Feedback(ctx, session.ThumbsUp(), "great"); err != nil {
		t.Fatal(err)
	}
	llm := llmSpans(rec)[0]
	if v, _ := llm.Lookup("user.id"); v.String() != "alice" {
		t.Errorf("LLM span user.id %q", v.String())
	}
	fb := rec.Span("feedback")
	if fb.ParentSpanID != llm.SpanID || fb.TraceID != llm.TraceID {
		t.Fatalf("feedback span %+v not under the LLM span %s", fb, llm.SpanID)
	}
	tot := session.ByUser(rec.Spans())["alice"]
	if tot.Calls != 1 || tot.InputTokens != 7 || tot.OutputTokens != 3 || tot.EnergyKWh <= 0 {
		t.Errorf("alice totals %+v", tot)
	}
}

// TestIntegrationTracingOff: with tracing disabled the transport only
// forwards: no span, the request body untouched.
func TestIntegrationTracingOff(t *testing.T) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	srv, gotReq := fake(t, 200, "application/json", []byte(`{"id":"c","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}}`))
	body := `{"model":"gpt-4o","messages":[]}`
	if got := do(t, context.Background(), srv.URL+"/v1/chat/completions", body, nil); !strings.Contains(got, `"id":"c"`) {
		t.Errorf("response %q", got)
	}
	if string(*gotReq) != body {
		t.Errorf("server got %q", *gotReq)
	}
	if trace.Enabled() {
		t.Error("tracing should be off in this test")
	}
}

// TestIntegrationTraceparent: the provider receives the LLM span's ids in
// a traceparent header; a request that carries one already keeps it.
func TestIntegrationTraceparent(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("traceparent"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"x","model":"gpt-4o","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	}))
	defer srv.Close()
	ctx, parent := trace.Start(context.Background(), "agent")
	do(t, ctx, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o"}`, nil)
	const own = "00-11111111111111111111111111111111-2222222222222222-01"
	do(t, ctx, srv.URL+"/v1/chat/completions", `{"model":"gpt-4o"}`, map[string]string{"traceparent": own})
	parent.End()
	spans := llmSpans(rec)
	if len(spans) != 2 || len(got) != 2 {
		t.Fatalf("%d LLM spans, %d requests", len(spans), len(got))
	}
	if want := "00-" + spans[0].TraceID.String() + "-" + spans[0].SpanID.String() + "-01"; got[0] != want {
		t.Errorf("traceparent %q, want the LLM span's %q", got[0], want)
	}
	if got[1] != own {
		t.Errorf("traceparent %q, want the request's own %q", got[1], own)
	}
}
