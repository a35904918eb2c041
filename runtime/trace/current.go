package trace

import (
	"sync"
	"sync/atomic"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
)

// The goroutine-local current span.
//
// Every goroutine that is inside a span has an entry: goroutine id ->
// innermost active span started (or bound with Bind) on it. Start and Begin
// push the new span, End pops back to the span that was current before it,
// and the entry is given up as soon as nothing is current, so the table
// holds at most one entry per goroutine that is inside a span right now.
//
// Entries live in slots, a fixed open-addressed table read and written
// with atomic operations only: a goroutine finds its slot among the probe
// slots its id hashes to, claims a free one with a compare-and-swap, and
// changes its span with a compare-and-swap (End may run on another
// goroutine). Only the goroutine that owns a slot claims or gives it up
// (or pruneCurrent, once that goroutine is dead; goroutine ids are never
// reused). When all its probe slots are taken by other goroutines, the
// entry goes to an overflow map behind a mutex instead. Readers on other
// goroutines (the energy sampler, Fork finding a creator's span) see each
// slot's id and span without a lock, and keep a span only when it started
// on that goroutine.

const (
	slotBits = 12 // 4096 slots, 96 KiB
	nSlots   = 1 << slotBits
	nProbe   = 8 // slots a goroutine may use, from the one its id hashes to
)

// slot is one entry of the table; goid 0 is a free slot, span nil an entry
// with nothing current (a slot whose span another goroutine's End popped).
// End pops with mu held, and so does the energy sampler while it gives a
// span energy (CurrentLocked): a span it sees current under mu has not yet
// copied its accumulators into its record. Pushes take no lock.
type slot struct {
	goid atomic.Int64
	span atomic.Pointer[Span]
	mu   sync.Mutex
}

var slots [nSlots]slot

// overflow holds the entries that found no free slot.
var overflow struct {
	mu sync.Mutex
	m  map[int64]*Span
	n  atomic.Int64 // len(m), read without the lock
}

// probeStart returns the first slot index of goid's probe sequence.
func probeStart(goid int64) uint64 {
	return (uint64(goid) * 0x9E3779B97F4A7C15) >> (64 - slotBits)
}

// slotOf returns goid's slot, or nil when it has none.
func slotOf(goid int64) *slot {
	h := probeStart(goid)
	for i := range uint64(nProbe) {
		if sl := &slots[(h+i)&(nSlots-1)]; sl.goid.Load() == goid {
			return sl
		}
	}
	return nil
}

// claimSlot takes a free slot for goid, the calling goroutine, or returns nil.
func claimSlot(goid int64) *slot {
	h := probeStart(goid)
	for i := range uint64(nProbe) {
		if sl := &slots[(h+i)&(nSlots-1)]; sl.goid.Load() == 0 && sl.goid.CompareAndSwap(0, goid) {
			return sl
		}
	}
	return nil
}

// noteHook is the energy sampler's Note hook (runtime/energy).
var noteHook func(goid int64, n *spanhook.Node)

// noteSpanGoroutine tells the energy sampler that s became current on the
// calling goroutine, goid.
func noteSpanGoroutine(goid int64, s *Span) {
	if noteHook != nil && s != nil {
		noteHook(goid, &s.node)
	}
}

// swapCurrent makes s current on goid, the calling goroutine, and returns
// what was current.
func swapCurrent(goid int64, s *Span) *Span {
	prev := replaceCurrent(goid, s)
	noteSpanGoroutine(goid, s)
	return prev
}

// setCurrent makes s current on goid, the calling goroutine.
func setCurrent(goid int64, s *Span) {
	replaceCurrent(goid, s)
	noteSpanGoroutine(goid, s)
}

// restoreCurrent makes prev current on goid, the calling goroutine, again
// (giving up its entry when prev is nil).
func restoreCurrent(goid int64, prev *Span) {
	replaceCurrent(goid, prev)
}

// replaceCurrent makes s (nil: nothing) current on goid, the calling
// goroutine, and returns what was current.
func replaceCurrent(goid int64, s *Span) *Span {
	sl := slotOf(goid)
	if sl == nil && overflow.n.Load() > 0 {
		if prev, ok := overflowReplace(goid, s, false); ok {
			return prev
		}
	}
	if sl == nil {
		if s == nil {
			return nil
		}
		if sl = claimSlot(goid); sl == nil {
			prev, _ := overflowReplace(goid, s, true)
			return prev
		}
	}
	prev := sl.span.Swap(s)
	if s == nil {
		sl.goid.Store(0) // nothing current: give the slot up
	}
	return prev
}

// overflowReplace is replaceCurrent for an entry in the overflow map; with
// create unset it changes nothing (ok false) when goid has no entry there.
func overflowReplace(goid int64, s *Span, create bool) (prev *Span, ok bool) {
	overflow.mu.Lock()
	defer overflow.mu.Unlock()
	prev, ok = overflow.m[goid]
	if !ok && !create {
		return nil, false
	}
	switch {
	case s == nil:
		delete(overflow.m, goid)
	default:
		if overflow.m == nil {
			overflow.m = make(map[int64]*Span)
		}
		overflow.m[goid] = s
	}
	overflow.n.Store(int64(len(overflow.m)))
	return prev, true
}

