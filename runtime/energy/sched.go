package energy

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
)

// Which span goroutines are on a CPU, read from the runtime's g.
//
// Every goroutine a span becomes current on records its g pointer here
// (noteSpanGoroutine, called by setCurrent on that goroutine). The sampler
// then reads, at each tick, the scheduling state of those goroutines
// straight from their g (the atomicstatus word next to goid, whose offset
// the core discovered), without stopping the world and without formatting
// stacks: a few nanoseconds per goroutine instead of a goroutine dump's
// 10 µs per goroutine plus a stop-the-world. The process-wide counts of
// running, runnable and not-in-Go goroutines come from runtime/metrics
// (Go 1.26), so goroutines outside spans (and the runtime's own, such as GC
// workers) take their share too, as they did in goroutine dumps.
//
// g structs are never freed (the runtime keeps every g it allocated in
// allgs), so reading one is memory-safe even after its goroutine exited;
// the goroutine id next to the status tells whether the g still runs the
// goroutine it was recorded for.

// Values of g.atomicstatus (runtime/runtime2.go).
const (
	gsRunnable = 1
	gsRunning  = 2
	gsSyscall  = 3
	gsWaiting  = 4
	gsDead     = 6
	gsScanBit  = 0x1000
)

// gRef is an opaque pointer to a runtime g.
type gRef struct{}

// gTableBits sizes the table of g pointers (two slots per goroutine id,
// 4096 slots, 32 KB): collisions only matter with thousands of goroutines
// inside spans at once, and a goroutine evicted from both of its slots is
// recorded again at its next span.
const gTableBits = 12

type gTable [1 << gTableBits]atomic.Pointer[gRef]

var (
	// gtab is allocated by the start hook when energy sampling is on
	// (nil otherwise: noteSpanGoroutine is then one atomic load).
	gtab atomic.Pointer[gTable]
	// statusAt is the offset of atomicstatus in g, 0 while unknown or
	// unusable (schedUsable).
	statusAt uintptr
)

func gSlots(goid int64) (uint64, uint64) {
	const mask = 1<<gTableBits - 1
	return uint64(goid) & mask, (uint64(goid) * 0x9E3779B97F4A7C15) >> (64 - gTableBits)
}

// noteSpanGoroutine records the calling goroutine's g for goid (its id);
// setCurrent calls it on the goroutine a span becomes current on. About
// 2 ns when the goroutine is already recorded.
func noteSpanGoroutine(goid int64, s *spanhook.Node) {
	t := gtab.Load()
	if t == nil {
		return
	}
	t.note(goid)
	if tb := threadBase.Load(); tb != nil {
		tb.note(s)
	}
}

func (t *gTable) note(goid int64) {
	g := (*gRef)(goroutine.G())
	a, b := gSlots(goid)
	if t[a].Load() == g || t[b].Load() == g {
		return
	}
	switch {
	case t.reusable(a):
		t[a].Store(g)
	case t.reusable(b):
		t[b].Store(g)
	default:
		t[a].Store(g)
	}
}

// reusable reports whether slot i holds nothing or a g whose goroutine
// does not belong there any more.
func (t *gTable) reusable(i uint64) bool {
	g := t[i].Load()
	if g == nil {
		return true
	}
	a, b := gSlots(goidOf(g))
	return (a != i && b != i) || statusOf(g) == gsDead
}

// lookup returns the g of goroutine goid, or nil.
func (t *gTable) lookup(goid int64) *gRef {
	a, b := gSlots(goid)
	if g := t[a].Load(); g != nil && goidOf(g) == goid {
		return g
	}
	if g := t[b].Load(); g != nil && goidOf(g) == goid {
		return g
	}
	return nil
}

func goidOf(g *gRef) int64 {
	if goroutine.IDOffset() == 0 {
		return 0
	}
	return atomic.LoadInt64((*int64)(unsafe.Add(unsafe.Pointer(g), goroutine.IDOffset())))
}

func statusOf(g *gRef) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Add(unsafe.Pointer(g), statusAt))) &^ gsScanBit
}

// statusProbe is a goroutine parked on a channel, started by the start
// hook (so that it has parked by the time the sampler looks, even when the
// program's goroutines keep every P busy): discoverStatus reads its state.
type statusProbe struct {
	g       chan *gRef
	release chan struct{}
	done    chan struct{}
}

func startStatusProbe() *statusProbe {
	p := &statusProbe{g: make(chan *gRef, 1), release: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.g <- (*gRef)(goroutine.G())
		<-p.release
	}()
	return p
}

// parked reports whether the probe has reported its g and is waiting (as
// far as the status offset, if already plausible, tells: before discovery
// it only reports that the probe ran).
func (p *statusProbe) parked() bool {
	select {
	case g := <-p.g:
		p.g <- g
		return goroutine.IDOffset() >= 16 && atomic.LoadUint32((*uint32)(unsafe.Add(unsafe.Pointer(g), goroutine.IDOffset()-8)))&^gsScanBit == gsWaiting
	default:
		return false
	}
}

