// Command eino runs an eino chain (chat template, then eino-ext's OpenAI
// chat model) and a graph with a lambda node, against a local fake server
// speaking the OpenAI wire format. The program calls no SDK: eino-ext's
// model calls a fork of go-openai (github.com/meguminnnnnnnnn/go-openai),
// which only the rewrite of dependencies in `tracegen go` sees. It prints
// what a plain build prints, and the number of requests the fake received.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/components/prompt"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"
)

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
	tpl := prompt.FromMessages(schema.FString, schema.UserMessage("Tell a joke about {topic}"))
	chain, err := compose.NewChain[map[string]any, *schema.Message]().
		AppendChatTemplate(tpl).
		AppendChatModel(model).
		Compile(ctx)
	if err != nil {
		return fmt.Errorf("compile chain: %w", err)
	}
	msg, err := chain.Invoke(ctx, map[string]any{"topic": "gophers"})
	if err != nil {
		return fmt.Errorf("chain: %w", err)
	}
	fmt.Println("chain:", msg.Content)

	g := compose.NewGraph[string, string]()
	toMessages := compose.InvokableLambda(func(ctx context.Context, q string) ([]*schema.Message, error) {
		return []*schema.Message{schema.UserMessage(q)}, nil
	})
	toText := compose.InvokableLambda(func(ctx context.Context, m *schema.Message) (string, error) {
		return strings.ToUpper(m.Content), nil
	})
	for _, err := range []error{
		g.AddLambdaNode("ask", toMessages),
		g.AddChatModelNode("model", model),
		g.AddLambdaNode("shout", toText),
		g.AddEdge(compose.START, "ask"),
		g.AddEdge("ask", "model"),
		g.AddEdge("model", "shout"),
		g.AddEdge("shout", compose.END),
	} {
		if err != nil {
			return fmt.Errorf("graph: %w", err)
		}
	}
	graph, err := g.Compile(ctx)
	if err != nil {
		return fmt.Errorf("compile graph: %w", err)
	}
	out, err := graph.Invoke(ctx, "Say hello")
	if err != nil {
		return fmt.Errorf("graph run: %w", err)
	}
	fmt.Println("graph:", out)
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	n := requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"answer %d"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, n, n, 10+n, 5+n, 15+2*n)
}
