package llmproof

import (
	"testing"
	"time"
)

func TestGoOpenAI(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "goopenai")
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 3 {
		t.Fatalf("got %d LLM spans, want 3 (chat, stream, embeddings)\n%s", len(llm), out)
	}
	check(t, llm[0], expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", in: 9, out: 12, cacheRead: 4, reasoning: 2,
		finish: "stop", impact: true})
	check(t, llm[1], expect{name: "chat gpt-4o-mini", provider: "openai", respID: "chatcmpl-789", in: 9, out: 12,
		finish: "stop", stream: true, minStream: 3 * 30 * time.Millisecond, impact: true})
	check(t, llm[2], expect{name: "embeddings text-embedding-3-small", provider: "openai", operation: "embeddings",
		respModel: "text-embedding-3-small", in: 5, out: 0})
}
