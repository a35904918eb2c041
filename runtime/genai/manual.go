package genai

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// LLMCall is a call made by means tracegen cannot see (a custom HTTP client,
// a language without an SDK rule), logged after the fact with [RecordLLMCall].
type LLMCall struct {
	Model        string        // request (or response) model
	Provider     string        // gen_ai.provider.name; "" records "unknown"
	Operation    string        // gen_ai.operation.name; "" records "chat"
	InputTokens  int64         // cached tokens included
	OutputTokens int64         // reasoning tokens included
	Latency      time.Duration // how long the call took; the span ends now and starts Latency earlier
	Status       string        // "ok" or "error"; "error" (or a non-nil Err) marks the span failed
	Err          error
	Input        any            // recorded only when content capture is on
	Output       any            // recorded only when content capture is on
	Metadata     map[string]any // recorded as attributes llm.metadata.<key>
}

// errStatus is the error recorded when Status says "error" without an Err.
var errStatus = errors.New("llm call failed")

// RecordLLMCall records one LLM call as a finished span under the span in
// ctx, with the same attributes and footprint estimate as a rule-made span.
func RecordLLMCall(ctx context.Context, call LLMCall) {
	if ctx == nil {
		ctx = context.Background()
	}
	req := Request{Provider: call.Provider, Operation: call.Operation, Model: call.Model, Input: call.Input}
	if req.Provider == "" {
		req.Provider = "unknown"
	}
	if req.Operation == "" {
		req.Operation = "chat"
	}
	keys := make([]string, 0, len(call.Metadata))
	for k := range call.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		req.Attrs = append(req.Attrs, record.Any("llm.metadata."+k, call.Metadata[k]))
	}
	// A manual record is never "nested" in the call of the context: it is
	// its own call even when logged inside a wrapped one.
	ctx = context.WithValue(ctx, callKey{}, (*Call)(nil))
	_, c := startAt(ctx, req, time.Now().Add(-call.Latency))
	if c == nil {
		return
	}
	c.SetResponse(Response{
		Model:        call.Model,
		InputTokens:  call.InputTokens,
		OutputTokens: call.OutputTokens,
		UsageKnown:   call.InputTokens > 0 || call.OutputTokens > 0,
		Output:       call.Output,
	})
	err := call.Err
	if err == nil && call.Status == "error" {
		err = errStatus
	}
	c.End(err)
}
