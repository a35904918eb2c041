package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/ratelog"
	"github.com/tracegen-dev/tracegen/runtime/internal/syncbuf"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"go.uber.org/goleak"
)

// receiver is an OTLP/HTTP endpoint on 127.0.0.1 for our own retry logic:
// respond decides each answer (by 1-based request number), and every body
// it answered 2xx to is decoded.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request) (int, string)

	mu       sync.Mutex
	requests int
	times    []time.Time
	headers  []http.Header
	spans    []gotSpan // from requests answered 2xx
	seen     []gotSpan // from every request
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request) (int, string)) *receiver {
	rc := &receiver{t: t, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	b := body(rc.t, r)
	var spans []gotSpan
	if r.Header.Get("Content-Type") == "application/json" {
		spans = fromJSON(rc.t, b)
	} else {
		spans = fromProto(rc.t, b)
	}
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	rc.times = append(rc.times, time.Now())
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.seen = append(rc.seen, spans...)
	rc.mu.Unlock()
	code, text := http.StatusOK, ""
	if rc.respond != nil {
		code, text = rc.respond(n, w, r)
	}
	if code >= 200 && code < 300 {
		rc.mu.Lock()
		rc.spans = append(rc.spans, spans...)
		rc.mu.Unlock()
	}
	w.WriteHeader(code)
	w.Write([]byte(text))
}

func (rc *receiver) snapshot() (requests int, spans, seen []gotSpan) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests, append([]gotSpan(nil), rc.spans...), append([]gotSpan(nil), rc.seen...)
}

func (rc *receiver) url() string { return rc.srv.URL + "/v1/traces" }

// syncBuffer is a log the pipeline writes while the test reads it.
type syncBuffer = syncbuf.Buffer

func newExporter(t *testing.T, cfg Config) (*Exporter, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	cfg.Log = log
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	return e, log
}

func shutdown(t *testing.T, e *Exporter) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.Shutdown(ctx)
}

// TestEncoding: each protocol, with and without gzip, delivers the fixture
// field by field, with the right content headers and the configured ones.
func TestEncoding(t *testing.T) {
	for _, tc := range []struct {
		protocol, contentType string
		gzip                  bool
	}{
		{ProtocolProtobuf, "application/x-protobuf", false},
		{ProtocolProtobuf, "application/x-protobuf", true},
		{ProtocolJSON, "application/json", false},
		{ProtocolJSON, "application/json", true},
	} {
		t.Run(fmt.Sprintf("%s,gzip=%v", tc.protocol, tc.gzip), func(t *testing.T) {
			rc := newReceiver(t, nil)
			e, _ := newExporter(t, Config{Endpoint: rc.url(), Protocol: tc.protocol, Gzip: tc.gzip,
				Headers: map[string]string{"X-Tenant": "acme"}})
			if err := e.Export(context.Background(), fixture()); err != nil {
				t.Fatal(err)
			}
			if err := shutdown(t, e); err != nil {
				t.Fatal(err)
			}
			n, spans, _ := rc.snapshot()
			if n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			compareSpans(t, spans, wantFixture())
			h := rc.headers[0]
			if h.Get("Content-Type") != tc.contentType || h.Get("X-Tenant") != "acme" ||
				(h.Get("Content-Encoding") == "gzip") != tc.gzip {
				t.Errorf("headers %v", h)
			}
			if st := e.Stats(); st.Sent != 3 || st.Requests != 1 || st.Dropped+st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestRetryStatuses: 429, 502, 503 and 504 are retried until accepted and
// the batch arrives once; other failures are not retried.
func TestRetryStatuses(t *testing.T) {
	for _, tc := range []struct {
		status   int
		retried  bool
		requests int
	}{
		{http.StatusTooManyRequests, true, 3},
		{http.StatusBadGateway, true, 3},
		{http.StatusServiceUnavailable, true, 3},
		{http.StatusGatewayTimeout, true, 3},
		{http.StatusBadRequest, false, 1},
		{http.StatusInternalServerError, false, 1},
		{http.StatusUnauthorized, false, 1},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) (int, string) {
				if n <= 2 {
					return tc.status, ""
				}
				return http.StatusOK, ""
			})
			e, log := newExporter(t, Config{Endpoint: rc.url()})
			e.Export(context.Background(), fixture())
			err := shutdown(t, e)
			n, spans, _ := rc.snapshot()
			if n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			st := e.Stats()
			if tc.retried {
				compareSpans(t, spans, wantFixture())
				if st.Sent != 3 || st.Retries != 2 || err != nil {
					t.Errorf("stats %+v, shutdown error %v", st, err)
				}
			} else {
				if len(spans) != 0 || st.Failed != 3 || st.Retries != 0 {
					t.Errorf("%d spans accepted, stats %+v", len(spans), st)
				}
				if !strings.Contains(log.String()+fmt.Sprint(err), fmt.Sprint(tc.status)) {
					t.Errorf("neither warning nor error names the status: %q, %v", log.String(), err)
				}
			}
			if lines := strings.Count(log.String(), "\n"); lines > 1 {
				t.Errorf("%d warning lines, want at most 1:\n%s", lines, log)
			}
		})
	}
}

