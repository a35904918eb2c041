// Command langchainchains runs langchaingo chains and an agent (OpenAI
// backend) against a local fake server speaking the OpenAI wire format. The
// program makes no SDK call itself: every request is made inside langchaingo
// (chains.Run, chains.Call, chains.Predict, a sequential chain, an MRKL agent
// run by agents.Executor with the calculator tool), so only `tracegen go`
// with dependencies instrumented sees them. It prints what a plain build
// prints, and the number of requests the fake received.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"
	"github.com/tmc/langchaingo/tools"
)

var requests atomic.Int64

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	llm, err := openai.New(
		openai.WithToken("test-key"),
		openai.WithBaseURL(srv.URL+"/v1"),
		openai.WithModel("gpt-4o-mini"),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(context.Background(), llm); err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests:", requests.Load())
}

//trace:span
func run(ctx context.Context, llm llms.Model) error {
	joke := chains.NewLLMChain(llm, prompts.NewPromptTemplate("Tell a joke about {{.topic}}", []string{"topic"}))
	out, err := chains.Run(ctx, joke, "gophers")
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	fmt.Println("run:", out)

	vals, err := chains.Call(ctx, joke, map[string]any{"topic": "channels"})
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	fmt.Println("call:", vals["text"])

	out, err = chains.Predict(ctx, joke, map[string]any{"topic": "interfaces"})
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	fmt.Println("predict:", out)

	title := chains.NewLLMChain(llm, prompts.NewPromptTemplate("Write a title for: {{.input}}", []string{"input"}))
	seq, err := chains.NewSimpleSequentialChain([]chains.Chain{joke, title})
	if err != nil {
		return fmt.Errorf("sequential: %w", err)
	}
	out, err = chains.Run(ctx, seq, "goroutines")
	if err != nil {
		return fmt.Errorf("sequential run: %w", err)
	}
	fmt.Println("sequential:", out)

	agent := agents.NewOneShotAgent(llm, []tools.Tool{tools.Calculator{}})
	exec := agents.NewExecutor(agent)
	answer, err := chains.Run(ctx, exec, "What is 6 times 7?")
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	fmt.Println("agent:", answer)
	return nil
}

// fake answers chat completions. The MRKL agent's first request asks for
// the calculator; the request that carries its observation gets the final
// answer.
func fake(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	n := requests.Add(1)
	prompt := string(body)
	text := fmt.Sprintf("answer %d", n)
	switch {
	case strings.Contains(prompt, "Observation: 42"):
		text = "I now know the final answer.\nFinal Answer: 42"
	case strings.Contains(prompt, "calculator"):
		text = "I should multiply.\nAction: calculator\nAction Input: 6*7"
	}
	content, _ := json.Marshal(text)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, n, content, 10+n, 5+n, 15+2*n)
}
