package llmhttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/genai"
)

// fakeCall records what the transport reports.
type fakeCall struct {
	mu         sync.Mutex
	req        genai.Request
	resp       genai.Response
	attrs      map[string]any
	firstChunk int
	ends       int
	err        error
}

func (c *fakeCall) FirstChunk() { c.mu.Lock(); c.firstChunk++; c.mu.Unlock() }
func (c *fakeCall) SetResponse(r genai.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resp = r
}
func (c *fakeCall) SetAttr(k string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attrs == nil {
		c.attrs = map[string]any{}
	}
	c.attrs[k] = v
}
func (c *fakeCall) End(err error) { c.mu.Lock(); c.ends++; c.err = err; c.mu.Unlock() }

type fakeKey struct{}

// recorder installs fake start/current hooks and returns the calls started.
func recorder(t *testing.T) *[]*fakeCall {
	t.Helper()
	var mu sync.Mutex
	calls := &[]*fakeCall{}
	oldStart, oldCur, oldOn := startCall, currentCall, tracingOn
	tracingOn = func() bool { return true }
	startCall = func(ctx context.Context, req genai.Request) (context.Context, sink) {
		c := &fakeCall{req: req}
		mu.Lock()
		*calls = append(*calls, c)
		mu.Unlock()
		return context.WithValue(ctx, fakeKey{}, c), c
	}
	currentCall = func(ctx context.Context) sink {
		if c, ok := ctx.Value(fakeKey{}).(*fakeCall); ok {
			return c
		}
		return nil
	}
	t.Cleanup(func() { startCall, currentCall, tracingOn = oldStart, oldCur, oldOn })
	return calls
}

