package llmproof

import (
	"testing"
	"time"
)

func TestBedrock(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "bedrock")
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 2 {
		t.Fatalf("got %d LLM spans, want 2 (Converse, ConverseStream)\n%s", len(llm), out)
	}
	const name = "chat anthropic.claude-3-haiku-20240307-v1:0"
	// Bedrock's inputTokens leave out cache reads: 10 + 2.
	check(t, llm[0], expect{name: name, provider: "aws.bedrock", operation: "chat",
		in: 12, out: 5, cacheRead: 2, finish: "end_turn", impact: true})
	// The stream span ends when the events channel closes, after the
	// metadata event that carries the usage.
	check(t, llm[1], expect{name: name, provider: "aws.bedrock", in: 10, out: 5, finish: "end_turn",
		stream: true, minStream: 5 * 30 * time.Millisecond, impact: true})
}
