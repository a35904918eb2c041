package trace

import (
	"context"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// The span core as energy attribution sees it (runtime/internal/spanhook):
// this package installs core at init and wires the energy package's hooks
// into its own (hooks.go). This package imports runtime/energy (energy.go),
// which links it into every program that traces; its init, which registers
// the hooks, runs before this package's.

func init() {
	spanhook.SetCore(core{})
	h := spanhook.Registered()
	if h == nil {
		return
	}
	onTracingStart(h.Start)
	onTracingStop(h.Stop)
	onSpanEnd(func(s *Span, r *record.Record) { h.End(&s.node, r) })
	onSpanStartWake(h.Asleep, h.Wake)
	noteHook = h.Note
}

// core implements spanhook.Core.
type core struct{}

// spanOf returns the span that holds n: every Node the core hands out is
// the node field of a Span.
func spanOf(n *spanhook.Node) *Span {
	return (*Span)(unsafe.Add(unsafe.Pointer(n), -int(unsafe.Offsetof(Span{}.node))))
}

func (core) EachCurrent(f func(goid int64, n *spanhook.Node) bool) {
	eachCurrentSpan(func(goid int64, s *Span) bool { return f(goid, &s.node) })
}

func (core) CurrentOf(goid int64) *spanhook.Node {
	if s := currentOf(goid); s != nil {
		return &s.node
	}
	return nil
}

func (core) CurrentLocked(goid int64) (*spanhook.Node, *sync.Mutex) {
	s, mu := currentLocked(goid)
	if s == nil {
		return nil, mu
	}
	return &s.node, mu
}

func (core) CurrentCount() int                        { return currentCount() }
func (core) PruneCurrent(alive func(goid int64) bool) { pruneCurrent(alive) }
func (core) SpansStarted() uint64                     { return spansStarted() }
func (core) TraceID(n *spanhook.Node) record.TraceID  { return spanOf(n).traceID }
func (core) Name(n *spanhook.Node) string             { return spanOf(n).Name() }

func (core) State() spanhook.Tracing {
	p := active.Load()
	if p == nil || p == disabledP {
		return spanhook.Tracing{}
	}
	return spanhook.Tracing{On: true, Started: p.started.Load(), Sync: p.syncMode}
}

func (core) Logf(format string, args ...any) {
	p := active.Load()
	if p == nil || p == disabledP {
		// After Stop: the pipeline's log is gone; its default is stderr.
		fmt.Fprintf(os.Stderr, "tracegen: "+format+"\n", args...)
		return
	}
	p.logf(format, args...)
}

func (core) Lookup(ctx context.Context) *spanhook.Node {
	s := SpanFromContext(ctx)
	if s == nil {
		s = Current()
	}
	if s == nil || !s.node.Sampled {
		return nil
	}
	return &s.node
}
