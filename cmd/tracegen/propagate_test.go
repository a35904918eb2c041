package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPropagationAcrossServices runs three processes of
// testdata/propagate, built with tracegen go build, on 127.0.0.1: A calls
// B, which calls C, each exporting with TRACEGEN_EXPORTER=otlp to a real
// OpenTelemetry Collector (built by scripts/collector), whose file output
// must hold one trace with the right parent links across all three. A
// second request from an unsampled A (TRACEGEN_SAMPLE=1e-9) reaches B and
// C with the sampled flag off, and none of its spans reach the Collector.
func TestPropagationAcrossServices(t *testing.T) {
	col := collectorBinary(t)
	if testing.Short() {
		t.Skip("builds tracegen and a program; -short skips it")
	}
	dir := t.TempDir()
	tg := filepath.Join(dir, "tracegen")
	runCmd(t, ".", nil, "go", "build", "-o", tg, ".")
	svc := filepath.Join(dir, "svc")
	src, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "propagate"))
	runCmd(t, src, []string{"TRACEGEN_CACHE=" + filepath.Join(dir, "cache"), "GOWORK=off"}, tg, "go", "build", "-o", svc, ".")

	out := filepath.Join(dir, "spans.json")
	addr := startFileCollector(t, col, out)
	env := func(service string, extra ...string) []string {
		return append([]string{"TRACEGEN_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + addr, "OTEL_SERVICE_NAME=" + service}, extra...)
	}
	c := startService(t, svc, env("C"), "-name", "C", "-listen", "127.0.0.1:0")
	b := startService(t, svc, env("B"), "-name", "B", "-listen", "127.0.0.1:0", "-next", "http://"+c.addr+"/")

	sampled := parseAnswers(t, runCmd(t, dir, env("A"), svc, "-name", "A", "-next", "http://"+b.addr+"/"))
	unsampled := parseAnswers(t, runCmd(t, dir, env("A", "TRACEGEN_SAMPLE=1e-9"), svc, "-name", "A", "-next", "http://"+b.addr+"/"))
	b.quit(t)
	c.quit(t)

	for _, svc := range []string{"B", "C"} {
		if tp := unsampled[svc]; !strings.HasSuffix(tp, "-00") || tp[3:35] != unsampled["B"][3:35] {
			t.Errorf("an unsampled A: %s got traceparent %q, want the trace of B's %q, flags 00", svc, tp, unsampled["B"])
		}
		if tp := sampled[svc]; !strings.HasSuffix(tp, "-01") {
			t.Errorf("a sampled A: %s got traceparent %q, want flags 01", svc, tp)
		}
	}
	spans := waitCollected(t, out, 5)
	byName := map[string]collected{}
	for _, s := range spans {
		if s.TraceID == unsampled["B"][3:35] {
			t.Errorf("span %s of %s from the unsampled request reached the Collector", s.Name, s.Service)
		}
		byName[s.Service+" "+s.Name] = s
	}
	if len(spans) != 5 || len(byName) != 5 {
		t.Fatalf("the Collector got %d spans (%v), want 5: A main.call, A GET, B main.handle, B GET, C main.handle", len(spans), spans)
	}
	trace := byName["A main.call"].TraceID
	links := []struct {
		child, parent string
		kind          int // OTLP span kind: 1 internal, 2 server, 3 client
	}{
		{"A main.call", "", 1},
		{"A GET", "A main.call", 3},
		{"B main.handle", "A GET", 2},
		{"B GET", "B main.handle", 3},
		{"C main.handle", "B GET", 2},
	}
	for _, l := range links {
		s, ok := byName[l.child]
		if !ok {
			t.Errorf("no span %s in %v", l.child, spans)
			continue
		}
		want := byName[l.parent].SpanID
		if s.TraceID != trace || s.ParentSpanID != want || s.Kind != l.kind {
			t.Errorf("%s: trace %s parent %q kind %d, want trace %s parent %s (%q) kind %d",
				l.child, s.TraceID, s.ParentSpanID, s.Kind, trace, l.parent, want, l.kind)
		}
	}
	// What B and C saw on the wire is the span that sent the request.
	if want := "00-" + trace + "-" + byName["A GET"].SpanID + "-01"; sampled["B"] != want {
		t.Errorf("B got traceparent %q, want %q", sampled["B"], want)
	}
	if want := "00-" + trace + "-" + byName["B GET"].SpanID + "-01"; sampled["C"] != want {
		t.Errorf("C got traceparent %q, want %q", sampled["C"], want)
	}
}

// collectorBinary returns the Collector that scripts/test built, named by
// TRACEGEN_OTELCOL. Under scripts/test (which sets TRACEGEN_TOOL_CACHE) a
// missing Collector fails the test; elsewhere the test is skipped with the
// command that builds one.
func collectorBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRACEGEN_OTELCOL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("TRACEGEN_OTELCOL: %v", err)
		}
		return p
	}
	if os.Getenv("TRACEGEN_TOOL_CACHE") != "" {
		t.Fatal("TRACEGEN_OTELCOL is not set, and TRACEGEN_TOOL_CACHE is (so this runs under scripts/test, " +
			"which builds the Collector with scripts/collector and sets TRACEGEN_OTELCOL)")
	}
	t.Skip("no OpenTelemetry Collector: run ./scripts/test, or " +
		"TRACEGEN_OTELCOL=$(./scripts/collector) go test -run TestPropagationAcrossServices ./cmd/tracegen")
	return ""
}