// discoverSched finds the g fields the sampler reads and reports which
// work: status (the state of span goroutines; without it the sampler falls
// back to goroutine dumps) and threads (the CPU clocks of their threads). It
// runs on the sampler goroutine, once, and always releases the probe.
func discoverSched(probe *statusProbe) (status, threads bool) {
	if probe == nil {
		return false, false
	}
	defer func() {
		close(probe.release)
		<-probe.done
	}()
	other := <-probe.g
	if !discoverStatus(other) {
		return false, false
	}
	return true, discoverThreads(other)
}

// discoverStatus finds atomicstatus (the uint32 two words before goid in
// Go 1.26's runtime/runtime2.go; checked here at run time rather than
// assumed, so another runtime that moved it falls back to dumps): it must
// read "running" for the calling goroutine and "waiting" for the probe,
// parked on a channel.
func discoverStatus(parked *gRef) bool {
	if !goroutine.HaveG || goroutine.IDOffset() < 16 {
		return false
	}
	statusAt = goroutine.IDOffset() - 8
	self := (*gRef)(goroutine.G())
	if goidOf(self) != goroutine.ID() || statusOf(self) != gsRunning {
		statusAt = 0
		return false
	}
	ok := false
	for i := 0; i < 2000 && !ok; i++ { // up to about 2 s on a loaded machine
		ok = statusOf(parked) == gsWaiting
		if !ok {
			time.Sleep(time.Millisecond)
		}
	}
	if !ok {
		statusAt = 0
	}
	return ok
}

// schedCounts reads the process-wide goroutine counts of runtime/metrics.
type schedCounts struct {
	samples [3]metrics.Sample
	ok      bool
}

func newSchedCounts() *schedCounts {
	c := &schedCounts{}
	c.samples[0].Name = "/sched/goroutines/running:goroutines"
	c.samples[1].Name = "/sched/goroutines/runnable:goroutines"
	c.samples[2].Name = "/sched/goroutines/not-in-go:goroutines"
	metrics.Read(c.samples[:])
	c.ok = true
	for _, s := range c.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			c.ok = false
		}
	}
	return c
}

// read returns the goroutines on a CPU or waiting for one (running +
// runnable) and those in a system call or cgo call, the caller excluded;
// ok is false when the runtime does not publish them.
func (c *schedCounts) read() (onCPU, inSyscall int, ok bool) {
	if !c.ok {
		return 0, 0, false
	}
	metrics.Read(c.samples[:])
	onCPU = int(c.samples[0].Value.Uint64()+c.samples[1].Value.Uint64()) - 1 // the sampler runs
	return max(onCPU, 0), int(c.samples[2].Value.Uint64()), true
}

// Threads: a goroutine's status says it is running, not that the operating
// system gives its thread the CPU (on a loaded machine it may run one
// thread of the program less than another). Where the kernel lets a
// process read the CPU clock of any of its threads (Linux), the tick
// credits each running span goroutine with what its thread really ran: the
// thread is the M in g.m, its kernel id m.procid.

var (
	mAt      uintptr // offset of m in g; 0 while unknown
	procidAt uintptr // offset of procid in m; 0 while unknown
)

// discoverThreads finds g.m (the seventh word of g, after the stack bounds,
// the two stack guards, _panic and _defer; the runtime's assembly knows
// these offsets, so they rarely move) and m.procid, and checks them: g.m of the calling goroutine, locked to its
// thread, is an m whose curg is that goroutine and which holds the thread's
// kernel id exactly once; g.m of the parked probe is nil; and the thread
// clock read through the id is the calling thread's own. It runs once, on
// the sampler goroutine, after discoverStatus.
func discoverThreads(parked *gRef) bool {
	if !threadClocks || !goroutine.HaveG || parked == nil {
		return false
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const word = unsafe.Sizeof(uintptr(0))
	const scan = 512 // bytes of m searched; procid and curg sit in the first 300
	self := goroutine.G()
	m := atomic.LoadPointer((*unsafe.Pointer)(unsafe.Add(self, 6*word)))
	if m == nil || atomic.LoadPointer((*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(parked), 6*word))) != nil {
		return false
	}
	tid := gettid()
	curg, procid := false, uintptr(0)
	for off := word; off < scan; off += word {
		// Words of m are read as integers, never as pointers.
		v := *(*uintptr)(unsafe.Add(m, off))
		if v == uintptr(self) {
			curg = true
		}
		if uint64(v) == tid {
			if procid != 0 {
				return false // ambiguous
			}
			procid = off
		}
	}
	if !curg || procid == 0 {
		return false
	}
	own, ok1 := threadClock()
	viaID, ok2 := threadClockOf(tid)
	if !ok1 || !ok2 || viaID < own || viaID-own > 50*time.Millisecond {
		return false
	}
	mAt, procidAt = 6*word, procid
	return true
}

// threadOf returns the kernel id of the thread g runs on, 0 when none.
func threadOf(g *gRef) uint64 {
	if procidAt == 0 {
		return 0
	}
	m := atomic.LoadPointer((*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(g), mAt)))
	if m == nil {
		return 0
	}
	return atomic.LoadUint64((*uint64)(unsafe.Add(m, procidAt)))
}

