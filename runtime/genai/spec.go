package genai

import "github.com/tracegen-dev/tracegen/runtime/llmspec"

// Spec is the run-time half of an LLM call rule; see [llmspec.Spec].
type Spec = llmspec.Spec

// Paths locate the parts of a result; see [llmspec.Paths].
type Paths = llmspec.Paths

// Stream kinds of [Spec.Stream].
const (
	StreamKindSSE      = llmspec.StreamKindSSE
	StreamKindRecv     = llmspec.StreamKindRecv
	StreamKindSeq      = llmspec.StreamKindSeq
	StreamKindCallback = llmspec.StreamKindCallback
	StreamKindEvents   = llmspec.StreamKindEvents
)

// Span types of framework rules ([Spec.Span]).
const (
	SpanChain = llmspec.SpanChain
	SpanAgent = llmspec.SpanAgent
	SpanTool  = llmspec.SpanTool
)