// currentOf returns the current span of goid, or nil; goid may be another
// goroutine.
func currentOf(goid int64) *Span {
	if sl := slotOf(goid); sl != nil {
		return sl.spanOf(goid)
	}
	if overflow.n.Load() == 0 {
		return nil
	}
	overflow.mu.Lock()
	s := overflow.m[goid]
	overflow.mu.Unlock()
	return s
}

// spanOf returns the span of sl when sl still belongs to goid after the
// span was read (a slot given up and claimed by another goroutine in
// between holds that goroutine's span).
func (sl *slot) spanOf(goid int64) *Span {
	s := sl.span.Load()
	if sl.goid.Load() != goid {
		return nil
	}
	return s
}

// currentLocked returns goid's current span with the lock End pops it
// under held; the caller unlocks it.
func currentLocked(goid int64) (*Span, *sync.Mutex) {
	if sl := slotOf(goid); sl != nil {
		sl.mu.Lock()
		return sl.spanOf(goid), &sl.mu
	}
	overflow.mu.Lock()
	return overflow.m[goid], &overflow.mu
}

// maxChain bounds the walks along prev links.
const maxChain = 256

// popCurrent removes s (and any span still current above it, which was
// never ended) from its goroutine's stack. Ending a span that is no longer
// on the stack changes nothing. It may run on another goroutine than the
// one s started on: then it changes the span of that goroutine's entry
// (with a compare-and-swap, so a push on the owner in between is not
// lost) and leaves giving the entry up to the owner.
func popCurrent(s *Span) {
	goid := s.node.Goid
	sl := slotOf(goid)
	if sl == nil {
		if overflow.n.Load() > 0 {
			overflowPop(s)
		}
		return
	}
	own := goid == curGoid()
	sl.mu.Lock()
	defer sl.mu.Unlock()
	for {
		cur := sl.span.Load()
		if sl.goid.Load() != goid || !onStack(cur, s) {
			return
		}
		if sl.span.CompareAndSwap(cur, s.prev) {
			if s.prev == nil && own {
				sl.goid.Store(0)
			}
			return
		}
	}
}

// onStack reports whether s is cur or below it on cur's stack.
func onStack(cur, s *Span) bool {
	for c, n := cur, 0; c != nil && n < maxChain; c, n = c.prev, n+1 {
		if c == s {
			return true
		}
	}
	return false
}

// overflowPop is popCurrent for an entry in the overflow map.
func overflowPop(s *Span) {
	overflow.mu.Lock()
	defer overflow.mu.Unlock()
	if cur, ok := overflow.m[s.node.Goid]; ok && onStack(cur, s) {
		if s.prev == nil {
			delete(overflow.m, s.node.Goid)
		} else {
			overflow.m[s.node.Goid] = s.prev
		}
		overflow.n.Store(int64(len(overflow.m)))
	}
}

// eachCurrentSpan calls f for every goroutine that has a current span,
// until f returns false. The spans are read without locks: a span f sees
// may end while f runs (its methods are safe for that), and f may start
// and end spans.
func eachCurrentSpan(f func(goid int64, s *Span) bool) {
	for i := range slots {
		sl := &slots[i]
		g := sl.goid.Load()
		if g == 0 {
			continue
		}
		if s := sl.spanOf(g); s != nil && !f(g, s) {
			return
		}
	}
	if overflow.n.Load() == 0 {
		return
	}
	overflow.mu.Lock()
	entries := make(map[int64]*Span, len(overflow.m))
	for g, s := range overflow.m {
		entries[g] = s
	}
	overflow.mu.Unlock()
	for g, s := range entries {
		if !f(g, s) {
			return
		}
	}
}

// pruneCurrent gives up the entries of goroutines for which alive returns
// false: goroutines that exited inside a span they never ended. It must
// only be given goroutines that are dead.
func pruneCurrent(alive func(goid int64) bool) int {
	n := 0
	for i := range slots {
		sl := &slots[i]
		g := sl.goid.Load()
		if g == 0 || alive(g) {
			continue
		}
		if sl.span.Swap(nil) != nil {
			n++
		}
		sl.goid.CompareAndSwap(g, 0)
	}
	overflow.mu.Lock()
	for g := range overflow.m {
		if !alive(g) {
			delete(overflow.m, g)
			n++
		}
	}
	overflow.n.Store(int64(len(overflow.m)))
	overflow.mu.Unlock()
	return n
}

// currentCount returns how many goroutines have a current span.
func currentCount() int {
	n := 0
	for i := range slots {
		if sl := &slots[i]; sl.goid.Load() != 0 && sl.span.Load() != nil {
			n++
		}
	}
	overflow.mu.Lock()
	n += len(overflow.m)
	overflow.mu.Unlock()
	return n
}
