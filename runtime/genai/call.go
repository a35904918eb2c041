package genai

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Attr is a span attribute (runtime/record's).
type Attr = record.Attr

// Attribute keys set on LLM spans (OpenTelemetry GenAI conventions, semconv
// v1.41 names; see docs/llm.md), plus tracegen's own.
const (
	AttrProviderName      = "gen_ai.provider.name"
	AttrOperationName     = "gen_ai.operation.name"
	AttrRequestModel      = "gen_ai.request.model"
	AttrRequestStream     = "gen_ai.request.stream"
	AttrResponseModel     = "gen_ai.response.model"
	AttrResponseID        = "gen_ai.response.id"
	AttrFinishReasons     = "gen_ai.response.finish_reasons"
	AttrTimeToFirstChunk  = "gen_ai.response.time_to_first_chunk" // seconds, float64
	AttrInputTokens       = "gen_ai.usage.input_tokens"           // cached tokens included
	AttrOutputTokens      = "gen_ai.usage.output_tokens"          // reasoning tokens included
	AttrCacheReadTokens   = "gen_ai.usage.cache_read.input_tokens"
	AttrCacheWriteTokens  = "gen_ai.usage.cache_creation.input_tokens"
	AttrReasoningTokens   = "gen_ai.usage.reasoning.output_tokens"
	AttrInputMessages     = "gen_ai.input.messages"
	AttrOutputMessages    = "gen_ai.output.messages"
	AttrErrorType         = "error.type"
	AttrUsageMissing      = "tracegen.usage.missing"    // why a stream has no token usage
	AttrStreamAbandoned   = "tracegen.stream.abandoned" // the stream was never drained or closed
	AttrRule              = "tracegen.rule"             // name of the rule that made the span
	AttrFootprintNote     = "tracegen.footprint.note"   // what the estimate had to assume
	AttrFootprintModel    = "tracegen.footprint.model"  // model (or size class) the estimate used
	AttrFootprintEmbodied = "tracegen.footprint.embodied_co2e_g"
	AttrFootprintMethod   = "tracegen.footprint.method" // "ecologits <version>"
)

// Request describes an LLM call as it starts.
type Request struct {
	Provider  string // gen_ai.provider.name: openai, anthropic, gcp.gemini, aws.bedrock, ollama, ...
	Operation string // gen_ai.operation.name: chat, embeddings, generate_content, ...
	Model     string // gen_ai.request.model; "" when unknown
	Stream    bool   // gen_ai.request.stream
	// Input is the request's messages; recorded as gen_ai.input.messages
	// only when content capture is on.
	Input any
	// Attrs are set on the span at start (server.address, gen_ai.request.max_tokens, ...).
	Attrs []Attr
}

// Response is what is known about an LLM call when it ends.
type Response struct {
	ID, Model     string
	FinishReasons []string
	// Token counts, as the GenAI conventions define them: InputTokens includes
	// cache reads and writes, OutputTokens includes reasoning tokens.
	InputTokens, OutputTokens, CacheReadTokens, CacheWriteTokens, ReasoningTokens int64
	// UsageKnown is true when the provider reported usage (a zero count is
	// then a real zero).
	UsageKnown bool
	// Output is the generated content; recorded as gen_ai.output.messages only
	// when content capture is on.
	Output any
}

// merge copies the known parts of r over c's response.
func (resp *Response) merge(r Response) {
	if r.ID != "" {
		resp.ID = r.ID
	}
	if r.Model != "" {
		resp.Model = r.Model
	}
	if len(r.FinishReasons) > 0 {
		resp.FinishReasons = r.FinishReasons
	}
	if r.UsageKnown {
		resp.UsageKnown = true
		resp.InputTokens, resp.OutputTokens = r.InputTokens, r.OutputTokens
		resp.CacheReadTokens, resp.CacheWriteTokens = r.CacheReadTokens, r.CacheWriteTokens
		resp.ReasoningTokens = r.ReasoningTokens
	}
	if r.Output != nil {
		resp.Output = r.Output
	}
}

// Call is one LLM call in progress. All methods are safe for concurrent use
// and do nothing on a nil *Call (what [Start] returns when tracing is off).
type Call struct {
	span  *spanRef
	req   Request
	start time.Time
	rule  string

	mu         sync.Mutex
	resp       Response
	firstChunk time.Duration // 0: no chunk seen
	attrs      []Attr
	ended      atomic.Bool
}

type callKey struct{}

// Start opens the span of an LLM call under the span in ctx and returns a
// context carrying both. If ctx already carries a call in progress, Start
// opens nothing and returns ctx and that call, so one request never gets
// two spans (a wrapped SDK calling another wrapped SDK, a RoundTripper under
// a rule wrapper). It returns a nil *Call when tracing is disabled.
func Start(ctx context.Context, req Request) (context.Context, *Call) {
	if c := FromContext(ctx); c != nil {
		return ctx, nil
	}
	return startAt(ctx, req, time.Now())
}

func startAt(ctx context.Context, req Request, start time.Time) (context.Context, *Call) {
	if !enabled() {
		return ctx, nil
	}
	c := &Call{req: req, start: start}
	name := req.Operation
	if req.Model != "" {
		name += " " + req.Model
	}
	attrs := make([]Attr, 0, 4+len(req.Attrs))
	attrs = append(attrs,
		record.Any(AttrProviderName, req.Provider),
		record.Any(AttrOperationName, req.Operation),
	)
	if req.Model != "" {
		attrs = append(attrs, record.Any(AttrRequestModel, req.Model))
	}
	attrs = append(attrs, record.Any(AttrRequestStream, req.Stream))
	attrs = append(attrs, req.Attrs...)
	ctx, c.span = startSpan(ctx, name, start, attrs)
	if c.span == nil {
		return ctx, nil
	}
	if req.Input != nil && c.span.captureContent() {
		c.span.setAttr(AttrInputMessages, contentString(req.Input))
	}
	return context.WithValue(ctx, callKey{}, c), c
}

// FromContext returns the LLM call in progress in ctx, or nil. A transport
// that sees a request under a call enriches that call rather than opening
// its own span.
func FromContext(ctx context.Context) *Call {
	if ctx == nil {
		return nil
	}
	c, _ := ctx.Value(callKey{}).(*Call)
	if c == nil || c.ended.Load() {
		return nil
	}
	return c
}

// FirstChunk records the time to first chunk of a streamed response; only
// the first report counts.
func (c *Call) FirstChunk() {
	if c == nil {
		return
	}
	d := time.Since(c.start)
	if d <= 0 {
		d = time.Nanosecond
	}
	c.mu.Lock()
	if c.firstChunk == 0 {
		c.firstChunk = d
	}
	c.mu.Unlock()
}

// SetResponse merges what is known about the response: non-empty fields of r
// replace earlier ones, and usage replaces usage when r.UsageKnown.
func (c *Call) SetResponse(r Response) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.resp.merge(r)
	c.mu.Unlock()
}

