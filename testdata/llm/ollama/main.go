// Command ollama calls github.com/ollama/ollama/api against a local fake
// server speaking Ollama's wire format (JSON and NDJSON streams). No SDK
// call is annotated.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

const chunkGap = 30 * time.Millisecond

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	client := api.NewClient(base, srv.Client())
	if err := run(context.Background(), client); err != nil {
		log.Fatal(err)
	}
}

//trace:span
func run(ctx context.Context, client *api.Client) error {
	var text strings.Builder
	err := client.Chat(ctx, &api.ChatRequest{
		Model:    "llama3.2",
		Messages: []api.Message{{Role: "user", Content: "Say hello slowly"}},
	}, func(r api.ChatResponse) error {
		text.WriteString(r.Message.Content)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	fmt.Println("chat stream:", text.String())

	noStream := false
	err = client.Generate(ctx, &api.GenerateRequest{Model: "llama3.2", Prompt: "Hi", Stream: &noStream},
		func(r api.GenerateResponse) error {
			fmt.Println("generate:", r.Response)
			return nil
		})
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}

	emb, err := client.Embed(ctx, &api.EmbedRequest{Model: "all-minilm", Input: "hello"})
	if err != nil {
		return fmt.Errorf("embed: %w", err)
	}
	fmt.Println("embedding dims:", len(emb.Embeddings[0]))
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Stream *bool `json:"stream"`
	}
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	switch r.URL.Path {
	case "/api/chat":
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, line := range []string{
			`{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}`,
			`{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"lo"},"done":false}`,
			`{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":11,"eval_count":7}`,
		} {
			fmt.Fprintln(w, line)
			w.(http.Flusher).Flush()
			time.Sleep(chunkGap)
		}
	case "/api/generate":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","response":"Hello!","done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":3}`)
	case "/api/embed":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"model":"all-minilm","embeddings":[[0.1,0.2,0.3]],"prompt_eval_count":2}`)
	default:
		http.NotFound(w, r)
	}
}
