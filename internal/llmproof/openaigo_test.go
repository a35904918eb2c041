package llmproof

import (
	"testing"
	"time"
)

func TestOpenAIGo(t *testing.T) {
	t.Parallel()
	for _, overlay := range []bool{false, true} {
		mode := map[bool]string{false: "inplace", true: "overlay"}[overlay]
		t.Run(mode, func(t *testing.T) { testOpenAIGo(t, overlay) })
	}
}

func testOpenAIGo(t *testing.T, overlay bool) {
	spans, out := instrumentAndRunMode(t, "openaigo", overlay)
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 7 {
		names := []string{}
		for _, s := range llm {
			names = append(names, s.Name)
		}
		t.Fatalf("got %d LLM spans %v, want 7 (chat, stream, stream without usage, embeddings, responses, responses stream, failing chat)\n%s", len(llm), names, out)
	}
	check(t, llm[0], expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", in: 9, out: 12, cacheRead: 4, reasoning: 2,
		finish: "stop", impact: true})
	check(t, llm[1], expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-456", in: 9, out: 12, finish: "stop",
		stream: true, minStream: 3 * 30 * time.Millisecond, impact: true})
	check(t, llm[2], expect{name: "chat gpt-4o", provider: "openai", in: -1, out: -1, finish: "stop",
		stream: true, minStream: 2 * 30 * time.Millisecond, usageMissing: true})
	check(t, llm[3], expect{name: "embeddings text-embedding-3-small", provider: "openai", operation: "embeddings",
		respModel: "text-embedding-3-small", in: 5, out: 0})
	check(t, llm[4], expect{name: "chat gpt-4o", provider: "openai", respModel: "gpt-4o-2024-08-06",
		respID: "resp_123", in: 7, out: 3, finish: "completed", impact: true})
	// Responses stream: id, model and usage from the response.completed event.
	check(t, llm[5], expect{name: "chat gpt-4o", provider: "openai", respModel: "gpt-4o-2024-08-06",
		respID: "resp_456", in: 7, out: 3, finish: "completed", stream: true, minStream: 2 * 30 * time.Millisecond, impact: true})
	bad := llm[6]
	if bad.Name != "chat no-such-model" || bad.Status != "error" || bad.str("error.type") != "*apierror.Error" {
		t.Errorf("failing call: name %q status %q error.type %q, want an error span typed *apierror.Error (openai.Error is an alias)",
			bad.Name, bad.Status, bad.str("error.type"))
	}
}
