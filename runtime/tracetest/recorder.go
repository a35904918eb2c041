package tracetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// DefaultCapacity is how many spans a Recorder keeps unless [WithCapacity]
// says otherwise.
const DefaultCapacity = export.DefaultMemoryCapacity

// Recorder collects the spans that end while it is active. Make one with
// [NewRecorder]; its methods are meant to be called from the test's own
// goroutine, since those that fail the test call tb.Fatalf.
type Recorder struct {
	tb         testing.TB
	mem        *export.Memory
	capacity   int
	background bool // WithBackground: flush before reading
}

// Option changes how [NewRecorder] configures tracing.
type Option func(*options)

type options struct {
	capacity   int
	cfg        trace.Config
	background bool
}

// WithCapacity keeps at most n spans (default [DefaultCapacity]). Reading
// a recorder whose ring has overwritten spans fails the test.
func WithCapacity(n int) Option {
	return func(o *options) { o.capacity = max(n, 1) }
}

// WithConfig sets the other fields of the tracing configuration, such as
// DisableContent, ServiceName, Resource, SampleRatio or ErrorLog.
// cfg.Exporters, if any, receive the spans too, after the recorder's ring.
// IgnoreEnv is always true, and Sync too unless [WithBackground] is given.
func WithConfig(cfg trace.Config) Option {
	return func(o *options) { o.cfg = cfg }
}

// WithBackground runs the pipeline as a program runs it, in the background
// (not in sync mode): the energy sampler runs, so spans carry the energy
// they used, and the recorder's methods flush the pipeline before they read
// it. For tests of energy attribution and of the pipeline itself.
func WithBackground() Option {
	return func(o *options) { o.background = true }
}

// The recorder that is active, if any: there can be only one at a time.
var active struct {
	sync.Mutex
	name string // tb.Name() of the test that made it; "" when none
}

// NewRecorder configures tracing for the rest of the test: no environment,
// sync mode, and a memory exporter that the returned Recorder reads. The
// previous configuration is restored by tb.Cleanup. It fails the test when
// another Recorder is still active (see the package documentation).
func NewRecorder(tb testing.TB, opts ...Option) *Recorder {
	tb.Helper()
	o := options{capacity: DefaultCapacity}
	for _, opt := range opts {
		opt(&o)
	}
	active.Lock()
	if other := active.name; other != "" {
		active.Unlock()
		tb.Fatalf("tracetest: NewRecorder in %s while the recorder of %s is still active: "+
			"the tracing configuration is process-wide, so tests that use a Recorder must not run in parallel "+
			"nor make a second one", tb.Name(), other)
	}
	active.name = tb.Name()
	active.Unlock()

	r := &Recorder{tb: tb, mem: export.NewMemory(o.capacity), capacity: o.capacity, background: o.background}
	cfg := o.cfg
	cfg.IgnoreEnv, cfg.Sync = true, !o.background
	cfg.Exporters = append([]export.Exporter{r.mem}, cfg.Exporters...)
	restore := trace.Override(cfg)
	tb.Cleanup(func() {
		restore()
		active.Lock()
		active.name = ""
		active.Unlock()
	})
	return r
}

// Spans returns the spans that ended since the recorder was made (or last
// [Recorder.Reset]), in the order they ended, keeping those that match
// every filter ([export.NameIs], [export.AttrIs], [export.TypeIs], ...).
func (r *Recorder) Spans(filters ...export.Filter) []*record.Record {
	r.tb.Helper()
	if r.background {
		if err := trace.Flush(context.Background()); err != nil {
			r.tb.Fatalf("tracetest: flush: %v", err)
		}
	}
	if n := r.mem.Total(); n > uint64(r.capacity) {
		r.tb.Fatalf("tracetest: %d spans ended but the recorder keeps %d: the oldest were overwritten (use WithCapacity)", n, r.capacity)
	}
	return r.mem.Spans(filters...)
}

// Names returns the names of the recorded spans, in the order they ended.
func (r *Recorder) Names() []string {
	r.tb.Helper()
	return names(r.Spans())
}

// Span returns the one recorded span called name. It fails the test,
// listing the recorded names, when there is none or more than one (use
// [Recorder.ByName] for those).
func (r *Recorder) Span(name string) *record.Record {
	r.tb.Helper()
	all := r.Spans()
	var found []*record.Record
	for _, s := range all {
		if s.Name == name {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		r.tb.Fatalf("tracetest: no span %q among the %d recorded: %s", name, len(all), list(all))
	default:
		r.tb.Fatalf("tracetest: %d spans %q among the %d recorded, want one: %s", len(found), name, len(all), list(all))
	}
	return nil
}

// Only returns the one span recorded. It fails the test, listing the
// recorded names, when there are none or more than one.
func (r *Recorder) Only() *record.Record {
	r.tb.Helper()
	all := r.Spans()
	if len(all) != 1 {
		r.tb.Fatalf("tracetest: %d spans recorded, want 1: %s", len(all), list(all))
	}
	return all[0]
}

// ByName returns the recorded spans called name, in the order they ended.
func (r *Recorder) ByName(name string) []*record.Record {
	r.tb.Helper()
	return r.Spans(export.NameIs(name))
}

// ByAttr returns the recorded spans whose attribute key, own or
// inherited, equals value (compared as [export.AttrIs] does: an int 3
// matches an int attribute 3, not a float 3.0).
func (r *Recorder) ByAttr(key string, value any) []*record.Record {
	r.tb.Helper()
	return r.Spans(export.AttrIs(key, value))
}

// Children returns the recorded spans whose parent is parent, in the order
// they ended.
func (r *Recorder) Children(parent *record.Record) []*record.Record {
	r.tb.Helper()
	return r.Spans(func(s *record.Record) bool {
		return s.TraceID == parent.TraceID && s.ParentSpanID == parent.SpanID
	})
}

// Parent returns the recorded span that is span's parent, or nil when span
// has no parent or its parent was not recorded (it has not ended yet, or it
// lives in another process). A parent adopted through an OpenTelemetry span
// context counts when it was recorded here too (session.Feedback parents
// its span on the rated LLM span that way).
func (r *Recorder) Parent(span *record.Record) *record.Record {
	r.tb.Helper()
	if !span.ParentSpanID.IsValid() {
		return nil
	}
	for _, s := range r.Spans() {
		if s.TraceID == span.TraceID && s.SpanID == span.ParentSpanID {
			return s
		}
	}
	return nil
}

// Attr returns the value of span's attribute key, own or inherited (as
// [record.Record.Lookup]); it fails the test when span has no such
// attribute.
func (r *Recorder) Attr(span *record.Record, key string) record.Value {
	r.tb.Helper()
	v, ok := span.Lookup(key)
	if !ok {
		r.tb.Fatalf("tracetest: span %q has no attribute %s; attrs %v, inherited %v", span.Name, key, span.Attrs, span.Inherited)
	}
	return v
}

// Reset forgets the spans recorded so far.
func (r *Recorder) Reset() { r.mem.Reset() }

func names(spans []*record.Record) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// list formats span names for failure messages.
func list(spans []*record.Record) string { return fmt.Sprintf("%q", names(spans)) }
