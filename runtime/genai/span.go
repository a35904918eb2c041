package genai

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/footprint"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// This file is the only place that talks to the span implementation
// (runtime/trace). Until runtime/trace lands it keeps attributes in memory.

type spanRef struct {
	attrs []record.Attr
	err   error
	ended bool
}

func enabled() bool { return true }

func startSpan(ctx context.Context, name string, start time.Time, attrs []record.Attr) (context.Context, *spanRef) {
	return ctx, &spanRef{attrs: attrs}
}

func (s *spanRef) setAttr(key string, v any)   { s.attrs = append(s.attrs, record.Any(key, v)) }
func (s *spanRef) setAttrValue(a record.Attr)  { s.attrs = append(s.attrs, a) }
func (s *spanRef) captureContent() bool        { return false }
func (s *spanRef) end(err error)               { s.err, s.ended = err, true }
func (s *spanRef) addLLMEnergy(joules float64) {}

// addFootprint adds the estimate of the remote call's footprint.
func addFootprint(s *spanRef, provider, model string, resp Response, latency time.Duration) {
	if !resp.UsageKnown {
		return
	}
	e := footprint.EstimateCall(provider, model, resp.OutputTokens, latency)
	if e.Method == "" {
		return
	}
	s.addLLMEnergy(e.EnergyKWh * 3.6e6)
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