// Thread baselines. The sampler knows what a thread ran between two ticks
// only once it has read the thread's clock at a tick; a span that starts on
// a thread it does not follow yet (a goroutine that never ran a span on a
// CPU before, say the main goroutine after a wait) would have its first
// window shared with whatever else is on a CPU. So the span's goroutine
// reads its own thread's clock at the start, once per thread: setCurrent
// finds the thread through g.m (no system call) and does the read (one
// system call, about 160 ns) only when the sampler does not follow the
// thread yet.

// threadBaseSet is the set of threads the sampler follows (or will, from a
// baseline not yet collected) and the baselines taken by span starts.
type threadBaseSet struct {
	known   [256]atomic.Uint64 // thread ids, open addressing; 0 is empty
	mu      sync.Mutex
	base    []threadBaseline // collected by the sampler at its next tick
	pending atomic.Int32     // len(base), for End
}

// tailMinSpan: the end of a span at least this long credits the span with
// its thread's CPU since the last tick (or since its start's baseline) even
// when no tick saw the span (one lock and two system calls, about 0.25 µs:
// under 0.03 % of such a span). It covers a span that falls in a gap between
// ticks, which a loaded machine makes long (the sampler needs a CPU to
// look); shorter spans are left to the ticks, and their ends cost nothing.
const tailMinSpan = time.Millisecond

// onFollowedThread reports whether the sampler follows the calling
// goroutine's thread (no system call).
func onFollowedThread() bool {
	tb := threadBase.Load()
	if tb == nil {
		return false
	}
	tid := threadOf((*gRef)(goroutine.G()))
	return tid != 0 && tb.has(tid)
}

// threadBasesPending reports whether span starts took baselines no tick has
// collected yet: the end of a span that no tick saw may then have one.
func threadBasesPending() bool {
	tb := threadBase.Load()
	return tb != nil && tb.pending.Load() > 0
}

type threadBaseline struct {
	tid   uint64
	clock time.Duration
	span  *spanhook.Node // the span whose start took it
}

// threadBase is set when the sampler credits threads (threadsOK).
var threadBase atomic.Pointer[threadBaseSet]

func (b *threadBaseSet) slot(tid uint64) uint64 { return (tid * 0x9E3779B97F4A7C15) >> 56 }

// has reports whether tid is in the set.
func (b *threadBaseSet) has(tid uint64) bool {
	for i, n := b.slot(tid), 0; n < 8; i, n = (i+1)%uint64(len(b.known)), n+1 {
		switch b.known[i].Load() {
		case tid:
			return true
		case 0:
			return false
		}
	}
	return false
}

// add puts tid in the set; false when its neighbourhood is full.
func (b *threadBaseSet) add(tid uint64) bool {
	for i, n := b.slot(tid), 0; n < 8; i, n = (i+1)%uint64(len(b.known)), n+1 {
		v := b.known[i].Load()
		if v == tid || (v == 0 && b.known[i].CompareAndSwap(0, tid)) {
			return true
		}
	}
	return false
}

// remove takes tid out of the set (the sampler stopped following it).
func (b *threadBaseSet) remove(tid uint64) {
	for i, n := b.slot(tid), 0; n < 8; i, n = (i+1)%uint64(len(b.known)), n+1 {
		// Clearing may hide an entry further along the probe chain: the
		// next span start on that thread then takes a baseline the sampler
		// ignores (it follows the thread already). Harmless.
		if b.known[i].CompareAndSwap(tid, 0) {
			return
		}
	}
}

// reset empties the set (the sampler resumes after an idle exit).
func (b *threadBaseSet) reset() {
	for i := range b.known {
		b.known[i].Store(0)
	}
	b.mu.Lock()
	clear(b.base)
	b.base = b.base[:0]
	b.pending.Store(0)
	b.mu.Unlock()
}

// note takes a baseline for the calling goroutine's thread, at the start of
// span sp, when the sampler does not follow the thread yet.
func (b *threadBaseSet) note(sp *spanhook.Node) {
	tid := threadOf((*gRef)(goroutine.G()))
	if tid == 0 || b.has(tid) {
		return
	}
	c, ok := threadClock()
	if !ok || !b.add(tid) {
		return
	}
	b.mu.Lock()
	if len(b.base) < 64 {
		b.base = append(b.base, threadBaseline{tid, c, sp})
		b.pending.Store(int32(len(b.base)))
	}
	b.mu.Unlock()
}

// take returns the baselines taken since the last call, reusing buf.
func (b *threadBaseSet) take(buf []threadBaseline) []threadBaseline {
	b.mu.Lock()
	buf = append(buf[:0], b.base...)
	clear(b.base) // do not keep spans alive
	b.base = b.base[:0]
	b.pending.Store(0)
	b.mu.Unlock()
	return buf
}

// takeFor removes and returns the baseline of thread tid if span sp took it.
func (b *threadBaseSet) takeFor(tid uint64, sp *spanhook.Node) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.base {
		if x.tid == tid {
			if x.span != sp {
				return 0, false
			}
			b.base = append(b.base[:i], b.base[i+1:]...)
			b.pending.Store(int32(len(b.base)))
			return x.clock, true
		}
	}
	return 0, false
}
