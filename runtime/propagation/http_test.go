package propagation_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/propagation"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

const (
	tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	sid = "00f067aa0ba902b7"
)

// seen is what a test server received.
type seen struct {
	mu                      sync.Mutex
	method, body, ctype     string
	traceparent, state, bag string
	n                       int
}

func (s *seen) get() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seen{method: s.method, body: s.body, ctype: s.ctype, traceparent: s.traceparent, state: s.state, bag: s.bag, n: s.n}
}

// server is a real HTTP server on 127.0.0.1 that records each request.
func server(t *testing.T, h http.Handler) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.method, s.body, s.ctype, s.n = r.Method, string(b), r.Header.Get("Content-Type"), s.n+1
		s.traceparent, s.state, s.bag = r.Header.Get("traceparent"), r.Header.Get("tracestate"), r.Header.Get("baggage")
		s.mu.Unlock()
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

// countingTransport counts the requests a client sends through it.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestClientCalls: every call form tracegen rewrites sends the request the
// original sends, through the same client, as a client span beneath the
// caller's span whose ids its traceparent carries.
func TestClientCalls(t *testing.T) {
	srv, got := server(t, nil)
	ct := &countingTransport{}
	c := &http.Client{Transport: ct}
	form := url.Values{"q": {"a b"}}
	tests := []struct {
		name, method, body, ctype string
		viaClient                 bool
		call                      func() (*http.Response, error)
	}{
		{"http.Get", "GET", "", "", false, func() (*http.Response, error) { return propagation.Get(http.Get, srv.URL) }},
		{"client.Get", "GET", "", "", true, func() (*http.Response, error) { return propagation.Get(c.Get, srv.URL) }},
		{"http.Head", "HEAD", "", "", false, func() (*http.Response, error) { return propagation.Head(http.Head, srv.URL) }},
		{"client.Head", "HEAD", "", "", true, func() (*http.Response, error) { return propagation.Head(c.Head, srv.URL) }},
		{"http.Post", "POST", "x=1", "text/plain", false, func() (*http.Response, error) {
			return propagation.Post(http.Post, srv.URL, "text/plain", strings.NewReader("x=1"))
		}},
		{"client.Post", "POST", "x=1", "text/plain", true, func() (*http.Response, error) {
			return propagation.Post(c.Post, srv.URL, "text/plain", strings.NewReader("x=1"))
		}},
		{"http.PostForm", "POST", "q=a+b", "application/x-www-form-urlencoded", false, func() (*http.Response, error) {
			return propagation.PostForm(http.PostForm, srv.URL, form)
		}},
		{"client.PostForm", "POST", "q=a+b", "application/x-www-form-urlencoded", true, func() (*http.Response, error) {
			return propagation.PostForm(c.PostForm, srv.URL, form)
		}},
		{"http.DefaultClient.Get", "GET", "", "", false, func() (*http.Response, error) { return propagation.Get(http.DefaultClient.Get, srv.URL) }},
		{"client.Do", "PUT", "", "", true, func() (*http.Response, error) {
			req, _ := http.NewRequest("PUT", srv.URL+"/x?token=secret", nil)
			return propagation.Do(c.Do, req)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			before := ct.n
			parent := trace.Begin("caller")
			resp, err := tc.call()
			parent.End()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := got.get()
			if s.method != tc.method || s.body != tc.body || s.ctype != tc.ctype {
				t.Errorf("server got %s %q (%s), want %s %q (%s)", s.method, s.body, s.ctype, tc.method, tc.body, tc.ctype)
			}
			if via := ct.n > before; via != tc.viaClient {
				t.Errorf("sent through the test's client: %v, want %v", via, tc.viaClient)
			}
			cs := rec.Span(tc.method)
			caller := rec.Span("caller")
			if cs.Kind != record.KindClient || cs.ParentSpanID != caller.SpanID || cs.TraceID != caller.TraceID {
				t.Errorf("client span kind %s parent %s, want client under %s", cs.Kind, cs.ParentSpanID, caller.SpanID)
			}
			if want := "00-" + cs.TraceID.String() + "-" + cs.SpanID.String() + "-01"; s.traceparent != want {
				t.Errorf("traceparent %q, want %q", s.traceparent, want)
			}
			if v, _ := cs.Lookup("http.response.status_code"); v.Int64() != 200 {
				t.Errorf("status code attribute %v", v)
			}
			if v, _ := cs.Lookup("url.full"); strings.Contains(v.Str(), "secret") || !strings.HasPrefix(v.Str(), srv.URL) {
				t.Errorf("url.full = %q", v.Str())
			}
		})
	}
}

