package llmhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/genai"
	"github.com/tracegen-dev/tracegen/runtime/propagation"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Transport is an http.RoundTripper that traces the LLM requests it
// recognises and passes every request to Base. The zero value uses
// http.DefaultTransport. It is safe for concurrent use.
type Transport struct {
	// Base carries the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// Wrap returns a shallow copy of c whose transport is wrapped in a
// Transport (c itself is not changed). A nil c wraps a zero http.Client.
// Wrapping twice does not trace twice.
func Wrap(c *http.Client) *http.Client {
	quietSDKSpans()
	if c == nil {
		c = &http.Client{}
	}
	cp := *c
	if _, ok := cp.Transport.(*Transport); !ok {
		cp.Transport = &Transport{Base: cp.Transport}
	}
	return &cp
}

// NewClient returns an http.Client over a Transport on http.DefaultTransport.
func NewClient() *http.Client { return Wrap(nil) }

// sdkSpanEnv are the switches of SDKs that make their own OpenTelemetry
// span for each call (anthropic-sdk-go reads its variable on every request).
// The transport's span is the call's span, so it turns them off, once,
// unless the user set the variable.
var sdkSpanEnv = [][2]string{{"ANTHROPIC_OPEN_TELEMETRY", "false"}}

var quietOnce sync.Once

func quietSDKSpans() {
	quietOnce.Do(func() {
		for _, kv := range sdkSpanEnv {
			if _, set := os.LookupEnv(kv[0]); !set {
				os.Setenv(kv[0], kv[1])
			}
		}
	})
}

// sink receives what the transport learns: a *genai.Call.
type sink interface {
	FirstChunk()
	SetResponse(genai.Response)
	SetAttr(key string, value any)
	End(err error)
}

// startCall, currentCall and tracingOn are variables so tests can observe
// calls without a span pipeline.
var (
	tracingOn = trace.Enabled
	startCall = func(ctx context.Context, req genai.Request) (context.Context, sink) {
		ctx, c := genai.Start(ctx, req)
		if c == nil {
			return ctx, nil
		}
		return ctx, c
	}
	currentCall = func(ctx context.Context) sink {
		if c := genai.FromContext(ctx); c != nil {
			return c
		}
		return nil
	}
)

// maxRequestBody bounds the request bytes buffered for parsing; larger
// bodies are forwarded unparsed (the call still gets a span from the URL).
const maxRequestBody = 8 << 20

// maxJSONBody bounds a non-streamed response body kept for parsing.
const maxJSONBody = 8 << 20

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	quietSDKSpans()
	tg, ok := recognise(req)
	if !ok || !tracingOn() {
		return base.RoundTrip(req)
	}
	ctx := req.Context()
	out := req.Clone(ctx)
	if err := bufferBody(req, out, &tg); err != nil {
		return nil, err
	}

	// The OpenAI paths (/chat/completions, /responses, ...) are common words:
	// on a host not known to serve an LLM API, trace only requests that name
	// a model.
	if tg.format == fmtOpenAI && tg.model == "" && !tg.knownHost {
		return base.RoundTrip(out)
	}

	s, owner := currentCall(ctx), false
	if s == nil {
		attrs, input := startAttrs(req, &tg)
		ctx, s = startCall(ctx, genai.Request{Provider: tg.provider, Operation: tg.operation, Model: tg.model,
			Stream: tg.stream, Input: input, Attrs: attrs})
		if s == nil { // tracing is off
			return base.RoundTrip(out)
		}
		owner = true
		out = out.WithContext(ctx)
	}
	s.SetAttr("tracegen.transport", "llmhttp")
	// The provider sees the call's trace (W3C traceparent), unless the
	// request carries one already.
	if len(out.Header.Values(propagation.TraceparentHeader)) == 0 {
		if tc, ok := propagation.FromContext(out.Context()); ok {
			propagation.Inject(out.Header, tc)
		}
	}

	resp, err := base.RoundTrip(out)
	if err != nil {
		if owner {
			s.End(err)
		}
		return resp, err
	}
	if resp.StatusCode >= 400 {
		s.SetAttr("http.response.status_code", resp.StatusCode)
	}
	watch(resp, s, owner, tg)
	return resp, nil
}

