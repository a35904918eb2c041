// Package goroutine reads the calling goroutine's identity straight from
// the runtime's g struct, for the span core (runtime/trace) and the energy
// sampler (runtime/energy).
//
// Go has no goroutine-local storage, so the "current span" of a goroutine is
// kept in a map keyed by goroutine id, the number runtime.Stack prints after
// "goroutine ". The id is read from g: a few lines of assembly return the g
// pointer (amd64: TLS slot, arm64: the g register, see [G]) and the offset
// of the goid field is discovered once, when tracing is first enabled
// ([Discover]), by comparing every 8-byte word of g with the id
// runtime.Stack reports, for several goroutines. Reading the id then costs
// about 2 ns. If discovery fails (a future runtime moved the field out of
// the scanned range) or on other architectures, the id is parsed from
// runtime.Stack, which costs about 1 µs per call; TestGoidDiscovered in
// runtime/trace fails loudly when that happens on an architecture with G.
package goroutine

import (
	"runtime"
	"sync"
)

var (
	goidOnce   sync.Once
	goidOffset uintptr // 0 when unknown
)

// IDOffset returns the offset of the goid field inside g, or 0 before
// Discover or when discovery failed.
func IDOffset() uintptr { return goidOffset }

// goidScanLimit bounds the scan inside g; the goid field sits well inside
// (offset 152 on amd64 for Go 1.2x) and g is larger than this.
const goidScanLimit = 320

// ID returns the id of the calling goroutine.
func ID() int64 {
	if off := goidOffset; off != 0 {
		return readWordAt(off)
	}
	return StackID()
}

// Discover finds the goid offset, once per process; later calls wait for
// the first to finish.
func Discover() {
	goidOnce.Do(func() {
		if HaveG {
			goidOffset = discoverGoidOffset()
		}
	})
}

// discoverGoidOffset returns the offset of the goid field inside g, or 0.
func discoverGoidOffset() uintptr {
	const samples = 4
	type obs struct {
		id    int64
		words [goidScanLimit / 8]int64
	}
	var all [samples]obs
	observe := func(o *obs) {
		o.id = StackID()
		for i := range o.words {
			o.words[i] = readWordAt(uintptr(i * 8))
		}
	}
	observe(&all[0])
	var wg sync.WaitGroup
	for i := 1; i < samples; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			observe(&all[i])
		}()
	}
	wg.Wait()
	found := uintptr(0)
	for w := 1; w < goidScanLimit/8; w++ {
		ok := true
		for i := range all {
			if all[i].id <= 0 || all[i].words[w] != all[i].id {
				ok = false
				break
			}
		}
		if ok {
			if found != 0 {
				return 0 // ambiguous: do not guess
			}
			found = uintptr(w * 8)
		}
	}
	return found
}

// stackBufs avoids an allocation per call: the buffer escapes into
// runtime.Stack.
var stackBufs = sync.Pool{New: func() any { return new([64]byte) }}

// StackID parses the goroutine id from the first line of runtime.Stack:
// "goroutine 123 [running]:".
func StackID() int64 {
	buf := stackBufs.Get().(*[64]byte)
	defer stackBufs.Put(buf)
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	b = b[len(prefix):]
	var id int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}