// TestRetryAfter: the server's Retry-After wins over the (much shorter)
// backoff.
func TestRetryAfter(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) (int, string) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusOK, ""
	})
	e, _ := newExporter(t, Config{Endpoint: rc.url()})
	e.Export(context.Background(), fixture())
	deadline := time.Now().Add(5 * time.Second)
	for e.Stats().Sent != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if gap := rc.times[1].Sub(rc.times[0]); gap < 950*time.Millisecond {
		t.Errorf("retried after %v, want Retry-After's 1s", gap)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {" 2 ", 2 * time.Second}, {"-3", 0}, {"soon", 0},
		{"Thu, 01 Jan 2026 00:00:30 GMT", 30 * time.Second}, {"86400", maxRetryAfter},
	} {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for try, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		want *= time.Millisecond
		for i := 0; i < 50; i++ {
			if d := backoff(try, lo, hi); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", try, d, want/2, want)
			}
		}
	}
	if d := backoff(1000, lo, hi); d > hi {
		t.Errorf("backoff(1000) = %v, over the cap", d)
	}
}

// TestAtMostOnce: a server that took the whole request and did not answer
// within the timeout may have the batch, so it is not sent again; the
// next batch is delivered normally.
func TestAtMostOnce(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) (int, string) {
		if n == 1 {
			<-release // read the body, then no answer until the client gave up
		}
		return http.StatusOK, ""
	})
	defer close(release)
	e, log := newExporter(t, Config{Endpoint: rc.url(), Timeout: 200 * time.Millisecond})
	recs := fixture()
	e.Export(context.Background(), recs[:1])
	waitFor(t, "the first batch to fail", func() bool { return e.Stats().Failed == 1 })
	e.Export(context.Background(), recs[1:])
	if err := shutdown(t, e); err != nil {
		t.Fatal(err)
	}
	n, _, seen := rc.snapshot()
	if n != 2 {
		t.Errorf("%d requests, want 2 (no resend of the first batch)", n)
	}
	if got := strings.Join(spanIDs(seen), ","); got != "0102030405060708,0909090909090909,00f067aa0ba902b7" &&
		got != "00f067aa0ba902b7,0102030405060708,0909090909090909" {
		t.Errorf("server saw spans %s, each once expected", got)
	}
	if st := e.Stats(); st.Sent != 2 || st.Failed != 1 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(log.String(), "not resent") {
		t.Errorf("warning %q", log)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOutage: while nothing listens, spans queue up to the limit (the rest
// are dropped and counted) and are delivered once, in full, when a server
// comes up on the address.
func TestOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connection refused from now on
	e, log := newExporter(t, Config{Endpoint: "http://" + addr + "/v1/traces", QueueSize: 10, BatchSize: 4})
	var sent []*record.Record
	for i := 0; i < 25; i++ {
		r := fixture()[0]
		r.SpanID[0] = byte(i + 1)
		sent = append(sent, r)
	}
	e.Export(context.Background(), sent[:5])
	waitFor(t, "retries against the closed port", func() bool { return e.Stats().Retries >= 2 })
	// The senders hold a batch of 4 each at most; the queue 10 more.
	for i := 5; i < 25; i += 5 {
		e.Export(context.Background(), sent[i:i+5])
	}
	st := e.Stats()
	if st.Sent != 0 || st.Dropped < 25-10-2*4 {
		t.Errorf("during the outage: stats %+v, want at least 7 dropped", st)
	}
	kept := 25 - st.Dropped
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	rc := &receiver{t: t}
	srv := &http.Server{Handler: http.HandlerFunc(rc.serve)}
	go srv.Serve(ln)
	defer srv.Close()
	waitFor(t, "delivery after the outage", func() bool { return e.Stats().Sent == kept })
	if err := shutdown(t, e); err != nil {
		t.Fatal(err)
	}
	_, spans, seen := rc.snapshot()
	if uint64(len(spans)) != kept || uint64(len(seen)) != kept {
		t.Errorf("%d spans accepted, %d seen, want the %d kept", len(spans), len(seen), kept)
	}
	ids := map[string]bool{}
	for _, s := range seen {
		if ids[s.SpanID] {
			t.Errorf("span %s delivered twice", s.SpanID)
		}
		ids[s.SpanID] = true
	}
	for _, r := range sent[:14] { // the oldest spans are kept: drops hit those that find the queue full
		if !ids[r.SpanID.String()] {
			t.Errorf("span %s, queued during the outage, not delivered", r.SpanID)
		}
	}
	if lines := strings.Count(log.String(), "\n"); lines != 1 {
		t.Errorf("%d warning lines in the outage, want 1:\n%s", lines, log)
	}
}

// TestSlowEndpoint: an endpoint that accepts and never answers holds up
// neither Export nor, past its deadline, Shutdown; memory stays bounded by
// the queue.
func TestSlowEndpoint(t *testing.T) {
	hang := make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-hang; c.Close() }()
		}
	}()
	defer close(hang)
	e, _ := newExporter(t, Config{Endpoint: "http://" + ln.Addr().String() + "/v1/traces", QueueSize: 100})
	start := time.Now()
	for i := 0; i < 1000; i++ {
		e.Export(context.Background(), fixture())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("3000 spans took %v to export to a hanging endpoint", d)
	}
	e.warn.Reset() // the queue-full warning took this minute's line; let Shutdown report
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = e.Shutdown(ctx)
	if d := time.Since(start); d > 800*time.Millisecond {
		t.Errorf("Shutdown took %v with a 300ms deadline", d)
	}
	if !errors.Is(err, ErrUndelivered) {
		t.Errorf("Shutdown: %v, want ErrUndelivered", err)
	}
	st := e.Stats()
	if st.Sent != 0 || st.Dropped+st.Failed != 3000 {
		t.Errorf("stats %+v: every span should be dropped or failed", st)
	}
}

