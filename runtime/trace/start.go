package trace

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/ctxparent"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Start starts a span named name as a child of the span in ctx and returns
// a context carrying the new span (the span itself) plus the span.
//
// The parent is, in order: the tracegen span in ctx; else the OpenTelemetry
// span context in ctx (go.opentelemetry.io/otel/trace), whose trace the new
// span joins as a child; else the goroutine's current span; else none (a
// new trace). When tracing is disabled Start returns ctx unchanged and a
// nil span, at the cost of one atomic load.
func Start(ctx context.Context, name string, opts ...StartOption) (context.Context, *Span) {
	if atomic.LoadUint32(&offFlag) != 0 {
		return ctx, nil
	}
	if beneathUnsampled(ctx) {
		return ctx, &unsampledBelow
	}
	s := startSlow(ctx, name, opts)
	if s == nil || s == &unsampledBelow {
		return ctx, s
	}
	return s.context(), s
}

// beneathUnsampled reports whether ctx is itself an unsampled span of the
// active pipeline (what Start returned for one), with no bridge that could
// find an OpenTelemetry parent in it: newSpan's first case, without its
// calls and the context lookup.
func beneathUnsampled(ctx context.Context) bool {
	ps, ok := ctx.(*Span)
	return ok && !ps.node.Sampled && ps.p != nil && ps.p == active.Load() && !ctxparent.HasReader()
}

