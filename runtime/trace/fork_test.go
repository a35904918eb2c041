package trace

import (
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
)

// The creator fields of g must be found on every architecture with getg:
// a Go release that moves them must fail here, not quietly stop nesting
// goroutines.
func TestLineageDiscovered(t *testing.T) {
	if !goroutine.HaveG {
		t.Skipf("no getg on %s", runtime.GOARCH)
	}
	setup(t, Config{})
	_ = Begin("enable")
	Current().End()
	if parentAt == 0 || gopcAt == 0 {
		t.Fatalf("parent goroutine id or go statement pc not found in g on %s (%s): see discoverLineage", runtime.GOARCH, runtime.Version())
	}
}

// startElsewhere starts f on a goroutine from code that is not traced (a
// library's worker pool).
func startElsewhere(f func()) { go f() }

func TestForkNestsGoroutines(t *testing.T) {
	mem := setup(t, Config{})
	var wg sync.WaitGroup
	release := make(chan struct{})
	func() {
		span := Begin("parent")
		defer span.Return(nil)
		wg.Add(3)
		go Fork(span, func() {
			defer wg.Done()
			<-release // start after the parent span has ended
			child := Begin("forked")
			child.End()
		})()
		go Fork(span, func(name string) {
			defer wg.Done()
			child := Begin(name)
			child.End()
		})("forked-now")
		startElsewhere(func() {
			defer wg.Done()
			<-release
			other := Begin("elsewhere")
			other.End()
		})
	}()
	close(release)
	wg.Wait()
	spans := finish(t, mem)
	parent := spans["parent"]
	for _, name := range []string{"forked", "forked-now"} {
		if r := spans[name]; r.ParentSpanID != parent.SpanID || r.TraceID != parent.TraceID {
			t.Errorf("%s: parent %v, want %v", name, r.ParentSpanID, parent.SpanID)
		}
	}
	if r := spans["elsewhere"]; r.ParentSpanID.IsValid() {
		t.Errorf("a goroutine started by untraced code nested under %v", r.ParentSpanID)
	}
}

// Fork returns the function itself: the goroutine runs it, unwrapped.
func TestForkReturnsF(t *testing.T) {
	setup(t, Config{})
	span := Begin("s")
	defer span.End()
	f := startElsewhere
	for _, s := range []*Span{nil, span} {
		if g := Fork(s, f); reflect.ValueOf(g).Pointer() != reflect.ValueOf(f).Pointer() {
			t.Errorf("Fork(%v, f) is not f", s)
		}
	}
}
