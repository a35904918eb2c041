package otlp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/testtool"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// TestMain doubles as an instrumented program (OTLP_TEST_PROGRAM=1): it
// links this package as a program's blank import would, traces an agent
// with three LLM calls, prints a line and exits with code 3.
func TestMain(m *testing.M) {
	if os.Getenv("OTLP_TEST_PROGRAM") == "1" {
		trace.Exit(program())
	}
	os.Exit(m.Run())
}

var (
	defAgent = trace.Define("agent.Run", trace.TypeAgent, trace.KindServer, trace.WithTags("prod"))
	defChat  = trace.Define("chat gpt-4o-mini", trace.TypeLLM, trace.KindClient,
		trace.WithAttr("gen_ai.request.model", "gpt-4o-mini"))
)

func program() int {
	root := defAgent.Start(context.Background())
	for i := 0; i < 3; i++ {
		s := defChat.Start(root)
		s.SetAttr("gen_ai.provider.name", "openai")
		s.SetAttr("gen_ai.usage.output_tokens", 10+i)
		trace.AddLLMImpact(s, "gpt-4o-mini", 36, 0.004, 0.0002)
		var err error
		if i == 2 {
			err = errors.New("rate limited")
		}
		s.Return(&err)
	}
	root.AddEvent("plan", record.String("step", "done"))
	root.End()
	fmt.Println("hello from the program")
	return 3
}

const secretHeader = "Bearer sk-prog-secret-42"

// runProgram runs the test binary as the program with env added.
func runProgram(t *testing.T, env ...string) testtool.Run {
	t.Helper()
	return testtool.RunSelf(t, "OTLP_TEST_PROGRAM", env...)
}

// TestProgramToCollector: an instrumented program configured only by the
// environment delivers its trace to the Collector: parent links, kinds,
// status, events, GenAI and impact attributes, and the resource of
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func TestProgramToCollector(t *testing.T) {
	bin := collectorBinary(t)
	for _, protocol := range []string{ProtocolProtobuf, ProtocolJSON} {
		t.Run(protocol, func(t *testing.T) {
			c := startCollector(t, bin, freeAddr(t), filepath.Join(t.TempDir(), "spans.json"))
			r := runProgram(t, "TRACEGEN_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+c.addr,
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="+protocol, "OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
				"OTEL_EXPORTER_OTLP_HEADERS=Authorization="+strings.ReplaceAll(secretHeader, " ", "%20"),
				"OTEL_SERVICE_NAME=otlp-prog", "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=test",
				"K8S_POD_NAME=planner-7d9f", "K8S_NAMESPACE_NAME=agents", "K8S_NODE_NAME=node-3")
			if r.Stdout != "hello from the program\n" || r.Code != 3 || r.Stderr != "" {
				t.Fatalf("program: stdout %q, exit code %d, stderr %q", r.Stdout, r.Code, r.Stderr)
			}
			checkProgramTrace(t, c.spans(4))
		})
	}
}

