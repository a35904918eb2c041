package llmproof

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The fakes below run in the test process and stand in for a provider's
// API for programs the test does not write (the frameworks' authors'
// examples), which find them through the environment the SDK reads. They
// speak the provider's wire format (docs/llm.md, LLM_SDKS.md), count the
// requests they receive and let each test choose the answers that make its
// program's flow complete. Request n (from 1) reports 10+n input and 5+n
// output tokens, so each LLM span can be matched to its request.

// reply is one answer of a fake: text, or tool calls (name and JSON
// arguments) the model asks for.
type reply struct {
	text  string
	calls []toolCall
}

type toolCall struct {
	name, args string
}

// fake is a provider fake listening on 127.0.0.1.
type fake struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies []string
}

// requests returns the number of model requests the fake answered.
func (f *fake) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// body returns the body of request n (from 1).
func (f *fake) body(n int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[n-1]
}

// record stores a request body and returns its number (from 1).
func (f *fake) record(r *http.Request) (int, string) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, string(body))
	return len(f.bodies), string(body)
}

// startFake starts handler for the test's lifetime.
func startFake(t *testing.T, handler func(*fake) http.HandlerFunc) *fake {
	t.Helper()
	f := new(fake)
	f.srv = httptest.NewServer(handler(f))
	t.Cleanup(f.srv.Close)
	return f
}

// openAIFake answers POST /v1/chat/completions in the OpenAI Chat
// Completions format (usage included), model gpt-4o-mini-2024-07-18;
// answer chooses the reply from the request number and body. Its program
// is pointed at it with OPENAI_BASE_URL=<url>/v1.
func openAIFake(t *testing.T, answer func(n int, body string) reply) *fake {
	return startFake(t, func(f *fake) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
				http.NotFound(w, r)
				return
			}
			n, body := f.record(r)
			rep := answer(n, body)
			msg := map[string]any{"role": "assistant", "content": rep.text}
			finish := "stop"
			if len(rep.calls) > 0 {
				var calls []map[string]any
				for i, c := range rep.calls {
					calls = append(calls, map[string]any{"id": fmt.Sprintf("call_%d_%d", n, i), "type": "function",
						"function": map[string]any{"name": c.name, "arguments": c.args}})
				}
				msg["content"], msg["tool_calls"], finish = nil, calls, "tool_calls"
			}
			writeJSON(w, map[string]any{
				"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": 1700000000,
				"model":   "gpt-4o-mini-2024-07-18",
				"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
				"usage":   map[string]any{"prompt_tokens": 10 + n, "completion_tokens": 5 + n, "total_tokens": 15 + 2*n},
			})
		}
	})
}

// geminiFake answers POST /v1beta/models/<model>:generateContent in the
// Gemini API format (usageMetadata included), model version
// gemini-2.5-flash. Its program is pointed at it with
// GOOGLE_GEMINI_BASE_URL=<url>, which google.golang.org/genai reads.
func geminiFake(t *testing.T, answer func(n int, body string) reply) *fake {
	return startFake(t, func(f *fake) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1beta/models/") ||
				!strings.HasSuffix(r.URL.Path, ":generateContent") {
				http.NotFound(w, r)
				return
			}
			n, body := f.record(r)
			rep := answer(n, body)
			var parts []any
			if rep.text != "" {
				parts = append(parts, map[string]any{"text": rep.text})
			}
			for _, c := range rep.calls {
				parts = append(parts, map[string]any{"functionCall": map[string]any{"name": c.name, "args": json.RawMessage(c.args)}})
			}
			writeJSON(w, map[string]any{
				"candidates": []any{map[string]any{"index": 0, "finishReason": "STOP",
					"content": map[string]any{"role": "model", "parts": parts}}},
				"usageMetadata": map[string]any{"promptTokenCount": 10 + n, "candidatesTokenCount": 5 + n, "totalTokenCount": 15 + 2*n},
				"modelVersion":  "gemini-2.5-flash",
				"responseId":    fmt.Sprintf("resp-%d", n),
			})
		}
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
