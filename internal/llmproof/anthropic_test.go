package llmproof

import (
	"strings"
	"testing"
	"time"
)

// TestAnthropic runs the same program against both majors of
// anthropic-sdk-go (v1 and v2 share the API under two module paths, each
// with rules of its own).
func TestAnthropic(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"anthropic", "anthropicv2"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			testAnthropic(t, dir)
		})
	}
}

func testAnthropic(t *testing.T, dir string) {
	spans, out := instrumentAndRun(t, dir)
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 4 {
		t.Fatalf("got %d LLM spans, want 4 (messages, stream, beta, beta stream)\n%s", len(llm), out)
	}
	// input_tokens includes cache reads and writes, as the convention says.
	check(t, llm[0], expect{name: "chat claude-sonnet-4-5", provider: "anthropic", operation: "chat",
		respModel: "claude-sonnet-4-5-20250929", respID: "msg_01", in: 13, out: 5, cacheRead: 3,
		finish: "end_turn", impact: true})
	check(t, llm[1], expect{name: "chat claude-sonnet-4-5", provider: "anthropic",
		respModel: "claude-sonnet-4-5-20250929", respID: "msg_02", in: 15, out: 5, cacheRead: 3,
		finish: "end_turn", stream: true, minStream: 6 * 30 * time.Millisecond, impact: true})
	check(t, llm[2], expect{name: "chat claude-sonnet-4-5", provider: "anthropic", respID: "msg_01", in: 13, out: 5,
		finish: "end_turn", impact: true})
	check(t, llm[3], expect{name: "chat claude-sonnet-4-5", provider: "anthropic", respID: "msg_02", in: 15, out: 5,
		finish: "end_turn", stream: true, minStream: 6 * 30 * time.Millisecond, impact: true})
	wantRule := map[string]string{"anthropic": "anthropic.messages", "anthropicv2": "anthropic.v2.messages"}[dir]
	for _, s := range llm {
		if s.str("tracegen.transport") != "llmhttp" {
			t.Errorf("%s: the HTTP layer did not see the request: anthropic.NewClient was not handed the traced transport", s.Name)
		}
		if r := s.str("tracegen.rule"); r != wantRule && r != wantRule+".stream" {
			t.Errorf("%s: span made by rule %q, want %s or %s.stream", dir, r, wantRule, wantRule)
		}
	}
	// anthropic-sdk-go traces through the global OpenTelemetry provider by
	// default; under tracegen it must not trace the same calls again.
	if !strings.Contains(out, "sdk otel spans: 0\n") {
		t.Errorf("the SDK made its own OpenTelemetry spans for calls tracegen traced:\n%s", out)
	}
}
