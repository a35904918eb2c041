package llmproof

import (
	"strings"
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
	for _, s := range llm {
		if _, ok := s.Attrs["gen_ai.input.messages"]; ok {
			t.Errorf("%s: content captured without TRACEGEN_CAPTURE_CONTENT=true", s.Name)
		}
	}
}

// TestGoOpenAIContent runs the same program with content capture on: the
// messages appear as gen_ai.input.messages / gen_ai.output.messages, and
// only then (TestGoOpenAI checks they are absent by default).
func TestGoOpenAIContent(t *testing.T) {
	t.Parallel()
	spans, _ := instrumentAndRun(t, "goopenai", "TRACEGEN_CAPTURE_CONTENT=true")
	llm := llmSpans(t, spans, "main.run")
	if len(llm) < 2 {
		t.Fatalf("got %d LLM spans", len(llm))
	}
	if in := llm[0].str("gen_ai.input.messages"); !strings.Contains(in, "Say hello") {
		t.Errorf("chat input messages = %q", in)
	}
	if out := llm[0].str("gen_ai.output.messages"); !strings.Contains(out, "Hello!") {
		t.Errorf("chat output messages = %q", out)
	}
	want := `[{"role":"assistant","parts":[{"type":"text","content":"Hello"}],"finish_reason":"stop"}]`
	if out := llm[1].str("gen_ai.output.messages"); out != want {
		t.Errorf("stream output messages = %q, want the joined deltas as %s", out, want)
	}
}
