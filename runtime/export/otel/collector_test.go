package otel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/testtool"

	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/tracegen-dev/tracegen/runtime/propagation"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// collectorBinary returns the Collector that scripts/test built, named by
// TRACEGEN_OTELCOL. Under scripts/test (which sets TRACEGEN_TOOL_CACHE) a
// missing Collector fails the test; elsewhere the test is skipped with the
// command that builds one.
func collectorBinary(t *testing.T) string {
	t.Helper()
	return testtool.Path(t, "TRACEGEN_OTELCOL", "OpenTelemetry Collector", "./scripts/collector", "runtime/export/otel")
}

// TestCollector: tracegen's spans go through the program's own pipeline,
// a batch processor and the SDK's OTLP/HTTP exporter, to a real
// OpenTelemetry Collector, whose file output has them with tracegen's ids,
// parent links and times, under the program's resource.
func TestCollector(t *testing.T) {
	bin := collectorBinary(t)
	out := filepath.Join(t.TempDir(), "spans.json")
	addr, stop := startCollector(t, bin, out)

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(semconv.ServiceName("the-program"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(IDGenerator(nil)), sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	prev := otelapi.GetTracerProvider()
	otelapi.SetTracerProvider(tp)
	defer otelapi.SetTracerProvider(prev)
	rec := recordWith(t, New())

	remote := propagation.TraceContext{TraceID: record.TraceID{0x4b, 15: 9}, SpanID: record.SpanID{0xf0, 7: 9}, Sampled: true}
	root := trace.Define("handle", trace.KindServer).Start(propagation.ContextWith(ctx, remote))
	c := trace.Define("step", trace.WithAttr("n", 7)).Begin()
	c.AddEvent("halfway")
	c.End()
	root.End()
	if err := tp.Shutdown(ctx); err != nil { // the program's own flush
		t.Fatal(err)
	}
	got := waitSpans(t, out, 2)
	stop()
	if len(got) != 2 {
		t.Fatalf("the Collector got %d spans, want 2: %+v", len(got), got)
	}
	for _, r := range rec.Spans() {
		var s *fileSpan
		for i := range got {
			if got[i].Name == r.Name {
				s = &got[i]
			}
		}
		if s == nil {
			t.Errorf("no span %s in the Collector's output", r.Name)
			continue
		}
		if s.TraceID != r.TraceID.String() || s.SpanID != r.SpanID.String() || s.ParentSpanID != r.ParentSpanID.String() ||
			s.Start != fmt.Sprint(r.Start.UnixNano()) || s.End != fmt.Sprint(r.End.UnixNano()) || s.Service != "the-program" {
			t.Errorf("%s: %+v, want trace %s span %s parent %s times %d..%d service the-program",
				r.Name, *s, r.TraceID, r.SpanID, r.ParentSpanID, r.Start.UnixNano(), r.End.UnixNano())
		}
	}
}

// fileSpan is a span as the Collector's file exporter writes it.
type fileSpan struct {
	Service, Name, TraceID, SpanID, ParentSpanID, Start, End string
}

func waitSpans(t *testing.T, path string, n int) []fileSpan {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		data, _ := os.ReadFile(path)
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			if spans := parseFile(t, data[:i+1]); len(spans) >= n {
				return spans
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector wrote fewer than %d spans to %s", n, path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func parseFile(t *testing.T, data []byte) []fileSpan {
	var out []fileSpan
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var doc struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []struct {
						Key   string
						Value struct{ StringValue string }
					}
				}
				ScopeSpans []struct {
					Spans []struct {
						TraceID           string `json:"traceId"`
						SpanID            string `json:"spanId"`
						ParentSpanID      string `json:"parentSpanId"`
						Name              string
						StartTimeUnixNano string
						EndTimeUnixNano   string
					}
				}
			}
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("the Collector's file: %v", err)
		}
		for _, rs := range doc.ResourceSpans {
			svc := ""
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					svc = a.Value.StringValue
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, fileSpan{svc, s.Name, s.TraceID, s.SpanID, s.ParentSpanID, s.StartTimeUnixNano, s.EndTimeUnixNano})
				}
			}
		}
	}
	return out
}

// startCollector runs the Collector with an OTLP/HTTP receiver on a free
// 127.0.0.1 port and a file exporter; stop sends SIGTERM and waits.
func startCollector(t *testing.T, bin, out string) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf("receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: %s\n"+
		"exporters:\n  file:\n    path: %s\n    flush_interval: 50ms\n"+
		"service:\n  telemetry:\n    logs:\n      level: warn\n    metrics:\n      level: none\n"+
		"  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n", addr, out)
	if err := os.WriteFile(out+".yaml", []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd := exec.Command(bin, "--config=file:"+out+".yaml")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			return addr, stop
		}
		select {
		case <-exited:
			t.Fatalf("the Collector exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector did not listen on %s:\n%s", addr, logs.String())
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