// TestRequestLeftAlone: a request that carries a traceparent already, and
// any request while tracing is off, goes as it is, and the caller's
// request is never changed.
func TestRequestLeftAlone(t *testing.T) {
	srv, got := server(t, nil)
	const own = "00-11111111111111111111111111111111-2222222222222222-01"
	t.Run("own traceparent", func(t *testing.T) {
		rec := tracetest.NewRecorder(t)
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("traceparent", own)
		resp, err := propagation.Do(http.DefaultClient.Do, req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s := got.get(); s.traceparent != own {
			t.Errorf("traceparent %q, want the program's own", s.traceparent)
		}
		if n := len(rec.Spans()); n != 0 {
			t.Errorf("%d spans for a request the program propagates itself", n)
		}
	})
	t.Run("caller's request unchanged", func(t *testing.T) {
		tracetest.NewRecorder(t)
		req, _ := http.NewRequest("GET", srv.URL, nil)
		resp, err := propagation.Do(http.DefaultClient.Do, req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Header.Get("traceparent") != "" || got.get().traceparent == "" {
			t.Errorf("caller's header %q, sent %q", req.Header.Get("traceparent"), got.get().traceparent)
		}
	})
	t.Run("tracing off", func(t *testing.T) {
		t.Cleanup(trace.Override(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}}))
		resp, err := propagation.Get(http.Get, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s := got.get(); s.traceparent != "" {
			t.Errorf("traceparent %q sent with tracing off", s.traceparent)
		}
	})
}

// TestClientErrors: a failed request and an error status mark the client
// span failed; the message has no query string.
func TestClientErrors(t *testing.T) {
	srv, _ := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	rec := tracetest.NewRecorder(t)
	resp, err := propagation.Get(http.Get, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := rec.Span("GET")
	if v, _ := cs.Lookup("error.type"); cs.Status != record.StatusError || v.Str() != "503" {
		t.Errorf("503: status %s error.type %q", cs.Status, v.Str())
	}
	rec.Reset()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := propagation.Get(http.Get, dead.URL+"/?api_key=secret"); err == nil {
		t.Fatal("no error from a closed server")
	}
	cs = rec.Span("GET")
	if cs.Status != record.StatusError || strings.Contains(cs.StatusMsg, "secret") || !strings.Contains(cs.StatusMsg, "connect") {
		t.Errorf("failed request: status %s message %q", cs.Status, cs.StatusMsg)
	}
}

// TestHandlerJoins: Handler joins the caller's trace, hands tracestate and
// baggage on to requests made beneath, and an unsampled caller leads to an
// unsampled callee that still propagates the trace.
func TestHandlerJoins(t *testing.T) {
	downstream, down := server(t, nil)
	inner := make(chan bool, 1) // whether the handler's request carries a span
	h := propagation.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never blocks, even after a failed subtest left a value
		case inner <- trace.SpanFromContext(r.Context()) != nil:
		default:
		}
		work := trace.Define("work").Start(propagation.Context(r))
		req, _ := http.NewRequestWithContext(r.Context(), "GET", downstream.URL, nil)
		resp, err := propagation.Do(http.DefaultClient.Do, req)
		if err == nil {
			resp.Body.Close()
		}
		work.End()
		w.WriteHeader(http.StatusAccepted)
	}))
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	for _, sampled := range []bool{true, false} {
		t.Run(map[bool]string{true: "sampled", false: "unsampled"}[sampled], func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			flags := map[bool]string{true: "01", false: "00"}[sampled]
			req, _ := http.NewRequest("POST", front.URL, nil)
			req.Header.Set("traceparent", "00-"+tid+"-"+sid+"-"+flags)
			req.Header.Set("tracestate", "vendor=abc")
			req.Header.Set("baggage", "user=alice")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !sampled {
				<-inner
			}
			d := down.get()
			if !strings.HasPrefix(d.traceparent, "00-"+tid+"-") || !strings.HasSuffix(d.traceparent, "-"+flags) {
				t.Errorf("downstream traceparent %q, want trace %s flags %s", d.traceparent, tid, flags)
			}
			if d.state != "vendor=abc" || d.bag != "user=alice" {
				t.Errorf("downstream tracestate %q baggage %q", d.state, d.bag)
			}
			if !sampled {
				if n := len(rec.Spans()); n != 0 {
					t.Errorf("%d spans recorded for an unsampled caller", n)
				}
				return
			}
			srvSpan := rec.Span("POST")
			if srvSpan.Kind != record.KindServer || srvSpan.TraceID.String() != tid || srvSpan.ParentSpanID.String() != sid || !srvSpan.RemoteParent {
				t.Errorf("server span %s trace %s parent %s remote %v", srvSpan.Kind, srvSpan.TraceID, srvSpan.ParentSpanID, srvSpan.RemoteParent)
			}
			if v, _ := srvSpan.Lookup("http.response.status_code"); v.Int64() != 202 {
				t.Errorf("server status %v", v)
			}
			work, cs := rec.Span("work"), rec.Span("GET")
			if work.ParentSpanID != srvSpan.SpanID || cs.ParentSpanID != work.SpanID {
				t.Errorf("work under %s, client under %s; want server %s, work %s", work.ParentSpanID, cs.ParentSpanID, srvSpan.SpanID, work.SpanID)
			}
			if !strings.Contains(d.traceparent, cs.SpanID.String()) {
				t.Errorf("downstream parent %q is not the client span %s", d.traceparent, cs.SpanID)
			}
			if !<-inner {
				t.Error("the handler's request carries no span")
			}
		})
	}
}

