package trace

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// nInlineAttrs attributes are stored with the record without allocating;
// more cost one allocation.
const nInlineAttrs = 4

// spanData is the mutable record of a recording span with its inline
// attribute storage. When every exporter releases records after Export
// (export.RecordReleaser), spanData is recycled through a pool once the
// span is exported; otherwise it is allocated together with the Span.
type spanData struct {
	rec     record.Record
	attrBuf [nInlineAttrs]record.Attr
}

// spanAndData is the single allocation of a span when records are not
// recycled.
type spanAndData struct {
	span Span
	data spanData
}

var dataPool = sync.Pool{New: func() any { return new(spanData) }}

// unsampledRec is the (never written) record of unsampled spans in pool
// mode, so that s.rec is never nil.
var unsampledRec record.Record

// Span is one timed operation. A *Span is also the context.Context
// returned by Start: it carries its parent context and answers Value for
// the span key with itself, so starting a span costs one allocation.
//
// A nil *Span is valid: every method is a no-op (Finish and Guard still
// re-panic), which is what Start returns when tracing is disabled. All
// methods are safe for concurrent use. Calls after End are ignored, except
// AddEnergy, which is safe until the span is exported.
//
// Spans are never reused (a caller may keep the context after End). The
// record behind rec may be: after End, code in this package must use the
// Span's own fields (traceID, spanID, inh, name), not rec.
type Span struct {
	parentCtx context.Context
	parent    *Span // tracegen parent in this process, or nil
	prev      *Span // span that was current on its goroutine before this one
	p         *pipeline
	rec       *record.Record // the record being filled; see above
	data      *spanData      // owner of rec when pooled, nil otherwise
	inh       []record.Attr  // inherited attributes at start: what children copy
	name      string         // final name once ended
	traceID   record.TraceID
	spanID    record.SpanID
	parentID  record.SpanID // the parent's span id, local or remote (zero for a root)

	// node is what energy attribution sees of the span (runtime/energy):
	// its goroutine, parent and whether it is sampled, set at start and
	// read-only afterwards, and its energy accumulators.
	node spanhook.Node

	mu sync.Mutex
	// wantContent is set at start by WithContentCapture, read-only afterwards.
	wantContent bool
	// genai is set at start for a span of a GenAI type (llm, chain, agent,
	// tool), read-only afterwards (see framedOTel).
	genai bool
	ended bool // guarded by mu

	// childPanic is what a child span of s last recorded of a panic that
	// unwound it, so that s need not format the value or dump the stack again.
	childPanic atomic.Pointer[panicNote]
}

type spanKey struct{}

// Deadline implements context.Context by delegating to the parent context.
func (s *Span) Deadline() (time.Time, bool) { return s.parentCtx.Deadline() }

// Done implements context.Context by delegating to the parent context.
func (s *Span) Done() <-chan struct{} { return s.parentCtx.Done() }

// Err implements context.Context by delegating to the parent context.
func (s *Span) Err() error { return s.parentCtx.Err() }

// Value implements context.Context: the span key yields s, every other key
// is looked up in the parent context.
func (s *Span) Value(key any) any {
	if key == (spanKey{}) {
		return s
	}
	return s.parentCtx.Value(key)
}

// String names the span, for debugging.
func (s *Span) String() string {
	if s == nil {
		return "trace.Span(nil)"
	}
	return "trace.Span(" + s.Name() + ")"
}

// SpanFromContext returns the tracegen span carried by ctx, or nil. A nil
// *Span is safe to use.
func SpanFromContext(ctx context.Context) *Span {
	if ctx == nil {
		return nil
	}
	if s, ok := ctx.(*Span); ok {
		return s
	}
	s, _ := ctx.Value(spanKey{}).(*Span)
	return s
}

// ContextWithSpan returns a context carrying s (for handing a span started
// with Begin to code that takes a context).
func ContextWithSpan(ctx context.Context, s *Span) context.Context {
	if s == nil {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, spanKey{}, s)
}

// Current returns the innermost span active on the calling goroutine, or
// nil: the span of the closest enclosing traced function, or the span a
// Bind-wrapped function was bound to.
func Current() *Span {
	if !Enabled() {
		return nil
	}
	return currentOf(curGoid())
}

