package trace

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// The processor pipeline.
//
// End appends the finished span to a bounded in-memory queue (a slice under
// a mutex; no allocation). One batcher goroutine swaps the queue for an
// empty one when it holds BatchSize spans, every FlushInterval, on Flush and
// on Shutdown, and hands the spans to the exporters in batches of at most
// BatchSize. When the queue is full, End drops the span and counts it, or in
// blocking mode waits for room. In sync mode there is no queue and no
// goroutine: End exports the span itself.
//
// Idle exit. The batcher runs only while there is work: the End that queues
// a span into an idle pipeline starts it, and once no span has been queued
// for one idle period (idleTimeout, 25 ms) it exports what is queued, lets
// the exporters release what they hold between batches (export.Idler) and
// exits. Programs that are idle, and test binaries checking for leaked
// goroutines, see no tracegen goroutine; the next End starts it again.
//
// No span is lost at that boundary because every decision is taken under
// p.mu: End appends to the queue and, when running is false, sets it and
// starts a goroutine; the batcher clears running only when, under the same
// lock, the queue is empty, no Flush is waiting for it and Shutdown has not
// begun. So a queued span always has a running batcher (the invariant
// "len(queue) > 0 implies running"), and at most one batcher runs at a time.

// active is the pipeline spans are started on: nil before the environment
// was read, disabledP when tracing is off.
var active atomic.Pointer[pipeline]

// offFlag mirrors active == disabledP for the fast path of Start and Begin
// (an atomic.Bool keeps them small enough to inline); it is set with
// setActive.
var offFlag uint32 // 1 when disabled; read and written atomically

// setActive installs p; the caller holds initMu.
func setActive(p *pipeline) *pipeline {
	old := active.Swap(p)
	var v uint32
	if p == disabledP {
		v = 1
	}
	atomic.StoreUint32(&offFlag, v)
	return old
}

// disabledP marks "tracing disabled"; it is never started.
var disabledP = &pipeline{}

var initMu sync.Mutex

type namedExporter struct {
	name string
	exp  export.Exporter
}

type pipeline struct {
	exporters       []namedExporter
	resource        []record.Attr
	queueSize       int
	batchSize       int
	flushInterval   time.Duration
	shutdownTimeout time.Duration
	blocking        bool
	syncMode        bool
	captureContent  bool
	limits          limits
	pool            bool // every exporter releases records: recycle spanData
	sampleAll       bool
	sampleBound     uint64
	errLog          io.Writer
	redactor        func(string) string

	startOnce sync.Once
	started   atomic.Bool // the first span was started (start hooks ran)

	mu       sync.Mutex
	roomy    *sync.Cond // signalled when the batcher empties the queue
	queue    []*Span
	stopped  bool
	running  bool   // a batcher goroutine is running; see "Idle exit"
	enqueued uint64 // spans queued so far: the batcher's activity signal
	flushing int    // Flush calls that counted on the running batcher

	kick     chan struct{}
	flushReq chan chan struct{}
	stopReq  chan context.Context
	done     chan struct{} // closed once the exporters were shut down

	// The batcher's buffers, kept across idle exits (only the running
	// batcher touches them; p.mu orders one batcher after the next).
	spare []*Span
	recs  []*record.Record

	shutdownOnce sync.Once
	shutdownErr  error // the exporters' Shutdown errors; set before done is closed
	stopErr      error // Shutdown gave up waiting; set inside shutdownOnce

	syncMu sync.Mutex
	one    [1]*record.Record

	// exporting is the id of the goroutine inside Export (0 when none): a
	// span that ends on it (an exporter using instrumented code) must not
	// wait for the pipeline it is blocking, so it is dropped and counted.
	exporting atomic.Int64

	logMu     sync.Mutex
	logged    map[string]time.Time // last warning line per exporter
	warnEvery time.Duration        // 0: warnInterval (tests shorten it)
}

// ensureStarted runs at the start of every span: it counts the span, runs
// the start hooks on the pipeline's first span and wakes helpers that exited
// while idle (wake hooks). The batcher is started by enqueue, not here.
//
// goid is the calling goroutine's id when the caller read it (after the
// first span), else 0; it returns the id, read once the first span's start
// found how to read it.
func (p *pipeline) ensureStarted(goid int64) int64 {
	if goid != 0 {
		spanStarts[uint64(goid)%nStartStripes].n.Add(1)
	} else {
		// Count the span before the start hooks run, as every later span
		// is counted before it looks at the wake flags; the goroutine id
		// can be read cheaply only once initGoid ran.
		spanStarts[0].n.Add(1)
		p.startOnce.Do(func() {
			initGoid()
			for _, h := range startHooks {
				p.callHook("start hook", h)
			}
			p.started.Store(true)
		})
		goid = curGoid()
	}
	for i := range wakeHooks {
		w := &wakeHooks[i]
		if w.asleep.Load() && w.asleep.CompareAndSwap(true, false) {
			p.callHook("wake hook", w.wake)
		}
	}
	return goid
}

