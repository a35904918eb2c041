package trace

import (
	"context"
	"time"
)

// This file holds the few span operations the GenAI layer (runtime/genai)
// needs beyond the generated-code API: LLM spans learn their response model
// late, manual records describe calls that already happened, and streams
// that were never drained must end before the final flush.

// SetName renames a span that is still recording (an LLM span named before
// its model was known). No-op on nil or ended spans.
func (s *Span) SetName(name string) {
	if !s.lock() {
		return
	}
	s.rec.Name = name
	s.mu.Unlock()
}

// SetStartTime moves the start of a span that is still recording, for spans
// recorded after the fact (genai.RecordLLMCall). No-op on nil or ended spans.
func (s *Span) SetStartTime(t time.Time) {
	if !s.lock() {
		return
	}
	s.rec.Start = t
	s.mu.Unlock()
}

// OnShutdown registers f to run at Shutdown/Stop, before the queue is
// drained, so spans it ends are still exported. Call it from init only.
func OnShutdown(f func()) { onTracingStop(func(context.Context) { f() }) }
