package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// sp describes a span for the tests; it becomes a record.Record and is
// written with the jsonl exporter's own encoder.
type sp struct {
	id, parent byte // span ids (0 = none); all spans share one trace unless trace is set
	trace      byte
	name       string
	ms         int     // duration
	joules     float64 // cpu energy
	llmJ       float64 // LLM estimate energy
	err        bool
	attrs      []record.Attr
	inherited  []record.Attr
	llm        bool
}

func (s sp) record() *record.Record {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r := &record.Record{Name: s.name, Start: start, End: start.Add(time.Duration(s.ms) * time.Millisecond),
		Attrs: s.attrs, Inherited: s.inherited}
	r.TraceID[15] = 1 + s.trace
	r.SpanID[7] = s.id
	r.ParentSpanID[7] = s.parent
	if s.err {
		r.Status = record.StatusError
	}
	if s.llm {
		r.Type = record.TypeLLM
	}
	kwh := (s.joules + s.llmJ) / 3.6e6
	r.Impact = record.Impact{EnergyKWh: kwh, CO2eG: s.joules / 3.6e6 * 500, WaterL: s.joules / 3.6e6 * 2, EnergySource: "cpu-model"}
	r.Impact.Joules[record.EnergyCPU] = s.joules
	r.Impact.Joules[record.EnergyLLM] = s.llmJ
	if s.joules == 0 && s.llmJ == 0 {
		r.Impact = record.Impact{}
	}
	return r
}