// fake serves body with content type ct for every request and records the
// request body it received.
func fake(t *testing.T, status int, ct string, body []byte) (*httptest.Server, *[]byte) {
	t.Helper()
	got := new([]byte)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		// Write in small pieces so parsers see split lines and frames.
		body := body
		for len(body) > 0 {
			n := min(7, len(body))
			w.Write(body[:n])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			body = body[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func sse(events ...string) []byte { return []byte(strings.Join(events, "\n\n") + "\n\n") }

// esFrame encodes one AWS event-stream message with string headers.
func esFrame(headers [][2]string, payload string) []byte {
	var h bytes.Buffer
	for _, kv := range headers {
		h.WriteByte(byte(len(kv[0])))
		h.WriteString(kv[0])
		h.WriteByte(7)
		binary.Write(&h, binary.BigEndian, uint16(len(kv[1])))
		h.WriteString(kv[1])
	}
	total := 12 + h.Len() + len(payload) + 4
	var m bytes.Buffer
	binary.Write(&m, binary.BigEndian, uint32(total))
	binary.Write(&m, binary.BigEndian, uint32(h.Len()))
	binary.Write(&m, binary.BigEndian, crc32.ChecksumIEEE(m.Bytes()))
	m.Write(h.Bytes())
	m.WriteString(payload)
	binary.Write(&m, binary.BigEndian, crc32.ChecksumIEEE(m.Bytes()))
	return m.Bytes()
}

func esEvent(name, payload string) []byte {
	return esFrame([][2]string{{":message-type", "event"}, {":event-type", name}, {":content-type", "application/json"}}, payload)
}

type wantCall struct {
	provider, operation, model string
	stream                     bool
	respID, respModel          string
	reasons                    string
	in, out, cacheRead         int64
	cacheWrite, reasoning      int64
	usageKnown                 bool
	usageMissing               bool
	output                     string
	errType                    string // ErrorType() of the End error, "" for nil
}

func TestProviders(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		header map[string]string
		req    string
		status int
		ct     string
		body   []byte
		want   wantCall
	}{
		{
			name: "openai chat", path: "/v1/chat/completions",
			req: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":50,"temperature":0.2}`,
			ct:  "application/json",
			body: []byte(`{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,
  "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}`),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o-mini", respID: "chatcmpl-123", respModel: "gpt-4o-mini-2024-07-18",
				reasons: "stop", in: 9, out: 12, cacheRead: 4, reasoning: 2, usageKnown: true, output: "Hello!"},
		},
		{
			name: "openai chat stream with usage", path: "/v1/chat/completions",
			req: `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}`,
			ct:  "text/event-stream",
			body: sse(
				`data: {"id":"chatcmpl-123","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}],"usage":null}`,
				`data: {"id":"chatcmpl-123","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
				`data: {"id":"chatcmpl-123","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`,
				`data: [DONE]`),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o-mini", stream: true, respID: "chatcmpl-123",
				respModel: "gpt-4o-mini-2024-07-18", reasons: "stop", in: 9, out: 12, usageKnown: true, output: "Hello"},
		},
		{
			name: "openai stream without include_usage", path: "/v1/chat/completions",
			req: `{"model":"gpt-4o","stream":true}`, ct: "text/event-stream",
			body: sse(`data: {"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}`),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o", stream: true, respID: "c1", respModel: "gpt-4o",
				reasons: "stop", usageMissing: true, output: "x"},
		},
		{
			name: "azure openai deployment", path: "/openai/deployments/gpt-4o-mini/chat/completions",
			req: `{"messages":[{"role":"user","content":"hi"}]}`, ct: "application/json",
			body: []byte(`{"id":"chatcmpl-az","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`),
			want: wantCall{provider: "azure.ai.openai", operation: "chat", model: "gpt-4o-mini", respID: "chatcmpl-az", respModel: "gpt-4o-mini-2024-07-18",
				reasons: "stop", in: 3, out: 1, usageKnown: true, output: "Hi"},
		},
		{
			name: "openai embeddings", path: "/v1/embeddings",
			req: `{"model":"text-embedding-3-small","input":"hello"}`, ct: "application/json",
			body: []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}`),
			want: wantCall{provider: "openai", operation: "embeddings", model: "text-embedding-3-small", respModel: "text-embedding-3-small", in: 5, usageKnown: true},
		},
		{
			name: "openai responses", path: "/v1/responses",
			req: `{"model":"gpt-4o","input":"hi"}`, ct: "application/json",
			body: []byte(`{"id":"resp_123","object":"response","status":"completed","model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":1},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":10}}`),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o", respID: "resp_123", respModel: "gpt-4o-2024-08-06",
				reasons: "completed", in: 7, out: 3, cacheRead: 1, usageKnown: true, output: "Hi"},
		},
		{
			name: "openai responses stream", path: "/v1/responses",
			req: `{"model":"gpt-4o","input":"hi","stream":true}`, ct: "text/event-stream",
			body: sse(
				"event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_9\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4o-2024-08-06\"}}",
				"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"delta\":\"Hi\"}",
				"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_9\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-4o-2024-08-06\",\"usage\":{\"input_tokens\":7,\"output_tokens\":3,\"total_tokens\":10}}}"),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o", stream: true, respID: "resp_9", respModel: "gpt-4o-2024-08-06",
				reasons: "completed", in: 7, out: 3, usageKnown: true, output: "Hi"},
		},
		{
			name: "anthropic", path: "/v1/messages", header: map[string]string{"anthropic-version": "2023-06-01"},
			req: `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}`, ct: "application/json",
			body: []byte(`{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
 "content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":2,"cache_read_input_tokens":3}}`),
			want: wantCall{provider: "anthropic", operation: "chat", model: "claude-sonnet-4-5", respID: "msg_01", respModel: "claude-sonnet-4-5-20250929",
				reasons: "end_turn", in: 15, out: 5, cacheRead: 3, cacheWrite: 2, usageKnown: true, output: "Hello!"},
		},
		{
			name: "anthropic stream", path: "/v1/messages", header: map[string]string{"anthropic-version": "2023-06-01"},
			req: `{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[]}`, ct: "text/event-stream",
			body: sse(
				"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1,\"cache_read_input_tokens\":3}}}",
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
				"event: ping\ndata: {\"type\":\"ping\"}",
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}",
				"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}",
				"event: message_stop\ndata: {\"type\":\"message_stop\"}"),
			want: wantCall{provider: "anthropic", operation: "chat", model: "claude-sonnet-4-5", stream: true, respID: "msg_01",
				respModel: "claude-sonnet-4-5-20250929", reasons: "end_turn", in: 13, out: 5, cacheRead: 3, usageKnown: true, output: "Hello"},
		},
		{
			name: "anthropic stream error event", path: "/v1/messages", header: map[string]string{"anthropic-version": "2023-06-01"},
			req: `{"model":"claude-sonnet-4-5","stream":true}`, ct: "text/event-stream",
			body: sse("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"),
			want: wantCall{provider: "anthropic", operation: "chat", model: "claude-sonnet-4-5", stream: true, usageMissing: true, errType: "overloaded_error"},
		},
		{
			name: "gemini", path: "/v1beta/models/gemini-2.5-flash:generateContent",
			req: `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":100}}`, ct: "application/json",
			body: []byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello!"}]},"finishReason":"STOP","index":0}],
 "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":14,"cachedContentTokenCount":2,"thoughtsTokenCount":2},
 "modelVersion":"gemini-2.5-flash","responseId":"resp-abc"}`),
			want: wantCall{provider: "gcp.gemini", operation: "generate_content", model: "gemini-2.5-flash", respID: "resp-abc", respModel: "gemini-2.5-flash",
				reasons: "STOP", in: 8, out: 6, cacheRead: 2, reasoning: 2, usageKnown: true, output: "Hello!"},
		},
		{
			name: "gemini stream", path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
			req: `{"contents":[]}`, ct: "text/event-stream",
			body: sse(
				`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":12},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`),
			want: wantCall{provider: "gcp.gemini", operation: "generate_content", model: "gemini-2.5-flash", stream: true, respID: "r1",
				respModel: "gemini-2.5-flash", reasons: "STOP", in: 8, out: 4, usageKnown: true, output: "Hello"},
		},
		{
			name: "claude on vertex", path: "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
			req: `{"anthropic_version":"vertex-2023-10-16","max_tokens":100,"stream":true,"messages":[]}`, ct: "text/event-stream",
			body: sse(
				"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_vrtx_1\",\"model\":\"claude-sonnet-4-5-20250929\",\"usage\":{\"input_tokens\":4,\"output_tokens\":1}}}",
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}",
				"event: message_stop\ndata: {\"type\":\"message_stop\"}"),
			want: wantCall{provider: "gcp.vertex_ai", operation: "chat", model: "claude-sonnet-4-5@20250929", stream: true, respID: "msg_vrtx_1",
				respModel: "claude-sonnet-4-5-20250929", reasons: "end_turn", in: 4, out: 2, usageKnown: true},
		},
		{
			name: "bedrock converse", path: "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
			req: `{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":100}}`, ct: "application/json",
			body: []byte(`{"output":{"message":{"role":"assistant","content":[{"text":"Hello!"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15,"cacheReadInputTokens":2},"metrics":{"latencyMs":42}}`),
			want: wantCall{provider: "aws.bedrock", operation: "chat", model: "anthropic.claude-3-5-haiku-20241022-v1:0",
				reasons: "end_turn", in: 12, out: 5, cacheRead: 2, usageKnown: true, output: "Hello!"},
		},
		{
			name: "bedrock converse-stream", path: "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream",
			req: `{"messages":[]}`, ct: "application/vnd.amazon.eventstream",
			body: bytes.Join([][]byte{
				esEvent("messageStart", `{"role":"assistant"}`),
				esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hel"}}`),
				esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"lo"}}`),
				esEvent("contentBlockStop", `{"contentBlockIndex":0}`),
				esEvent("messageStop", `{"stopReason":"end_turn"}`),
				esEvent("metadata", `{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":42}}`),
			}, nil),
			want: wantCall{provider: "aws.bedrock", operation: "chat", model: "us.anthropic.claude-sonnet-4-20250514-v1:0", stream: true,
				reasons: "end_turn", in: 10, out: 5, usageKnown: true, output: "Hello"},
		},
		{
			name: "bedrock stream exception", path: "/model/m/converse-stream",
			req: `{}`, ct: "application/vnd.amazon.eventstream",
			body: esFrame([][2]string{{":message-type", "exception"}, {":exception-type", "throttlingException"}}, `{"message":"slow down"}`),
			want: wantCall{provider: "aws.bedrock", operation: "chat", model: "m", stream: true, usageMissing: true, errType: "throttlingException"},
		},
		{
			name: "ollama chat stream", path: "/api/chat",
			req: `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}`, ct: "application/x-ndjson",
			body: []byte(`{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}
{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"lo"},"done":false}
{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":11,"eval_count":7}
`),
			want: wantCall{provider: "ollama", operation: "chat", model: "llama3.2", stream: true, respModel: "llama3.2",
				reasons: "stop", in: 11, out: 7, usageKnown: true, output: "Hello"},
		},
		{
			name: "ollama generate no stream", path: "/api/generate",
			req: `{"model":"llama3.2","prompt":"hi","stream":false}`, ct: "application/json; charset=utf-8",
			body: []byte(`{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","response":"Hello!","done":true,"done_reason":"stop","prompt_eval_count":11,"eval_count":7}`),
			want: wantCall{provider: "ollama", operation: "text_completion", model: "llama3.2", respModel: "llama3.2",
				reasons: "stop", in: 11, out: 7, usageKnown: true, output: "Hello!"},
		},
		{
			name: "ollama embed", path: "/api/embed",
			req: `{"model":"all-minilm","input":"hi"}`, ct: "application/json",
			body: []byte(`{"model":"all-minilm","embeddings":[[0.1,0.2]],"prompt_eval_count":3}`),
			want: wantCall{provider: "ollama", operation: "embeddings", model: "all-minilm", respModel: "all-minilm", in: 3, usageKnown: true},
		},
		{
			name: "http error", path: "/v1/chat/completions",
			req: `{"model":"gpt-4o"}`, status: 429, ct: "application/json",
			body: []byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`),
			want: wantCall{provider: "openai", operation: "chat", model: "gpt-4o", errType: "429"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := recorder(t)
			status := tt.status
			if status == 0 {
				status = 200
			}
			srv, gotReq := fake(t, status, tt.ct, tt.body)
			req, _ := http.NewRequest("POST", srv.URL+tt.path, strings.NewReader(tt.req))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := NewClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !bytes.Equal(got, tt.body) {
				t.Errorf("caller read %d bytes, server sent %d: the tee changed the body", len(got), len(tt.body))
			}
			if string(*gotReq) != tt.req {
				t.Errorf("server got request %q, want %q", *gotReq, tt.req)
			}
			if len(*calls) != 1 {
				t.Fatalf("%d calls started, want 1", len(*calls))
			}
			checkCall(t, (*calls)[0], tt.want)
		})
	}
}

func checkCall(t *testing.T, c *fakeCall, w wantCall) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.req.Provider != w.provider || c.req.Operation != w.operation || c.req.Model != w.model || c.req.Stream != w.stream {
		t.Errorf("request: provider %q op %q model %q stream %v, want %q %q %q %v",
			c.req.Provider, c.req.Operation, c.req.Model, c.req.Stream, w.provider, w.operation, w.model, w.stream)
	}
	r := c.resp
	if r.ID != w.respID || r.Model != w.respModel || strings.Join(r.FinishReasons, ",") != w.reasons {
		t.Errorf("response id %q model %q reasons %v, want %q %q %q", r.ID, r.Model, r.FinishReasons, w.respID, w.respModel, w.reasons)
	}
	if r.UsageKnown != w.usageKnown || r.InputTokens != w.in || r.OutputTokens != w.out || r.CacheReadTokens != w.cacheRead ||
		r.CacheWriteTokens != w.cacheWrite || r.ReasoningTokens != w.reasoning {
		t.Errorf("usage known=%v in=%d out=%d cacheR=%d cacheW=%d reasoning=%d, want %v %d %d %d %d %d", r.UsageKnown,
			r.InputTokens, r.OutputTokens, r.CacheReadTokens, r.CacheWriteTokens, r.ReasoningTokens,
			w.usageKnown, w.in, w.out, w.cacheRead, w.cacheWrite, w.reasoning)
	}
	out := ""
	if msgs, ok := r.Output.([]message); ok && len(msgs) == 1 && len(msgs[0].Parts) == 1 {
		out = msgs[0].Parts[0].Content
	}
	if out != w.output {
		t.Errorf("output %q, want %q", out, w.output)
	}
	if _, missing := c.attrs[genai.AttrUsageMissing]; missing != w.usageMissing {
		t.Errorf("usage-missing attribute present=%v, want %v (%v)", missing, w.usageMissing, c.attrs[genai.AttrUsageMissing])
	}
	if c.ends != 1 {
		t.Errorf("End called %d times, want 1", c.ends)
	}
	gotType := ""
	if c.err != nil {
		var et interface{ ErrorType() string }
		if errors.As(c.err, &et) {
			gotType = et.ErrorType()
		} else {
			gotType = c.err.Error()
		}
	}
	if gotType != w.errType {
		t.Errorf("end error type %q (%v), want %q", gotType, c.err, w.errType)
	}
	if w.stream && w.errType == "" && c.firstChunk != 1 {
		t.Errorf("FirstChunk called %d times, want 1", c.firstChunk)
	}
}

// TestEndOnCloseBeforeEOF: a caller that stops reading and closes ends the
// call once, with what was parsed so far.
func TestEndOnCloseBeforeEOF(t *testing.T) {
	calls := recorder(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"c1\",\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true}`))
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp.Body.Close()
	c := (*calls)[0]
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ends != 1 || c.firstChunk != 1 {
		t.Errorf("ends=%d firstChunk=%d, want 1 and 1", c.ends, c.firstChunk)
	}
}