// startSlow starts a span from ctx, or returns nil when tracing is off.
func startSlow(ctx context.Context, name string, opts []StartOption) *Span {
	p := active.Load()
	if p == nil {
		p = initFromEnv()
	}
	if p == disabledP {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return p.newSpan(ctx, name, opts, true)
}

// context is the context Start returns: the span itself, which code
// beneath reads the span from, and, when a bridge is linked, the span's ids
// in the form other tracers read (an OpenTelemetry span context), so their
// spans beneath join the trace.
func (s *Span) context() context.Context {
	return ctxparent.Decorate(s, ctxparent.Remote{TraceID: s.traceID, SpanID: s.spanID, Sampled: s.node.Sampled})
}

// Begin starts a span for a function without a context parameter: its
// parent is the goroutine's current span (the enclosing traced call on the
// same goroutine, or the span a Bind-wrapped goroutine was bound to). The
// span becomes the goroutine's current span until it ends. Disabled: nil.
func Begin(name string, opts ...StartOption) *Span {
	if atomic.LoadUint32(&offFlag) == 0 {
		return beginSlow(name, opts)
	}
	return nil
}

func beginSlow(name string, opts []StartOption) *Span {
	p := active.Load()
	if p == nil {
		p = initFromEnv()
	}
	if p == disabledP {
		return nil
	}
	return p.newSpan(context.Background(), name, opts, false)
}

// newSpan allocates and starts a span (the only allocation of Start when
// the span has at most nInlineAttrs attributes and no inherited ones).
// unsampledBelow is the span of every span started beneath an unsampled
// one: an unsampled trace records nothing, so its descendants need no
// allocation, no ids and no place in the goroutine's current-span stack
// (the unsampled ancestor stays current, and their own descendants find it
// there or in their context). It is ended already, so every method is a
// no-op; Start returns the caller's context with it, Fork and Bind use the
// goroutine's current span in its place.
var unsampledBelow = Span{ended: true, rec: &unsampledRec, parentCtx: context.Background()}

func (p *pipeline) newSpan(ctx context.Context, name string, opts []StartOption, fromCtx bool) *Span {
	// Beneath an unsampled span carried by ctx everything is unsampled, the
	// goroutine's current span included (a deeper descendant of it); only
	// an OpenTelemetry span in ctx could say otherwise, so without a bridge
	// the current span need not be looked up. (The unsampled span's start
	// already counted as activity for the energy sampler.)
	if fromCtx && !ctxparent.HasReader() {
		if ps := SpanFromContext(ctx); ps != nil && !ps.node.Sampled {
			return &unsampledBelow
		}
	}
	// Read the current span now, publish s only once it is fully built:
	// the energy sampler reads current spans from other goroutines. Once
	// the goroutine id is cheap to read (after the first span), Begin
	// beneath an unsampled current span is unsampled too and, as for the
	// case above, not counted again.
	var goid int64
	var prev *Span
	if p.started.Load() {
		goid = curGoid()
		prev = currentOf(goid)
		if !fromCtx && prev != nil && !prev.node.Sampled {
			return &unsampledBelow
		}
	}
	if goid == 0 { // the first span: the id is read after initGoid
		goid = p.ensureStarted(0)
		prev = currentOf(goid)
	} else {
		p.ensureStarted(goid)
	}
	genai := genaiType(opts)
	parent, remote, hasRemote := chooseParent(ctx, prev, fromCtx, genai)
	if parent != nil && !parent.node.Sampled {
		return &unsampledBelow // see its doc: no allocation, nothing current
	}
	var s *Span
	if p.pool {
		s = &Span{}
	} else {
		sd := new(spanAndData)
		s = &sd.span
		s.rec = &sd.data.rec
		s.rec.Attrs = sd.data.attrBuf[:0]
	}
	s.p, s.parentCtx, s.name, s.genai = p, ctx, name, genai
	s.node.Goid = goid
	s.prev = prev

	var traceID record.TraceID
	var parentID record.SpanID
	var inh []record.Attr
	remoteParent := false
	switch {
	case parent != nil:
		s.parent = parent
		s.node.Parent = &parent.node
		s.node.Sampled = parent.node.Sampled
		traceID, parentID, inh = parent.traceID, parent.spanID, parent.inh
	case hasRemote:
		traceID, parentID = record.TraceID(remote.TraceID), record.SpanID(remote.SpanID)
		s.node.Sampled = remote.Sampled && p.sample(traceID)
		remoteParent = true
		inh = rootInheritedAttrs()
	default:
		traceID = newTraceID()
		s.node.Sampled = p.sample(traceID)
		inh = rootInheritedAttrs()
	}
	s.traceID, s.spanID, s.parentID, s.inh = traceID, newSpanID(), parentID, inh
	if p.pool {
		if !s.node.Sampled {
			s.rec = &unsampledRec
			setCurrent(s.node.Goid, s)
			return s
		}
		s.data = dataPool.Get().(*spanData)
		s.rec = &s.data.rec
		s.rec.Attrs = s.data.attrBuf[:0]
	}
	r := s.rec
	r.Name = name
	r.Start = now()
	r.TraceID, r.SpanID, r.ParentSpanID, r.RemoteParent, r.Inherited = traceID, s.spanID, parentID, remoteParent, inh
	if !s.node.Sampled {
		setCurrent(s.node.Goid, s)
		return s
	}
	r.Resource = p.resource
	p.applyOptions(s, opts)
	setCurrent(s.node.Goid, s)
	return s
}

// chooseParent picks the parent of a span started on a goroutine whose
// current span is prev: a tracegen span, or a remote parent (hasRemote),
// or neither (a new trace). genai tells whether the new span is of a GenAI
// type (see framedOTel).
func chooseParent(ctx context.Context, prev *Span, fromCtx, genai bool) (parent *Span, remote ctxparent.Remote, hasRemote bool) {
	if fromCtx {
		parent = SpanFromContext(ctx)
		if parent == nil || ctxparent.HasReader() {
			remote, hasRemote = ctxparent.FromContext(ctx)
		}
	}
	switch {
	case parent != nil:
		// A context saved earlier may carry an ancestor of the goroutine's
		// current span; the deeper span is the better parent.
		if prev != nil && prev != parent && isAncestor(parent, prev) {
			parent = prev
		}
		// An OpenTelemetry span started beneath it, from its context
		// (unless a framework's own, see framedOTel).
		if hasRemote && remoteBeneath(remote, parent) && !framedOTel(remote, parent, genai) {
			parent = nil
		} else {
			hasRemote = false
		}
	case prev != nil:
		// Traced functions hand their callees the context they were given,
		// so a remote parent in ctx is often above the current span, which
		// joined it: it wins only when the current span's chain does not
		// know it (an OpenTelemetry span started beneath).
		if !hasRemote || !remoteBeneath(remote, prev) || framedOTel(remote, prev, genai) {
			parent, hasRemote = prev, false
		}
	case hasRemote:
	default:
		parent = forkedParent()
	}
	return parent, remote, hasRemote
}

// applyOptions records the start options of a recording span.
func (p *pipeline) applyOptions(s *Span, opts []StartOption) {
	r := s.rec
	ownInherited := false
	for _, o := range opts {
		switch o := o.(type) {
		case Kind:
			r.Kind = record.Kind(o)
		case Type:
			r.Type = record.Type(o)
		case attrOption:
			r.Attrs = append(r.Attrs, p.redactAttr(record.Attr{Key: o.key, Value: record.AnyValue(o.value)}))
		case attrsOption:
			for _, a := range o {
				r.Attrs = append(r.Attrs, p.redactAttr(a))
			}
		case tagsOption:
			r.Tags = append(r.Tags, o...)
		case contentOption:
			s.wantContent = true
		case inheritedOption:
			if !ownInherited {
				r.Inherited = slices.Clone(r.Inherited)
				ownInherited = true
			}
			a := p.redactAttr(record.Attr{Key: o.key, Value: record.AnyValue(o.value)})
			if i := slices.IndexFunc(r.Inherited, func(x record.Attr) bool { return x.Key == a.Key }); i >= 0 {
				r.Inherited[i] = a
			} else {
				r.Inherited = append(r.Inherited, a)
			}
		}
	}
	if ownInherited {
		r.Inherited = slices.Clip(r.Inherited)
		s.inh = r.Inherited
	}
	if n := p.limits.attrs; len(r.Attrs) > n {
		stats.limited.Add(uint64(len(r.Attrs) - n))
		r.Attrs = r.Attrs[:n]
	}
}

func rootInheritedAttrs() []record.Attr {
	if a := rootInherited.Load(); a != nil {
		return *a
	}
	return nil
}

// remoteBeneath reports whether the remote parent r lies beneath the
// current span cur: neither a span of cur's chain nor the remote parent its
// root joined, so it was made after cur started (an OpenTelemetry span
// started by code cur called, or a parent extracted from a message).
func remoteBeneath(r ctxparent.Remote, cur *Span) bool {
	for c, n := cur, 0; c != nil && n < maxChain; c, n = c.parent, n+1 {
		if record.SpanID(r.SpanID) == c.spanID || record.SpanID(r.SpanID) == c.parentID {
			return false
		}
	}
	return true
}

// framedOTel reports whether the OpenTelemetry span r, started beneath the
// tracegen span cur, is to be passed over: it is in cur's trace, and cur or
// the new span (genai) is a GenAI span (llm, chain, agent or tool). Such an
// OpenTelemetry span is a framework's own (Genkit starts one for each flow,
// generation and model call), which an exporter of tracegen spans does not
// see: the new span's parent is cur, so the trace a tracegen exporter
// receives has no parent it lacks. Beneath an OpenTelemetry span that
// plain traced functions started, the OpenTelemetry span stays the parent.
func framedOTel(r ctxparent.Remote, cur *Span, genai bool) bool {
	return record.TraceID(r.TraceID) == cur.traceID && (genai || cur.genai)
}

// genaiType reports whether opts give a GenAI span type.
func genaiType(opts []StartOption) bool {
	for _, o := range opts {
		if t, ok := o.(Type); ok {
			switch t {
			case TypeLLM, TypeChain, TypeAgent, TypeTool:
				return true
			}
		}
	}
	return false
}

// isAncestor reports whether a is a strict ancestor of s.
func isAncestor(a, s *Span) bool {
	for c, n := s.parent, 0; c != nil && n < maxChain; c, n = c.parent, n+1 {
		if c == a {
			return true
		}
	}
	return false
}

func newTraceID() record.TraceID {
	var id record.TraceID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:8], rand.Uint64())
		binary.BigEndian.PutUint64(id[8:], rand.Uint64())
	}
	return id
}