// SetAttr adds an attribute to the call's span (set when the call ends).
func (c *Call) SetAttr(key string, value any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.attrs = append(c.attrs, record.Any(key, value))
	c.mu.Unlock()
}

// Ended reports whether End has been called.
func (c *Call) Ended() bool { return c == nil || c.ended.Load() }

// End ends the call's span: response attributes, usage, time to first
// chunk, error.type when err is non-nil, and the footprint estimate of the
// remote call as the span's llm energy and impact. Only the first End counts.
func (c *Call) End(err error) {
	if c == nil || !c.ended.CompareAndSwap(false, true) {
		return
	}
	latency := time.Since(c.start)
	c.mu.Lock()
	resp := c.resp
	ttfc := c.firstChunk
	extra := c.attrs
	c.mu.Unlock()

	s := c.span
	if resp.ID != "" {
		s.setAttr(AttrResponseID, resp.ID)
	}
	if resp.Model != "" {
		s.setAttr(AttrResponseModel, resp.Model)
	}
	if len(resp.FinishReasons) > 0 {
		s.setAttr(AttrFinishReasons, resp.FinishReasons)
	}
	if resp.UsageKnown {
		s.setAttr(AttrInputTokens, resp.InputTokens)
		s.setAttr(AttrOutputTokens, resp.OutputTokens)
		if resp.CacheReadTokens > 0 {
			s.setAttr(AttrCacheReadTokens, resp.CacheReadTokens)
		}
		if resp.CacheWriteTokens > 0 {
			s.setAttr(AttrCacheWriteTokens, resp.CacheWriteTokens)
		}
		if resp.ReasoningTokens > 0 {
			s.setAttr(AttrReasoningTokens, resp.ReasoningTokens)
		}
	}
	if ttfc > 0 {
		s.setAttr(AttrTimeToFirstChunk, ttfc.Seconds())
	}
	if resp.Output != nil && s.captureContent() {
		s.setAttr(AttrOutputMessages, outputMessages(resp.Output, resp.FinishReasons))
	}
	for _, a := range extra {
		s.setAttrValue(a)
	}
	if err != nil {
		s.setAttr(AttrErrorType, errorType(err))
	}
	model := c.req.Model
	if model == "" && resp.Model != "" {
		model = resp.Model
		s.rename(c.req.Operation + " " + model)
	}
	if resp.Model != "" {
		model = resp.Model
	}
	addFootprint(s, c.req.Provider, model, resp, latency)
	s.end(err)
}

// errorType is a low-cardinality description of err for error.type: the
// dynamic type name (e.g. *openai.Error), or "_OTHER".
func errorType(err error) string {
	// An error that names its own type (an HTTP status, a provider error
	// code) says it better than its Go type.
	var named interface{ ErrorType() string }
	if errors.As(err, &named) {
		if t := named.ErrorType(); t != "" {
			return t
		}
	}
	t := typeName(err)
	if t == "" || strings.HasPrefix(t, "*errors.") || strings.HasPrefix(t, "*fmt.") {
		if err == context.Canceled || err == context.DeadlineExceeded {
			return err.Error()
		}
		return "_OTHER"
	}
	return t
}
