package llmproof

import (
	"testing"
	"time"
)

func TestOllama(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "ollama")
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 3 {
		t.Fatalf("got %d LLM spans, want 3 (chat, generate, embed)\n%s", len(llm), out)
	}
	// Stream nil: the server streams NDJSON; usage comes on the done line.
	check(t, llm[0], expect{name: "chat llama3.2", provider: "ollama", operation: "chat",
		respModel: "llama3.2", in: 11, out: 7, finish: "stop",
		stream: true, minStream: 3 * 30 * time.Millisecond, impact: true})
	// Stream: &false: one callback, no stream, no time to first chunk.
	g := llm[1]
	if g.Name != "text_completion llama3.2" || g.Attrs["gen_ai.request.stream"] != false {
		t.Errorf("generate span %q stream=%v", g.Name, g.Attrs["gen_ai.request.stream"])
	}
	if _, ok := g.Attrs["gen_ai.response.time_to_first_chunk"]; ok {
		t.Errorf("non-streaming generate has a time to first chunk")
	}
	if in, _ := g.num("gen_ai.usage.input_tokens"); in != 5 {
		t.Errorf("generate input tokens %v, want 5", in)
	}
	check(t, llm[2], expect{name: "embeddings all-minilm", provider: "ollama", operation: "embeddings",
		respModel: "all-minilm", in: 2, out: 0})
}
