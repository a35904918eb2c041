// Command genkit runs a Genkit flow that calls genkit.Generate, and a
// genkit.GenerateText outside any flow, with the Google AI plugin against a
// local fake server speaking the Gemini wire format (the plugin's
// google.golang.org/genai client reads GOOGLE_GEMINI_BASE_URL). The program
// calls no SDK: the plugin does, and only the rewrite of dependencies in
// `tracegen go` sees it. It prints what a plain build prints, and the number
// of requests the fake received.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/core"
	"github.com/firebase/genkit/go/genkit"
	"github.com/firebase/genkit/go/plugins/googlegenai"
)

var requests atomic.Int64

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	os.Setenv("GOOGLE_GEMINI_BASE_URL", srv.URL)
	ctx := context.Background()
	g := genkit.Init(ctx, genkit.WithPlugins(&googlegenai.GoogleAI{APIKey: "test-key"}))
	joke := genkit.DefineFlow(g, "jokeFlow", func(ctx context.Context, topic string) (string, error) {
		resp, err := genkit.Generate(ctx, g,
			ai.WithModelName("googleai/gemini-2.5-flash"),
			ai.WithPrompt("Tell a joke about %s", topic))
		if err != nil {
			return "", err
		}
		return resp.Text(), nil
	})
	if err := run(ctx, g, joke); err != nil {
		log.Fatal(err)
	}
	fmt.Println("requests:", requests.Load())
}

//trace:span
func run(ctx context.Context, g *genkit.Genkit, joke *core.Flow[string, string, struct{}]) error {
	out, err := joke.Run(ctx, "gophers")
	if err != nil {
		return fmt.Errorf("flow: %w", err)
	}
	fmt.Println("flow:", out)
	text, err := genkit.GenerateText(ctx, g,
		ai.WithModelName("googleai/gemini-2.5-flash"),
		ai.WithPrompt("Say hello"))
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Println("generate:", text)
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	if !strings.HasSuffix(r.URL.Path, ":generateContent") {
		http.NotFound(w, r)
		return
	}
	n := requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"answer %d"}]},"finishReason":"STOP","index":0}],
 "usageMetadata":{"promptTokenCount":%d,"candidatesTokenCount":%d,"totalTokenCount":%d},
 "modelVersion":"gemini-2.5-flash","responseId":"resp-%d"}`, n, 10+n, 5+n, 15+2*n, n)
}
