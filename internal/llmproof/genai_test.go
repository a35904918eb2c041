package llmproof

import (
	"testing"
	"time"
)

func TestGenAI(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "genai")
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 4 {
		t.Fatalf("got %d LLM spans, want 4 (generate, stream, chat, chat stream)\n%s", len(llm), out)
	}
	// Output tokens include the thoughts, as the convention says.
	check(t, llm[0], expect{name: "generate_content gemini-2.5-flash", provider: "gcp.gen_ai", operation: "generate_content",
		respModel: "gemini-2.5-flash", respID: "resp-abc", in: 8, out: 6, cacheRead: 2, reasoning: 2,
		finish: "STOP", impact: true})
	check(t, llm[1], expect{name: "generate_content gemini-2.5-flash", provider: "gcp.gen_ai",
		respID: "resp-stream", in: 8, out: 6, reasoning: 2, finish: "STOP",
		stream: true, minStream: 2 * 30 * time.Millisecond, impact: true})
	// Chat.SendMessage has no model argument: the span is named after the
	// response model once it is known.
	check(t, llm[2], expect{name: "chat gemini-2.5-flash", provider: "gcp.gen_ai", operation: "chat",
		respModel: "gemini-2.5-flash", respID: "resp-abc", in: 8, out: 6, finish: "STOP", impact: true})
	check(t, llm[3], expect{name: "chat gemini-2.5-flash", provider: "gcp.gen_ai", operation: "chat",
		respID: "resp-stream", in: 8, out: 6, finish: "STOP", stream: true, minStream: 2 * 30 * time.Millisecond, impact: true})
	for _, s := range spans {
		if s.Name == "generate_content gemini-2.5-flash" && s.Parent == llm[2].SpanID {
			t.Errorf("Chat.SendMessage's inner GenerateContent made a second span")
		}
	}
}
