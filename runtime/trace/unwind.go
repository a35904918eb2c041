package trace

import (
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
)

// How a deferred End learns that its function did not return normally.
//
// Generated code defers span.Return(&err) (or span.End()) and never calls
// recover, so a panic unwinds exactly as it would without tracing: the
// crash report, recover in the program's code, runtime.Goexit and
// panic(nil) are untouched. When the deferred call runs, the runtime is in
// one of three states, told apart as follows:
//
//   - The goroutine has no panic or Goexit in progress (the runtime's g has
//     a nil _panic list): a normal return. This is the hot path, one load.
//   - Otherwise the deferred call is classified by its caller: called by
//     runtime.gopanic, the function is being unwound by that panic; called
//     by runtime.Goexit, the goroutine is exiting; called by anything else
//     (the function itself, runtime.deferreturn), the function returned
//     normally, for instance inside a deferred call that runs during a
//     panic. This costs one runtime.Callers (about 100 ns), only while a
//     panic or Goexit is in progress, so unwinding n traced frames is O(n).
//
// The panic value is read from the innermost entry of the runtime's panic
// list, which is the panic running the deferred call. The offsets of the
// list head inside g and of the value inside the runtime's panic record
// are not part of any API: they are discovered once, when tracing is first
// enabled, by running a panic with a sentinel value on a goroutine of our
// own and finding the sentinel. If discovery fails (a runtime that moved
// the fields, or an architecture without getg), every deferred End is
// classified by its caller (correct, about 100 ns slower) and panics are
// recorded without their value.

// unwindKind says why a deferred End is running.
type unwindKind uint8

const (
	unwindReturn unwindKind = iota // the function returned
	unwindPanic                    // a panic is unwinding the function
	unwindGoexit                   // runtime.Goexit is unwinding the goroutine
)

// panicLayout holds the discovered offsets; ok is false when unknown.
type panicLayout struct {
	ok     bool
	listAt uintptr // offset of the _panic list head inside g
	argAt  uintptr // offset of the panic value inside the panic record
}

var (
	panicLayoutOnce sync.Once
	layout          panicLayout
)

// initPanicLayout discovers the offsets; it runs once, when tracing is
// first enabled, next to the goroutine id discovery.
func initPanicLayout() {
	panicLayoutOnce.Do(func() {
		if goroutine.HaveG {
			layout = discoverPanicLayout()
		}
	})
}

// panicSentinel is the value of the discovery panic: a pointer no other
// code holds, so its (type, data) pair cannot be confused with anything.
type panicSentinel struct{ _ byte }

// The g fields before _panic are the stack bounds and the two stack
// guards; the list head has sat right after them since Go 1.4. The value
// is the first or second word of the panic record (Go 1.26 and Go 1.22).
// Only these candidates are tried, and each one is checked before use.
var (
	listCandidates = []uintptr{4 * unsafe.Sizeof(uintptr(0))}
	argCandidates  = []uintptr{0, unsafe.Sizeof(uintptr(0)), 2 * unsafe.Sizeof(uintptr(0))}
)

func discoverPanicLayout() panicLayout {
	var found panicLayout
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Outside a panic the list head must read nil.
		for _, off := range listCandidates {
			if *(*unsafe.Pointer)(unsafe.Add(goroutine.G(), off)) != nil {
				return
			}
		}
		sentinel := &panicSentinel{}
		var want any = sentinel
		defer func() {
			found = scanPanicRecord(want)
			_ = recover()
		}()
		panic(want)
	}()
	<-done
	return found
}

// scanPanicRecord looks for want in the panic running the calling
// deferred function.
func scanPanicRecord(want any) panicLayout {
	for _, lo := range listCandidates {
		p := *(*unsafe.Pointer)(unsafe.Add(goroutine.G(), lo))
		if p == nil {
			continue
		}
		// Compared as integers: a candidate word need not be a pointer.
		w := *(*[2]uintptr)(unsafe.Pointer(&want))
		for _, ao := range argCandidates {
			if *(*[2]uintptr)(unsafe.Add(p, ao)) == w {
				return panicLayout{ok: true, listAt: lo, argAt: ao}
			}
		}
	}
	return panicLayout{}
}

// unwinding reports whether a panic or Goexit is in progress on the
// calling goroutine. It errs towards true when the layout is unknown.
func unwinding() bool {
	if !layout.ok {
		return true
	}
	return *(*unsafe.Pointer)(unsafe.Add(goroutine.G(), layout.listAt)) != nil
}

// currentPanicValue returns the value of the innermost panic of the
// calling goroutine, and false when it cannot be read.
func currentPanicValue() (any, bool) {
	if !layout.ok {
		return nil, false
	}
	p := *(*unsafe.Pointer)(unsafe.Add(goroutine.G(), layout.listAt))
	if p == nil {
		return nil, false
	}
	return *(*any)(unsafe.Add(p, layout.argAt)), true
}

// classifyUnwind tells why the deferred End that called it is running;
// skip is the number of frames between classifyUnwind's caller and the
// deferred call itself (0 when End was the deferred call). It is meant
// for the slow path, once unwinding has returned true.
func classifyUnwind(skip int) unwindKind {
	var pcs [4]uintptr
	// Skip runtime.Callers, classifyUnwind, its caller and skip more.
	n := runtime.Callers(3+skip, pcs[:])
	for _, pc := range pcs[:n] {
		switch k := pcKind(pc); k {
		case pcWrapper:
			continue
		case pcPanic:
			return unwindPanic
		case pcGoexit:
			return unwindGoexit
		default:
			return unwindReturn
		}
	}
	return unwindReturn
}

// What the function holding a return address is, for classifyUnwind.
const (
	pcOther   = iota
	pcPanic   // runtime.gopanic
	pcGoexit  // runtime.Goexit
	pcWrapper // the compiler's wrapper of a deferred call with arguments
)

// pcKinds caches pcKind by return address: a panic passes the same few
// addresses (gopanic's call of the deferred function) again and again.
var pcKinds sync.Map // uintptr -> int

func pcKind(pc uintptr) int {
	if k, ok := pcKinds.Load(pc); ok {
		return k.(int)
	}
	k := pcOther
	if f := runtime.FuncForPC(pc - 1); f != nil {
		switch name := f.Name(); {
		case name == "runtime.gopanic":
			k = pcPanic
		case name == "runtime.Goexit":
			k = pcGoexit
		case strings.Contains(name, ".deferwrap"):
			k = pcWrapper
		}
	}
	pcKinds.Store(pc, k)
	return k
}
