package trace

import (
	"sync"
	"testing"
)

// TestCurrentOverflow: a goroutine whose probe slots are all taken by
// other goroutines keeps its current span in the overflow map, with the
// same stack behaviour, and gives the entry up when its last span ends.
func TestCurrentOverflow(t *testing.T) {
	setup(t, Config{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		g := curGoid()
		h := probeStart(g)
		var taken []*slot
		for i := range uint64(nProbe) {
			sl := &slots[(h+i)&(nSlots-1)]
			if sl.goid.CompareAndSwap(0, -1-int64(i)) { // ids no goroutine has
				taken = append(taken, sl)
			}
		}
		defer func() {
			for _, sl := range taken {
				sl.goid.Store(0)
			}
		}()
		if len(taken) != nProbe {
			t.Errorf("could take %d of the %d probe slots", len(taken), nProbe)
			return
		}
		outer := Begin("outer")
		if overflow.n.Load() != 1 || currentOf(g) != outer || slotOf(g) != nil {
			t.Errorf("outer: overflow holds %d entries, current %v, slot %v", overflow.n.Load(), currentOf(g), slotOf(g))
		}
		inner := Begin("inner")
		if currentOf(g) != inner || inner.parent != outer {
			t.Errorf("inner: current %v, parent %v", currentOf(g), inner.parent)
		}
		s, mu := currentLocked(g)
		mu.Unlock()
		if s != inner {
			t.Errorf("currentLocked: %v, want inner", s)
		}
		inner.End()
		if currentOf(g) != outer {
			t.Errorf("after inner.End: current %v, want outer", currentOf(g))
		}
		outer.End()
		if overflow.n.Load() != 0 || currentOf(g) != nil {
			t.Errorf("after outer.End: overflow holds %d entries, current %v", overflow.n.Load(), currentOf(g))
		}
	}()
	<-done
}

// TestCurrentEndElsewhere: a span ended on another goroutine than the one
// it started on is popped from its own goroutine's stack (the span below
// becomes current again), and the owner goes on pushing and popping.
func TestCurrentEndElsewhere(t *testing.T) {
	setup(t, Config{})
	outer := Begin("outer")
	inner := Begin("inner")
	g := curGoid()
	ended := make(chan struct{})
	go func() { inner.End(); close(ended) }()
	<-ended
	if currentOf(g) != outer {
		t.Fatalf("after inner ended elsewhere: current %v, want outer", currentOf(g))
	}
	next := Begin("next")
	if next.parent != outer || currentOf(g) != next {
		t.Errorf("next: parent %v, current %v", next.parent, currentOf(g))
	}
	next.End()
	ended = make(chan struct{})
	go func() { outer.End(); close(ended) }()
	<-ended
	if currentOf(g) != nil {
		t.Errorf("after outer ended elsewhere: current %v, want none", currentOf(g))
	}
	// The owner gives the entry up at its next pop to nothing.
	last := Begin("last")
	last.End()
	if slotOf(g) != nil {
		t.Errorf("goroutine %d still holds a slot with nothing current", g)
	}
}

// TestCurrentConcurrent runs pushes and pops on many goroutines while
// others read every entry, look entries up locked, and end spans started
// elsewhere (run with -race).
func TestCurrentConcurrent(t *testing.T) {
	setup(t, Config{})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			eachCurrentSpan(func(g int64, s *Span) bool {
				if _, mu := currentLocked(g); mu != nil {
					mu.Unlock()
				}
				return s != nil
			})
		}
	}()
	handoff := make(chan *Span, 64)
	var workers sync.WaitGroup
	for w := 0; w < 8; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := 0; i < 500; i++ {
				a := Begin("a")
				b := Begin("b")
				if currentOf(curGoid()) != b {
					t.Error("b is not current")
					return
				}
				select {
				case handoff <- b: // ended by another worker
				default:
					b.End()
				}
				select {
				case x := <-handoff:
					x.End()
				default:
				}
				a.End()
			}
		}()
	}
	workers.Wait()
	close(handoff)
	for x := range handoff {
		x.End()
	}
	close(stop)
	readers.Wait()
	if n := currentCount(); n != 0 {
		t.Errorf("%d goroutines still have a current span", n)
	}
}
