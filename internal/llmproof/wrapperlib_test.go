package llmproof

import (
	"strings"
	"testing"
)

// TestWrapperLib: the SDK call is made in another module (a team's wrapper
// library, replaced to a local directory), whose HTTP client runtime/llmhttp
// also traces. The rule rewrite of the dependency and the transport see the
// same request: each request is still one span, made by the rule and
// enriched by the transport, under the user's span.
func TestWrapperLib(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunMode(t, "wrapperlib", true)
	if !strings.Contains(out, "requests: 2\n") {
		t.Fatalf("the fake did not receive 2 requests:\n%s", out)
	}
	llm := llmSpans(t, spans, "main.run")
	if len(llm) != 2 {
		t.Fatalf("got %d LLM spans for 2 requests\n%s", len(llm), out)
	}
	for _, s := range llm {
		check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
			respModel: "gpt-4o-mini-2024-07-18", in: 9, out: 12, finish: "stop", impact: true})
		if s.str("tracegen.rule") != "openai.chat" || s.str("tracegen.transport") != "llmhttp" {
			t.Errorf("span rule %q transport %q: want the rule's span enriched by the transport",
				s.str("tracegen.rule"), s.str("tracegen.transport"))
		}
	}
}
