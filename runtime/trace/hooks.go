package trace

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Hooks for the other files of this package (core.go wires the energy
// package's hooks into them, pii.go sets the redactor). They are
// unexported on purpose: they are not part of the user API. Register them
// from init functions only; they are read without locks afterwards.
//
//   - onTracingStart(f): f runs once, on the goroutine of the first span,
//     when a pipeline starts (the energy sampler starts here).
//   - onTracingStop(f): f runs at Shutdown/Stop, before the queue is drained,
//     so energy attributed at that point is still exported.
//   - onSpanEnd(f): f runs in End after the energy accumulators were copied
//     into r.Impact.Joules (and EnergyKWh set from their sum) and rolled up
//     into the parent, and the default ids added, before the record is
//     queued: the energy package fills r.Impact (CO2e, water, EnergySource)
//     here. f must be fast and must not block, and must not keep r or
//     anything inside it: records are recycled after export when every
//     exporter releases them (export.RecordReleaser). After End, read a
//     span's identity with s.TraceID()/s.SpanID(), not s.rec, which may
//     already describe another span.
//   - setRedactor(f): f is applied to string attribute values, event
//     attributes, status messages and captured input/output before any
//     exporter sees them; it takes effect for pipelines configured after
//     the call (call it from init, or before Configure).
//   - setRootInherited(attrs): every span without a tracegen parent starts
//     with attrs as inherited attributes (process-wide ids such as a run
//     id); descendants share the slice, so this costs no allocation, unlike
//     appending to r.Inherited in an end hook.
//   - eachCurrentSpan(f) iterates goroutine id -> innermost current span
//     (current.go); pruneCurrent(alive) drops entries of dead goroutines.
//   - noteSpanGoroutine(goid, s) (current.go) is called by setCurrent and
//     swapCurrent, on the goroutine span s becomes current on, after the
//     slot was written; it calls the energy package's Note hook.
//   - (*Span).AddEnergy(source, joules) is the exported accumulator.

var (
	startHooks []func()
	stopHooks  []func(context.Context)
	endHooks   []func(s *Span, r *record.Record)
	redactor   atomic.Pointer[func(string) string]

	rootInherited atomic.Pointer[[]record.Attr]
)

func setRootInherited(attrs []record.Attr) {
	c := slices.Clip(slices.Clone(attrs))
	rootInherited.Store(&c)
}

func onTracingStart(f func())                     { startHooks = append(startHooks, f) }
func onTracingStop(f func(context.Context))       { stopHooks = append(stopHooks, f) }
func onSpanEnd(f func(s *Span, r *record.Record)) { endHooks = append(endHooks, f) }
func setRedactor(f func(string) string) {
	if f == nil {
		redactor.Store(nil)
		return
	}
	redactor.Store(&f)
}