// TestCredentialsNeverLogged: header values and URL user information stay
// out of warnings and errors, even when the server echoes them back.
func TestCredentialsNeverLogged(t *testing.T) {
	const secret = "Bearer sk-live-0123456789"
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) (int, string) {
		w.Header().Set("Content-Type", "text/plain")
		return http.StatusUnauthorized, fmt.Sprintf("bad credentials %q", r.Header.Get("Authorization"))
	})
	u := strings.Replace(rc.url(), "http://", "http://user:hunter2@", 1) + "?api_key=abc123"
	e, log := newExporter(t, Config{Endpoint: u, Headers: map[string]string{"Authorization": secret}})
	e.Export(context.Background(), fixture())
	waitFor(t, "the rejection", func() bool { return e.Stats().Failed == 3 })
	e.Export(context.Background(), fixture())
	e.warn.Reset() // let Shutdown report
	err := shutdown(t, e)
	all := log.String() + fmt.Sprint(err)
	if !strings.Contains(log.String(), "401") || !strings.Contains(log.String(), "[redacted]") {
		t.Errorf("warning %q should name the status and show the echo redacted", log)
	}
	for _, leak := range []string{"sk-live", "hunter2", "abc123"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked: %s", leak, all)
		}
	}
	_, err = ConfigFromEnv(mapEnv{"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=" + secret + ",bad key=sk-live-2"}.lookup)
	if err == nil || strings.Contains(err.Error(), "sk-live") {
		t.Errorf("bad header list: %v", err)
	}
}

// TestBlocking: with Config.Blocking, Export waits for room instead of
// dropping, and nothing is lost.
func TestBlocking(t *testing.T) {
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) (int, string) {
		time.Sleep(5 * time.Millisecond)
		return http.StatusOK, ""
	})
	e, _ := newExporter(t, Config{Endpoint: rc.url(), QueueSize: 8, BatchSize: 4, Blocking: true})
	for i := 0; i < 20; i++ {
		e.Export(context.Background(), fixture())
	}
	if err := shutdown(t, e); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Sent != 60 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 60 sent, 0 dropped", st)
	}
}