// spanStarts counts spans started on any pipeline since the program began
// (one atomic add per Start or Begin on an enabled pipeline), in stripes
// chosen by goroutine id, each on a cache line of its own, so that
// goroutines on different cores do not contend for one counter.
var spanStarts [nStartStripes]struct {
	n atomic.Uint64
	_ [56]byte
}

const nStartStripes = 16

// spansStarted returns how many spans were started so far: a goroutine that
// wants to exit when tracing is idle compares it across its idle period.
// Each stripe is read atomically; a span that counts itself before reading
// a wake flag (onSpanStartWake) is seen by a reader that stores the flag
// before summing, whichever stripe it counted in.
func spansStarted() uint64 {
	var n uint64
	for i := range spanStarts {
		n += spanStarts[i].n.Load()
	}
	return n
}

// wakeHooks restart goroutines that exit while tracing is idle (the energy
// sampler): see onSpanStartWake.
var wakeHooks []wakeHook

type wakeHook struct {
	asleep *atomic.Bool
	wake   func()
}

// onSpanStartWake registers a goroutine that exits when idle and must run
// again when the next span starts. Call it from an init func. On every span
// start, after the span was counted in spansStarted, when *asleep is true
// it is set to false (one CompareAndSwap: exactly one span wins) and wake
// runs on that span's goroutine; wake must be fast and must not block.
//
// Protocol for the goroutine, so that no span start is missed: when it
// decides to exit (say, spansStarted() did not change over its idle period
// and currentCount() is 0), it stores true in *asleep, then reads
// spansStarted() again; if the count moved, a span started meanwhile and
// may have missed the flag, so it takes the flag back with
// CompareAndSwap(true, false) and keeps running if that succeeds (if it
// fails, that span's wake is already starting a new one; exit). A span
// counts itself before it reads the flag, so one of the two sides always
// sees the other.
func onSpanStartWake(asleep *atomic.Bool, wake func()) {
	wakeHooks = append(wakeHooks, wakeHook{asleep: asleep, wake: wake})
}

// idleTimeout is how long the batcher waits without a new span before it
// exports what is queued and exits (docs/runtime.md, "Idle exit").
const idleTimeout = 25 * time.Millisecond

// idleOverride replaces idleTimeout in tests (nanoseconds; 0: the constant).
var idleOverride atomic.Int64

func idlePeriod() time.Duration {
	if d := idleOverride.Load(); d > 0 {
		return time.Duration(d)
	}
	return idleTimeout
}

// batcherStarts counts batcher goroutines started (tests, docs).
var batcherStarts atomic.Uint64

func (p *pipeline) callHook(what string, f func()) {
	defer func() {
		if v := recover(); v != nil {
			p.logf("%s panicked: %v", what, v)
		}
	}()
	f()
}

func (p *pipeline) sample(id record.TraceID) bool {
	if p.sampleAll {
		return true
	}
	return binary.BigEndian.Uint64(id[8:]) < p.sampleBound
}

// enqueue hands a finished span to the pipeline.
func (p *pipeline) enqueue(s *Span) {
	if p.syncMode {
		if p.exporting.Load() == curGoid() {
			stats.dropped.Add(1)
			s.release()
			return
		}
		p.syncMu.Lock()
		if p.isStopped() {
			p.syncMu.Unlock()
			stats.dropped.Add(1)
			s.release()
			return
		}
		p.one[0] = s.rec
		p.exporting.Store(curGoid())
		p.exportAll(context.Background(), p.one[:])
		p.exporting.Store(0)
		p.one[0] = nil
		p.syncMu.Unlock()
		s.release()
		return
	}
	p.mu.Lock()
	for len(p.queue) >= p.queueSize && p.blocking && !p.stopped && p.exporting.Load() != curGoid() {
		// A full queue has a running batcher (the idle-exit invariant).
		p.kickBatcher()
		p.roomy.Wait()
	}
	if p.stopped || len(p.queue) >= p.queueSize {
		p.mu.Unlock()
		stats.dropped.Add(1)
		s.release()
		return
	}
	p.queue = append(p.queue, s)
	p.enqueued++
	n := len(p.queue)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		batcherStarts.Add(1)
		go p.run()
	}
	if n == p.batchSize || n == p.queueSize {
		p.kickBatcher()
	}
}