// TestEnrichesCallInContext: under a call already in progress (a rule span),
// the transport opens nothing and does not end the call.
func TestEnrichesCallInContext(t *testing.T) {
	calls := recorder(t)
	srv, _ := fake(t, 200, "application/json", []byte(`{"id":"x","model":"gpt-4o-2024","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`))
	outer := &fakeCall{}
	ctx := context.WithValue(context.Background(), fakeKey{}, outer)
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o"}`))
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if len(*calls) != 0 {
		t.Errorf("%d calls started under a call in progress, want 0", len(*calls))
	}
	if outer.ends != 0 || outer.resp.ID != "x" || outer.resp.OutputTokens != 2 {
		t.Errorf("outer call: ends=%d resp=%+v; want enriched and not ended", outer.ends, outer.resp)
	}
}

func TestPassThrough(t *testing.T) {
	calls := recorder(t)
	srv, _ := fake(t, 200, "text/plain", []byte("ok"))
	for _, r := range []struct{ method, path string }{{"GET", "/v1/models"}, {"POST", "/upload"}, {"GET", "/v1/chat/completions"}} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := NewClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Errorf("%s %s: body %q", r.method, r.path, b)
		}
	}
	// An OpenAI-looking path on an unknown host without a model is not an LLM call.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v2/responses", strings.NewReader(`{"survey":42}`))
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(*calls) != 0 {
		t.Errorf("%d calls for non-LLM requests, want 0", len(*calls))
	}
}