// runCmd runs a command to completion and returns its standard output.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// parseAnswers reads the answer chain A prints, "B <traceparent>" then
// "C <traceparent>", into a map from service to traceparent.
func parseAnswers(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, tp, _ := strings.Cut(line, " ")
		m[name] = tp
	}
	if len(m["B"]) != 55 || len(m["C"]) != 55 {
		t.Fatalf("answers %q: want a traceparent from B and from C", out)
	}
	return m
}

// service is a running server process of testdata/propagate.
type service struct {
	addr   string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startService(t *testing.T, bin string, env []string, args ...string) *service {
	t.Helper()
	s := &service{stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env, s.cmd.Stderr = append(os.Environ(), env...), s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { io.Copy(io.Discard, stdout); s.done <- s.cmd.Wait() }()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("%s %v: %q, %v\n%s", bin, args, line, err, s.stderr)
	}
	s.addr = addr
	return s
}

// quit asks the service to stop and waits until it has exited, which
// flushes its spans to the Collector.
func (s *service) quit(t *testing.T) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/quit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("service on %s: %v\n%s", s.addr, err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("service on %s did not stop\n%s", s.addr, s.stderr)
	}
}

// startFileCollector starts the Collector with an OTLP/HTTP receiver on a
// free 127.0.0.1 port and a file exporter writing to out; it is stopped
// (SIGTERM) when the test ends. It returns the receiver's address.
func startFileCollector(t *testing.T, bin, out string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
`, addr, out)
	if err := os.WriteFile(out+".yaml", []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "--config=file:"+out+".yaml")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("the Collector exited:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector did not listen on %s:\n%s", addr, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// collected is a span as the Collector's file exporter wrote it.
type collected struct {
	Service, Name, TraceID, SpanID, ParentSpanID string
	Kind                                         int
}

// waitCollected waits until the file holds at least n spans (and a moment
// more, for spans that should not be there), and returns them all.
func waitCollected(t *testing.T, path string, n int) []collected {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		spans := readCollected(t, path)
		if len(spans) >= n {
			time.Sleep(300 * time.Millisecond) // two more flushes of the file exporter
			return readCollected(t, path)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector wrote %d spans, want %d: %v", len(spans), n, spans)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readCollected parses the complete OTLP/JSON lines of the file.
func readCollected(t *testing.T, path string) []collected {
	t.Helper()
	data, _ := os.ReadFile(path)
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		return nil
	}
	var out []collected
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
						TraceID      string `json:"traceId"`
						SpanID       string `json:"spanId"`
						ParentSpanID string `json:"parentSpanId"`
						Name         string
						Kind         int
					}
				}
			}
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("the Collector's file: %v\n%s", err, line)
		}
		for _, rs := range doc.ResourceSpans {
			service := ""
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.StringValue
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, collected{service, s.Name, s.TraceID, s.SpanID, s.ParentSpanID, s.Kind})
				}
			}
		}
	}
	return out
}