func (p *pipeline) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

func (p *pipeline) kickBatcher() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// run is the batcher goroutine; enqueue starts it when running is false.
func (p *pipeline) run() {
	reanchor()
	p.exporting.Store(curGoid())
	if p.spare == nil {
		p.spare = make([]*Span, 0, p.queueSize)
		p.recs = make([]*record.Record, 0, p.batchSize)
	}
	flushTick := time.NewTicker(p.flushInterval)
	defer flushTick.Stop()
	idleTick := time.NewTicker(idlePeriod())
	defer idleTick.Stop()
	p.mu.Lock()
	seen := p.enqueued
	p.mu.Unlock()
	for {
		select {
		case <-p.kick:
			p.drain(context.Background())
		case <-flushTick.C:
			reanchor()
			p.drain(context.Background())
		case done := <-p.flushReq:
			p.drain(context.Background())
			p.mu.Lock()
			p.flushing--
			p.mu.Unlock()
			close(done)
		case ctx := <-p.stopReq:
			p.drain(ctx)
			p.shutdownErr = p.shutdownExporters(ctx)
			p.mu.Lock()
			p.running = false
			p.exporting.Store(0)
			p.mu.Unlock()
			close(p.done)
			return
		case <-idleTick.C:
			p.mu.Lock()
			n := p.enqueued
			p.mu.Unlock()
			if n != seen {
				seen = n // spans came in during this period: stay
				continue
			}
			// A whole period without a new span: export, let the
			// exporters release what they hold, and exit unless something
			// arrived meanwhile.
			p.drain(context.Background())
			p.idleExporters()
			p.mu.Lock()
			if len(p.queue) == 0 && p.flushing == 0 && !p.stopped && p.enqueued == n {
				p.running = false
				p.exporting.Store(0)
				p.mu.Unlock()
				return
			}
			seen = p.enqueued
			p.mu.Unlock()
		}
	}
}

// drain exports everything queued, reusing the batcher's buffers.
func (p *pipeline) drain(ctx context.Context) {
	p.mu.Lock()
	queued := p.queue
	p.queue = p.spare[:0]
	p.mu.Unlock()
	p.roomy.Broadcast()
	for rest := queued; len(rest) > 0; {
		n := min(len(rest), p.batchSize)
		r := p.recs[:0]
		for _, s := range rest[:n] {
			r = append(r, s.rec)
		}
		p.exportAll(ctx, r)
		if p.pool {
			for _, s := range rest[:n] {
				s.release()
			}
		}
		clear(r)
		p.recs = r[:0]
		rest = rest[n:]
	}
	clear(queued)
	p.spare = queued[:0]
}

// idleExporters lets every exporter that implements export.Idler release
// what it holds between batches (the jsonl exporter closes its file).
func (p *pipeline) idleExporters() {
	for _, ne := range p.exporters {
		if _, ok := ne.exp.(export.Idler); !ok {
			continue
		}
		err := export.Safely(ne.exp, func() error { return ne.exp.(export.Idler).Idle(context.Background()) })
		if err != nil {
			p.countFailure(ne.name, "idle", err)
		}
	}
}

// exportAll gives records to every exporter, isolating failures. The
// length limits are applied here, once per span, off the traced code's path
// (except in sync mode, where End exports).
func (p *pipeline) exportAll(ctx context.Context, recs []*record.Record) {
	for _, r := range recs {
		p.limits.lengthCheck(r)
	}
	for _, ne := range p.exporters {
		err := export.Safely(ne.exp, func() error { return ne.exp.Export(ctx, recs) })
		if err != nil {
			p.countFailure(ne.name, "export", err)
		}
	}
	stats.exported.Add(uint64(len(recs)))
}

func (p *pipeline) countFailure(name, op string, err error) {
	var pe *export.PanicError
	if errors.As(err, &pe) {
		stats.panics.Add(1)
	} else {
		stats.errors.Add(1)
	}
	now := time.Now()
	p.logMu.Lock()
	last, seen := p.logged[name]
	every := p.warnEvery
	if every == 0 {
		every = warnInterval
	}
	first := !seen || now.Sub(last) >= every
	if first {
		if p.logged == nil {
			p.logged = map[string]time.Time{}
		}
		p.logged[name] = now
	}
	p.logMu.Unlock()
	if first {
		p.logf("exporter %s: %s failed: %v (failures of this exporter in the next %s are only counted, see trace.Stats)", name, op, err, every)
	}
}

