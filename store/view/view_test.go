package view

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/store"
)

// agentTrace returns the spans of one agent run: an agent that plans with
// an LLM call, runs two tools (the second failing, the first heavy on CPU)
// and answers with a second LLM call. Trace ids differ by n.
func agentTrace(n int, session string) []*record.Record {
	start := time.Date(2026, 12, 1, 9, 0, n, 0, time.UTC)
	var tid record.TraceID
	tid[0], tid[15] = byte(n), 1
	id := func(i int) record.SpanID { return record.SpanID{byte(n), 0, 0, 0, 0, 0, 0, byte(i)} }
	mk := func(i, parent int, name string, from, to time.Duration, kwh float64) *record.Record {
		r := &record.Record{TraceID: tid, SpanID: id(i), Name: name, Start: start.Add(from), End: start.Add(to),
			Resource:  []record.Attr{record.String("service.name", "agent")},
			Inherited: []record.Attr{record.String("session.id", session)},
			Impact:    record.Impact{EnergyKWh: kwh, CO2eG: kwh * 400, WaterL: kwh * 3, EnergySource: "cpu-model"}}
		if parent >= 0 {
			r.ParentSpanID = id(parent)
		}
		return r
	}
	agent := mk(1, -1, "agent.run", 0, 900*time.Millisecond, 9e-6)
	agent.Type = record.TypeAgent
	plan := mk(2, 1, "agent.plan", 10*time.Millisecond, 200*time.Millisecond, 1e-7)
	plan.Type = record.TypeLLM
	plan.Attrs = []record.Attr{record.String("gen_ai.operation.name", "chat"), record.String("gen_ai.request.model", "gpt-4o-mini"),
		record.Int("gen_ai.usage.input_tokens", 300), record.Int("gen_ai.usage.output_tokens", 80),
		record.String("tracegen.footprint.method", "ecologits 0.6")}
	plan.Input = []record.Attr{record.String("prompt", "plan the trip")}
	plan.Output = []record.Attr{record.String("completion", "search, then book")}
	search := mk(3, 1, "tool.search", 210*time.Millisecond, 700*time.Millisecond, 8e-6)
	search.Type = record.TypeTool
	rank := mk(4, 3, "tool.rank", 300*time.Millisecond, 690*time.Millisecond, 7.5e-6)
	book := mk(5, 1, "tool.book", 710*time.Millisecond, 760*time.Millisecond, 1e-7)
	book.Type, book.Status, book.StatusMsg = record.TypeTool, record.StatusError, "no seats"
	answer := mk(6, 1, "agent.answer", 770*time.Millisecond, 890*time.Millisecond, 2e-7)
	answer.Type = record.TypeLLM
	answer.Attrs = []record.Attr{record.String("gen_ai.operation.name", "chat"), record.String("gen_ai.request.model", "claude-haiku"),
		record.Int("gen_ai.usage.input_tokens", 500), record.Int("gen_ai.usage.output_tokens", 120)}
	// Ended children first, as a program exports them.
	return []*record.Record{plan, rank, search, book, answer, agent}
}

// WriteSample writes the spans of n agent runs in sessions alpha and beta
// as JSONL to path.
func writeSample(t testing.TB, path string, n int) {
	t.Helper()
	var b []byte
	for i := range n {
		session := "alpha"
		if i%2 == 1 {
			session = "beta"
		}
		for _, r := range agentTrace(i, session) {
			b = append(r.AppendJSON(b), '\n')
		}
	}
	if err := os.WriteFile(path, b, 0o666); err != nil {
		t.Fatal(err)
	}
}

// newServer serves the viewer of a store holding n sample traces.
func newServer(t testing.TB, n int) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "spans.jsonl")
	writeSample(t, p, n)
	s, err := store.Open(filepath.Join(dir, "traces.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if res, err := s.IngestFiles(context.Background(), []string{p}, nil); err != nil || res.Added != 6*n {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
	srv := httptest.NewServer(New(s))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, code int, v any) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, body, code)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return string(body)
}

