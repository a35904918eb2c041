package prometheus

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rec builds a record of d milliseconds whose impact is j joules, 2j
// grams and 3j litres.
func rec(name string, id, parent byte, ms, j float64, attrs ...record.Attr) *record.Record {
	r := &record.Record{Name: name, SpanID: record.SpanID{id}, Start: t0, End: t0.Add(time.Duration(ms * float64(time.Millisecond))), Attrs: attrs}
	if parent != 0 {
		r.ParentSpanID = record.SpanID{parent}
	}
	r.Impact.Joules[record.EnergyCPU] = j
	r.Impact.EnergyKWh, r.Impact.CO2eG, r.Impact.WaterL = j/3.6e6, 2*j, 3*j
	return r
}

// scrape reads addr's /metrics and parses it.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// series returns the metric of fam whose labels include want
// ("name=value,..."), or nil.
func series(fam *dto.MetricFamily, want string) *dto.Metric {
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range strings.Split(want, ",") {
			k, v, _ := strings.Cut(kv, "=")
			match = match && labels[k] == v
		}
		if match {
			return m
		}
	}
	return nil
}

func TestScrape(t *testing.T) {
	e := New(Options{Addr: "127.0.0.1:0", Metrics: metrics.Config{MaxSeries: 4}})
	if e.Addr() != "" {
		t.Fatal("listening before the first export")
	}
	chat := rec("chat", 3, 1, 2, 1.5, record.String("gen_ai.request.model", "m1"),
		record.Int("gen_ai.usage.input_tokens", 100), record.Int("gen_ai.usage.output_tokens", 20))
	chat.Type, chat.Status = record.TypeLLM, record.StatusOK
	fail := rec("step", 4, 1, 1, 0.25)
	fail.Status = record.StatusError
	batch := []*record.Record{
		rec("step", 2, 1, 3, 1), chat, fail, rec("handle", 1, 0, 10, 4),
		rec("n5", 5, 0, 1, 1), rec("n6", 6, 0, 1, 1), // beyond the cap of 4 series
	}
	if err := e.Export(context.Background(), batch[:3]); err != nil {
		t.Fatal(err)
	}
	if err := e.Export(context.Background(), batch[3:]); err != nil {
		t.Fatal(err)
	}
	addr := e.Addr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("Addr() = %q after export", addr)
	}
	fams := scrape(t, addr)
	tests := []struct {
		metric, labels string
		want           float64
	}{
		{metrics.Spans.Name, "span_name=handle,span_type=,status=unset,model=", 1},
		{metrics.Spans.Name, "span_name=step,status=unset", 1},
		{metrics.Spans.Name, "span_name=step,status=error", 1},
		{metrics.Spans.Name, "span_name=chat,span_type=llm,status=ok,model=m1", 1},
		{metrics.Spans.Name, "span_name=other,span_type=other,status=other,model=other", 2},
		{metrics.Energy.Name, "span_name=handle", 4 - 1 - 1.5 - 0.25},
		{metrics.Energy.Name, "span_name=chat", 1.5},
		{metrics.Energy.Name, "span_name=step,status=error", 0.25},
		{metrics.CO2e.Name, "span_name=handle", 2 * 1.25},
		{metrics.Water.Name, "span_name=chat", 4.5},
		{metrics.Tokens.Name, "span_name=chat,direction=input", 100},
		{metrics.Tokens.Name, "span_name=chat,direction=output", 20},
	}
	for _, tc := range tests {
		m := series(fams[tc.metric], tc.labels)
		if m == nil || math.Abs(m.GetCounter().GetValue()-tc.want) > 1e-12 {
			t.Errorf("%s{%s} = %v, want %g", tc.metric, tc.labels, m, tc.want)
		}
	}
	if n := len(fams[metrics.Tokens.Name].GetMetric()); n != 2 {
		t.Errorf("%d token series, want 2 (spans without tokens have none)", n)
	}
	if n := len(fams[metrics.Spans.Name].GetMetric()); n != 5 {
		t.Errorf("%d span series, want 4 and the overflow one", n)
	}
	h := series(fams[metrics.Duration.Name], "span_name=handle").GetHistogram()
	if h.GetSampleCount() != 1 || math.Abs(h.GetSampleSum()-0.010) > 1e-12 || len(h.GetBucket()) != len(DurationBuckets)+1 {
		t.Errorf("duration histogram of handle: %v", h)
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 0.010 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%g counts %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if r := e.Report(); r.Series != 4 || r.Overflow != 2 {
		t.Errorf("report: %d series, %d overflowed", r.Series, r.Overflow)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPortInUse: the listen error is returned once (the pipeline logs and
// counts it), metrics go on being counted, and no retry happens within a
// minute.
func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e := New(Options{Addr: busy.Addr().String()})
	err = e.Export(context.Background(), []*record.Record{rec("a", 1, 0, 1, 0)})
	if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("export to a busy port: %v", err)
	}
	if err := e.Export(context.Background(), []*record.Record{rec("a", 2, 0, 1, 0)}); err != nil {
		t.Errorf("second export retried the listener: %v", err)
	}
	fams, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == metrics.Spans.Name && f.Metric[0].GetCounter().GetValue() != 2 {
			t.Errorf("spans counted while not serving: %v", f.Metric[0])
		}
	}
	if e.Addr() != "" {
		t.Error("Addr() set without a listener")
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownReleases: Shutdown closes the listener (the port can be
// taken again) and leaves no goroutine; a scrape after it fails.
func TestShutdownReleases(t *testing.T) {
	defer goleak.VerifyNone(t)
	e := New(Options{Addr: "127.0.0.1:0"})
	if err := e.Export(context.Background(), []*record.Record{rec("a", 1, 0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	addr := e.Addr()
	scrape(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still held after Shutdown: %v", err)
	}
	ln.Close()
	// Exports after Shutdown count but never listen again.
	if err := e.Export(context.Background(), []*record.Record{rec("a", 2, 0, 1, 0)}); err != nil || e.Addr() != "" {
		t.Errorf("export after Shutdown: %v, listening on %q", err, e.Addr())
	}
}

func TestFromEnv(t *testing.T) {
	f, ok := export.Lookup("prometheus")
	if !ok {
		t.Fatal("prometheus exporter not registered")
	}
	tests := []struct {
		addr, max string
		listens   bool
		err       string
	}{
		{"off", "", false, ""},
		{"127.0.0.1:0", "10", true, ""},
		{"", "zero", false, "TRACEGEN_METRICS_MAX_SERIES"},
	}
	for _, tc := range tests {
		t.Setenv("TRACEGEN_PROMETHEUS_ADDR", tc.addr)
		t.Setenv("TRACEGEN_METRICS_MAX_SERIES", tc.max)
		exp, err := f()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("addr %q max %q: error %v, want %s", tc.addr, tc.max, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		e := exp.(*Exporter)
		if err := e.Export(context.Background(), []*record.Record{rec("a", 1, 0, 1, 0)}); err != nil {
			t.Fatal(err)
		}
		if got := e.Addr() != ""; got != tc.listens {
			t.Errorf("addr %q: listening %v, want %v", tc.addr, got, tc.listens)
		}
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if e := New(Options{}); e.addr != DefaultAddr {
		t.Errorf("default address %q", e.addr)
	}
}

// TestReportAtShutdown: TRACEGEN_METRICS_REPORT makes Shutdown write the
// report.
func TestReportAtShutdown(t *testing.T) {
	path := t.TempDir() + "/report.txt"
	e := New(Options{Addr: "off", Metrics: metrics.Config{ReportTo: path}})
	_ = e.Export(context.Background(), []*record.Record{rec("a", 1, 0, 1, 2), rec("b", 2, 0, 3, 4)})
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "tracegen metrics report (prometheus): 2 series") ||
		!strings.Contains(strings.Join(strings.Fields(string(b)), " "), "tracegen_energy_joules_total joules 2 6 3 2 4") {
		t.Errorf("report:\n%s", b)
	}
}

func ExampleExporter_Gatherer() {
	e := New(Options{Addr: "off"})
	_ = e.Export(context.Background(), []*record.Record{{Name: "work", Start: t0, End: t0.Add(time.Second)}})
	fams, _ := e.Gatherer().Gather()
	for _, f := range fams {
		if f.GetName() == metrics.Spans.Name {
			fmt.Println(f.GetName(), f.Metric[0].GetCounter().GetValue())
		}
	}
	// Output: tracegen_spans_total 1
}

// TestLinked: linking the package registers the exporter, so the name no
// longer resolves to the "not linked" factory.
func TestLinked(t *testing.T) {
	if !slices.Contains(export.Names(), "prometheus") {
		t.Errorf("export.Names() = %v in a binary that links prometheus", export.Names())
	}
}

func TestTargetInfo(t *testing.T) {
	e := New(Options{Addr: "off"})
	r := rec("step", 1, 0, 1, 1)
	r.Resource = []record.Attr{
		record.String("service.name", "planner"), record.String("k8s.pod.name", "planner-7d9f"),
		record.String("host.name", "node-3"), record.Int("process.pid", 42), record.String("job", "x"),
	}
	for range 2 { // registered once
		if err := e.Export(context.Background(), []*record.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	fams, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	for _, f := range fams {
		if f.GetName() != TargetInfo {
			continue
		}
		if len(f.Metric) != 1 || f.Metric[0].GetGauge().GetValue() != 1 {
			t.Fatalf("target_info %v, want one series of value 1", f.Metric)
		}
		got = map[string]string{}
		for _, l := range f.Metric[0].Label {
			got[l.GetName()] = l.GetValue()
		}
	}
	want := map[string]string{"k8s_pod_name": "planner-7d9f", "host_name": "node-3", "process_pid": "42"}
	if !maps.Equal(got, want) {
		t.Errorf("target_info labels %v, want %v (service.name and job left to the scrape)", got, want)
	}
}
