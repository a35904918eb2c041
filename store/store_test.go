package store

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/report"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TestIngestRules checks what an ingest adds: a file twice adds nothing,
// several files at once add each span once, overlapping files add only
// the new spans (extending traces already stored), bad lines are problems.
func TestIngestRules(t *testing.T) {
	dir := t.TempDir()
	a, b, ab := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "ab.jsonl")
	writeGen(t, a, 0, 95)   // traces 0-8 whole, trace 9 half
	writeGen(t, b, 95, 200) // the rest of trace 9, traces 10-19
	writeGen(t, ab, 0, 200)
	bad := filepath.Join(dir, "bad.jsonl")
	line := genRecord(500).AppendJSON(nil)
	os.WriteFile(bad, []byte("{\"trace_id\":\"zz\"}\n"+string(line)+"\nnot json\n"), 0o666)
	tests := []struct {
		name     string
		batches  [][]string
		added    []int
		dups     []int
		traces   int64
		spans    int64
		problems int
	}{
		{"twice", [][]string{{a}, {a}}, []int{95, 0}, []int{0, 95}, 10, 95, 0},
		{"several at once", [][]string{{a, b}}, []int{200}, []int{0}, 20, 200, 0},
		{"same file twice in one call", [][]string{{a, a}}, []int{95}, []int{95}, 10, 95, 0},
		{"overlap extends a trace", [][]string{{a}, {ab}}, []int{95, 105}, []int{0, 95}, 20, 200, 0},
		{"bad lines", [][]string{{bad}}, []int{1}, []int{0}, 1, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			probs := 0
			for i, names := range tt.batches {
				res := ingest(t, s, names...)
				if res.Added != tt.added[i] || res.Duplicates != tt.dups[i] {
					t.Errorf("ingest %d: added %d, duplicates %d; want %d, %d", i, res.Added, res.Duplicates, tt.added[i], tt.dups[i])
				}
				probs += len(res.Problems)
			}
			if probs != tt.problems {
				t.Errorf("%d problems, want %d", probs, tt.problems)
			}
			traces, spans, err := s.Counts(context.Background())
			if err != nil || traces != tt.traces || spans != tt.spans {
				t.Errorf("store holds %d traces, %d spans (%v); want %d, %d", traces, spans, err, tt.traces, tt.spans)
			}
		})
	}
}

