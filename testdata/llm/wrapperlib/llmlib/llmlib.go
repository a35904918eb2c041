// Package llmlib is a team's own wrapper around openai-go, in a module of
// its own: it hands the SDK an HTTP client traced by runtime/llmhttp, and
// the program that uses it never imports an SDK.
package llmlib

import (
	"context"
	"fmt"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tracegen-dev/tracegen/runtime/llmhttp"
)

// Client asks questions of a chat model.
type Client struct {
	c openai.Client
}

// New returns a client of the OpenAI API at baseURL.
func New(baseURL string) *Client {
	return &Client{c: openai.NewClient(
		option.WithBaseURL(baseURL),
		option.WithAPIKey("test-key"),
		option.WithMaxRetries(0),
		option.WithHTTPClient(llmhttp.Wrap(nil)),
	)}
}

// Ask sends one question and returns the answer.
func (c *Client) Ask(ctx context.Context, q string) (string, error) {
	resp, err := c.c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    openai.ChatModelGPT4oMini,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)},
	})
	if err != nil {
		return "", fmt.Errorf("llmlib: %w", err)
	}
	return resp.Choices[0].Message.Content, nil
}
