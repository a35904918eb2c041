package trace

import (
	"sync/atomic"
	"time"
)

// Span times from one clock read.
//
// time.Now reads two clocks, the wall clock and the monotonic one; a span
// needs the wall time only to say when it started, and its duration from
// the monotonic clock. now reads the monotonic clock once and adds the
// time since an anchor, a time.Now taken at start-up and again by each
// batcher flush (reanchor), so start times follow the wall clock to within
// one flush interval while costing about half of time.Now. The result
// carries a monotonic reading, so End's time.Since(Start) is exact and
// immune to wall-clock steps, as with time.Now.

var anchor atomic.Pointer[time.Time]

func init() { reanchor() }

// now returns the current time (see above).
func now() time.Time {
	a := anchor.Load()
	return a.Add(time.Since(*a))
}

// reanchor takes a new anchor, picking up steps of the wall clock.
func reanchor() {
	t := time.Now()
	anchor.Store(&t)
}