// watch replaces resp.Body with the parsing tee that finishes the call.
func watch(resp *http.Response, s sink, owner bool, tg target) {
	b := &bodyState{s: s, owner: owner, tg: tg, status: resp.StatusCode,
		contentType: strings.ToLower(resp.Header.Get("Content-Type")),
		gzipped:     !resp.Uncompressed && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip")}
	b.acc.format, b.acc.invoke = tg.format, tg.invoke
	b.sse.emit = b.acc.event
	if tg.invoke {
		// InvokeModel reports usage in headers for every model.
		in, e1 := strconv.ParseInt(resp.Header.Get("X-Amzn-Bedrock-Input-Token-Count"), 10, 64)
		out, e2 := strconv.ParseInt(resp.Header.Get("X-Amzn-Bedrock-Output-Token-Count"), 10, 64)
		if e1 == nil && e2 == nil {
			b.acc.resp.InputTokens, b.acc.resp.OutputTokens, b.acc.resp.UsageKnown = in, out, true
		}
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		b.finish(nil)
		return
	}
	wrapped := &body{rc: resp.Body, bodyState: b}
	// A body dropped unread and unclosed still ends its call. (A finalizer,
	// not runtime.AddCleanup, which needs Go 1.24: the runtime module is go
	// 1.23. bodyState never points back to the body, so no cycle keeps it.)
	runtime.SetFinalizer(wrapped, func(w *body) { w.abandon() })
	resp.Body = wrapped
}

// bufferBody reads the request body (up to maxRequestBody) into tg and
// gives out a body with the same bytes; a longer body is forwarded
// unparsed.
func bufferBody(req, out *http.Request, tg *target) error {
	if req.Body == nil || req.Body == http.NoBody {
		if tg.format == fmtOllama && tg.operation != "embeddings" {
			tg.stream = true // Ollama streams unless told not to
		}
		return nil
	}
	prefix, rest, err := readPrefix(req.Body, maxRequestBody)
	if err != nil {
		req.Body.Close()
		return fmt.Errorf("llmhttp: reading request body: %w", err)
	}
	if rest != nil {
		out.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(prefix), rest), rest}
		return nil
	}
	tg.readRequest(prefix)
	out.Body = io.NopCloser(bytes.NewReader(prefix))
	out.ContentLength = int64(len(prefix))
	if req.GetBody == nil {
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(prefix)), nil }
	}
	return nil
}

// startAttrs are the span attributes known at the start (server address
// and port, request settings) and the captured input in the GenAI message
// schema (raw JSON when the shape is unknown).
func startAttrs(req *http.Request, tg *target) ([]record.Attr, any) {
	attrs := make([]record.Attr, 0, 8)
	if h := req.URL.Hostname(); h != "" {
		attrs = append(attrs, record.String("server.address", h))
	}
	if p := req.URL.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			attrs = append(attrs, record.Int("server.port", n))
		}
	}
	for _, k := range []string{"gen_ai.request.max_tokens", "gen_ai.request.temperature", "gen_ai.request.top_p"} {
		if v, ok := tg.attrs[k]; ok {
			attrs = append(attrs, record.Any(k, v))
		}
	}
	var input any
	if len(tg.input) > 0 {
		if msgs := inputMessages(tg.input); msgs != nil {
			input = msgs
		} else {
			input = string(tg.input)
		}
	}
	return attrs, input
}

// readPrefix reads up to max bytes. If the body is longer, rest is the body
// positioned after the prefix.
func readPrefix(rc io.ReadCloser, max int64) (prefix []byte, rest io.ReadCloser, err error) {
	prefix, err = io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(prefix)) <= max {
		rc.Close()
		return prefix, nil, nil
	}
	return prefix, rc, nil
}

// StatusError is the error a call traced by the transport ends with when the
// provider answered with an HTTP error status.
type StatusError struct {
	Code    int
	Type    string // the provider's error type or code, when the body says
	Message string
}

func (e *StatusError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("llm http status %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("llm http status %d", e.Code)
}

// ErrorType is the low-cardinality error.type: the HTTP status code.
func (e *StatusError) ErrorType() string { return strconv.Itoa(e.Code) }

// StreamError is the error a call ends with when a successful response
// carried an error event (an SSE error, an event-stream exception).
type StreamError struct {
	Type, Message string
}

func (e *StreamError) Error() string { return "llm stream error: " + e.Type + ": " + e.Message }

// ErrorType is the provider's error type.
func (e *StreamError) ErrorType() string { return e.Type }

// wire modes of a response body.
const (
	modeUndecided = iota
	modeJSON
	modeSSE
	modeNDJSON
	modeEventStream
	modeGzip // compressed: buffered, inflated and parsed at the end
)

// body tees a response body into its state's accumulator and finishes the
// call on EOF, error or Close, whichever comes first. A body dropped without
// either is finished by a cleanup when it is garbage collected, marked
// tracegen.stream.abandoned.
type body struct {
	rc io.ReadCloser
	*bodyState
}

// bodyState is everything the parse needs; it does not point back to the
// body, so that the body can be collected.
type bodyState struct {
	s           sink
	owner       bool
	tg          target
	status      int
	contentType string
	gzipped     bool

	mu       sync.Mutex
	mode     int
	acc      accumulator
	jsonBuf  []byte
	jsonOver bool
	lines    lineSplitter
	sse      sseParser
	es       esDecoder
	first    bool
	finished bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.feed(p[:n])
	}
	if err == io.EOF {
		b.finish(nil)
	} else if err != nil {
		b.finish(err)
	}
	return n, err
}