func newSpanID() record.SpanID {
	var id record.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}

// End ends the span: it stops the clock, makes the previous span current
// again on the span's goroutine, rolls its energy up into its parent, and
// queues it for export. Calling End more than once does nothing.
//
// When End is itself the deferred call (defer span.End()) and the function
// is being unwound by a panic, End records the panic as Return does; it
// never recovers it.
func (s *Span) End() {
	if s == nil || s == &unsampledBelow {
		return
	}
	if s.endIfUnwound() {
		return
	}
	s.end()
}

// Return is what generated code defers in a traced function:
//
//	defer span.Return(&err)
//
// (errp is nil for a function without an error result). When the function
// returns, Return records *errp, if not nil, as the span's error (status
// error and an exception event) and ends the span. When a panic unwinds the
// function instead, Return records the panic (status error, an exception
// event with the panic's type and message, and the stack trace on the
// innermost span the panic passes through), ends the span and, when it is
// the outermost span of its goroutine, flushes the pipeline, since the
// program may be about to die; the panic goes on unchanged, as Return never
// calls recover. Under runtime.Goexit the span ends with an event
// "runtime.Goexit" and no error.
func (s *Span) Return(errp *error) {
	if s == nil {
		return
	}
	if s.endIfUnwound() {
		return
	}
	if errp != nil && *errp != nil {
		s.RecordError(*errp)
	}
	s.end()
}

