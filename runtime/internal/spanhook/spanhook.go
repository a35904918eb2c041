// Package spanhook is the seam between the span core (runtime/trace) and
// energy attribution (runtime/energy), so that neither imports the other's
// internals and runtime/trace reads as the span API and its pipeline.
//
// Every trace.Span embeds a [Node]: the part of a span that energy
// attribution sees (its parent, its goroutine, its energy accumulators,
// whether it has ended). The energy package registers its [Hooks] from an
// init func; runtime/trace imports it, so the hooks are in place before the
// first span, and calls them at the points the Hooks fields name. The other
// way round, runtime/trace installs its [Core] at init: what the energy
// sampler asks of the span core (the current span of each goroutine, the
// pipeline's state and error log).
//
// Nothing here is API for users: the package is internal to the runtime
// module.
package spanhook

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Node is the energy account of one span. The core sets Parent, Goid and
// Sampled at start (read-only afterwards) and calls MarkEnded when the span
// ends; the energy sampler adds joules from any goroutine.
type Node struct {
	Parent  *Node // the tracegen parent in this process, or nil
	Goid    int64 // the goroutine the span started on
	Sampled bool  // the span records (unsampled spans get no energy)

	ended atomic.Bool
	// ext is the energy package's own state of the span (LLM estimates, a
	// root's final impact), opaque to the core; nil for most spans.
	ext atomic.Pointer[byte]
	// joules holds per-source joules as float64 bits; allocated on the
	// first Add, as most short spans never receive any.
	joules atomic.Pointer[[record.NumEnergySources]atomic.Uint64]
}

// Add adds j joules from src (the core's AddEnergy and roll-up). Zero and
// NaN are ignored. Safe for concurrent use.
func (n *Node) Add(src record.EnergySource, j float64) {
	if j == 0 || math.IsNaN(j) || src >= record.NumEnergySources {
		return
	}
	n.update(src, func(v float64) float64 { return v + j })
}

// Settle adds j joules from src for the energy sampler: j may be negative
// (a settlement taking back part of a provisional share), the total never
// goes below zero, and infinite values are ignored.
func (n *Node) Settle(src record.EnergySource, j float64) {
	if j == 0 || math.IsNaN(j) || math.IsInf(j, 0) || src >= record.NumEnergySources {
		return
	}
	n.update(src, func(v float64) float64 { return max(v+j, 0) })
}

func (n *Node) update(src record.EnergySource, f func(float64) float64) {
	e := n.joules.Load()
	if e == nil {
		n.joules.CompareAndSwap(nil, new([record.NumEnergySources]atomic.Uint64))
		e = n.joules.Load()
	}
	u := &e[src]
	for {
		old := u.Load()
		if u.CompareAndSwap(old, math.Float64bits(f(math.Float64frombits(old)))) {
			return
		}
	}
}

// Energy returns the joules accumulated from src so far.
func (n *Node) Energy(src record.EnergySource) float64 {
	e := n.joules.Load()
	if e == nil || src >= record.NumEnergySources {
		return 0
	}
	return math.Float64frombits(e[src].Load())
}

// HasEnergy reports whether any joules were ever added.
func (n *Node) HasEnergy() bool { return n.joules.Load() != nil }

// MarkEnded records that the span ended; the core calls it once, in End.
func (n *Node) MarkEnded() { n.ended.Store(true) }

// Ended reports whether the span has ended.
func (n *Node) Ended() bool { return n.ended.Load() }

// Ext returns the energy package's state of the span, or nil.
func (n *Node) Ext() unsafe.Pointer { return unsafe.Pointer(n.ext.Load()) }

// CompareAndSwapExt installs the energy package's state of the span.
func (n *Node) CompareAndSwapExt(old, new unsafe.Pointer) bool {
	return n.ext.CompareAndSwap((*byte)(old), (*byte)(new))
}

// Hooks are the energy package's entry points, called by the core.
type Hooks struct {
	// Start runs once, on the goroutine of the first span, when a pipeline
	// starts; it must not block.
	Start func()
	// Stop runs at Shutdown/Stop before the queue is drained, so energy
	// attributed then is still exported.
	Stop func(context.Context)
	// End runs in End after the core copied the span's joules into
	// r.Impact.Joules (EnergyKWh set from their sum) and rolled them up into
	// the parent, before r is queued: it fills r.Impact. It must be fast,
	// must not block and must not keep r.
	End func(n *Node, r *record.Record)
	// Note runs when a span becomes current on the calling goroutine (goid),
	// after the core's own bookkeeping; it must cost about one atomic load
	// when energy is off.
	Note func(goid int64, n *Node)
	// AddLLM records the estimated impact of a remote LLM call on n.
	AddLLM func(n *Node, model string, joules, co2eG, waterL float64)
	// Asleep is set while the sampler goroutine has exited idle; the core
	// calls Wake on the goroutine of the next span that finds it set.
	Asleep *atomic.Bool
	Wake   func()
}

var hooks atomic.Pointer[Hooks]

// Register installs the energy package's hooks; call it from init.
func Register(h Hooks) { hooks.Store(&h) }

// Registered returns the hooks installed by Register, or nil.
func Registered() *Hooks { return hooks.Load() }

// Tracing is the span core's pipeline state, as the energy sampler needs it.
type Tracing struct {
	On      bool // a pipeline that records spans is installed
	Started bool // and its first span has started
	Sync    bool // it runs without background goroutines (no sampling)
}

// Core is what the energy package asks of the span core.
type Core interface {
	// EachCurrent calls f with the innermost current span of each goroutine
	// that has one, until f returns false. Spans are published as current
	// only once built, so their Parent links may be read.
	EachCurrent(f func(goid int64, n *Node) bool)
	// CurrentOf returns goid's innermost current span, or nil.
	CurrentOf(goid int64) *Node
	// CurrentLocked returns goid's innermost current span with mu, the
	// lock that End takes to pop it, held: while the caller holds mu the
	// span stays current. The caller unlocks mu.
	CurrentLocked(goid int64) (n *Node, mu *sync.Mutex)
	// CurrentCount counts the goroutines that have a current span.
	CurrentCount() int
	// PruneCurrent drops the current spans of goroutines for which alive
	// returns false (goroutines that exited inside a span).
	PruneCurrent(alive func(goid int64) bool)
	// SpansStarted counts spans started in the process.
	SpansStarted() uint64
	// State describes the active pipeline.
	State() Tracing
	// Logf writes one line on the active pipeline's error log (stderr when
	// tracing is off).
	Logf(format string, args ...any)
	// Lookup returns the sampled span carried by ctx or, without one, the
	// calling goroutine's current span; nil when there is neither.
	Lookup(ctx context.Context) *Node
	// TraceID and Name describe the span that holds n.
	TraceID(n *Node) record.TraceID
	Name(n *Node) string
}

var core atomic.Pointer[Core]

// SetCore installs the span core; runtime/trace calls it from init.
func SetCore(c Core) { core.Store(&c) }

// CoreOf returns the span core, or nil when runtime/trace is not linked.
func CoreOf() Core {
	if c := core.Load(); c != nil {
		return *c
	}
	return nil
}