// TestIngestProblems checks that problems name the file and line.
func TestIngestProblems(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(string(genRecord(1).AppendJSON(nil))+"\nnot json\n"), 0o666)
	res := ingest(t, openTemp(t), bad, filepath.Join(dir, "missing.jsonl"))
	var got []string
	for _, p := range res.Problems {
		got = append(got, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
	}
	want := []string{"bad.jsonl:2: offset 0: unexpected 'n', want '{'", "missing.jsonl: no such file or directory"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// genStore is a store holding the first n generated spans.
func genStore(t *testing.T, n int) *Store {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gen.jsonl")
	writeGen(t, p, 0, n)
	s := openTemp(t)
	ingest(t, s, p)
	return s
}

// TestFilters checks each filter kind against the generated run (1000
// spans: 100 traces in 10 sessions, every seventh failed).
func TestFilters(t *testing.T) {
	s := genStore(t, 1000)
	tests := []struct {
		filters []string
		total   int64
		first   string // root of the newest match
	}{
		{nil, 100, "pkg.Func40"},
		{[]string{"session=s3"}, 10, "pkg.Func30"},
		{[]string{"status=error"}, 15, "pkg.Func30"},              // traces 0, 7, ..., 98
		{[]string{"session=s0", "status=error"}, 2, "pkg.Func00"}, // traces 0 and 70
		{[]string{"name=pkg.Func07"}, 20, "pkg.Func00"},
		{[]string{"model=gpt-4o-mini"}, 100, "pkg.Func40"},
		{[]string{"type=llm"}, 100, "pkg.Func40"},
		{[]string{"type=tool"}, 0, ""},
		{[]string{"items=42"}, 10, "pkg.Func40"}, // spans 42, 142, ..., 942
		{[]string{"attr:items=42"}, 10, "pkg.Func40"},
		{[]string{"has=http.route"}, 100, "pkg.Func40"},
		{[]string{"service.name=bench"}, 100, "pkg.Func40"},
		{[]string{"test.case.name=TestCase5", "session=s5"}, 5, "pkg.Func00"},
		{[]string{"test.case.name=TestCase5", "session=s4"}, 0, ""},
		{[]string{"trace=05000000000000000000000000000007"}, 1, "pkg.Func00"},
		{[]string{"trace=ff000000000000000000000000000007"}, 0, ""},
		{[]string{"gen_ai.request.model=nope"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.filters, ","), func(t *testing.T) {
			var fs []Filter
			for _, f := range tt.filters {
				x, err := ParseFilter(f)
				if err != nil {
					t.Fatal(err)
				}
				fs = append(fs, x)
			}
			l, err := s.Traces(context.Background(), Query{Filters: fs, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if l.Total != tt.total {
				t.Errorf("total %d, want %d", l.Total, tt.total)
			}
			if want := min(3, int(tt.total)); len(l.Traces) != want {
				t.Fatalf("%d traces listed, want %d", len(l.Traces), want)
			}
			if len(l.Traces) > 0 && l.Traces[0].Root != tt.first {
				t.Errorf("newest match's root %s, want %s", l.Traces[0].Root, tt.first)
			}
			for i := 1; i < len(l.Traces); i++ {
				if l.Traces[i].Start.After(l.Traces[i-1].Start) {
					t.Errorf("trace %d starts after trace %d: not newest first", i, i-1)
				}
			}
		})
	}
}

// TestFilterPaging checks that pages of a filtered list (few matches,
// sorted, and many, found by walking the start index) tile the list.
func TestFilterPaging(t *testing.T) {
	s := genStore(t, 50000) // 5000 traces: over the few-matches limit
	for _, f := range []string{"session=s1", "service.name=bench"} {
		x, _ := ParseFilter(f)
		all, err := s.Traces(context.Background(), Query{Filters: []Filter{x}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var paged []TraceSummary
		for off := 0; off < len(all.Traces); off += 70 {
			p, err := s.Traces(context.Background(), Query{Filters: []Filter{x}, Limit: 70, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, p.Traces...)
		}
		paged = paged[:min(len(paged), len(all.Traces))]
		if len(paged) != len(all.Traces) {
			t.Fatalf("%s: %d traces in pages, %d in one list", f, len(paged), len(all.Traces))
		}
		for i := range paged {
			if paged[i].TraceID != all.Traces[i].TraceID {
				t.Fatalf("%s: trace %d differs between pages and list", f, i)
			}
		}
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"name=a.b", "name=a.b", ""},
		{"session=s1", "session.id=s1", ""},
		{"conversation=c", "gen_ai.conversation.id=c", ""},
		{"attr:name=x", "attr:name=x", ""},
		{"gen_ai.request.model=gpt", "gen_ai.request.model=gpt", ""},
		{"has=k", "has=k", ""},
		{"status=failed", "", `filter "status=failed": status is unset, ok or error`},
		{"type=x", "", `filter "type=x": type is llm, tool, agent, chain or task`},
		{"trace=12", "", `filter "trace=12": a trace id is 32 hex digits`},
		{"novalue", "", `filter "novalue": want key=value`},
		{"attr:=x", "", `filter "attr:=x": no attribute key after attr:`},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseFilter(%q) error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || f.String() != tt.want {
			t.Errorf("ParseFilter(%q) = %s, %v; want %s", tt.in, f, err, tt.want)
		}
	}
}

// TestTrace checks a waterfall: nesting, order, self impact, the most
// expensive span.
func TestTrace(t *testing.T) {
	s := genStore(t, 20)
	tr, err := s.Trace(context.Background(), "01000000000000000000000000000007")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Spans) != 10 || tr.Summary.Spans != 10 || tr.Summary.Root != "pkg.Func10" {
		t.Fatalf("trace: %d spans, summary %+v", len(tr.Spans), tr.Summary)
	}
	if tr.Spans[0].Depth != 0 || tr.Spans[0].Name != "pkg.Func10" {
		t.Errorf("first span %s at depth %d, want the root", tr.Spans[0].Name, tr.Spans[0].Depth)
	}
	for i, sp := range tr.Spans[1:] {
		if sp.Depth != 1 || sp.ParentSpanID != tr.Spans[0].SpanID {
			t.Errorf("span %d (%s): depth %d, parent %s; want a child of the root", i+1, sp.Name, sp.Depth, sp.ParentSpanID)
		}
		if i > 0 && sp.Start.Before(tr.Spans[i].Start) {
			t.Errorf("span %d starts before its elder sibling", i+1)
		}
	}
	// Spans 11..19 have energy 1+i%13 nJ·kWh... the costliest child is
	// i=11+? : 1+i%13 is largest for i=12 (13 units).
	exp := ""
	for _, sp := range tr.Spans {
		if sp.Expensive {
			exp = sp.Name
		}
	}
	if exp != "pkg.Func12" || tr.Expensive == "" {
		t.Errorf("expensive span %q (%s), want pkg.Func12", exp, tr.Expensive)
	}
	// The root's energy (11 units) is less than its children's (their sum
	// is larger), so its self energy is clamped at zero.
	if tr.Spans[0].Self.EnergyKWh != 0 {
		t.Errorf("root self energy %g, want 0", tr.Spans[0].Self.EnergyKWh)
	}
	llm := tr.Spans[4] // pkg.Func14: every fifth span is an LLM call
	if llm.Name != "pkg.Func14" || llm.Model != "gpt-4o-mini" || llm.InputTokens != 120 || llm.Estimate == nil ||
		llm.Estimate.Method != "ecologits 0.6" {
		t.Errorf("LLM span: %+v", llm)
	}
	if _, err := s.Trace(context.Background(), "ff000000000000000000000000000007"); err == nil {
		t.Error("a missing trace gave no error")
	}
}

// TestReportOfStore checks that a report of the store equals the report
// of the files it was ingested from.
func TestReportOfStore(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gen.jsonl")
	writeGen(t, p, 0, 3000)
	s := openTemp(t)
	ingest(t, s, p)
	ingest(t, s, p) // twice: no change
	sp, err := s.Spans(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, want := report.Summarize(sp), report.Summarize(report.Read([]string{p}, nil))
	// Sums may differ in the last bits: the spans are added in another order.
	if !sameStats(got.Totals.Stats, want.Totals.Stats) || got.Totals.Traces != want.Totals.Traces ||
		got.Totals.LLMCalls != want.Totals.LLMCalls {
		t.Errorf("totals of the store:\n%+v\nof the file:\n%+v", got.Totals, want.Totals)
	}
	if len(got.Functions) != len(want.Functions) || got.Functions[0].Name != want.Functions[0].Name ||
		!sameStats(got.Functions[0].Stats, want.Functions[0].Stats) {
		t.Errorf("functions differ: %+v vs %+v", got.Functions[:1], want.Functions[:1])
	}
	if len(got.Tests) != 20 || len(got.Sessions) != 10 {
		t.Errorf("%d tests, %d sessions; want 20, 10", len(got.Tests), len(got.Sessions))
	}
	x, _ := ParseFilter("session=s1")
	sp, err = s.Spans(context.Background(), []Filter{x})
	if err != nil || sp.Len() != 300 {
		t.Errorf("filtered spans: %d (%v), want 300", sp.Len(), err)
	}
}

// TestOTLPFile ingests an OTLP/JSON file (the Collector's file exporter's
// lines) and checks the tracegen.* attributes became the span's fields.
func TestOTLPFile(t *testing.T) {
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"spans":[` +
		`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"root","kind":1,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",` +
		`"attributes":[{"key":"tracegen.impact.energy_kwh","value":{"doubleValue":0.001}},{"key":"tracegen.span.type","value":{"stringValue":"agent"}},` +
		`{"key":"tracegen.tags","value":{"arrayValue":{"values":[{"stringValue":"prod"}]}}},{"key":"tracegen.input.goal","value":{"stringValue":"plan"}}],"status":{}},` +
		`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"chat gpt","kind":"SPAN_KIND_CLIENT",` +
		`"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712660500000000,"attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},` +
		`{"key":"gen_ai.request.model","value":{"stringValue":"gpt"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}}],` +
		`"events":[{"name":"retry","timeUnixNano":"1544712660100000000"}],"status":{"code":2,"message":"boom"}}]}]}]}` + "\n"
	p := filepath.Join(t.TempDir(), "collector.json")
	os.WriteFile(p, []byte(body), 0o666)
	s := openTemp(t)
	res := ingest(t, s, p)
	if res.Added != 2 || len(res.Problems) != 0 || res.Inputs[0].Format != "otlp-json" {
		t.Fatalf("ingest: %+v", res)
	}
	tr, err := s.Trace(context.Background(), "5b8efff798038103d269b633813fc60c")
	if err != nil {
		t.Fatal(err)
	}
	root, chat := tr.Spans[0], tr.Spans[1]
	if root.Type != "agent" || len(root.Tags) != 1 || root.Tags[0] != "prod" || string(root.Input) != `{"goal":"plan"}` ||
		root.Impact.EnergyKWh != 0.001 || root.Kind != "internal" {
		t.Errorf("root: %+v", root)
	}
	if chat.Status != "error" || chat.StatusMessage != "boom" || chat.Kind != "client" || chat.Model != "gpt" ||
		chat.InputTokens != 12 || !strings.Contains(string(chat.Events), `"retry"`) || chat.Depth != 1 {
		t.Errorf("chat: %+v", chat)
	}
	for _, f := range []string{"tag=prod", "type=agent", "status=error", "model=gpt"} {
		x, _ := ParseFilter(f)
		if l, _ := s.Traces(context.Background(), Query{Filters: []Filter{x}}); l.Total != 1 {
			t.Errorf("%s: %d traces, want 1", f, l.Total)
		}
	}
}

// protoRequest builds an ExportTraceServiceRequest in protobuf: field 1,
// repeated ResourceSpans (what the otlp exporter sends).
func protoRequest(t *testing.T, rs ...*tracepb.ResourceSpans) []byte {
	var b []byte
	for _, r := range rs {
		m, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// TestReceiver posts OTLP/HTTP requests to a real HTTP server running the
// receiver: protobuf and JSON are stored, a repeat adds nothing, bad
// requests get the status codes OTLP asks for.
func TestReceiver(t *testing.T) {
	s := openTemp(t)
	srv := httptest.NewServer(NewReceiver(s))
	defer srv.Close()
	pb := protoRequest(t, &tracepb.ResourceSpans{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "proto-svc")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{
			TraceId: bytes.Repeat([]byte{0xab}, 16), SpanId: bytes.Repeat([]byte{0xcd}, 8), Name: "handle",
			Kind: tracepb.Span_SPAN_KIND_SERVER, StartTimeUnixNano: 1e18, EndTimeUnixNano: 1e18 + 2e6,
			Attributes: []*commonpb.KeyValue{str("tracegen.span.type", "tool"), str("session.id", "sess")},
			Status:     &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "bad"},
		}}}},
	})
	js := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"json-root","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`
	tests := []struct {
		name, ctype, body string
		code              int
		respType          string
		traces            int64
	}{
		{"protobuf", "application/x-protobuf", string(pb), 200, "application/x-protobuf", 1},
		{"protobuf again", "application/x-protobuf", string(pb), 200, "application/x-protobuf", 1},
		{"json", "application/json; charset=utf-8", js, 200, "application/json", 2},
		{"bad json", "application/json", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`, 400, "application/json", 2},
		{"bad protobuf", "application/x-protobuf", "\x0a\xff", 400, "application/x-protobuf", 2},
		{"text", "text/plain", "hello", 415, "", 2},
	}
	for _, tt := range tests {
		resp, err := http.Post(srv.URL+TracesPath, tt.ctype, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code || (tt.respType != "" && resp.Header.Get("Content-Type") != tt.respType) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, resp.Header.Get("Content-Type"), tt.code, tt.respType)
		}
		if n, _, _ := s.Counts(context.Background()); n != tt.traces {
			t.Errorf("%s: store holds %d traces, want %d", tt.name, n, tt.traces)
		}
	}
	tr, err := s.Trace(context.Background(), strings.Repeat("ab", 16))
	if err != nil {
		t.Fatal(err)
	}
	sp := tr.Spans[0]
	if sp.Name != "handle" || sp.Type != "tool" || sp.Kind != "server" || sp.Status != "error" || sp.DurationMS != 2 ||
		!strings.Contains(string(sp.Resource), `"proto-svc"`) || tr.Summary.Session != "sess" {
		t.Errorf("span from protobuf: %+v", sp)
	}
	if req, spans, added := NewReceiver(s).Counts(); req != 0 || spans != 0 || added != 0 {
		t.Errorf("a new receiver counts %d, %d, %d", req, spans, added)
	}
}

// sameStats compares counts exactly and sums to 1e-9 relative.
func sameStats(a, b report.Stats) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) }
	return a.Spans == b.Spans && a.Errors == b.Errors && a.InputTokens == b.InputTokens && a.OutputTokens == b.OutputTokens &&
		near(a.WallMS, b.WallMS) && near(a.EnergyKWh, b.EnergyKWh) && near(a.CO2eG, b.CO2eG) && near(a.WaterL, b.WaterL)
}

// TestSchemaVersion: a store written by another schema version is refused
// with a message that says what to do, not read wrongly.
func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE meta SET value = '1' WHERE key = 'schema'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "schema version 1, this tracegen reads version "+schemaVersion) ||
		!strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a version 1 store: %v", err)
	}
}

// TestBodyCompressed: a trace's lines are stored compressed (what keeps
// ingest fast) and read back byte for byte.
func TestBodyCompressed(t *testing.T) {
	s := openTemp(t)
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	writeGen(t, path, 0, 100)
	ingest(t, s, path)
	var raw, stored int64
	if err := s.db.QueryRow(`SELECT sum(length(body)) FROM trace_bodies`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = fi.Size()
	if stored*2 > raw {
		t.Errorf("stored bodies take %d bytes for %d bytes of JSONL: not compressed", stored, raw)
	}
	want, _ := os.ReadFile(path)
	var got []byte
	rows, err := s.db.Query(`SELECT body FROM trace_bodies ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		body, err := unpackBody(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, body...)
	}
	if len(got) != len(want) {
		t.Errorf("bodies hold %d bytes of lines, the file %d", len(got), len(want))
	}
}
