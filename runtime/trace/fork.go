package trace

import (
	"reflect"
	"runtime"
	"sync"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
)

// Goroutines started inside a span.
//
// Generated code passes the function of each go statement of a traced
// function through Fork:
//
//	go tracegen.Fork(span, worker)(job)
//
// Fork records, for the calling goroutine, the span and the program counter
// of the call, and returns worker itself: the goroutine runs the program's
// own function, so no frame of ours appears in its stack traces or crash
// reports ("created by" names the program's function, as without tracing).
// When a goroutine starts a span with nothing current on it and no span in
// its context, its creator is looked up in the runtime's g (the parent
// goroutine id and the pc of the go statement, which the runtime keeps for
// tracebacks); if the creator forked from the same function, the new span
// is a child of the forked span, even when that span has ended (a goroutine
// left running). Goroutines started by code that was not instrumented (a
// library's worker pool, errgroup, net/http's connection goroutines) are not
// children of the creator's span: their spans start new traces unless their
// context carries a span.
//
// The offsets of the two fields inside g are found once, like the goroutine
// id's, by starting goroutines from known creators. Without them Fork only
// returns f.

// forkRec is one Fork: the span and the pc in the function that forked.
type forkRec struct {
	pc   uintptr
	span *Span
}

// forksPerGoroutine is how many recent Forks are kept per creator.
const forksPerGoroutine = 4

// maxForkers bounds the creators kept; past it, creators whose forked
// spans have all ended are dropped.
const maxForkers = 4096

type forkList struct {
	recs [forksPerGoroutine]forkRec
	next int
}

var forks struct {
	mu sync.Mutex
	m  map[int64]*forkList
}

var (
	lineageOnce sync.Once
	parentAt    uintptr // offset of the parent goroutine id in g, 0 if unknown
	gopcAt      uintptr // offset of the go statement's pc in g, 0 if unknown
)

// Fork records that the goroutine which the calling function starts next
// with f is a child of s (see above) and returns f unchanged. Generated code
// uses it in each go statement of a traced function. On a nil span it only
// returns f.
func Fork[F any](s *Span, f F) F {
	if s != nil && gopcAt != 0 {
		var pc [1]uintptr
		if runtime.Callers(2, pc[:]) == 1 {
			s.fork(pc[0])
		}
	}
	return f
}

// fork records s as forked at pc on the calling goroutine.
func (s *Span) fork(pc uintptr) {
	g := curGoid()
	if s == &unsampledBelow {
		if s = currentOf(g); s == nil {
			return
		}
	}
	forks.mu.Lock()
	if forks.m == nil {
		forks.m = make(map[int64]*forkList)
	}
	l := forks.m[g]
	if l == nil {
		if len(forks.m) >= maxForkers {
			sweepForks()
		}
		l = new(forkList)
		forks.m[g] = l
	}
	l.recs[l.next] = forkRec{pc, s}
	l.next = (l.next + 1) % forksPerGoroutine
	forks.mu.Unlock()
}

// sweepForks drops creators whose forked spans have all ended; forks.mu
// is held.
func sweepForks() {
	for g, l := range forks.m {
		open := false
		for _, r := range l.recs {
			if r.span != nil && !r.span.hasEnded() {
				open = true
				break
			}
		}
		if !open {
			delete(forks.m, g)
		}
	}
}

func (s *Span) hasEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// forkedParent returns the span the calling goroutine's creator forked
// it from, or nil.
func forkedParent() *Span {
	if gopcAt == 0 {
		return nil
	}
	g := goroutine.G()
	creator := *(*int64)(unsafe.Add(g, parentAt))
	gopc := *(*uintptr)(unsafe.Add(g, gopcAt))
	if creator == 0 {
		return nil
	}
	forks.mu.Lock()
	l := forks.m[creator]
	var recs [forksPerGoroutine]forkRec
	if l != nil {
		recs = l.recs
	}
	next := 0
	if l != nil {
		next = l.next
	}
	forks.mu.Unlock()
	if l == nil {
		return nil
	}
	entry := funcEntry(gopc)
	if entry == 0 {
		return nil
	}
	for i := range forksPerGoroutine { // newest first
		r := recs[(next-1-i+2*forksPerGoroutine)%forksPerGoroutine]
		if r.span != nil && funcEntry(r.pc) == entry {
			return r.span
		}
	}
	return nil
}

// funcEntry returns the entry pc of the function holding pc, or 0.
func funcEntry(pc uintptr) uintptr {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Entry()
	}
	return 0
}

// initLineage discovers parentAt and gopcAt; it runs once, when tracing is
// enabled, after the goroutine id's offset is known.
func initLineage() {
	lineageOnce.Do(func() {
		if goroutine.HaveG {
			parentAt, gopcAt = discoverLineage()
		}
	})
}

// lineageScanWords bounds the scan inside g (the fields sit after goid).
const lineageScanWords = 48

// discoverLineage finds the two offsets by starting a child goroutine from
// each of several creators: the parent id is the word equal to its
// creator's id in every child, the go statement's pc the word inside
// discoverLineage's creator function in every child.
func discoverLineage() (parent, gopc uintptr) {
	const samples = 3
	type obs struct {
		creator int64
		words   [lineageScanWords]uintptr
	}
	var all [samples]obs
	var wg sync.WaitGroup
	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			all[i].creator = curGoid()
			var child sync.WaitGroup
			child.Add(1)
			go readG(&all[i].words, &child)
			child.Wait()
		}()
	}
	wg.Wait()
	creatorFn := funcName(reflect.ValueOf(discoverLineage).Pointer()) + ".func1"
	for w := 1; w < lineageScanWords; w++ {
		isParent, isPC := true, true
		for i := range all {
			v := all[i].words[w]
			if all[i].creator <= 0 || int64(v) != all[i].creator {
				isParent = false
			}
			if f := runtime.FuncForPC(v); f == nil || f.Name() != creatorFn {
				isPC = false
			}
		}
		if isParent && parent == 0 {
			parent = uintptr(w * 8)
		}
		if isPC && gopc == 0 {
			gopc = uintptr(w * 8)
		}
	}
	if parent == 0 || gopc == 0 {
		return 0, 0
	}
	return parent, gopc
}

func readG(words *[lineageScanWords]uintptr, done *sync.WaitGroup) {
	defer done.Done()
	for i := range words {
		words[i] = *(*uintptr)(unsafe.Add(goroutine.G(), i*8))
	}
}

func funcName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return ""
}