// IsRecording reports whether the span records data that will be exported
// (false for nil, unsampled and ended spans).
func (s *Span) IsRecording() bool {
	if s == nil || !s.node.Sampled {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

// TraceID returns the span's trace id (zero for nil). A span started
// beneath an unsampled one records nothing and has no identity of its own:
// it answers, on the goroutine that runs it, with the unsampled ancestor's
// trace id (the one propagated to other services).
func (s *Span) TraceID() record.TraceID {
	if s == &unsampledBelow {
		s = currentOf(curGoid()) // the unsampled span it stands for
	}
	if s == nil {
		return record.TraceID{}
	}
	return s.traceID
}

// SpanID returns the span's id (zero for nil; for a span beneath an
// unsampled one, its unsampled ancestor's, as TraceID).
func (s *Span) SpanID() record.SpanID {
	if s == &unsampledBelow {
		s = currentOf(curGoid())
	}
	if s == nil {
		return record.SpanID{}
	}
	return s.spanID
}

// Name returns the span's name ("" for nil).
func (s *Span) Name() string {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.node.Sampled && !s.ended {
		return s.rec.Name // SetName may have changed it
	}
	return s.name
}

// Parent returns the parent span in this process, or nil.
func (s *Span) Parent() *Span {
	if s == nil {
		return nil
	}
	return s.parent
}

// lock locks s when it is still recording; the caller must unlock when
// true is returned.
func (s *Span) lock() bool {
	if s == nil || !s.node.Sampled {
		return false
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	return true
}

// SetAttr sets one attribute; see WithAttr for the accepted values.
func (s *Span) SetAttr(key string, value any) {
	if !s.lock() {
		return
	}
	s.setAttrLocked(s.p.redactAttr(record.Attr{Key: key, Value: record.AnyValue(value)}))
	s.mu.Unlock()
}

// SetAttributes sets typed attributes; a key set twice keeps the last value.
func (s *Span) SetAttributes(attrs ...record.Attr) {
	if !s.lock() {
		return
	}
	for _, a := range attrs {
		s.setAttrLocked(s.p.redactAttr(a))
	}
	s.mu.Unlock()
}

// SetMetadata sets an attribute under the "metadata." namespace.
func (s *Span) SetMetadata(key string, value any) {
	if s == nil || !s.node.Sampled {
		return
	}
	s.SetAttr("metadata."+key, value)
}

// SetSummary sets a one-line human summary of what the span did (the
// "summary" attribute).
func (s *Span) SetSummary(summary string) { s.SetAttr("summary", summary) }

// AddTags adds free-form tags.
func (s *Span) AddTags(tags ...string) {
	if !s.lock() {
		return
	}
	s.rec.Tags = append(s.rec.Tags, tags...)
	s.mu.Unlock()
}

// AddEvent records a timestamped event.
func (s *Span) AddEvent(name string, attrs ...record.Attr) {
	if !s.lock() {
		return
	}
	s.addEventLocked(name, attrs)
	s.mu.Unlock()
}

func (s *Span) addEventLocked(name string, attrs []record.Attr) {
	if len(s.rec.Events) >= s.p.limits.events {
		stats.limited.Add(1)
		return
	}
	e := record.Event{Name: name, Time: now()}
	if n := s.p.limits.eventAttrs; len(attrs) > n {
		stats.limited.Add(uint64(len(attrs) - n))
		attrs = attrs[:n]
	}
	if len(attrs) > 0 {
		e.Attrs = make([]record.Attr, len(attrs))
		for i, a := range attrs {
			e.Attrs[i] = s.p.redactAttr(a)
		}
	}
	s.rec.Events = append(s.rec.Events, e)
}

// setAttrLocked replaces the value of an existing key (so a loop updating
// one attribute does not grow the span) or appends a new key.
func (s *Span) setAttrLocked(a record.Attr) {
	for i := range s.rec.Attrs {
		if s.rec.Attrs[i].Key == a.Key {
			s.rec.Attrs[i] = a
			return
		}
	}
	if len(s.rec.Attrs) >= s.p.limits.attrs {
		stats.limited.Add(1)
		return
	}
	s.rec.Attrs = append(s.rec.Attrs, a)
}

// RecordInput captures input values as key/value pairs:
//
//	span.RecordInput("prompt", prompt, "temperature", 0.2)
//
// It does nothing when content capture is off (TRACEGEN_CAPTURE_CONTENT=false
// or Config.DisableContent). String values pass through the redaction hook.
// Values are kept by reference: do not mutate a recorded slice or map
// before the span ends.
func (s *Span) RecordInput(kv ...any) {
	if !s.lock() {
		return
	}
	if s.p.captureContent {
		s.rec.Input = s.p.appendKV(s.rec.Input, kv)
	}
	s.mu.Unlock()
}

// RecordOutput captures output values as key/value pairs; see RecordInput.
func (s *Span) RecordOutput(kv ...any) {
	if !s.lock() {
		return
	}
	if s.p.captureContent {
		s.rec.Output = s.p.appendKV(s.rec.Output, kv)
	}
	s.mu.Unlock()
}

// SetStatus sets the status. An error status is kept over a later ok, like
// OpenTelemetry's precedence (error and ok beat unset; ok does not erase
// an error); a later error replaces the message.
func (s *Span) SetStatus(status record.Status, msg string) {
	if !s.lock() {
		return
	}
	s.setStatusLocked(status, msg)
	s.mu.Unlock()
}

func (s *Span) setStatusLocked(status record.Status, msg string) {
	switch {
	case status == record.StatusUnset:
	case status == record.StatusOK && s.rec.Status == record.StatusError:
	default:
		s.rec.Status = status
		if status == record.StatusError {
			s.rec.StatusMsg = s.p.redact(msg)
		} else {
			s.rec.StatusMsg = ""
		}
	}
}

// MarkFailed sets status error with msg, without recording an event; use
// it for failures that are not Go errors (a refused answer, a bad score).
func (s *Span) MarkFailed(msg string) { s.SetStatus(record.StatusError, msg) }

// RecordError records err as an "exception" event (exception.type,
// exception.message, plus attrs) and sets status error with err's message.
// A nil err is ignored.
func (s *Span) RecordError(err error, attrs ...record.Attr) {
	if err == nil || !s.lock() {
		return
	}
	ev := make([]record.Attr, 0, 2+len(attrs))
	ev = append(ev, record.String("exception.type", errorType(err)), record.String("exception.message", err.Error()))
	ev = append(ev, attrs...)
	s.addEventLocked("exception", ev)
	s.setStatusLocked(record.StatusError, err.Error())
	s.mu.Unlock()
}

func errorType(err error) string {
	// Unwrap fmt.Errorf wrappers to name the interesting type.
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		if _, plain := err.(interface{ Unwrap() error }); !plain {
			break
		}
		if fmt.Sprintf("%T", err) != "*fmt.wrapError" {
			break
		}
		err = u
	}
	return fmt.Sprintf("%T", err)
}

// RecordPanic records a recovered panic value: an "exception" event with
// the value, its type and the stack, and status error "panic: <value>".
// It does not re-panic; see Finish and Guard for that.
func (s *Span) RecordPanic(v any) {
	if v == nil || !s.lock() {
		return
	}
	msg := fmt.Sprint(v)
	s.addEventLocked("exception", []record.Attr{
		record.String("exception.type", fmt.Sprintf("%T", v)),
		record.String("exception.message", msg),
		record.String("exception.stacktrace", string(debug.Stack())),
		record.Bool("exception.escaped", true),
	})
	s.setStatusLocked(record.StatusError, "panic: "+msg)
	s.mu.Unlock()
}

// AddEnergy adds joules of energy from source to the span. It is atomic
// and may be called from any goroutine (the energy sampler), also after
// End until the span is exported; energy added before End rolls up into
// the parent span when this span ends.
func (s *Span) AddEnergy(source record.EnergySource, joules float64) {
	if s == nil || !s.node.Sampled {
		return
	}
	s.node.Add(source, joules)
}

// Energy returns the joules accumulated from source so far.
func (s *Span) Energy(source record.EnergySource) float64 {
	if s == nil {
		return 0
	}
	return s.node.Energy(source)
}

// appendKV turns key/value pairs into attributes; a missing value for the
// last key is recorded as "(missing)", and a non-string key is formatted.
func (p *pipeline) appendKV(dst []record.Attr, kv []any) []record.Attr {
	dst = slices.Grow(dst, (len(kv)+1)/2)
	for i := 0; i < len(kv); i += 2 {
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		var v any = "(missing)"
		if i+1 < len(kv) {
			v = kv[i+1]
		}
		if len(dst) >= p.limits.attrs {
			stats.limited.Add(uint64((len(kv) - i + 1) / 2))
			break
		}
		dst = append(dst, p.redactContent(record.Attr{Key: key, Value: record.AnyValue(v)}))
	}
	return dst
}

// ContentRequested reports whether s or one of its ancestors in this process
// was started with [WithContentCapture]. Nil-safe.
func (s *Span) ContentRequested() bool {
	for c, n := s, 0; c != nil && n < maxChain; c, n = c.parent, n+1 {
		if c.wantContent {
			return true
		}
	}
	return false
}
