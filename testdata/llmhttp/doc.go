// Package llmhttp is the proof that runtime/llmhttp traces the real LLM
// SDKs: each test builds a client of one SDK, at the version the project
// pins, over llmhttp.Wrap, points it at a local fake server that speaks the
// provider's real wire format (JSON, SSE, NDJSON, AWS event stream), and
// checks the spans the memory exporter receives. It is a separate module so
// that the main go.mod does not depend on the SDKs; runtime/llmhttp's
// TestSDKModule runs it.
package llmhttp
