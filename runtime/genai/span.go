package genai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/footprint"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// This file is the only place that talks to the span implementation.

func init() { trace.OnShutdown(Shutdown) }

type spanRef struct {
	s       *trace.Span
	capture bool
}

func enabled() bool { return trace.Enabled() }

func startSpan(ctx context.Context, name string, start time.Time, attrs []record.Attr) (context.Context, *spanRef) {
	ctx, s := trace.Start(ctx, name, trace.KindClient, trace.TypeLLM, trace.WithAttributes(attrs...))
	if s == nil || !s.IsRecording() {
		return ctx, nil
	}
	// The call's clock (time to first chunk, latency) and the span's agree.
	s.SetStartTime(start)
	return ctx, &spanRef{s: s, capture: captureOn(s)}
}

// errPanic ends the span of a run whose call panicked.
var errPanic = errors.New("panic")

// startRun opens the span of a framework run: type chain, agent or tool,
// named "{operation} {name}" with the GenAI operation names for agents
// (invoke_agent, gen_ai.agent.name) and tools (execute_tool,
// gen_ai.tool.name); chains have no GenAI name and are "chain {name}".
func startRun(ctx context.Context, rule, typ, name string) (context.Context, func(err error, abandoned bool)) {
	op, key, st := "chain", "tracegen.chain.name", trace.TypeChain
	switch typ {
	case SpanAgent:
		op, key, st = "invoke_agent", "gen_ai.agent.name", trace.TypeAgent
	case SpanTool:
		op, key, st = "execute_tool", "gen_ai.tool.name", trace.TypeTool
	}
	attrs := []record.Attr{record.String(AttrRule, rule)}
	if typ != SpanChain {
		attrs = append(attrs, record.String(AttrOperationName, op))
	}
	if name != "" {
		attrs = append(attrs, record.String(key, name))
		op += " " + name
	}
	ctx, s := trace.Start(ctx, op, trace.KindInternal, st, trace.WithAttributes(attrs...))
	if s == nil {
		return ctx, func(error, bool) {}
	}
	return ctx, func(err error, abandoned bool) {
		if abandoned {
			s.SetAttr(AttrStreamAbandoned, true)
		}
		s.RecordError(err)
		s.End()
	}
}

// captureOn reports whether message content is recorded for the call of span
// s: only when the user opted in, with TRACEGEN_CAPTURE_CONTENT=true or with a
// directive asking for input or output on an enclosing traced function
// (content is off by default, as the GenAI conventions ask), and tracing has
// not switched content off (TRACEGEN_CAPTURE_CONTENT=false).
func captureOn(s *trace.Span) bool {
	if !trace.CaptureContent() {
		return false
	}
	v := export.Getenv("TRACEGEN_CAPTURE_CONTENT")
	return v == "true" || v == "1" || s.ContentRequested()
}

func (s *spanRef) setAttr(key string, v any)  { s.s.SetAttr(key, v) }
func (s *spanRef) setAttrValue(a record.Attr) { s.s.SetAttributes(a) }
func (s *spanRef) captureContent() bool       { return s != nil && s.capture }
func (s *spanRef) rename(name string)         { s.s.SetName(name) }

// end records err and ends the span. It does not use Finish: Finish also
// flushes when the span is the outermost on its goroutine, which would make
// every top-level LLM call wait for the exporters.
func (s *spanRef) end(err error) {
	s.s.RecordError(err)
	s.s.End()
}

// addFootprint adds the EcoLogits estimate of the remote call: its energy
// as the span's llm energy, its CO2e and water computed for the provider's
// datacenter (trace.AddLLMImpact keeps them instead of using the local grid).
func addFootprint(s *spanRef, provider, model string, resp Response, latency time.Duration) {
	if !resp.UsageKnown || resp.OutputTokens <= 0 {
		return
	}
	e := footprint.EstimateCall(provider, model, resp.OutputTokens, latency)
	if e.Method == "" || e.EnergyKWh <= 0 {
		if e.Note != "" {
			s.setAttr(AttrFootprintNote, e.Note)
		}
		return
	}
	trace.AddLLMImpact(s.s, model, e.EnergyKWh*3.6e6, e.CO2eG, e.WaterL)
	s.setAttr(AttrFootprintMethod, e.Method+" "+e.Version)
	used := e.MatchedModel
	if used == "" {
		used = "size class " + e.SizeClass
	}
	s.setAttr(AttrFootprintModel, used)
	if e.EmbodiedCO2eG > 0 {
		s.setAttr(AttrFootprintEmbodied, e.EmbodiedCO2eG)
	}
	if e.Note != "" {
		s.setAttr(AttrFootprintNote, e.Note)
	}
}

// contentString renders captured content as the JSON the GenAI conventions
// use for gen_ai.input.messages / gen_ai.output.messages.
func contentString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func typeName(v any) string {
	if v == nil {
		return ""
	}
	return reflect.TypeOf(v).String()
}

// outputMessages renders generated text in the GenAI conventions' output
// message schema: [{"role":"assistant","parts":[{"type":"text","content":…}],
// "finish_reason":…}]. Stream deltas are joined. Content that is not text is
// rendered as JSON in one part.
func outputMessages(out any, finish []string) string {
	text, ok := joinText(out)
	if !ok {
		text = contentString(out)
	}
	type part struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	type message struct {
		Role         string `json:"role"`
		Parts        []part `json:"parts"`
		FinishReason string `json:"finish_reason,omitempty"`
	}
	m := message{Role: "assistant", Parts: []part{{"text", text}}}
	if len(finish) > 0 {
		m.FinishReason = finish[len(finish)-1]
	}
	b, err := json.Marshal([]message{m})
	if err != nil {
		return text
	}
	return string(b)
}

// joinText concatenates strings, slices of strings, and nested slices.
func joinText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []any:
		var sb strings.Builder
		for _, e := range x {
			s, ok := joinText(e)
			if !ok {
				return "", false
			}
			sb.WriteString(s)
		}
		return sb.String(), true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}
