package metrics

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// span builds a record whose impact is j joules, 2j grams and 3j litres.
func span(name string, id, parent byte, j float64, attrs ...record.Attr) *record.Record {
	r := &record.Record{Name: name, SpanID: record.SpanID{id}, Start: t0, End: t0.Add(time.Duration(id) * time.Millisecond), Attrs: attrs}
	if parent != 0 {
		r.ParentSpanID = record.SpanID{parent}
	}
	r.Impact.Joules[record.EnergyCPU] = j
	r.Impact.EnergyKWh = j / 3.6e6
	r.Impact.CO2eG, r.Impact.WaterL = 2*j, 3*j
	return r
}

func TestOwnImpact(t *testing.T) {
	remote := span("remote-child", 9, 8, 4)
	remote.RemoteParent = true
	tests := []struct {
		name  string
		spans []*record.Record // in end order
		want  []float64        // own joules, per span
	}{
		{"root alone", []*record.Record{span("a", 1, 0, 5)}, []float64{5}},
		{"child before parent", []*record.Record{span("c", 2, 1, 3), span("p", 1, 0, 5)}, []float64{3, 2}},
		{"two children and a grandchild", []*record.Record{
			span("g", 4, 2, 1), span("c1", 2, 1, 3), span("c2", 3, 1, 1.5), span("p", 1, 0, 10),
		}, []float64{1, 2, 1.5, 5.5}},
		{"child ended after its parent", []*record.Record{span("p", 1, 0, 5), span("late", 2, 1, 3)}, []float64{5, 3}},
		{"remote parent is not subtracted", []*record.Record{remote, span("remote-parent-same-id", 8, 0, 6)}, []float64{4, 6}},
		{"rounding below zero clamps", []*record.Record{span("c", 2, 1, 3), span("p", 1, 0, 3-1e-12)}, []float64{3, 0}},
		{"no energy", []*record.Record{span("c", 2, 1, 0), span("p", 1, 0, 0)}, []float64{0, 0}},
	}
	for _, tc := range tests {
		a := New(Config{Exporter: "test"})
		var total float64
		for i, r := range tc.spans {
			p := a.Add(r)
			if math.Abs(p.EnergyJ-tc.want[i]) > 1e-9 || math.Abs(p.CO2eG-2*tc.want[i]) > 1e-9 || math.Abs(p.WaterL-3*tc.want[i]) > 1e-9 {
				t.Errorf("%s: span %s: own %g J %g g %g L, want %g J %g g %g L", tc.name, r.Name,
					p.EnergyJ, p.CO2eG, p.WaterL, tc.want[i], 2*tc.want[i], 3*tc.want[i])
			}
			total += p.EnergyJ
		}
		if st, _ := a.Report().Stat(Energy.Name); math.Abs(st.Total-total) > 1e-9 {
			t.Errorf("%s: report total %g, want %g", tc.name, st.Total, total)
		}
		if n := len(a.pending) + len(a.older); tc.name != "child ended after its parent" && n != 0 {
			t.Errorf("%s: %d parents still pending", tc.name, n)
		}
	}
}

// TestPendingBounded: children whose parents never end (or ended first)
// leave bounded state, and recent ones are still subtracted.
func TestPendingBounded(t *testing.T) {
	a := New(Config{})
	for i := 0; i < 5*maxPendingParents; i++ {
		r := span("orphan", 1, 0, 1)
		r.SpanID = record.SpanID{1, byte(i), byte(i >> 8), byte(i >> 16)}
		r.ParentSpanID = record.SpanID{2, byte(i), byte(i >> 8), byte(i >> 16)}
		a.Add(r)
		if n := len(a.pending) + len(a.older); n > maxPendingParents {
			t.Fatalf("%d pending parents after %d orphans, bound %d", n, i+1, maxPendingParents)
		}
	}
	a.Add(span("c", 2, 1, 3))
	if p := a.Add(span("p", 1, 0, 5)); p.EnergyJ != 2 {
		t.Errorf("own energy of a recent parent %g, want 2", p.EnergyJ)
	}
}

