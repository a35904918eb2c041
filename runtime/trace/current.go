package trace

import (
	"sync"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
)

// The goroutine-local current span.
//
// shards maps goroutine id -> innermost active span started (or bound with
// Bind) on that goroutine. Start and Begin push the new span, End pops back
// to the span that was current before it; an entry is deleted as soon as
// nothing is current, so the maps hold at most one entry per goroutine that
// is inside a span right now. Each operation takes one uncontended shard
// mutex (about 10-20 ns); shards keep goroutines on different cores apart.

const nShards = 64

type shard struct {
	mu sync.Mutex
	m  map[int64]*Span
	// Pad to 64 bytes, a cache line on amd64 and most arm64 cores, so that
	// goroutines on different cores do not share a line (TestShardSize).
	_ [64 - unsafe.Sizeof(sync.Mutex{}) - unsafe.Sizeof(map[int64]*Span(nil))]byte
}

var shards [nShards]shard

func shardOf(goid int64) *shard { return &shards[uint64(goid)%nShards] }

// noteHook is the energy sampler's Note hook (runtime/energy).
var noteHook func(goid int64, n *spanhook.Node)

// noteSpanGoroutine tells the energy sampler that s became current on the
// calling goroutine, goid; called after the shard is unlocked.
func noteSpanGoroutine(goid int64, s *Span) {
	if noteHook != nil && s != nil {
		noteHook(goid, &s.node)
	}
}

// swapCurrent makes s current on goid and returns what was current.
func swapCurrent(goid int64, s *Span) *Span {
	sh := shardOf(goid)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[int64]*Span)
	}
	prev := sh.m[goid]
	sh.m[goid] = s
	sh.mu.Unlock()
	noteSpanGoroutine(goid, s)
	return prev
}

// setCurrent makes s current on goid.
func setCurrent(goid int64, s *Span) {
	sh := shardOf(goid)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = make(map[int64]*Span)
	}
	sh.m[goid] = s
	sh.mu.Unlock()
	noteSpanGoroutine(goid, s)
}

// restoreCurrent makes prev current on goid again (deleting the entry when
// prev is nil).
func restoreCurrent(goid int64, prev *Span) {
	sh := shardOf(goid)
	sh.mu.Lock()
	if prev == nil {
		delete(sh.m, goid)
	} else if sh.m != nil {
		sh.m[goid] = prev
	}
	sh.mu.Unlock()
}

// currentOf returns the current span of goid, or nil.
func currentOf(goid int64) *Span {
	sh := shardOf(goid)
	sh.mu.Lock()
	s := sh.m[goid]
	sh.mu.Unlock()
	return s
}

// maxChain bounds the walks along prev links.
const maxChain = 256

// popCurrent removes s (and any span still current above it, which was
// never ended) from its goroutine's stack. Ending a span that is no longer
// on the stack changes nothing.
func popCurrent(s *Span) {
	sh := shardOf(s.node.Goid)
	sh.mu.Lock()
	cur := sh.m[s.node.Goid]
	for c, n := cur, 0; c != nil && n < maxChain; c, n = c.prev, n+1 {
		if c == s {
			if s.prev == nil {
				delete(sh.m, s.node.Goid)
			} else {
				sh.m[s.node.Goid] = s.prev
			}
			break
		}
	}
	sh.mu.Unlock()
}

// eachCurrentSpan calls f for every goroutine that has a current span,
// until f returns false. f runs with a shard locked: it must not start or
// end spans.
func eachCurrentSpan(f func(goid int64, s *Span) bool) {
	for i := range shards {
		sh := &shards[i]
		sh.mu.Lock()
		for g, s := range sh.m {
			if !f(g, s) {
				sh.mu.Unlock()
				return
			}
		}
		sh.mu.Unlock()
	}
}

// pruneCurrent deletes the entries of goroutines for which alive returns
// false, e.g. goroutines that exited inside a span they never ended.
func pruneCurrent(alive func(goid int64) bool) int {
	n := 0
	for i := range shards {
		sh := &shards[i]
		sh.mu.Lock()
		for g := range sh.m {
			if !alive(g) {
				delete(sh.m, g)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// currentCount returns how many goroutines have a current span.
func currentCount() int {
	n := 0
	for i := range shards {
		sh := &shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