// TestIdleLeavesNoGoroutine: after a batch and Idle, the exporter holds no
// goroutine (no sender, no idle connection).
func TestIdleLeavesNoGoroutine(t *testing.T) {
	rc := newReceiver(t, nil)
	before := goleak.IgnoreCurrent()
	e, _ := newExporter(t, Config{Endpoint: rc.url()})
	e.Export(context.Background(), fixture())
	waitFor(t, "delivery", func() bool { return e.Stats().Sent == 3 })
	e.Idle(context.Background())
	if err := goleak.Find(before); err != nil {
		t.Error(err)
	}
	e.Export(context.Background(), fixture()) // works again after Idle
	if err := shutdown(t, e); err != nil || e.Stats().Sent != 6 {
		t.Errorf("after Idle: %v, stats %+v", err, e.Stats())
	}
	if err := e.Export(context.Background(), fixture()); !errors.Is(err, errShutDown) {
		t.Errorf("Export after Shutdown: %v", err)
	}
}

// TestPartialSuccess: spans a 200 answer reports rejected are counted.
func TestPartialSuccess(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) (int, string) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		// ExportTraceServiceResponse{partial_success: {rejected_spans: 2, error_message: "too old"}}
		return http.StatusOK, string([]byte{0x0a, 0x0b, 0x08, 0x02, 0x12, 0x07, 't', 'o', 'o', ' ', 'o', 'l', 'd'})
	})
	e, log := newExporter(t, Config{Endpoint: rc.url()})
	e.Export(context.Background(), fixture())
	err := shutdown(t, e)
	if st := e.Stats(); st.Sent != 1 || st.Rejected != 2 {
		t.Errorf("stats %+v, want 1 sent, 2 rejected", st)
	}
	if !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "too old") || log.String() != "" {
		t.Errorf("Shutdown error %v, warnings %q: want the rejection in the error alone", err, log)
	}
}

func TestWarnerOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	w := &ratelog.Logger{W: &buf, Prefix: "otlp exporter", Interval: time.Minute, Now: func() time.Time { return now }}
	for _, step := range []time.Duration{0, time.Second, 58 * time.Second, time.Second, time.Second} {
		now = now.Add(step)
		w.Printf("failed")
	}
	want := "tracegen: otlp exporter: failed\ntracegen: otlp exporter: failed (2 more warnings in the last 1m0s not shown)\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// TestBlockingOutage: with Config.Blocking, an endpoint that is down does
// not stall Export: once a request failed, spans that do not fit are
// dropped.
func TestBlockingOutage(t *testing.T) {
	e, _ := newExporter(t, Config{Endpoint: "http://" + freeAddr(t) + "/v1/traces", QueueSize: 8, BatchSize: 4, Blocking: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			e.Export(context.Background(), fixture())
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Export blocked on an endpoint that is down")
	}
	if st := e.Stats(); st.Dropped == 0 || st.Sent != 0 {
		t.Errorf("stats %+v, want drops", st)
	}
}

// TestOddContent: invalid UTF-8 does not lose the batch (protobuf refuses
// it, so it is replaced), and a batch over the body limit is split.
func TestOddContent(t *testing.T) {
	defer func(m int) { maxBody = m }(maxBody)
	maxBody = 4000
	rc := newReceiver(t, nil)
	e, log := newExporter(t, Config{Endpoint: rc.url()})
	recs := fixture()
	recs[0].Name = "bad \xff name"
	recs[1].Attrs = append(recs[1].Attrs, record.String("big", strings.Repeat("x", 3000)))
	e.Export(context.Background(), recs)
	if err := shutdown(t, e); err != nil {
		t.Fatal(err)
	}
	n, spans, _ := rc.snapshot()
	if n < 2 || len(spans) != 3 {
		t.Fatalf("%d requests, %d spans; want the batch split, every span delivered (log %q)", n, len(spans), log)
	}
	for _, s := range spans {
		if s.SpanID == "00f067aa0ba902b7" && s.Name != "bad \uFFFD name" {
			t.Errorf("name %q", s.Name)
		}
	}
}