// writeJSONL writes the spans to a file and returns its path.
func writeJSONL(t *testing.T, spans ...sp) string {
	t.Helper()
	var b []byte
	for _, s := range spans {
		b = append(s.record().AppendJSON(b), '\n')
	}
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	if err := os.WriteFile(path, b, 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func summarize(t *testing.T, spans ...sp) *Report {
	t.Helper()
	s := Read([]string{writeJSONL(t, spans...)}, nil)
	if len(s.Problems) > 0 {
		t.Fatalf("problems: %v", s.Problems)
	}
	return Summarize(s)
}

func row(rows []Row, name string) *Row {
	for i := range rows {
		if rows[i].Name == name {
			return &rows[i]
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestSummarize(t *testing.T) {
	tok := func(in, out int) []record.Attr {
		return []record.Attr{record.String(KeyOperation, "chat"), record.String(KeyRequestModel, "m-req"),
			record.Int(KeyInputTokens, in), record.Int(KeyOutputTokens, out)}
	}
	test := func(name string) []record.Attr { return []record.Attr{record.String(KeyTest, name)} }
	tests := []struct {
		name  string
		spans []sp
		check func(t *testing.T, r *Report)
	}{
		{"a parent's energy covers its children: counted once", []sp{
			{id: 1, name: "root", ms: 100, joules: 10},
			{id: 2, parent: 1, name: "child", ms: 60, joules: 6},
			{id: 3, parent: 2, name: "leaf", ms: 20, joules: 2},
		}, func(t *testing.T, r *Report) {
			if !near(r.Totals.EnergyJ, 10) || r.Totals.WallMS != 100 || r.Totals.Spans != 3 || r.Totals.Traces != 1 {
				t.Errorf("totals = %+v, want 10 J, 100 ms, 3 spans, 1 trace", r.Totals)
			}
			if c := row(r.Functions, "child"); c == nil || !near(c.EnergyJ, 6) || c.WallMS != 60 {
				t.Errorf("child = %+v, want 6 J, 60 ms", c)
			}
			if r.Functions[0].Name != "root" {
				t.Errorf("first function %q, want root (most energy)", r.Functions[0].Name)
			}
		}},
		{"a recursive function is counted at its outermost call", []sp{
			{id: 1, name: "f", ms: 100, joules: 10},
			{id: 2, parent: 1, name: "f", ms: 50, joules: 6},
			{id: 3, parent: 2, name: "g", ms: 10, joules: 1},
		}, func(t *testing.T, r *Report) {
			if f := row(r.Functions, "f"); f == nil || !near(f.EnergyJ, 10) || f.Spans != 2 || f.WallMS != 100 {
				t.Errorf("f = %+v, want 2 calls, 10 J, 100 ms", f)
			}
		}},
		{"tokens and errors are summed over every span; models group LLM calls", []sp{
			{id: 1, name: "agent", ms: 100, joules: 5, attrs: []record.Attr{record.String(KeyRequestModel, "agent-model")}},
			{id: 2, parent: 1, name: "chat", ms: 40, llmJ: 3, llm: true, attrs: tok(100, 20)},
			{id: 3, parent: 1, name: "chat", ms: 40, llmJ: 1, llm: true, err: true,
				attrs: append(tok(50, 10), record.String(KeyResponseModel, "m-resp"))},
		}, func(t *testing.T, r *Report) {
			if r.Totals.InputTokens != 150 || r.Totals.OutputTokens != 30 || r.Totals.Errors != 1 || r.Totals.LLMCalls != 2 {
				t.Errorf("totals = %+v", r.Totals)
			}
			if len(r.Models) != 2 || row(r.Models, "agent-model") != nil {
				t.Fatalf("models = %+v, want m-req and m-resp (the agent's model is no call)", r.Models)
			}
			if m := row(r.Models, "m-req"); m.Tokens() != 120 || !near(m.EnergyJ, 3) {
				t.Errorf("m-req = %+v", m)
			}
			if m := row(r.Models, "m-resp"); m.Errors != 1 || m.Tokens() != 60 {
				t.Errorf("m-resp = %+v", m)
			}
		}},
		{"tests, sessions, projects and applications from inherited attributes", []sp{
			{id: 1, name: "TestA", ms: 30, joules: 3, inherited: append(test("TestA"), record.String(KeySession, "s1"),
				record.String(KeyProject, "p"), record.String(KeyApplication, "app"))},
			{id: 2, parent: 1, name: "work", ms: 20, joules: 2, inherited: append(test("TestA"), record.String(KeySession, "s1"))},
			{id: 3, trace: 1, name: "TestB", ms: 10, joules: 1, inherited: test("TestB")},
			{id: 4, trace: 1, parent: 3, name: "TestB/sub", ms: 5, joules: 1, inherited: test("TestB/sub")},
		}, func(t *testing.T, r *Report) {
			if a := row(r.Tests, "TestA"); a == nil || !near(a.EnergyJ, 3) || a.Spans != 2 || a.WallMS != 30 {
				t.Errorf("TestA = %+v, want 2 spans, 3 J, 30 ms", a)
			}
			if sub := row(r.Tests, "TestB/sub"); sub == nil || !near(sub.EnergyJ, 1) {
				t.Errorf("TestB/sub = %+v", sub)
			}
			if len(r.Sessions) != 1 || !near(r.Sessions[0].EnergyJ, 3) || len(r.Projects) != 1 || len(r.Applications) != 1 {
				t.Errorf("sessions %+v projects %+v applications %+v", r.Sessions, r.Projects, r.Applications)
			}
			if r.Totals.Traces != 2 || !near(r.Totals.EnergyJ, 4) {
				t.Errorf("totals %+v, want 2 traces, 4 J", r.Totals)
			}
		}},
		{"a span whose parent is elsewhere is a root", []sp{
			{id: 2, parent: 9, name: "remote-child", ms: 10, joules: 2},
			{id: 3, name: "local", ms: 10, joules: 1},
		}, func(t *testing.T, r *Report) {
			if !near(r.Totals.EnergyJ, 3) || r.Totals.WallMS != 20 {
				t.Errorf("totals %+v, want 3 J, 20 ms", r.Totals)
			}
		}},
		{"provenance: sources, factor, unmeasured, LLM method", []sp{
			{id: 1, name: "root", ms: 10, joules: 7.2},
			{id: 2, parent: 1, name: "quiet", ms: 1},
			{id: 3, parent: 1, name: "chat", llm: true, llmJ: 1, ms: 5, attrs: append(tok(1, 1),
				record.String(KeyFootprintMethod, "ecologits 0.6"), record.String(KeyFootprintModel, "m-req"))},
			{id: 4, parent: 1, name: "chat", llm: true, ms: 5, attrs: tok(0, 0)},
		}, func(t *testing.T, r *Report) {
			p := r.Provenance
			if p.CO2eFactor == nil || !near(p.CO2eFactor.Min, 500) || !near(p.CO2eFactor.Max, 500) || p.CO2eFactor.Spans != 1 {
				t.Errorf("co2e factor %+v, want 500 g/kWh on the one span with local energy only", p.CO2eFactor)
			}
			if p.Unmeasured != 2 || p.LLMWithoutEstimate != 1 || len(p.LLMMethods) != 1 || p.LLMMethods[0] != (Count{"ecologits 0.6", 1}) {
				t.Errorf("provenance %+v", p)
			}
			if !near(p.JoulesBySource["cpu"], 7.2) || p.JoulesBySource["llm"] != 0 {
				t.Errorf("joules by source %v, want the root's cpu only", p.JoulesBySource)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, summarize(t, tt.spans...)) })
	}
}

func TestReadProblems(t *testing.T) {
	good := sp{id: 1, name: `quote " and \ and é`, ms: 5, joules: 1}
	line := string(good.record().AppendJSON(nil))
	snap := good.record()
	snap.Snapshot = true
	snapLine := string(snap.AppendJSON(nil))
	tests := []struct {
		name  string
		input string
		spans int
		want  []string // problems, in order
	}{
		{"clean", line + "\n\n" + line + "\r\n", 2, nil},
		{"garbage and the rest read", line + "\nnot json\n" + line + "\n", 2, []string{":2: offset 0: unexpected 'n'"}},
		{"truncated", line + "\n" + line[:len(line)/2] + "\n", 1, []string{":2: "}},
		{"no final newline", line, 1, nil},
		{"snapshots skipped", snapLine + "\n" + line + "\n", 1, nil},
		{"not a span", `{"hello":"world"}` + "\n" + line, 1, []string{":1: not a span: no trace_id field"}},
		{"short id", strings.Replace(line, `"span_id":"0000000000000001"`, `"span_id":"01"`, 1), 0, []string{":1: offset"}},
		{"trailing data", line + " x\n", 0, []string{":1: offset"}},
		{"bad escape", strings.Replace(line, `\\`, `\q`, 1), 0, []string{":1: offset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.jsonl")
			if err := os.WriteFile(path, []byte(tt.input), 0o666); err != nil {
				t.Fatal(err)
			}
			s := Read([]string{path}, nil)
			if s.Len() != tt.spans {
				t.Errorf("read %d spans, want %d", s.Len(), tt.spans)
			}
			if len(s.Problems) != len(tt.want) {
				t.Fatalf("problems %v, want %d", s.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				if got := s.Problems[i].String(); !strings.HasPrefix(got, path+w) {
					t.Errorf("problem %q, want prefix %q", got, path+w)
				}
			}
			if tt.spans > 0 && len(tt.want) == 0 {
				if name := Summarize(s).Functions[0].Name; name != good.name {
					t.Errorf("name %q, want %q", name, good.name)
				}
			}
		})
	}
	s := Read([]string{filepath.Join(t.TempDir(), "missing.jsonl"), StdinName}, strings.NewReader(line+"\n"))
	if s.Len() != 1 || len(s.Problems) != 1 || !strings.HasSuffix(s.Problems[0].String(), "missing.jsonl: no such file or directory") {
		t.Errorf("missing file and stdin: %d spans, problems %v", s.Len(), s.Problems)
	}
	if s.Inputs[1].File != "stdin" || s.Inputs[1].Spans != 1 {
		t.Errorf("inputs %+v", s.Inputs)
	}
}

// TestReadLongLines crosses block boundaries with lines longer than a block.
func TestReadLongLines(t *testing.T) {
	big := sp{id: 1, name: strings.Repeat("n", blockSize+100), ms: 1}
	var b []byte
	for i := range 5 {
		s := big
		s.id = byte(i + 1)
		b = append(s.record().AppendJSON(b), '\n')
	}
	b = append(b, "oops\n"...)
	s := Read([]string{StdinName}, bytes.NewReader(b))
	if s.Len() != 5 || len(s.Problems) != 1 || s.Problems[0].Line != 6 {
		t.Errorf("%d spans, problems %v; want 5 and one at line 6", s.Len(), s.Problems)
	}
}

const otlpLine = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},` +
	`"scopeSpans":[{"scope":{"name":"tracegen"},"spans":[` +
	`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"root","kind":1,` +
	`"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",` +
	`"attributes":[{"key":"tracegen.impact.energy_kwh","value":{"doubleValue":0.001}},` +
	`{"key":"tracegen.impact.co2e_g","value":{"doubleValue":0.5}},{"key":"tracegen.impact.energy_source","value":{"stringValue":"rapl"}},` +
	`{"key":"tracegen.project_id","value":{"stringValue":"proj"}}],"status":{}},` +
	`{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174","name":"chat gpt",` +
	`"kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712660500000000,` +
	`"attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt"}},` +
	`{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":3}}],` +
	`"status":{"code":2,"message":"boom"}}]}]}]}`

func TestOTLP(t *testing.T) {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(otlpLine), "", "  "); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, input, format string
	}{
		{"file exporter lines", otlpLine + "\n", "otlp-json"},
		{"one request, pretty", pretty.String(), "otlp-json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Read([]string{StdinName}, strings.NewReader(tt.input))
			if len(s.Problems) > 0 || s.Inputs[0].Format != tt.format {
				t.Fatalf("problems %v, inputs %+v", s.Problems, s.Inputs)
			}
			r := Summarize(s)
			if r.Totals.Spans != 2 || r.Totals.WallMS != 1000 || r.Totals.Errors != 1 || r.Totals.Tokens() != 15 || !near(r.Totals.EnergyKWh, 0.001) {
				t.Errorf("totals %+v", r.Totals)
			}
			if len(r.Models) != 1 || r.Models[0].Name != "gpt" || r.Models[0].WallMS != 500 {
				t.Errorf("models %+v", r.Models)
			}
			if len(r.Projects) != 1 || r.Projects[0].Name != "proj" || r.Provenance.EnergySources[0].Value != "rapl" {
				t.Errorf("projects %+v, sources %+v", r.Projects, r.Provenance.EnergySources)
			}
		})
	}
	bad := strings.Replace(otlpLine, `"spanId":"eee19b7ec3c1b174"`, `"spanId":"zz"`, 1)
	s := Read([]string{StdinName}, strings.NewReader(otlpLine+"\n"+bad+"\n"))
	if s.Len() != 2 || len(s.Problems) != 1 || s.Problems[0].Line != 2 || !strings.Contains(s.Problems[0].Message, "spanId") {
		t.Errorf("%d spans, problems %v", s.Len(), s.Problems)
	}
}

func TestSpread(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{5}, Spread{5, 5, 5, 1}},
		{[]float64{3, 1, 2}, Spread{2, 1, 3, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4, 4}},
		{[]float64{7, 7, 100, 7, 6}, Spread{7, 6, 100, 5}},
	} {
		if got := spreadOf(tt.in); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	run := func(fJ float64, calls int64, extra ...Row) *Report {
		r := &Report{Functions: append([]Row{{Name: "f", Stats: Stats{Spans: calls, EnergyKWh: fJ / 3.6e6}}}, extra...)}
		r.Totals.Stats = Stats{Spans: calls, EnergyKWh: fJ / 3.6e6}
		return r
	}
	tenPct := Thresholds{"energy_kwh": 0.10}
	tests := []struct {
		name       string
		base, head []*Report
		th         Thresholds
		noisy      bool
		beyond     bool
		regression []string // "table/name/measure"
	}{
		{"one run each: the change shows, marked single run, and gates", []*Report{run(10, 1)}, []*Report{run(12, 1)}, tenPct,
			true, false, []string{"totals//energy_kwh", "functions/f/energy_kwh"}},
		{"one run each, under the threshold", []*Report{run(10, 1)}, []*Report{run(10.5, 1)}, tenPct, true, false, nil},
		{"several runs, within the spread: no regression", []*Report{run(8, 1), run(10, 1), run(14, 1)},
			[]*Report{run(12, 1), run(13, 1), run(9, 1)}, tenPct, false, false, nil},
		{"several runs, beyond the spread", []*Report{run(9, 1), run(10, 1), run(11, 1)},
			[]*Report{run(13, 1), run(12, 1), run(14, 1)}, tenPct, false, true, []string{"totals//energy_kwh", "functions/f/energy_kwh"}},
		{"beyond the spread but under the threshold", []*Report{run(10, 1), run(10.1, 1)},
			[]*Report{run(10.5, 1), run(10.6, 1)}, tenPct, false, true, nil},
		{"no threshold: nothing gates", []*Report{run(10, 1)}, []*Report{run(20, 1)}, nil, true, false, nil},
		{"a row only in head never gates; calls gate with 0%", []*Report{run(10, 1)},
			[]*Report{run(10, 2, Row{Name: "new", Stats: Stats{Spans: 5, EnergyKWh: 1}})}, Thresholds{"calls": 0}, true, false,
			[]string{"totals//calls", "functions/f/calls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.base, tt.head, tt.th)
			c := d.Totals.Changes["energy_kwh"]
			if c.Noisy != tt.noisy || c.Beyond != tt.beyond {
				t.Errorf("totals energy: noisy %v beyond %v, want %v %v (%+v)", c.Noisy, c.Beyond, tt.noisy, tt.beyond, c)
			}
			var got []string
			for _, r := range d.Regressions {
				name := r.Name
				if r.Table == "totals" {
					name = ""
				}
				got = append(got, r.Table+"/"+name+"/"+r.Measure)
			}
			if strings.Join(got, " ") != strings.Join(tt.regression, " ") {
				t.Errorf("regressions %v, want %v", got, tt.regression)
			}
			if d.Regressed() != (len(tt.regression) > 0) {
				t.Errorf("Regressed() = %v", d.Regressed())
			}
		})
	}
}

func TestParseBudgets(t *testing.T) {
	tests := []struct {
		in      string
		want    []Budget
		wantErr string
	}{
		{"co2e_g=5,energy_kwh=0.01,tokens=100000,errors=0", []Budget{{"co2e_g", 5}, {"energy_kwh", 0.01}, {"tokens", 100000}, {"errors", 0}}, ""},
		{" water_l = 1.5 , ", []Budget{{"water_l", 1.5}}, ""},
		{"co2e=5", nil, `unknown key "co2e"`},
		{"tokens", nil, "want key=value"},
		{"tokens=-1", nil, "not a non-negative number"},
		{"tokens=lots", nil, "not a non-negative number"},
		{"errors=0,errors=1", nil, "given twice"},
		{",", nil, "no key=value"},
	}
	for _, tt := range tests {
		got, err := ParseBudgets(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseBudgets(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseBudgets(%q) = %v, %v", tt.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseBudgets(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestCheck(t *testing.T) {
	tot := &Totals{Stats: Stats{Errors: 1, InputTokens: 60, OutputTokens: 40, CO2eG: 5, WallMS: 2500}}
	budgets, err := ParseBudgets("co2e_g=5,tokens=99,errors=0,wall_s=3")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range Check(tot, budgets) {
		got = append(got, v.String())
	}
	want := []string{
		"within budget: co2e_g = 5, budget 5",
		"over budget: tokens = 100, budget 99",
		"over budget: errors = 1, budget 0",
		"within budget: wall_s = 2.5, budget 3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("verdicts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseThresholds(t *testing.T) {
	tests := []struct {
		in      string
		want    Thresholds
		wantErr bool
	}{
		{"10%", Thresholds{"calls": 0.1, "wall_ms": 0.1, "energy_kwh": 0.1, "co2e_g": 0.1, "tokens": 0.1}, false},
		{"co2e_g=5%,tokens=0.2", Thresholds{"co2e_g": 0.05, "tokens": 0.2}, false},
		{"energy=5%", nil, true},
		{"-5%", nil, true},
		{"ten", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseThresholds(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseThresholds(%q) error %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseThresholds(%q) = %v, want %v", tt.in, got, tt.want)
		}
		for k, v := range tt.want {
			if !near(got[k], v) {
				t.Errorf("ParseThresholds(%q)[%s] = %v, want %v", tt.in, k, got[k], v)
			}
		}
	}
}

func TestWriteFormats(t *testing.T) {
	r := summarize(t, sp{id: 1, name: "root_fn", ms: 10, joules: 1},
		sp{id: 2, parent: 1, name: "a|b", ms: 5, joules: 0.5, inherited: []record.Attr{record.String(KeyTest, "TestX")}})
	r.Budget = Check(&r.Totals, []Budget{{"co2e_g", 0}})
	for _, f := range Formats {
		t.Run(f, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteReport(&b, r, Options{Format: f, Top: 10}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			switch f {
			case "text":
				if !strings.Contains(out, "  root_fn ") || !strings.Contains(out, "TestX") || !strings.Contains(out, "OVER") {
					t.Errorf("text:\n%s", out)
				}
			case "markdown":
				if !strings.Contains(out, `| root\_fn |`) || !strings.Contains(out, `| a\|b |`) || !strings.Contains(out, "|---|---:|") {
					t.Errorf("markdown:\n%s", out)
				}
			case "json":
				var back Report
				if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Schema != Schema || len(back.Tests) != 1 || len(back.Budget) != 1 {
					t.Errorf("json: %v %+v", err, back)
				}
			case "html":
				if !strings.HasPrefix(out, "<!DOCTYPE html>") || strings.Contains(out, "http") || strings.Contains(out, "<script") ||
					!strings.Contains(out, "<td>a|b</td>") {
					t.Errorf("html (must be self-contained):\n%s", out)
				}
			}
		})
	}
	if err := WriteReport(&bytes.Buffer{}, r, Options{Format: "yaml"}); err == nil {
		t.Error("format yaml: no error")
	}
}