// warnInterval is how often at most a failing exporter is reported.
const warnInterval = time.Minute

func (p *pipeline) shutdownExporters(ctx context.Context) error {
	var errs []error
	for _, ne := range p.exporters {
		err := export.Safely(ne.exp, func() error { return ne.exp.Shutdown(ctx) })
		if err != nil {
			p.countFailure(ne.name, "shutdown", err)
			errs = append(errs, fmt.Errorf("exporter %s: %w", ne.name, err))
		}
	}
	return errors.Join(errs...)
}

// flush exports everything queued so far and waits for it, or for ctx.
// With no batcher running there is nothing queued: it returns at once.
func (p *pipeline) flush(ctx context.Context) error {
	if p == disabledP || p.syncMode {
		return nil
	}
	p.mu.Lock()
	if !p.running || p.exporting.Load() == curGoid() {
		// Idle: every span queued so far was exported. Or called from an
		// exporter on the batcher itself, which cannot wait for itself.
		p.mu.Unlock()
		return nil
	}
	p.flushing++ // the batcher stays until it has served this call
	p.mu.Unlock()
	done := make(chan struct{})
	select {
	case p.flushReq <- done:
	case <-p.done:
		p.unflush()
		return nil
	case <-ctx.Done():
		p.unflush()
		return fmt.Errorf("tracegen: flush: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracegen: flush: %w", ctx.Err())
	}
}

func (p *pipeline) unflush() {
	p.mu.Lock()
	p.flushing--
	p.mu.Unlock()
}

func (p *pipeline) flushBestEffort() {
	if p == nil || p == disabledP {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(p.shutdownTimeout, 2*time.Second))
	defer cancel()
	_ = p.flush(ctx)
}

// shutdown stops the pipeline once: later spans are dropped (and counted),
// queued spans are exported, exporters are shut down (by the batcher when
// one runs, else here).
func (p *pipeline) shutdown(ctx context.Context) error {
	if p == disabledP {
		return nil
	}
	p.shutdownOnce.Do(func() {
		for _, h := range stopHooks {
			p.callHook("stop hook", func() { h(ctx) })
		}
		p.mu.Lock()
		p.stopped = true
		running := p.running
		p.mu.Unlock()
		p.roomy.Broadcast()
		if !running {
			// Sync mode, no span yet, or idle: nothing is queued, and no
			// batcher can start any more (enqueue drops once stopped).
			p.syncMu.Lock()
			p.exporting.Store(curGoid())
			p.shutdownErr = p.shutdownExporters(ctx)
			p.exporting.Store(0)
			p.syncMu.Unlock()
			close(p.done)
			return
		}
		p.stopReq <- ctx
		select {
		case <-p.done:
		case <-ctx.Done():
			p.stopErr = fmt.Errorf("tracegen: shutdown: %w (spans still queued may be lost)", ctx.Err())
		}
	})
	if p.stopErr != nil {
		return p.stopErr
	}
	select {
	case <-p.done:
		return p.shutdownErr
	case <-ctx.Done():
		// Another caller's shutdown is still running.
		return fmt.Errorf("tracegen: shutdown: %w", ctx.Err())
	}
}

func (p *pipeline) logf(format string, args ...any) {
	w := p.errLog
	if w == nil {
		return
	}
	fmt.Fprintf(w, "tracegen: "+format+"\n", args...)
}

// redactAttr applies the redaction hook to a string attribute.
func (p *pipeline) redactAttr(a record.Attr) record.Attr {
	if p.redactor == nil {
		return a
	}
	a.Value = a.Value.WithString(p.redactor)
	return a
}

// redactContent applies the redaction hook to captured input/output; non-
// string values are encoded to JSON text first so the hook sees them.
func (p *pipeline) redactContent(a record.Attr) record.Attr {
	if p.redactor == nil {
		return a
	}
	if a.Value.Kind() == record.ValueAny {
		a.Value = record.StringValue(string(record.AppendValue(nil, a.Value)))
	}
	return p.redactAttr(a)
}

func (p *pipeline) redact(s string) string {
	if p.redactor == nil || s == "" {
		return s
	}
	return p.redactor(s)
}
