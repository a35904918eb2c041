// Package llmspec describes the shape of an LLM SDK call: which arguments
// hold the model and the messages, where a result keeps its id, model,
// finish reasons and token counts, and how a stream is read. It is the one
// description shared by the rules package, which builds specs from YAML at
// instrumentation time, and runtime/genai, which reads SDK values with them
// at run time; it imports nothing, so the rewriter does not link the
// runtime.
package llmspec

// Spec is the run-time half of an LLM call rule: what a wrapper needs to name
// the span and to read the request and the result. The rules package builds
// it from YAML; built-in specs are compiled into the runtime (runtime/genai/builtin.json,
// generated from rules/builtin.yaml) and looked up by name, while a spec from a
// user's rule file travels as a JSON string literal at the call site.
//
// Paths are dot-separated steps read by reflection on the SDK's own values:
// a field name (exported or not, promoted fields included), "[]" for every
// element of a slice, "[N]" for one element, or a map key. Pointers and
// interfaces are followed; a step that does not apply yields nothing. Request
// paths start at a root: arg1..argN (the call's arguments after the context),
// args (all of them), opts (the variadic functional options applied to a zero
// value of their parameter type) or recv (the receiver). Result paths start at
// the call's first result, or at each stream element.
type Spec struct {
	Name      string `json:"name"`
	Provider  string `json:"provider,omitempty"`
	Operation string `json:"operation"`
	// ProviderOf is a request root whose dynamic type's package decides the
	// provider through Providers (langchaingo backends).
	ProviderOf string            `json:"provider_of,omitempty"`
	Providers  map[string]string `json:"providers,omitempty"`
	Model      []string          `json:"model,omitempty"` // request paths, first non-empty wins
	Input      string            `json:"input,omitempty"` // request path of the messages (content capture)
	Stream     string            `json:"stream,omitempty"`
	// Accessor is a method of the call's result that returns the stream
	// object followed by the stream wrappers (bedrock GetStream).
	Accessor string `json:"accessor,omitempty"`
	// StreamOption names a func field of the functional options' struct
	// (langchaingo CallOptions.StreamingFunc): when the caller set it, the
	// request streams, and the wrapper times the first call of it.
	StreamOption string `json:"stream_option,omitempty"`
	// MissingUsage is recorded as tracegen.usage.missing when a stream ends
	// without any token usage.
	MissingUsage string `json:"missing_usage,omitempty"`
	// SDKTracingEnv is "NAME=value", set before the first call when NAME is
	// unset, to turn off the SDK's own spans for the same call.
	SDKTracingEnv string `json:"sdk_tracing_env,omitempty"`
	Response      Paths  `json:"response"`
	// Span, when set (chain, agent or tool), makes the rule a framework
	// rule: the call gets a span of that type, named after the Go type of
	// the value at request path SpanOf, with the LLM and tool spans of the
	// run beneath it; it is not an LLM call. SpanTypes maps the package of
	// that value's dynamic type to another span type (langchaingo runs an
	// agents.Executor through the same chains.Run as a chain).
	Span      string            `json:"span,omitempty"`
	SpanOf    string            `json:"span_of,omitempty"`
	SpanTypes map[string]string `json:"span_types,omitempty"`
	// SpanName names the run when no value does (SpanOf empty): eino's
	// compose.Runnable is an interface whose method value hides its type.
	SpanName string `json:"span_name,omitempty"`
}

// Span types of [Spec.Span].
const (
	SpanChain = "chain"
	SpanAgent = "agent"
	SpanTool  = "tool"
)

// Stream kinds of [Spec.Stream].
const (
	StreamKindSSE      = "sse"      // *ssestream.Stream: Next/Current/Err/Close
	StreamKindRecv     = "recv"     // Recv until io.EOF, Close
	StreamKindSeq      = "seq"      // iter.Seq2[T, error]
	StreamKindCallback = "callback" // a func(T) error argument called per element
	StreamKindEvents   = "events"   // a <-chan T from Events(), Err/Close
)

// Paths locate the parts of a result (or of each stream element). Each field
// lists alternatives; in a stream the last non-zero value seen wins for
// counters, the first for id and model, and finish reasons accumulate.
type Paths struct {
	ID               []string `json:"id,omitempty"`
	Model            []string `json:"model,omitempty"`
	FinishReasons    []string `json:"finish_reasons,omitempty"`
	InputTokens      []string `json:"input_tokens,omitempty"`
	OutputTokens     []string `json:"output_tokens,omitempty"`
	CacheReadTokens  []string `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens []string `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  []string `json:"reasoning_tokens,omitempty"`
	// InputExcludesCache: the provider's input count leaves out cache reads
	// and writes (Anthropic, Bedrock); they are added, as the convention asks.
	InputExcludesCache bool `json:"input_excludes_cache,omitempty"`
	// InputTokensAdd are counts added to the input tokens (cache counts that
	// only some backends of a wrapper report apart: langchaingo's Anthropic).
	InputTokensAdd []string `json:"input_tokens_add,omitempty"`
	// OutputExcludesReasoning: reasoning tokens are added to the output count (Gemini).
	OutputExcludesReasoning bool   `json:"output_excludes_reasoning,omitempty"`
	Output                  string `json:"output,omitempty"` // content, captured only when capture is on
}
