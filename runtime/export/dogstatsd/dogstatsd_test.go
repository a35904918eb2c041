package dogstatsd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics/metricstest"
	"github.com/tracegen-dev/tracegen/runtime/genai"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// line is one parsed DogStatsD metric line:
// name:value[:value...]|type[|@rate][|#tag,tag][|c:container][|Tts].
type line struct {
	name   string
	values []float64
	typ    string
	tags   string // sorted, comma separated
}

func parseLine(s string) (line, error) {
	fields := strings.Split(s, "|")
	name, vals, ok := strings.Cut(fields[0], ":")
	if !ok || len(fields) < 2 {
		return line{}, fmt.Errorf("not a metric line: %q", s)
	}
	l := line{name: name, typ: fields[1]}
	for _, v := range strings.Split(vals, ":") {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return line{}, fmt.Errorf("line %q: value %q: %w", s, v, err)
		}
		l.values = append(l.values, f)
	}
	for _, f := range fields[2:] {
		switch {
		case strings.HasPrefix(f, "#"):
			tags := strings.Split(f[1:], ",")
			sort.Strings(tags)
			l.tags = strings.Join(tags, ",")
		case strings.HasPrefix(f, "@"), strings.HasPrefix(f, "c:"), strings.HasPrefix(f, "T"):
		default:
			return line{}, fmt.Errorf("line %q: unknown field %q", s, f)
		}
	}
	return l, nil
}

// listen opens a UDP socket on loopback; read returns what it received
// until nothing came for 500 ms.
func listen(t *testing.T) (addr string, read func() []line) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String(), func() []line {
		var out []line
		buf := make([]byte, 64<<10)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return out
			}
			for _, s := range strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n") {
				l, err := parseLine(s)
				if err != nil {
					t.Error(err)
					continue
				}
				out = append(out, l)
			}
		}
	}
}

// tagsOf returns the tags the exporter must send for l (and direction).
func tagsOf(l metrics.Labels, direction string) string {
	var tags []string
	for i, v := range l.Values() {
		if v != "" {
			tags = append(tags, metrics.LabelNames[i]+":"+strings.NewReplacer(",", "_", "|", "_").Replace(v))
		}
	}
	if direction != "" {
		tags = append(tags, "direction:"+direction)
	}
	sort.Strings(tags)
	return strings.Join(tags, ",")
}

// TestDatagrams: spans of a traced program (the real span pipeline, with
// the LLM footprint and the energy sampler) reach a UDP listener as
// DogStatsD lines of the right names, types, tags and values, compared
// with the records a memory exporter received alongside.
func TestDatagrams(t *testing.T) {
	for _, k := range []string{"DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID", "DD_TAGS"} {
		t.Setenv(k, "")
	}
	addr, read := listen(t)
	dd := New(Options{Addr: addr})
	rec := tracetest.NewRecorder(t, tracetest.WithConfig(trace.Config{Exporters: []export.Exporter{dd}}))
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		rctx, root := trace.Start(ctx, "handle", trace.TypeAgent)
		_, work := trace.Start(rctx, "a,b|c") // separators in a tag value
		x := 0.0
		for end := time.Now().Add(10 * time.Millisecond); time.Now().Before(end); x++ {
		}
		work.SetAttr("n", x)
		work.End()
		genai.RecordLLMCall(rctx, genai.LLMCall{Model: "gpt-4o-mini", Provider: "openai", InputTokens: int64(100 + i), OutputTokens: 7})
		_, tool := trace.Start(rctx, "lookup", trace.TypeTool)
		tool.RecordError(errors.New("not found"))
		tool.End()
		root.End()
	}
	if err := dd.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var spans []metricstest.Span
	for _, r := range rec.Spans() {
		spans = append(spans, metricstest.FromRecord(r))
	}
	want := metricstest.Want(spans)
	if len(want) != 4 {
		t.Fatalf("%d series from the spans, want 4", len(want))
	}

	type key struct{ name, tags string }
	counts := map[key]float64{}
	dists := map[key][]float64{}
	for _, l := range read() {
		k := key{l.name, l.tags}
		switch {
		case l.typ == "c" && (l.name == metrics.Spans.StatsD || l.name == metrics.Tokens.StatsD):
			for _, v := range l.values {
				counts[k] += v
			}
		case l.typ == "d" && l.name != metrics.Spans.StatsD && l.name != metrics.Tokens.StatsD:
			dists[k] = append(dists[k], l.values...)
		default:
			t.Errorf("unexpected %s of type %s", l.name, l.typ)
		}
	}
	sum := func(vs []float64) (s float64) {
		for _, v := range vs {
			s += v
		}
		return s
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	energy := 0.0
	for l, v := range want {
		tags := tagsOf(l, "")
		if got := counts[key{metrics.Spans.StatsD, tags}]; got != float64(v.Spans) {
			t.Errorf("%s{%s}: %v, want %d", metrics.Spans.StatsD, tags, got, v.Spans)
		}
		got := append([]float64(nil), dists[key{metrics.Duration.StatsD, tags}]...)
		wantD := append([]float64(nil), v.Durations...)
		sort.Float64s(got)
		sort.Float64s(wantD)
		if len(got) != len(wantD) || !near(sum(got), sum(wantD)) || !near(got[0], wantD[0]) {
			t.Errorf("%s{%s}: %v, want %v", metrics.Duration.StatsD, tags, got, wantD)
		}
		for _, m := range []struct {
			name string
			want float64
		}{{metrics.Energy.StatsD, v.EnergyJ}, {metrics.CO2e.StatsD, v.CO2eG}, {metrics.Water.StatsD, v.WaterL}} {
			if got := sum(dists[key{m.name, tags}]); !near(got, m.want) {
				t.Errorf("%s{%s}: sum %v, want %v", m.name, tags, got, m.want)
			}
		}
		energy += v.EnergyJ
		in, out := counts[key{metrics.Tokens.StatsD, tagsOf(l, "input")}], counts[key{metrics.Tokens.StatsD, tagsOf(l, "output")}]
		if in != float64(v.InputTokens) || out != float64(v.OutputTokens) {
			t.Errorf("tokens{%s}: %v in, %v out; want %d and %d", tags, in, out, v.InputTokens, v.OutputTokens)
		}
	}
	if energy <= 0 {
		t.Error("no energy in the spans: the energy distributions were not tested")
	}
	if _, ok := counts[key{metrics.Spans.StatsD, "span_name:a_b_c,status:unset"}]; !ok {
		t.Errorf("no span count tagged span_name:a_b_c; counts: %v", counts)
	}
	if st, _ := dd.Report().Stat(metrics.Spans.Name); st.Count != 12 {
		t.Errorf("report counts %d spans, want 12", st.Count)
	}
}

