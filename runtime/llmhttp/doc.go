// Package llmhttp traces LLM calls at the HTTP layer, for clients that no
// tracegen rule covers or that were built outside the instrumented code.
//
// A [Transport] wraps an http.RoundTripper. For each request it recognises
// the provider from the method, path, headers and host (OpenAI and
// OpenAI-compatible APIs, Anthropic, Gemini and Vertex AI, Bedrock, Ollama),
// reads the model and streaming flag from the request body (or the URL, for
// Gemini and Bedrock) and restores the body before passing the request on.
// The response body is handed to the caller through a tee that parses it as
// the caller reads: JSON, Server-Sent Events, NDJSON or the binary AWS event
// stream. Id, response model, finish reasons and token usage are taken from
// the body (for streams, from the final events), the time to first chunk is
// the first read that returns bytes, and the call ends when the body reaches
// EOF or is closed, whichever comes first.
//
// Spans are runtime/genai calls. When the request's context already carries
// a call in progress (a rule-made span for the SDK call that issued the
// request), the transport enriches that call and opens nothing, so one call
// never has two spans; otherwise it opens a call of its own. Requests it
// does not recognise pass through untouched. Parsing never changes the bytes
// the caller reads, and a body it cannot parse only costs the attributes.
package llmhttp