// TestTransport: the RoundTripper for code built without tracegen.
func TestTransport(t *testing.T) {
	srv, got := server(t, nil)
	rec := tracetest.NewRecorder(t)
	c := &http.Client{Transport: propagation.Transport(nil)}
	ctx, parent := trace.Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	cs := rec.Span("GET")
	if cs.ParentSpanID != parent.SpanID() || !strings.Contains(got.get().traceparent, cs.SpanID.String()) {
		t.Errorf("client span under %s, traceparent %q", cs.ParentSpanID, got.get().traceparent)
	}
}

// TestHandlerWriter: the wrapped writer passes Flush through (a streaming
// handler still streams) and a 5xx marks the span failed.
func TestHandlerWriter(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	flushed := make(chan bool, 1)
	srv := httptest.NewServer(propagation.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := w.(http.Flusher)
		flushed <- ok
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		w.WriteHeader(http.StatusInternalServerError) // ignored: the header is sent
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !<-flushed || string(b) != "partial" || resp.StatusCode != 200 {
		t.Errorf("flusher %v body %q status %d", flushed, b, resp.StatusCode)
	}
	s := rec.Span("GET")
	if v, _ := s.Lookup("http.response.status_code"); v.Int64() != 200 || s.Status == record.StatusError {
		t.Errorf("status %v %s, want 200 and no error", v, s.Status)
	}
}

// TestContextJoins: what generated code does in a traced handler,
// def.Start(propagation.Context(r)), joins the caller's trace; without a
// traceparent, or with an invalid one, the span starts a trace of its own.
func TestContextJoins(t *testing.T) {
	def := trace.Define("handle", trace.KindServer)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		def.Start(propagation.Context(r)).End()
	}))
	defer srv.Close()
	tests := []struct {
		name, traceparent string
		joins             bool
	}{
		{"valid", "00-" + tid + "-" + sid + "-01", true},
		{"none", "", false},
		{"version ff", "ff-" + tid + "-" + sid + "-01", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tc.traceparent != "" {
				req.Header.Set("traceparent", tc.traceparent)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := rec.Span("handle")
			joined := s.TraceID.String() == tid && s.ParentSpanID.String() == sid && s.RemoteParent
			if joined != tc.joins || !tc.joins && s.ParentSpanID.IsValid() {
				t.Errorf("trace %s parent %s remote %v, want joined=%v", s.TraceID, s.ParentSpanID, s.RemoteParent, tc.joins)
			}
		})
	}
}
