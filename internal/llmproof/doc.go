// Package llmproof holds the end-to-end proof of the LLM call rules: for
// each supported SDK, a small program in testdata/llm/<sdk> (its own module,
// pinned to the SDK version checked in docs/llm.md) is copied to a temporary
// directory, instrumented in place by the tracegen command with no
// annotation on any SDK call, and run against the local fake server it
// starts, which speaks the provider's real wire format. The test then reads
// the JSONL spans the program wrote and checks the span tree, the GenAI
// attributes, token counts, stream timing and the footprint estimate.
//
// The package has no non-test code.
package llmproof