func checkProgramTrace(t *testing.T, spans []gotSpan) {
	t.Helper()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4: %+v", len(spans), spans)
	}
	var root gotSpan
	for _, s := range spans {
		if s.Name == "agent.Run" {
			root = s
		}
	}
	if root.Kind != 2 || root.ParentSpanID != "" || len(root.Events) != 1 || root.Events[0].Name != "plan" ||
		root.Attrs["tracegen.span.type"] != "agent" || fmt.Sprint(root.Attrs["tracegen.tags"]) != "[prod]" {
		t.Errorf("root span %+v", root)
	}
	errs := 0
	for _, s := range spans {
		if s.TraceID != root.TraceID || len(s.TraceID) != 32 || s.Flags&1 != 1 {
			t.Errorf("span %s: trace %s flags %#x, root's trace %s", s.Name, s.TraceID, s.Flags, root.TraceID)
		}
		res := s.Resource
		if res["service.name"] != "otlp-prog" || res["deployment.environment"] != "test" ||
			res["telemetry.sdk.name"] != "tracegen" || res["telemetry.sdk.language"] != "go" ||
			res["telemetry.sdk.version"] != runtimeVersion || s.ScopeName != ScopeName {
			t.Errorf("span %s: resource %v, scope %s", s.Name, res, s.ScopeName)
		}
		// The detected resource (package resource) arrives with the rest.
		if res["k8s.pod.name"] != "planner-7d9f" || res["k8s.namespace.name"] != "agents" || res["k8s.node.name"] != "node-3" ||
			res["host.name"] == nil || res["process.runtime.name"] != "go" || res["process.pid"] == nil {
			t.Errorf("span %s: detected resource missing from %v", s.Name, res)
		}
		if s.Name == root.Name {
			continue
		}
		a := s.Attrs
		if s.ParentSpanID != root.SpanID || s.Kind != 3 || a["gen_ai.request.model"] != "gpt-4o-mini" ||
			a["gen_ai.provider.name"] != "openai" || a["tracegen.span.type"] != "llm" {
			t.Errorf("llm span %+v", s)
		}
		if co2, _ := a["tracegen.impact.co2e_g"].(float64); co2 < 0.004 ||
			!strings.Contains(fmt.Sprint(a["tracegen.impact.energy_source"]), "llm-estimate") {
			t.Errorf("llm span impact: %v", a)
		}
		if kwh, _ := a["tracegen.impact.energy_kwh"].(float64); kwh < 36.0/3.6e6 {
			t.Errorf("llm span energy %v kWh, want at least the estimate's 1e-5", kwh)
		}
		if s.StatusCode == 2 {
			errs++
			if s.StatusMsg != "rate limited" {
				t.Errorf("error status message %q", s.StatusMsg)
			}
		}
	}
	if errs != 1 {
		t.Errorf("%d spans with an error status, want 1", errs)
	}
}

// TestProgramUnaffected: with the endpoint down, slow (accepts and never
// answers) or failing with 500s, the program prints the same, exits with
// the same code, writes at most one warning line without the credential,
// and does not wait past its shutdown timeout.
func TestProgramUnaffected(t *testing.T) {
	base := runProgram(t) // not traced
	if base.Stdout != "hello from the program\n" || base.Code != 3 || base.Stderr != "" {
		t.Fatalf("untraced program: %+v", base)
	}
	down := freeAddr(t)
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	hang := make(chan struct{})
	defer close(hang)
	go func() {
		for {
			c, err := slow.Accept()
			if err != nil {
				return
			}
			go func() { <-hang; c.Close() }()
		}
	}()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error, saw "+r.Header.Get("Authorization"), http.StatusInternalServerError)
	}))
	defer failing.Close()
	for _, tc := range []struct {
		name, endpoint string
		maxTook        time.Duration
	}{
		{"down", "http://" + down, 3 * time.Second},
		{"slow", "http://" + slow.Addr().String(), 4 * time.Second}, // the 1s shutdown timeout, plus start-up
		{"500s", failing.URL, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runProgram(t, "TRACEGEN_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT="+tc.endpoint,
				"OTEL_EXPORTER_OTLP_HEADERS=Authorization="+strings.ReplaceAll(secretHeader, " ", "%20"),
				"TRACEGEN_SHUTDOWN_TIMEOUT=1s")
			if r.Stdout != base.Stdout || r.Code != base.Code {
				t.Errorf("stdout %q, exit code %d; untraced: %q, %d", r.Stdout, r.Code, base.Stdout, base.Code)
			}
			if n := strings.Count(r.Stderr, "\n"); n > 1 || n == 1 && !strings.HasPrefix(r.Stderr, "tracegen: ") {
				t.Errorf("stderr has %d lines, want at most one tracegen warning:\n%s", n, r.Stderr)
			}
			if r.Stderr == "" {
				t.Error("no warning at all about the lost spans")
			}
			if strings.Contains(r.Stderr, "sk-prog") {
				t.Errorf("credential in stderr: %s", r.Stderr)
			}
			if r.Took > tc.maxTook {
				t.Errorf("the program took %v, want under %v", r.Took, tc.maxTook)
			}
			t.Logf("%v: %s", r.Took.Round(time.Millisecond), r.Stderr)
		})
	}
}

