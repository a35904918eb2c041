package llmproof

import (
	"testing"
	"time"
)

func TestLangChainGo(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "langchaingo")
	llm := llmSpans(t, spans, "main.run")
	// One span per request: GenerateFromSinglePrompt calls GenerateContent
	// inside langchaingo, which is not instrumented, so no second span.
	if len(llm) != 3 {
		t.Fatalf("got %d LLM spans, want 3 (GenerateContent, streaming GenerateContent, GenerateFromSinglePrompt)\n%s", len(llm), out)
	}
	// The provider comes from the backend package, the model from
	// llms.WithModel, the tokens from GenerationInfo.
	check(t, llm[0], expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
		in: 9, out: 12, cacheRead: 4, finish: "stop", impact: true})
	// llms.WithStreamingFunc: the request streams, the first call of the
	// caller's streaming func is the first chunk; the call returns the whole
	// response (usage included) only at the end.
	check(t, llm[1], expect{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12, finish: "stop",
		stream: true, minStream: 3 * 30 * time.Millisecond, impact: true})
	llm = append(llm[:1], llm[2])
	// Through the llms.Model interface: provider and model read from the
	// backend value passed as the argument. The helper returns only a
	// string; its usage and response model come from what the HTTP layer
	// saw: in place, the openai.New call was handed the traced transport
	// (client rule langchaingo.openai.client).
	check(t, llm[1], expect{name: "chat gpt-4o-mini", provider: "openai", respModel: "gpt-4o-mini-2024-07-18",
		in: 9, out: 12, impact: true})
	if llm[1].str("tracegen.rule") != "langchaingo.single-prompt" {
		t.Errorf("second span made by rule %q", llm[1].str("tracegen.rule"))
	}
	for _, s := range llm {
		if s.str("tracegen.transport") != "llmhttp" {
			t.Errorf("%s (%s): the HTTP layer did not see the request: openai.New was not handed the traced transport",
				s.Name, s.str("tracegen.rule"))
		}
	}
}
