package llmhttp_test

import (
	"net/http"

	"github.com/tracegen-dev/tracegen/runtime/llmhttp"
)

// Any client that accepts an *http.Client (or an http.RoundTripper) can be
// traced: go-openai's Config.HTTPClient, openai-go's option.WithHTTPClient,
// anthropic's option.WithHTTPClient, genai.ClientConfig.HTTPClient,
// bedrockruntime.Options.HTTPClient, ollama's api.NewClient.
func ExampleWrap() {
	client := llmhttp.Wrap(&http.Client{})
	_ = client // pass it to the SDK
}

// A transport of your own keeps working underneath.
func ExampleTransport() {
	base := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: &llmhttp.Transport{Base: base}}
	_ = client
}
