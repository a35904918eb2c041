// Command langchaingo calls github.com/tmc/langchaingo (OpenAI backend)
// against a local fake server speaking the OpenAI wire format. No call is
// annotated; each request gets exactly one span although GenerateContent and
// GenerateFromSinglePrompt are layered inside langchaingo.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
)

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
}

//trace:span
func run(ctx context.Context, llm *openai.LLM) error {
	resp, err := llm.GenerateContent(ctx, []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeHuman, "Say hello"),
	}, llms.WithModel("gpt-4o-mini"))
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Println("generate:", resp.Choices[0].Content)

	var streamed strings.Builder
	_, err = llm.GenerateContent(ctx, []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeHuman, "Say hello slowly"),
	}, llms.WithModel("gpt-4o-mini"), llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
		streamed.Write(chunk)
		return nil
	}))
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	fmt.Println("stream:", streamed.String())

	var model llms.Model = llm
	out, err := llms.GenerateFromSinglePrompt(ctx, model, "Say hi")
	if err != nil {
		return fmt.Errorf("single prompt: %w", err)
	}
	fmt.Println("single prompt:", out)
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	if strings.Contains(string(body), `"stream":true`) {
		w.Header().Set("Content-Type", "text/event-stream")
		env := `"id":"chatcmpl-lcs","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18"`
		for _, e := range []string{
			`{` + env + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`,
			`{` + env + `,"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
			`{` + env + `,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`,
			`[DONE]`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", e)
			w.(http.Flusher).Flush()
			time.Sleep(30 * time.Millisecond)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-lc","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":4}}}`)
}
