package otlp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/testtool"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// These tests send spans to a real OpenTelemetry Collector (otlpreceiver
// and the contrib fileexporter, built by scripts/collector with the
// official builder) and read back what its file exporter wrote.

// collectorBinary returns the Collector that scripts/test built, named by
// TRACEGEN_OTELCOL. Under scripts/test (which sets TRACEGEN_TOOL_CACHE) a
// missing Collector fails the test; elsewhere the test is skipped with the
// command that builds one.
func collectorBinary(t *testing.T) string {
	t.Helper()
	return testtool.Path(t, "TRACEGEN_OTELCOL", "OpenTelemetry Collector", "./scripts/collector", "runtime/export/otlp")
}

// collector is one run of the Collector, listening for OTLP/HTTP on addr
// and writing what it receives to out.
type collector struct {
	t      *testing.T
	bin    string
	addr   string
	out    string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{} // closed when the process has exited
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startCollector(t *testing.T, bin, addr, out string) *collector {
	t.Helper()
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
	cfgPath := out + ".yaml"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &collector{t: t, bin: bin, addr: addr, out: out, logs: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(bin, "--config=file:"+cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(c.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return c
		}
		select {
		case <-c.exited:
			t.Fatalf("the Collector exited: %v\n%s", c.cmd.ProcessState, c.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Collector did not listen on %s: %v\n%s", addr, err, c.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the Collector the way an orchestrator does (SIGTERM), which
// flushes its file exporter; it is idempotent.
func (c *collector) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		c.t.Errorf("the Collector did not stop on SIGTERM:\n%s", c.logs)
	}
}

// waitSpans waits until the file exporter has written at least n spans
// (it flushes every 50 ms). Reading the file while the Collector runs does
// not depend on its shutdown, which loses its buffer if SIGTERM comes
// before it installed its signal handler.
func (c *collector) waitSpans(n int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(c.out)
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 && len(fromJSON(c.t, data[:i+1])) >= n {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the Collector wrote fewer than %d spans to %s; its log:\n%s", n, c.out, c.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spans waits for n spans, stops the Collector and returns all it wrote.
func (c *collector) spans(n int) []gotSpan {
	c.t.Helper()
	c.waitSpans(n)
	c.stop()
	if st := c.cmd.ProcessState; !st.Exited() {
		c.t.Errorf("the Collector did not shut down gracefully: %v\n%s", st, c.logs)
	}
	data, err := os.ReadFile(c.out)
	if err != nil {
		c.t.Fatal(err)
	}
	return fromJSON(c.t, data)
}

// TestCollector: the fixture arrives field by field through every
// protocol, compressed or not.
func TestCollector(t *testing.T) {
	bin := collectorBinary(t)
	for _, tc := range []struct {
		protocol string
		gzip     bool
	}{
		{ProtocolProtobuf, false},
		{ProtocolProtobuf, true},
		{ProtocolJSON, false},
		{ProtocolJSON, true},
	} {
		t.Run(fmt.Sprintf("%s,gzip=%v", tc.protocol, tc.gzip), func(t *testing.T) {
			c := startCollector(t, bin, freeAddr(t), filepath.Join(t.TempDir(), "spans.json"))
			e, log := newExporter(t, Config{Endpoint: "http://" + c.addr + "/v1/traces", Protocol: tc.protocol, Gzip: tc.gzip})
			if err := e.Export(context.Background(), fixture()); err != nil {
				t.Fatal(err)
			}
			if err := shutdown(t, e); err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			compareSpans(t, c.spans(3), wantFixture())
			if st := e.Stats(); st.Sent != 3 || st.Requests != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestCollectorRestart: spans exported while the Collector is down are
// delivered once it is back, and no span arrives twice.
func TestCollectorRestart(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	first := startCollector(t, bin, addr, filepath.Join(dir, "first.json"))
	e, log := newExporter(t, Config{Endpoint: "http://" + addr + "/v1/traces", BatchSize: 16,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	spans := func(from, to int) []*record.Record {
		var out []*record.Record
		for i := from; i < to; i++ {
			r := fixture()[1]
			r.SpanID = record.SpanID{0xaa, byte(i >> 8), byte(i)}
			r.Name = fmt.Sprint("span-", i)
			out = append(out, r)
		}
		return out
	}
	for i := 0; i < 50; i += 10 {
		e.Export(context.Background(), spans(i, i+10))
	}
	waitFor(t, "the first 50 spans", func() bool { return e.Stats().Sent == 50 })
	before := first.spans(50) // stops it

	for i := 50; i < 100; i += 10 {
		e.Export(context.Background(), spans(i, i+10))
	}
	waitFor(t, "retries while the Collector is down", func() bool { return e.Stats().Retries >= 3 })
	if st := e.Stats(); st.Sent != 50 {
		t.Fatalf("stats %+v while the Collector was down", st)
	}
	second := startCollector(t, bin, addr, filepath.Join(dir, "second.json"))
	waitFor(t, "delivery after the restart", func() bool { return e.Stats().Sent == 100 })
	if err := shutdown(t, e); err != nil {
		t.Fatal(err)
	}
	after := second.spans(50)

	count := map[string]int{}
	for _, s := range append(before, after...) {
		count[s.Name]++
	}
	for i := 0; i < 100; i++ {
		if n := count[fmt.Sprint("span-", i)]; n != 1 {
			t.Errorf("span-%d received %d times, want once", i, n)
		}
	}
	if len(before) != 50 || len(after) != 50 {
		t.Errorf("%d spans before the restart and %d after, want 50 and 50", len(before), len(after))
	}
	if st := e.Stats(); st.Dropped+st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if lines := strings.Count(log.String(), "\n"); lines != 1 {
		t.Errorf("%d warning lines during the outage, want 1:\n%s", lines, log)
	}
}
