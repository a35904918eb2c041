// Command goopenai calls github.com/sashabaranov/go-openai against a local
// fake server speaking the OpenAI wire format. No SDK call is annotated.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

const chunkGap = 30 * time.Millisecond

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	cfg := openai.DefaultConfig("test-key")
	cfg.BaseURL = srv.URL + "/v1"
	client := openai.NewClientWithConfig(cfg)
	if err := run(context.Background(), client); err != nil {
		log.Fatal(err)
	}
}

//trace:span
func run(ctx context.Context, client *openai.Client) error {
	resp, err := client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:    openai.GPT4oMini,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Say hello"}},
	})
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	fmt.Println("chat:", resp.Choices[0].Message.Content)

	stream, err := client.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{
		Model:         openai.GPT4oMini,
		Messages:      []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Say hello slowly"}},
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	defer stream.Close()
	var text strings.Builder
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("recv: %w", err)
		}
		if len(chunk.Choices) > 0 {
			text.WriteString(chunk.Choices[0].Delta.Content)
		}
	}
	fmt.Println("stream:", text.String())

	emb, err := client.CreateEmbeddings(ctx, openai.EmbeddingRequest{
		Input: []string{"hello"},
		Model: openai.SmallEmbedding3,
	})
	if err != nil {
		return fmt.Errorf("embeddings: %w", err)
	}
	fmt.Println("embedding dims:", len(emb.Data[0].Embedding))
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/v1/chat/completions":
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			env := `"id":"chatcmpl-789","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18"`
			for _, e := range []string{
				`{` + env + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}],"usage":null}`,
				`{` + env + `,"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}`,
				`{` + env + `,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`,
				`[DONE]`,
			} {
				fmt.Fprintf(w, "data: %s\n\n", e)
				w.(http.Flusher).Flush()
				time.Sleep(chunkGap)
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,
  "prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}`)
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}`)
	default:
		http.NotFound(w, r)
	}
}
