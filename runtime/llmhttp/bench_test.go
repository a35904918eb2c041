package llmhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/genai"
)

// nopSink discards what the transport reports, so the benchmark measures
// recognition and parsing only.
type nopSink struct{}

func (nopSink) FirstChunk()                {}
func (nopSink) SetResponse(genai.Response) {}
func (nopSink) SetAttr(string, any)        {}
func (nopSink) End(error)                  {}

// BenchmarkStreamParse measures the transport's cost on a 200-chunk OpenAI
// stream served from memory (no network).
func BenchmarkStreamParse(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 200; i++ {
		sb.WriteString(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"token "},"finish_reason":null}]}` + "\n\n")
	}
	sb.WriteString(`data: {"id":"chatcmpl-1","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":200}}` + "\n\ndata: [DONE]\n\n")
	payload := []byte(sb.String())
	base := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
			Body: io.NopCloser(bytes.NewReader(payload))}, nil
	})
	oldStart, oldCur, oldOn := startCall, currentCall, tracingOn
	tracingOn = func() bool { return true }
	startCall = func(ctx context.Context, _ genai.Request) (context.Context, sink) { return ctx, nopSink{} }
	currentCall = func(context.Context) sink { return nil }
	defer func() { startCall, currentCall, tracingOn = oldStart, oldCur, oldOn }()
	tr := &Transport{Base: base}
	reqBody := `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest("POST", "https://api.openai.com/v1/chat/completions", strings.NewReader(reqBody))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
	}
}