func TestLabels(t *testing.T) {
	long := strings.Repeat("é", MaxLabelLen) // 2 bytes a rune
	tests := []struct {
		name string
		r    *record.Record
		want Labels
	}{
		{"untyped", &record.Record{Name: "work", Status: record.StatusOK}, Labels{"work", "", "ok", ""}},
		{"llm request model", &record.Record{Name: "chat", Type: record.TypeLLM, Status: record.StatusError,
			Attrs: []record.Attr{record.String(attrResponseModel, "gpt-4o-2024"), record.String(attrRequestModel, "gpt-4o")}},
			Labels{"chat", "llm", "error", "gpt-4o"}},
		{"response model only", &record.Record{Name: "chat", Attrs: []record.Attr{record.String(attrResponseModel, "m-2")}},
			Labels{"chat", "", "unset", "m-2"}},
		{"inherited model", &record.Record{Name: "tool", Type: record.TypeTool, Inherited: []record.Attr{record.String(attrRequestModel, "m")}},
			Labels{"tool", "tool", "unset", "m"}},
		{"non-string model", &record.Record{Name: "x", Attrs: []record.Attr{record.Int(attrRequestModel, 4)}}, Labels{"x", "", "unset", ""}},
		{"long name cut at a rune", &record.Record{Name: long}, Labels{long[:MaxLabelLen], "", "unset", ""}},
		{"long name cut inside a rune", &record.Record{Name: "a" + long}, Labels{("a" + long)[:MaxLabelLen-1], "", "unset", ""}},
		{"invalid UTF-8", &record.Record{Name: "a\xffb"}, Labels{"a\uFFFDb", "", "unset", ""}},
	}
	for _, tc := range tests {
		if got := New(Config{}).Add(tc.r).Labels; got != tc.want {
			t.Errorf("%s: labels %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSeriesCap(t *testing.T) {
	a := New(Config{MaxSeries: 3})
	var got []string
	for _, name := range []string{"a", "b", "a", "c", "d", "e", "b"} {
		got = append(got, a.Add(&record.Record{Name: name}).Labels.SpanName)
	}
	if s := strings.Join(got, ","); s != "a,b,a,c,other,other,b" {
		t.Errorf("span names %s", s)
	}
	if p := a.Add(&record.Record{Name: "f"}); p.Labels != Overflow {
		t.Errorf("overflow labels %q", p.Labels)
	}
	r := a.Report()
	if r.Series != 3 || r.Overflow != 3 {
		t.Errorf("report: %d series, %d overflowed; want 3 and 3", r.Series, r.Overflow)
	}
}

func TestTokensAndReport(t *testing.T) {
	a := New(Config{Exporter: "unit"})
	recs := []*record.Record{
		span("chat", 1, 0, 2, record.Int(attrInputTokens, 10), record.Int(attrOutputTokens, 4)),
		span("chat", 2, 0, 1, record.Int(attrInputTokens, 30), record.Float64(attrOutputTokens, 6)),
		span("work", 3, 0, 4),
	}
	recs[2].Inherited = []record.Attr{record.Int(attrInputTokens, 99)} // never inherited
	var in, out int64
	for _, r := range recs {
		p := a.Add(r)
		in += p.InputTokens
		out += p.OutputTokens
	}
	if in != 40 || out != 10 {
		t.Errorf("tokens %d in, %d out; want 40 and 10", in, out)
	}
	rep := a.Report()
	tests := []struct {
		metric                string
		count                 uint64
		total, avg, min, max_ float64
	}{
		{Spans.Name, 3, 3, 1, 1, 1},
		{Duration.Name, 3, 0.006, 0.002, 0.001, 0.003},
		{Energy.Name, 3, 7, 7.0 / 3, 1, 4},
		{CO2e.Name, 3, 14, 14.0 / 3, 2, 8},
		{Water.Name, 3, 21, 7, 3, 12},
		{Tokens.Name + `{direction="input"}`, 2, 40, 20, 10, 30},
		{Tokens.Name + `{direction="output"}`, 2, 10, 5, 4, 6},
	}
	if len(rep.Metrics) != len(tests) {
		t.Fatalf("%d report lines, want %d", len(rep.Metrics), len(tests))
	}
	for i, tc := range tests {
		s := rep.Metrics[i]
		if s.Metric != tc.metric || s.Count != tc.count || !near(s.Total, tc.total) || !near(s.Average(), tc.avg) ||
			!near(s.Min, tc.min) || !near(s.Max, tc.max_) {
			t.Errorf("line %d: %+v (average %g), want %+v", i, s, s.Average(), tc)
		}
	}
	var buf bytes.Buffer
	n, err := rep.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d bytes, %v; buffer has %d", n, err, buf.Len())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		"tracegen metrics report (unit): 2 series, 0 spans over the series cap",
		"metric unit count total average minimum maximum",
		"tracegen_spans_total spans 3 3 1 1 1",
		"tracegen_span_duration_seconds seconds 3 0.006 0.002 0.001 0.003",
		"tracegen_energy_joules_total joules 3 7 2.33333 1 4",
		"tracegen_co2e_grams_total grams 3 14 4.66667 2 8",
		"tracegen_water_litres_total litres 3 21 7 3 12",
		`tracegen_llm_tokens_total{direction="input"} tokens 2 40 20 10 30`,
		`tracegen_llm_tokens_total{direction="output"} tokens 2 10 5 4 6`,
	}
	if len(lines) != len(want) {
		t.Fatalf("report text has %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, l := range lines {
		if got := strings.Join(strings.Fields(l), " "); got != want[i] || strings.HasSuffix(l, " ") {
			t.Errorf("report line %d: %q, want the fields %q", i, l, want[i])
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		max, report string
		want        Config
		err         string
	}{
		{"", "", Config{Exporter: "x"}, ""},
		{"50", "stderr", Config{Exporter: "x", MaxSeries: 50, ReportTo: "stderr"}, ""},
		{"", "1", Config{Exporter: "x", ReportTo: "stderr"}, ""},
		{"", "off", Config{Exporter: "x"}, ""},
		{"", "/tmp/r.txt", Config{Exporter: "x", ReportTo: "/tmp/r.txt"}, ""},
		{"0", "", Config{}, `TRACEGEN_METRICS_MAX_SERIES="0"`},
		{"many", "", Config{}, `TRACEGEN_METRICS_MAX_SERIES="many"`},
	}
	for _, tc := range tests {
		t.Setenv("TRACEGEN_METRICS_MAX_SERIES", tc.max)
		t.Setenv("TRACEGEN_METRICS_REPORT", tc.report)
		got, err := ConfigFromEnv("x")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q/%q: error %v, want %s", tc.max, tc.report, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q/%q: %+v, %v; want %+v", tc.max, tc.report, got, err, tc.want)
		}
	}
}

func TestFinishAndReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.txt")
	a := New(Config{Exporter: "finish-test", ReportTo: path})
	a.Add(span("x", 1, 0, 1))
	for i := 0; i < 2; i++ { // appended, not overwritten
		if err := a.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "tracegen metrics report (finish-test)"); n != 2 {
		t.Errorf("%d reports in the file, want 2:\n%s", n, b)
	}
	bad := New(Config{ReportTo: filepath.Join(t.TempDir(), "missing", "r.txt")})
	if err := bad.Finish(); err == nil || !strings.HasPrefix(err.Error(), "metrics report: ") {
		t.Errorf("report to a missing directory: %v", err)
	}
	if err := New(Config{}).Finish(); err != nil {
		t.Errorf("no destination: %v", err)
	}
	for i := 0; i < maxRemembered; i++ {
		New(Config{Exporter: fmt.Sprint("r", i)})
	}
	reps := Reports()
	if len(reps) != maxRemembered || reps[0].Exporter != "r0" || reps[maxRemembered-1].Exporter != fmt.Sprint("r", maxRemembered-1) {
		t.Errorf("Reports() kept %d, first %q", len(reps), reps[0].Exporter)
	}
}