func TestTracesAPI(t *testing.T) {
	srv := newServer(t, 4)
	tests := []struct {
		query string
		total int64
		roots int
	}{
		{"", 4, 4},
		{"?session=alpha", 2, 2},
		{"?model=claude-haiku", 4, 4},
		{"?status=error&name=tool.book", 4, 4},
		{"?attr=gen_ai.usage.input_tokens=300", 4, 4},
		{"?filter=session=beta&limit=1", 2, 1},
		{"?filter=session=beta&limit=1&offset=1", 2, 1},
		{"?name=nothing", 0, 0},
		{"?type=tool&session=alpha", 2, 2},
	}
	for _, tt := range tests {
		var l store.TraceList
		get(t, srv.URL+"/api/traces"+tt.query, 200, &l)
		if l.Total != tt.total || len(l.Traces) != tt.roots {
			t.Errorf("%s: total %d, %d listed; want %d, %d", tt.query, l.Total, len(l.Traces), tt.total, tt.roots)
		}
		for _, tr := range l.Traces {
			if tr.Root != "agent.run" || tr.Spans != 6 || tr.Errors != 1 || tr.InputTokens != 800 {
				t.Errorf("%s: trace %+v", tt.query, tr)
			}
		}
	}
	for _, q := range []string{"?status=broken", "?limit=x", "?filter=nokey", "?trace=12"} {
		var e apiError
		get(t, srv.URL+"/api/traces"+q, 400, &e)
		if e.Error == "" {
			t.Errorf("%s: no error message", q)
		}
	}
}

func TestTraceAPI(t *testing.T) {
	srv := newServer(t, 2)
	id := fmt.Sprintf("%02x%028x01", 1, 0)
	var tr store.Trace
	get(t, srv.URL+"/api/traces/"+id, 200, &tr)
	var names []string
	for _, s := range tr.Spans {
		names = append(names, fmt.Sprintf("%d:%s", s.Depth, s.Name))
	}
	want := "0:agent.run 1:agent.plan 1:tool.search 2:tool.rank 1:tool.book 1:agent.answer"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("waterfall %s, want %s", got, want)
	}
	if tr.Expensive != tr.Spans[3].SpanID || !tr.Spans[3].Expensive {
		t.Errorf("expensive span %s, want tool.rank (%s)", tr.Expensive, tr.Spans[3].SpanID)
	}
	plan := tr.Spans[1]
	if plan.Model != "gpt-4o-mini" || plan.InputTokens != 300 || plan.Estimate == nil || string(plan.Input) != `{"prompt":"plan the trip"}` {
		t.Errorf("plan span: %+v", plan)
	}
	if tr.Spans[4].Status != "error" || tr.Spans[4].StatusMessage != "no seats" {
		t.Errorf("book span: %+v", tr.Spans[4])
	}
	var e apiError
	get(t, srv.URL+"/api/traces/"+strings.Repeat("f", 32), 404, &e)
	get(t, srv.URL+"/api/traces/xyz", 400, &e)
}

func TestReportAPI(t *testing.T) {
	srv := newServer(t, 4)
	var r struct {
		Schema string `json:"schema"`
		Totals struct {
			Spans    int64 `json:"spans"`
			Traces   int64 `json:"traces"`
			LLMCalls int64 `json:"llm_calls"`
		} `json:"totals"`
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	get(t, srv.URL+"/api/report", 200, &r)
	if r.Schema != "tracegen.report/v1" || r.Totals.Spans != 24 || r.Totals.Traces != 4 || r.Totals.LLMCalls != 8 || len(r.Models) != 2 {
		t.Errorf("report: %+v", r)
	}
	get(t, srv.URL+"/api/report?session=beta", 200, &r)
	if r.Totals.Traces != 2 || r.Totals.Spans != 12 {
		t.Errorf("report of session beta: %+v", r.Totals)
	}
}

func TestValuesAndStatic(t *testing.T) {
	srv := newServer(t, 3)
	var vals []store.ValueCount
	get(t, srv.URL+"/api/values?kind=session", 200, &vals)
	if len(vals) != 2 || vals[0] != (store.ValueCount{Value: "alpha", Traces: 2}) || vals[1] != (store.ValueCount{Value: "beta", Traces: 1}) {
		t.Errorf("sessions: %+v", vals)
	}
	get(t, srv.URL+"/api/values?kind=model", 200, &vals)
	if len(vals) != 2 || vals[0].Value != "claude-haiku" {
		t.Errorf("models: %+v", vals)
	}
	var info storeInfo
	get(t, srv.URL+"/api/store", 200, &info)
	if info.Traces != 3 || info.Spans != 18 {
		t.Errorf("store: %+v", info)
	}
	for path, want := range map[string]string{"/": `<div id="waterfall"`, "/app.js": "function drawTrace", "/app.css": ".span.expensive"} {
		if body := get(t, srv.URL+path, 200, nil); !strings.Contains(body, want) {
			t.Errorf("%s does not contain %q", path, want)
		}
	}
	if body := get(t, srv.URL+"/", 200, nil); strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page refers to another site")
	}
}
