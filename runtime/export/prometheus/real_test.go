package prometheus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics/metricstest"
)

// prometheusBinary finds the Prometheus server. Under ./scripts/test
// (which sets TRACEGEN_TOOL_CACHE and installs the Debian package) a
// missing binary fails the test; elsewhere it skips with the command.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if os.Getenv("TRACEGEN_TOOL_CACHE") != "" {
		t.Fatal("prometheus is not on PATH; ./scripts/test installs it with apt-get install prometheus")
	}
	t.Skip("prometheus is not installed: run ./scripts/test, or apt-get install prometheus")
	return ""
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus runs a Prometheus server on a loopback port, scraping
// target every 250 ms, with its storage in a temporary directory. It is
// killed when the test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf(`global:
  scrape_interval: 250ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: tracegen
    static_configs:
      - targets: ['%s']
`, target)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var out bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready on %s after 30 s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sample is one element of a Prometheus instant-query result.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query against Prometheus' HTTP API and returns
// the values by label set (span_name, span_type, status, model, and
// direction when present).
func query(promAddr, q string) (map[string]float64, error) {
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, body.Error)
	}
	out := map[string]float64{}
	for _, s := range body.Data.Result {
		if s.Metric["job"] != "tracegen" {
			return nil, fmt.Errorf("query %s: series of job %q", q, s.Metric["job"])
		}
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, s.Value[1], err)
		}
		out[seriesKey(metrics.Labels{SpanName: s.Metric["span_name"], SpanType: s.Metric["span_type"],
			Status: s.Metric["status"], Model: s.Metric["model"]}, s.Metric["direction"])] = v
	}
	return out, nil
}

func seriesKey(l metrics.Labels, direction string) string {
	k := fmt.Sprintf("span_name=%q,span_type=%q,status=%q,model=%q", l.SpanName, l.SpanType, l.Status, l.Model)
	if direction != "" {
		k += ",direction=" + direction
	}
	return k
}

// expectations returns, per query, the values Prometheus must return.
func expectations(want map[metrics.Labels]*metricstest.Values) map[string]map[string]float64 {
	q := map[string]map[string]float64{}
	set := func(query, key string, v float64) {
		if q[query] == nil {
			q[query] = map[string]float64{}
		}
		q[query][key] = v
	}
	for l, v := range want {
		k := seriesKey(l, "")
		set(metrics.Spans.Name, k, float64(v.Spans))
		set(metrics.Duration.Name+"_count", k, float64(v.Spans))
		set(metrics.Duration.Name+"_sum", k, v.DurationSum)
		set(metrics.Energy.Name, k, v.EnergyJ)
		set(metrics.CO2e.Name, k, v.CO2eG)
		set(metrics.Water.Name, k, v.WaterL)
		if v.HasTokens {
			set(metrics.Tokens.Name, seriesKey(l, "input"), float64(v.InputTokens))
			set(metrics.Tokens.Name, seriesKey(l, "output"), float64(v.OutputTokens))
		}
	}
	return q
}

// compare returns "" when got has exactly the series of want, with equal
// values (to rounding; durations to a microsecond, as the JSONL times are
// wall-clock and the exporter's monotonic).
func compare(query string, got, want map[string]float64) string {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		tol := 1e-9 * math.Max(1, math.Abs(w))
		if strings.HasSuffix(query, "_sum") {
			tol = 1e-6
		}
		if !ok || math.Abs(g-w) > tol {
			diffs = append(diffs, fmt.Sprintf("%s{%s} = %v (present %v), want %v", query, k, g, ok, w))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s{%s}: unexpected series", query, k))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "\n")
}

// TestRealPrometheus: a traced program (this test binary as a child) with
// TRACEGEN_EXPORTER=prometheus,jsonl is scraped by a real Prometheus
// server, whose query API must return every series with the values the
// spans in the JSONL file say.
func TestRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prometheusBinary(t)
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "spans.jsonl")
	appAddr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "TRACEGEN_EXPORTER=prometheus,jsonl", "TRACEGEN_JSONL_PATH="+jsonl,
		"TRACEGEN_PROMETHEUS_ADDR="+appAddr, "TRACEGEN_METRICS_REPORT=stderr", "K8S_POD_NAME=planner-7d9f")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once waitErr is set
	var waitErr error
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	select {
	case l := <-lines:
		if l != "ready" {
			t.Fatalf("child printed %q, stderr:\n%s", l, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("child not ready after 30 s; stderr:\n%s", stderr.String())
	}

	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	spans, err := metricstest.ReadJSONL(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 4*childRounds {
		t.Fatalf("%d spans in the JSONL file, want %d", len(spans), 4*childRounds)
	}
	want := metricstest.Want(spans)
	total := 0.0
	for _, v := range want {
		total += v.EnergyJ
	}
	if len(want) != 4 || total <= 0 {
		t.Fatalf("the child's spans make %d series and %g J; want 4 series and some energy", len(want), total)
	}

	t.Logf("the child made %d spans in %d series, %g J of their own work", len(spans), len(want), total)
	promAddr := startPrometheus(t, appAddr)
	exp := expectations(want)
	var last string
	for deadline := time.Now().Add(30 * time.Second); ; {
		last = ""
		for q, w := range exp {
			got, err := query(promAddr, q)
			if err != nil {
				t.Fatal(err)
			}
			if d := compare(q, got, w); d != "" {
				last += d + "\n"
			}
		}
		if last == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s Prometheus still differs from the spans:\n%s", last)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// The resource reaches Prometheus as target_info, which splits the
	// series by pod.
	if err := targetInfo(promAddr, "planner-7d9f", 4*childRounds); err != nil {
		t.Error(err)
	}

	// Closing stdin lets the child stop: it exits at once, with its output
	// unchanged, the report on stderr, and the port released.
	stdin.Close()
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("child: %v; stderr:\n%s", waitErr, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("child still running 10 s after its stdin closed")
	}
	if rest := <-lines; rest != "" {
		t.Errorf("child printed more than ready: %q", rest)
	}
	if s := stderr.String(); !strings.Contains(s, "tracegen metrics report (prometheus): 4 series") ||
		!strings.Contains(strings.Join(strings.Fields(s), " "), fmt.Sprintf("tracegen_spans_total spans %d %d 1 1 1", 4*childRounds, 4*childRounds)) {
		t.Errorf("child stderr lacks the report:\n%s", s)
	}
	ln, err := net.Listen("tcp", appAddr)
	if err != nil {
		t.Errorf("the child's port is still taken after it exited: %v", err)
	} else {
		ln.Close()
	}
}

// targetInfo checks that the spans of pod, joined with target_info on job
// and instance, count n.
func targetInfo(promAddr, pod string, n int) error {
	q := `sum by (k8s_pod_name) (tracegen_spans_total * on(job, instance) group_left(k8s_pod_name) target_info)`
	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Result []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if len(body.Data.Result) != 1 || body.Data.Result[0].Metric["k8s_pod_name"] != pod || body.Data.Result[0].Value[1] != strconv.Itoa(n) {
		return fmt.Errorf("%s = %+v, want one series for pod %s of value %d", q, body.Data.Result, pod, n)
	}
	return nil
}
