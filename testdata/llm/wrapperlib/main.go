// Command wrapperlib asks two questions through example.com/acme/llmlib, a
// wrapper module of its own that calls openai-go with an HTTP client traced
// by runtime/llmhttp. The program imports no SDK: only the rewrite of
// dependencies sees the SDK call, and the traced HTTP client sees the same
// request; each request must still be one span.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"example.com/acme/llmlib"
)

var requests atomic.Int64

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	if err := run(context.Background(), llmlib.New(srv.URL+"/v1")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests:", requests.Load())
}

//trace:span
func run(ctx context.Context, c *llmlib.Client) error {
	for _, q := range []string{"Say hello", "Say goodbye"} {
		a, err := c.Ask(ctx, q)
		if err != nil {
			return err
		}
		fmt.Println(q+":", a)
	}
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
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`, n, n)
}