// ReturnOutput is Return for a function whose directive asks for its
// output: kv alternates result names and pointers to the named results,
//
//	defer span.ReturnOutput(&err, "n", &n)
//
// and the values they point to when the function returns are recorded as
// the span's output (see RecordOutput). After a panic nothing is recorded
// as output.
func (s *Span) ReturnOutput(errp *error, kv ...any) {
	if s == nil {
		return
	}
	if s.endIfUnwound() {
		return
	}
	if s.IsRecording() {
		vals := make([]any, len(kv))
		for i, v := range kv {
			if rv := reflect.ValueOf(v); i%2 == 1 && rv.Kind() == reflect.Pointer && !rv.IsNil() {
				v = rv.Elem().Interface()
			}
			vals[i] = v
		}
		s.RecordOutput(vals...)
	}
	if errp != nil && *errp != nil {
		s.RecordError(*errp)
	}
	s.end()
}

// endIfUnwound ends s and returns true when the deferred End, Return or
// Guard that called it runs because a panic or Goexit is unwinding the
// function (see unwind.go). The test is one load on a normal return.
func (s *Span) endIfUnwound() bool {
	if !unwinding() {
		return false
	}
	if s == &unsampledBelow {
		return true // nothing to record or end
	}
	k := classifyUnwind(1)
	if k == unwindReturn {
		return false
	}
	s.endUnwound(k)
	return true
}

// endUnwound ends a span whose function did not return normally.
func (s *Span) endUnwound(k unwindKind) {
	if k == unwindGoexit {
		s.AddEvent("runtime.Goexit")
		s.end()
		return
	}
	s.recordUnwindingPanic()
	outermost := s.prev == nil || s.prev.node.Goid != s.node.Goid
	s.end()
	if outermost {
		s.p.flushBestEffort()
	}
}

// panicNote is what a span records of the panic unwinding it, handed to
// its parent: a panic through n traced frames formats its value once and
// dumps the stack once (on the innermost span), so it costs O(n).
type panicNote struct {
	id       uintptr // the panic value's interface words, combined
	typ, msg string
}