// TestAddressFromEnv: DD_DOGSTATSD_URL, DD_AGENT_HOST with
// DD_DOGSTATSD_PORT, and DD_DOGSTATSD_PORT alone all reach the listener.
func TestAddressFromEnv(t *testing.T) {
	f, ok := export.Lookup("dogstatsd")
	if !ok {
		t.Fatal("dogstatsd exporter not registered")
	}
	addr, read := listen(t)
	host, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name, url, host, port string
	}{
		{"url", "udp://" + addr, "", ""},
		{"url wins over host", "udp://" + addr, "192.0.2.1", "1"},
		{"host and port", "", host, port},
		{"port alone", "", "", port},
	}
	for _, tc := range tests {
		t.Setenv("DD_DOGSTATSD_URL", tc.url)
		t.Setenv("DD_AGENT_HOST", tc.host)
		t.Setenv("DD_DOGSTATSD_PORT", tc.port)
		exp, err := f()
		if err != nil {
			t.Fatal(err)
		}
		r := &record.Record{Name: tc.name, Start: time.Now(), End: time.Now()}
		if err := exp.Export(context.Background(), []*record.Record{r}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		found := false
		for _, l := range read() {
			found = found || (l.name == metrics.Spans.StatsD && strings.Contains(l.tags, "span_name:"+tc.name))
		}
		if !found {
			t.Errorf("%s: no %s line for the span reached %s", tc.name, metrics.Spans.StatsD, addr)
		}
	}
	if got := addrFromEnv(); got != "127.0.0.1:"+port {
		t.Errorf("addrFromEnv() = %q", got)
	}
	t.Setenv("DD_DOGSTATSD_PORT", "")
	if got := addrFromEnv(); got != DefaultAddr {
		t.Errorf("addrFromEnv() = %q, want %q", got, DefaultAddr)
	}
}

// TestFailures: an address that does not resolve is returned once, not
// retried within a minute, and the spans are still counted; sends to a
// port nobody listens on are counted and returned as errors.
func TestFailures(t *testing.T) {
	span := func(i int) []*record.Record {
		return []*record.Record{{Name: "s", SpanID: record.SpanID{byte(i + 1)}, Start: time.Now(), End: time.Now()}}
	}
	bad := New(Options{Addr: "no-such-host.invalid:8125"})
	if err := bad.Export(context.Background(), span(0)); err == nil || !strings.HasPrefix(err.Error(), "dogstatsd exporter: ") {
		t.Errorf("unresolvable address: %v", err)
	}
	if err := bad.Export(context.Background(), span(1)); err != nil {
		t.Errorf("client retried within a minute: %v", err)
	}
	if st, _ := bad.Report().Stat(metrics.Spans.Name); st.Count != 2 {
		t.Errorf("%d spans counted without a client, want 2", st.Count)
	}
	if err := bad.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}

	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.LocalAddr().String()
	closed.Close()
	e := New(Options{Addr: addr})
	var errs []error
	for i := 0; i < 5; i++ {
		if err := e.Export(context.Background(), span(i)); err != nil {
			errs = append(errs, err)
		}
		time.Sleep(150 * time.Millisecond) // the client sends every 100 ms
	}
	if err := e.Shutdown(context.Background()); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err == nil || !strings.Contains(err.Error(), "send errors") {
		t.Errorf("sends to a closed port: %v", err)
	}
}

// TestIdle: Idle flushes and closes the client, leaving no goroutine of
// it, and the next export makes a new one.
func TestIdle(t *testing.T) {
	addr, read := listen(t)
	e := New(Options{Addr: addr})
	var _ export.Idler = e
	for i, name := range []string{"before-idle", "after-idle"} {
		r := &record.Record{Name: name, SpanID: record.SpanID{byte(i + 1)}, Start: time.Now(), End: time.Now()}
		if err := e.Export(context.Background(), []*record.Record{r}); err != nil {
			t.Fatal(err)
		}
		if err := e.Idle(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := goleak.Find(); err != nil {
			t.Fatalf("after Idle: %v", err)
		}
		found := false
		for _, l := range read() {
			found = found || (l.name == metrics.Spans.StatsD && strings.Contains(l.tags, "span_name:"+name))
		}
		if !found {
			t.Errorf("%s: the span's count was not flushed by Idle", name)
		}
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