func TestTransportError(t *testing.T) {
	calls := recorder(t)
	tr := &Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("dial refused") })}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o"}`))
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("want error")
	}
	if c := (*calls)[0]; c.ends != 1 || c.err == nil {
		t.Errorf("ends=%d err=%v, want ended with the error", c.ends, c.err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCorruptEventStream(t *testing.T) {
	calls := recorder(t)
	frame := esEvent("metadata", `{"usage":{"inputTokens":1,"outputTokens":2}}`)
	frame[len(frame)-1] ^= 0xff // break the message CRC
	srv, _ := fake(t, 200, "application/vnd.amazon.eventstream", frame)
	req, _ := http.NewRequest("POST", srv.URL+"/model/m/converse-stream", strings.NewReader(`{}`))
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, frame) {
		t.Error("caller did not get the bytes unchanged")
	}
	c := (*calls)[0]
	if c.resp.UsageKnown || c.attrs["tracegen.transport.parse_error"] == nil {
		t.Errorf("usage %+v attrs %v: want no usage and a parse error", c.resp, c.attrs)
	}
}

func TestWrap(t *testing.T) {
	base := &http.Client{Timeout: time.Second}
	w := Wrap(base)
	if base.Transport != nil {
		t.Error("Wrap changed its argument")
	}
	if _, ok := w.Transport.(*Transport); !ok || w.Timeout != time.Second {
		t.Errorf("wrapped client %+v", w)
	}
	if ww := Wrap(w); ww.Transport != w.Transport {
		t.Error("wrapping twice nested the transport")
	}
}

func TestSSEAndLines(t *testing.T) {
	var got []string
	p := sseParser{emit: func(ev string, d []byte) { got = append(got, ev+"|"+string(d)) }}
	var ls lineSplitter
	in := "event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: comment\n\ndata:3\n\ndata: tail"
	for i := 0; i < len(in); i++ { // one byte at a time
		ls.feed([]byte{in[i]}, p.line)
	}
	ls.flush(p.line)
	p.dispatch()
	want := []string{"a|1\n2", "|3", "|tail"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestGzipBody: a body the caller asked to receive compressed is inflated
// for parsing and handed over compressed, as it came.
func TestGzipBody(t *testing.T) {
	calls := recorder(t)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, `{"id":"c9","model":"gpt-4o","choices":[{"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zb.Bytes())
	}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o"}`))
	req.Header.Set("Accept-Encoding", "gzip") // set by the caller: net/http does not inflate
	resp, err := NewClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, zb.Bytes()) {
		t.Error("caller did not get the compressed bytes unchanged")
	}
	c := (*calls)[0]
	if c.resp.ID != "c9" || c.resp.OutputTokens != 4 || c.ends != 1 {
		t.Errorf("gzip body: resp %+v ends %d", c.resp, c.ends)
	}
}

