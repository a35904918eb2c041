// Command openaigo calls github.com/openai/openai-go/v3 against a local fake
// server that speaks the OpenAI wire format (JSON and SSE). None of the SDK
// calls is annotated: tracegen's rules turn each into a span under run.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// chunkGap separates stream chunks, so the time to first chunk is visibly
// shorter than the stream.
const chunkGap = 30 * time.Millisecond

func main() {
	srv := httptest.NewServer(http.HandlerFunc(fake))
	defer srv.Close()
	client := openai.NewClient(
		option.WithBaseURL(srv.URL+"/v1/"),
		option.WithAPIKey("test-key"),
		option.WithMaxRetries(0),
	)
	if err := run(context.Background(), client); err != nil {
		log.Fatal(err)
	}
}

//trace:span
func run(ctx context.Context, client openai.Client) error {
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModelGPT4oMini,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello")},
	})
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	fmt.Println("chat:", resp.Choices[0].Message.Content)

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         openai.ChatModelGPT4oMini,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello slowly")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	text := ""
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text += c.Choices[0].Delta.Content
		}
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	stream.Close()
	fmt.Println("stream:", text)

	bare := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModelGPT4o,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("No usage please")},
	})
	for bare.Next() {
	}
	if err := bare.Err(); err != nil {
		return fmt.Errorf("stream without usage: %w", err)
	}

	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: openai.EmbeddingModelTextEmbedding3Small,
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")},
	})
	if err != nil {
		return fmt.Errorf("embeddings: %w", err)
	}
	fmt.Println("embedding dims:", len(emb.Data[0].Embedding))

	r, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: openai.ChatModelGPT4o,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")},
	})
	if err != nil {
		return fmt.Errorf("responses: %w", err)
	}
	fmt.Println("responses:", r.OutputText())

	rs := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: openai.ChatModelGPT4o,
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi slowly")},
	})
	for rs.Next() {
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("responses stream: %w", err)
	}

	// A failing call: the span records the error, the program handles it.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "no-such-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("?")},
	})
	fmt.Println("bad model error:", err != nil)
	return nil
}

// fake answers like api.openai.com/v1.
func fake(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	switch r.URL.Path {
	case "/v1/chat/completions":
		if req.Model == "no-such-model" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}`)
			return
		}
		if req.Stream {
			streamChat(w, req.Model, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
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
	case "/v1/responses":
		if req.Stream {
			streamResponses(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"resp_123","object":"response","status":"completed","model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":1},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":10}}`)
	default:
		http.NotFound(w, r)
	}
}

func streamChat(w http.ResponseWriter, model string, usage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	env := `"id":"chatcmpl-456","object":"chat.completion.chunk","created":1700000000,"model":"` + model + `-2024-07-18"`
	events := []string{
		`{` + env + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`,
		`{` + env + `,"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
	}
	if usage {
		events = append(events, `{`+env+`,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`)
	}
	events = append(events, `[DONE]`)
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		w.(http.Flusher).Flush()
		time.Sleep(chunkGap)
	}
}

func streamResponses(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	resp := `{"id":"resp_456","object":"response","status":"%s","model":"gpt-4o-2024-08-06","output":[]%s}`
	for _, e := range [][2]string{
		{"response.created", `{"type":"response.created","sequence_number":0,"response":` + fmt.Sprintf(resp, "in_progress", "") + `}`},
		{"response.output_text.delta", `{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}`},
		{"response.completed", `{"type":"response.completed","sequence_number":2,"response":` + fmt.Sprintf(resp, "completed",
			`,"usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":10}`) + `}`},
	} {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e[0], e[1])
		w.(http.Flusher).Flush()
		time.Sleep(chunkGap)
	}
}
