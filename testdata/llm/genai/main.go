// Command genai calls google.golang.org/genai (Gemini API backend) against a
// local fake server speaking the Gemini wire format (JSON and SSE data
// lines). No SDK call is annotated.
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

	"google.golang.org/genai"
)

const chunkGap = 30 * time.Millisecond

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	ctx := context.Background()
	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      "test-key",
		Backend:     genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, client); err != nil {
		log.Fatal(err)
	}
}

//trace:span
func run(ctx context.Context, client *genai.Client) error {
	res, err := client.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("Say hello"), nil)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Println("generate:", res.Text())

	var text strings.Builder
	for chunk, err := range client.Models.GenerateContentStream(ctx, "gemini-2.5-flash", genai.Text("Say hello slowly"), nil) {
		if err != nil {
			return fmt.Errorf("stream: %w", err)
		}
		text.WriteString(chunk.Text())
	}
	fmt.Println("stream:", text.String())

	chat, err := client.Chats.Create(ctx, "gemini-2.5-flash", nil, nil)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	reply, err := chat.SendMessage(ctx, genai.Part{Text: "Hi there"})
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	fmt.Println("chat:", reply.Text())

	text.Reset()
	for chunk, err := range chat.SendMessageStream(ctx, genai.Part{Text: "Again, slowly"}) {
		if err != nil {
			return fmt.Errorf("chat stream: %w", err)
		}
		text.WriteString(chunk.Text())
	}
	fmt.Println("chat stream:", text.String())
	return nil
}

func fake(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	switch {
	case strings.HasSuffix(r.URL.Path, ":streamGenerateContent"):
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range []string{
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash","responseId":"resp-stream"}`,
			`{"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":14,"thoughtsTokenCount":2},"modelVersion":"gemini-2.5-flash","responseId":"resp-stream"}`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", e)
			w.(http.Flusher).Flush()
			time.Sleep(chunkGap)
		}
	case strings.HasSuffix(r.URL.Path, ":generateContent"):
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello!"}]},"finishReason":"STOP","index":0}],
 "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":14,"cachedContentTokenCount":2,"thoughtsTokenCount":2},
 "modelVersion":"gemini-2.5-flash","responseId":"resp-abc"}`)
	default:
		http.NotFound(w, r)
	}
}
