// Command einostream streams an eino chain (chat template, then eino-ext's
// OpenAI chat model) twice, with compose.Runnable.Stream and Transform,
// against a local fake server speaking the OpenAI wire format, and reads
// each returned stream to its end. Each run goes on after Stream or
// Transform returns, while its stream is read; the model's own stream,
// read by eino-ext in a goroutine of its own, is a go-openai fork stream
// that only the rewrite of dependencies in `tracegen go` sees. It prints
// what a plain build prints, and the number of requests the fake received.
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
	"sync/atomic"
	"time"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/components/prompt"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"
)

// chunkGap spaces the fake's chunks, so a span that ends when its stream
// is read to the end lasts at least three gaps.
const chunkGap = 30 * time.Millisecond

var requests atomic.Int64

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	ctx := context.Background()
	model, err := openai.NewChatModel(ctx, &openai.ChatModelConfig{
		BaseURL: srv.URL + "/v1",
		APIKey:  "test-key",
		Model:   "gpt-4o-mini",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, model); err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests:", requests.Load())
}

//trace:span
func run(ctx context.Context, model *openai.ChatModel) error {
	tpl := prompt.FromMessages(schema.FString, schema.UserMessage("Tell a story about {topic}"))
	chain, err := compose.NewChain[map[string]any, *schema.Message]().
		AppendChatTemplate(tpl).
		AppendChatModel(model).
		Compile(ctx)
	if err != nil {
		return fmt.Errorf("compile chain: %w", err)
	}
	sr, err := chain.Stream(ctx, map[string]any{"topic": "gophers"})
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	text, err := drain(sr)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	fmt.Println("stream:", text)

	in := schema.StreamReaderFromArray([]map[string]any{{"topic": "otters"}})
	sr, err = chain.Transform(ctx, in)
	if err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	text, err = drain(sr)
	if err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	fmt.Println("transform:", text)
	return nil
}

// drain reads sr to io.EOF and joins the messages' content.
func drain(sr *schema.StreamReader[*schema.Message]) (string, error) {
	defer sr.Close()
	var b strings.Builder
	for {
		m, err := sr.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		b.WriteString(m.Content)
	}
}

// fake answers streamed chat completions: three content chunks chunkGap
// apart, then the usage of request n (10+n input, 5+n output tokens).
func fake(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/chat/completions" || !strings.Contains(string(body), `"stream":true`) {
		http.NotFound(w, r)
		return
	}
	n := requests.Add(1)
	w.Header().Set("Content-Type", "text/event-stream")
	env := fmt.Sprintf(`"id":"chatcmpl-%d","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18"`, n)
	for _, e := range []string{
		`{` + env + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Once"},"finish_reason":null}]}`,
		`{` + env + `,"choices":[{"index":0,"delta":{"content":" upon"},"finish_reason":null}]}`,
		`{` + env + `,"choices":[{"index":0,"delta":{"content":" a time"},"finish_reason":"stop"}]}`,
		fmt.Sprintf(`{`+env+`,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, 10+n, 5+n, 15+2*n),
		`[DONE]`,
	} {
		fmt.Fprintf(w, "data: %s\n\n", e)
		w.(http.Flusher).Flush()
		time.Sleep(chunkGap)
	}
}