func (b *body) Close() error {
	err := b.rc.Close()
	b.finish(nil)
	return err
}

func (b *bodyState) feed(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	if !b.first {
		b.first = true
		if b.tg.stream && b.status < 400 {
			b.s.FirstChunk()
		}
	}
	if b.mode == modeUndecided {
		if b.gzipped {
			b.mode = modeGzip
		} else {
			b.mode = b.decide(p)
		}
	}
	b.consume(p)
}

// consume parses p in the current mode; b.mu is held.
func (b *bodyState) consume(p []byte) {
	switch b.mode {
	case modeEventStream:
		for _, m := range b.es.feed(p) {
			switch m.headers[":message-type"] {
			case "exception", "error":
				t := firstNonEmpty(m.headers[":exception-type"], m.headers[":error-code"], "_OTHER")
				b.acc.errType, b.acc.errMsg = t, string(m.payload)
			default:
				b.acc.event(m.headers[":event-type"], m.payload)
			}
		}
	case modeSSE:
		b.lines.feed(p, b.sse.line)
	case modeNDJSON:
		b.lines.feed(p, func(l []byte) { b.acc.event("", bytes.TrimSpace(l)) })
	default: // modeJSON, modeGzip
		if !b.jsonOver {
			if len(b.jsonBuf)+len(p) > maxJSONBody {
				b.jsonOver, b.jsonBuf = true, nil
			} else {
				b.jsonBuf = append(b.jsonBuf, p...)
			}
		}
	}
}

// abandon finishes a call whose body was dropped unread and unclosed.
func (b *bodyState) abandon() {
	b.mu.Lock()
	done := b.finished
	b.mu.Unlock()
	if !done {
		b.s.SetAttr(genai.AttrStreamAbandoned, true)
		b.finish(nil)
	}
}

// inflate parses a gzip body buffered whole; b.mu is held.
func (b *bodyState) inflate() {
	zr, err := gzip.NewReader(bytes.NewReader(b.jsonBuf))
	b.jsonBuf = nil
	if err != nil {
		return
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxJSONBody))
	if err != nil && len(plain) == 0 {
		return
	}
	b.mode = b.decide(plain)
	b.consume(plain)
	b.flushPending()
}

// flushPending hands what is still buffered in the current wire mode to the
// accumulator: the last SSE event or NDJSON line, or the whole JSON body.
func (b *bodyState) flushPending() {
	switch b.mode {
	case modeSSE:
		b.lines.flush(b.sse.line)
		b.sse.dispatch()
	case modeNDJSON:
		b.lines.flush(func(l []byte) { b.acc.event("", bytes.TrimSpace(l)) })
	case modeJSON:
		b.acc.event("", bytes.TrimSpace(b.jsonBuf))
		b.jsonBuf = nil
	}
}

// decide picks the wire mode from the Content-Type, else from the first bytes.
func (b *bodyState) decide(p []byte) int {
	ct := b.contentType
	switch {
	case strings.Contains(ct, "vnd.amazon.eventstream"):
		return modeEventStream
	case strings.Contains(ct, "event-stream"):
		return modeSSE
	case strings.Contains(ct, "ndjson"), strings.Contains(ct, "jsonl"):
		return modeNDJSON
	}
	t := bytes.TrimLeft(p, " \t\r\n")
	switch {
	case bytes.HasPrefix(t, []byte("data:")), bytes.HasPrefix(t, []byte("event:")), bytes.HasPrefix(t, []byte(":")):
		return modeSSE
	case b.tg.format == fmtOllama:
		return modeNDJSON
	}
	return modeJSON
}

func (b *bodyState) finish(readErr error) {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	b.finished = true
	if b.mode == modeGzip {
		b.inflate()
	} else {
		b.flushPending()
	}
	resp := b.acc.response()
	acc := &b.acc
	b.mu.Unlock()

	s := b.s
	s.SetResponse(resp)
	if b.tg.stream && !resp.UsageKnown && b.status < 400 {
		switch {
		case b.tg.format == fmtOpenAI && !b.tg.includeUsage:
			s.SetAttr(genai.AttrUsageMissing, "stream_options.include_usage was not set: OpenAI streams carry no usage without it")
		case !acc.done:
			s.SetAttr(genai.AttrUsageMissing, "the stream ended before its final event")
		default:
			s.SetAttr(genai.AttrUsageMissing, "the provider sent no usage")
		}
	}
	if b.es.err != nil {
		s.SetAttr("tracegen.transport.parse_error", b.es.err.Error())
	}
	if !b.owner {
		return // the rule wrapper that owns the call ends it with the SDK's error
	}
	var err error
	switch {
	case b.status >= 400:
		err = &StatusError{Code: b.status, Type: acc.errType, Message: acc.errMsg}
	case acc.errType != "":
		err = &StreamError{Type: acc.errType, Message: acc.errMsg}
	case readErr != nil:
		err = readErr
	}
	s.End(err)
}
