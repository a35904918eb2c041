// Package llmhttp traces LLM calls at the HTTP layer, for clients that no
// tracegen rule covers or that were built outside the instrumented code.
//
//	client := llmhttp.Wrap(http.DefaultClient) // hand it to any SDK
//
// A [Transport] wraps an http.RoundTripper. For each POST it recognises the
// provider from the path, headers and host:
//
//   - OpenAI and OpenAI-compatible APIs (…/chat/completions, /responses,
//     /embeddings, /completions; Azure OpenAI deployments; Mistral, Groq,
//     DeepSeek, xAI, … by host). On hosts not known to serve an LLM API the
//     body must name a model.
//   - Anthropic (/v1/messages with an anthropic-version header), and Claude
//     on Vertex AI (:rawPredict, :streamRawPredict).
//   - Gemini and Vertex AI (/models/{model}:generateContent,
//     :streamGenerateContent, :embedContent, :batchEmbedContents).
//   - Bedrock (/model/{id}/converse, /converse-stream, /invoke,
//     /invoke-with-response-stream).
//   - Ollama (/api/chat, /api/generate, /api/embed).
//
// It reads the model and streaming flag from the request body (or the URL,
// for Gemini, Bedrock and Azure) and restores the body before passing the
// request on. The response body reaches the caller through a tee that
// parses it as the caller reads it: JSON, Server-Sent Events, NDJSON, the
// binary AWS event stream (decoded here: prelude, headers, payload, CRCs),
// or gzip when the caller asked for it. Id, response model, finish reasons,
// token usage and the generated text come from the body (for streams, from
// the final events; for Bedrock InvokeModel also from its token-count
// headers). The time to first chunk is the first read that returns bytes.
// The call ends when the body reaches EOF or is closed, whichever comes
// first; a body dropped without either ends its call when it is garbage
// collected, marked tracegen.stream.abandoned. An HTTP error status ends the
// call with a [StatusError], an error event inside a stream with a
// [StreamError].
//
// Spans are runtime/genai calls, so they carry the same GenAI attributes and
// footprint estimate as rule-made spans. When the request's context already
// carries a call in progress (a rule-made span for the SDK call that issued
// the request), the transport enriches that call and opens nothing: one call
// never has two spans. For the same reason it sets
// ANTHROPIC_OPEN_TELEMETRY=false, unless the user set it, so that
// anthropic-sdk-go does not make its own span for the call. Each HTTP
// attempt of an SDK that retries is its own call.
//
// Requests it does not recognise, and every request while tracing is off,
// pass through untouched. Parsing never changes the bytes the caller reads;
// a body it cannot parse only costs the attributes. Buffers are bounded:
// 8 MiB of request body and of non-streamed response body, 4 MiB per
// stream line, 64 KiB of generated text.
package llmhttp