// TestRegistered: linking this package registers "otlp" with a factory
// that reads the environment (package export's TestNotLinked covers a
// program that does not link it).
func TestRegistered(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	e := newFromRegistry(t)
	if e.cfg.Endpoint != "http://127.0.0.1:1/v1/traces" || e.cfg.Protocol != ProtocolJSON {
		t.Errorf("registered factory built %+v", e.cfg)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, err := registryFactory(t)(); !errors.Is(err, ErrConfig) {
		t.Errorf("grpc accepted: %v", err)
	}
}

func registryFactory(t *testing.T) export.Factory {
	t.Helper()
	f, ok := export.Lookup("otlp")
	if !ok {
		t.Fatal("otlp is not registered")
	}
	return f
}

func newFromRegistry(t *testing.T) *Exporter {
	t.Helper()
	exp, err := registryFactory(t)()
	if err != nil {
		t.Fatal(err)
	}
	e, ok := exp.(*Exporter)
	if !ok {
		t.Fatalf("factory built a %T", exp)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	return e
}

// TestLoadFailAndRecover: many goroutines end spans through the real
// pipeline while the endpoint alternates, every 30 ms, between failing
// (503) and working. Under -race nothing races, the
// program's goroutines are never held up for long, and every span is
// accounted for exactly once: sent, dropped or failed.
func TestLoadFailAndRecover(t *testing.T) {
	var mode atomic.Int32 // 0 ok, 1 answers 503
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) (int, string) {
		if mode.Load() == 1 {
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusOK, ""
	})
	e, _ := newExporter(t, Config{Endpoint: rc.url(), QueueSize: 500, BatchSize: 100,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{e}, QueueSize: 1000})
	before := trace.ReadStats()
	stop := make(chan struct{})
	go func() { // the endpoint fails and recovers
		for i := 0; ; i++ {
			select {
			case <-stop:
				mode.Store(0)
				return
			case <-time.After(30 * time.Millisecond):
				mode.Store(int32(i % 2))
			}
		}
	}()
	const workers = 8
	var wg sync.WaitGroup
	var slowest, created atomic.Int64
	def := trace.Define("work", trace.KindInternal)
	until := time.Now().Add(400 * time.Millisecond) // several fail-recover cycles
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(until); i++ {
				start := time.Now()
				s := def.Start(context.Background())
				s.SetAttr("i", i)
				s.End()
				created.Add(1)
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
				if i%100 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := trace.Shutdown(ctx); err != nil && !errors.Is(err, ErrUndelivered) {
		t.Fatal(err)
	}
	ps := trace.ReadStats()
	st := e.Stats()
	handed := ps.Exported - before.Exported
	if got := st.Sent + st.Dropped + st.Failed + st.Rejected; got != handed {
		t.Errorf("exporter accounted for %d spans (%+v), the pipeline handed it %d", got, st, handed)
	}
	if total := handed + ps.Dropped - before.Dropped; total != uint64(created.Load()) {
		t.Errorf("%d spans exported or dropped by the pipeline, want the %d created", total, created.Load())
	}
	_, spans, _ := rc.snapshot()
	if uint64(len(spans)) != st.Sent || st.Sent == 0 || st.Retries == 0 {
		t.Errorf("receiver accepted %d spans, stats %+v", len(spans), st)
	}
	if d := time.Duration(slowest.Load()); d > 500*time.Millisecond {
		t.Errorf("the slowest span took %v to start and end", d)
	}
}