// recordUnwindingPanic records the panic that is unwinding s's function.
func (s *Span) recordUnwindingPanic() {
	v, known := currentPanicValue()
	var note *panicNote
	withStack := false
	if known {
		// The panic is known by its value's words: the runtime's panic
		// record lives on a stack that may move while deferred calls run.
		w := *(*[2]uintptr)(unsafe.Pointer(&v))
		id := w[0]*31 + w[1] | 1
		if note = s.childPanic.Load(); note == nil || note.id != id {
			note = &panicNote{id: id, typ: fmt.Sprintf("%T", v), msg: fmt.Sprint(v)}
			withStack = true
		}
	}
	if s.parent != nil && note != nil {
		s.parent.childPanic.Store(note)
	}
	if !s.lock() {
		return
	}
	ev := make([]record.Attr, 0, 4)
	status := "panic"
	if note != nil {
		ev = append(ev, record.String("exception.type", note.typ), record.String("exception.message", note.msg))
		status = "panic: " + note.msg
	}
	if withStack {
		ev = append(ev, record.String("exception.stacktrace", string(debug.Stack())))
	}
	ev = append(ev, record.Bool("exception.escaped", true))
	s.addEventLocked("exception", ev)
	s.setStatusLocked(record.StatusError, status)
	s.mu.Unlock()
}

func (s *Span) end() {
	if s == &unsampledBelow {
		return
	}
	// Pop first: popping is idempotent, and it must not nest inside s.mu
	// (the energy sampler gives a current span energy under its slot's lock).
	popCurrent(s)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.node.MarkEnded()
	if !s.node.Sampled {
		s.mu.Unlock()
		return
	}
	// Start carries a monotonic reading: Since reads only the monotonic
	// clock, cheaper than a second time.Now and immune to wall-clock steps.
	s.rec.End = s.rec.Start.Add(time.Since(s.rec.Start))
	s.name = s.rec.Name
	s.mu.Unlock()
	// No setter touches rec once ended is set, so hooks run unlocked.
	s.finishImpact()
	addDefaultIDs(s.rec)
	for _, h := range endHooks {
		h(s, s.rec)
	}
	s.p.enqueue(s)
}

// release recycles the span's record after export (pool mode only).
func (s *Span) release() {
	d := s.data
	if d == nil {
		return
	}
	s.data = nil
	*d = spanData{}
	dataPool.Put(d)
}

// finishImpact copies the energy accumulators into the record and rolls
// them up into the parent.
func (s *Span) finishImpact() {
	if !s.node.HasEnergy() {
		return
	}
	total := 0.0
	for i := range record.NumEnergySources {
		j := s.Energy(record.EnergySource(i))
		if j == 0 {
			continue
		}
		s.rec.Impact.Joules[i] = j
		total += j
		if s.parent != nil {
			s.parent.AddEnergy(record.EnergySource(i), j)
		}
	}
	if total != 0 {
		s.rec.Impact.EnergyKWh = total / 3.6e6
	}
}

// Finish is what tracegen before v0.2 generated:
//
//	defer func() { span.Finish(err, recover()) }()
//
// It records err when non-nil and ends the span. Because the generated
// closure has already recovered a panic when Finish runs, Finish records it,
// ends the span, flushes when the span is the outermost one on its
// goroutine, and panics again with the same value. Regenerate such code:
// the current form, defer span.Return(&err), leaves panics alone.
//
// Deprecated: generated code now defers Return.
func (s *Span) Finish(err error, recovered any) {
	if recovered != nil {
		if s != nil && s != &unsampledBelow {
			s.RecordPanic(recovered)
			outermost := s.prev == nil || s.prev.node.Goid != s.node.Goid
			s.end()
			if outermost {
				s.p.flushBestEffort()
			}
		}
		panic(recovered)
	}
	if err != nil {
		s.RecordError(err)
	}
	s.End()
}

// Guard ends the span, recording a panic that unwinds the function
// without recovering it. It is the same as End, kept for code written as
//
//	defer span.Guard()
//
// Deprecated: use defer span.End() or defer span.Return(&err).
func (s *Span) Guard() {
	if s == nil {
		return
	}
	if s.endIfUnwound() {
		return
	}
	s.end()
}