// TestAbandonedBodyEnds: a response dropped without reading or closing its
// body still ends the call (when the body is garbage collected), marked
// abandoned.
func TestAbandonedBodyEnds(t *testing.T) {
	calls := recorder(t)
	tr := &Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
			Body: io.NopCloser(strings.NewReader("data: {}\n\n"))}, nil
	})}
	func() {
		req, _ := http.NewRequest("POST", "https://api.openai.com/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true}`))
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}()
	c := (*calls)[0]
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		c.mu.Lock()
		ends, abandoned := c.ends, c.attrs[genai.AttrStreamAbandoned]
		c.mu.Unlock()
		if ends == 1 {
			if abandoned != true {
				t.Errorf("abandoned attribute %v, want true", abandoned)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the call of a dropped body never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBedrockInvoke(t *testing.T) {
	chunk := func(inner string) []byte {
		b, _ := json.Marshal(map[string][]byte{"bytes": []byte(inner)})
		return esEvent("chunk", string(b))
	}
	tests := []struct {
		name, path, ct string
		header         map[string]string
		body           []byte
		want           wantCall
	}{
		{
			name: "invoke claude", path: "/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke", ct: "application/json",
			header: map[string]string{"X-Amzn-Bedrock-Input-Token-Count": "12", "X-Amzn-Bedrock-Output-Token-Count": "6"},
			body:   []byte(`{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":12,"output_tokens":6}}`),
			want: wantCall{provider: "aws.bedrock", operation: "chat", model: "anthropic.claude-3-5-haiku-20241022-v1:0", respID: "msg_bdrk_1",
				respModel: "claude-3-5-haiku-20241022", reasons: "end_turn", in: 12, out: 6, usageKnown: true, output: "Hi"},
		},
		{
			name: "invoke titan embed (headers only)", path: "/model/amazon.titan-embed-text-v2:0/invoke", ct: "application/json",
			header: map[string]string{"X-Amzn-Bedrock-Input-Token-Count": "8", "X-Amzn-Bedrock-Output-Token-Count": "0"},
			body:   []byte(`{"embedding":[0.1,0.2],"inputTextTokenCount":8}`),
			want:   wantCall{provider: "aws.bedrock", operation: "embeddings", model: "amazon.titan-embed-text-v2:0", in: 8, usageKnown: true},
		},
		{
			name: "invoke stream claude", path: "/model/anthropic.claude-3-5-haiku-20241022-v1:0/invoke-with-response-stream",
			ct: "application/vnd.amazon.eventstream",
			body: bytes.Join([][]byte{
				chunk(`{"type":"message_start","message":{"id":"msg_bdrk_2","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":12,"output_tokens":1}}}`),
				chunk(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`),
				chunk(`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}`),
				chunk(`{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":6,"invocationLatency":500,"firstByteLatency":100}}`),
			}, nil),
			want: wantCall{provider: "aws.bedrock", operation: "chat", model: "anthropic.claude-3-5-haiku-20241022-v1:0", stream: true, respID: "msg_bdrk_2",
				respModel: "claude-3-5-haiku-20241022", reasons: "end_turn", in: 12, out: 6, usageKnown: true, output: "Hi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := recorder(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", tt.ct)
				w.Write(tt.body)
			}))
			defer srv.Close()
			req, _ := http.NewRequest("POST", srv.URL+tt.path, strings.NewReader(`{"anthropic_version":"bedrock-2023-05-31","max_tokens":100,"messages":[]}`))
			resp, err := NewClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			checkCall(t, (*calls)[0], tt.want)
		})
	}
}
