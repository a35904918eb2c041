package trace

import (
	"context"
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
// a mutex; no allocation). One batcher goroutine, started with the first
// span, swaps the queue for an empty one when it holds BatchSize spans,
// every FlushInterval, on Flush and on Shutdown, and hands the spans to the
// exporters in batches of at most BatchSize. When the queue is full, End
// drops the span and counts it, or in blocking mode waits for room. In sync
// mode there is no queue and no goroutine: End exports the span itself.

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
	pool            bool // every exporter releases records: recycle spanData
	sampleAll       bool
	sampleBound     uint64
	errLog          io.Writer
	redactor        func(string) string

	startOnce sync.Once
	started   atomic.Bool

	mu      sync.Mutex
	roomy   *sync.Cond // signalled when the batcher empties the queue
	queue   []*Span
	stopped bool

	kick     chan struct{}
	flushReq chan chan struct{}
	stopReq  chan context.Context
	done     chan struct{}

	shutdownOnce sync.Once
	shutdownErr  error

	syncMu sync.Mutex
	one    [1]*record.Record

	// exporting is the id of the goroutine inside Export (0 when none): a
	// span that ends on it (an exporter using instrumented code) must not
	// wait for the pipeline it is blocking, so it is dropped and counted.
	exporting atomic.Int64

	logMu  sync.Mutex
	logged map[string]bool
}

// ensureStarted starts the batcher and the start hooks on the first span.
func (p *pipeline) ensureStarted() {
	if p.started.Load() {
		return
	}
	p.startOnce.Do(func() {
		initGoid()
		if !p.syncMode {
			go p.run()
		}
		for _, h := range startHooks {
			p.callHook("start hook", h)
		}
		p.started.Store(true)
	})
}

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
	return beUint64(id[8:]) < p.sampleBound
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[7]) | uint64(b[6])<<8 | uint64(b[5])<<16 | uint64(b[4])<<24 |
		uint64(b[3])<<32 | uint64(b[2])<<40 | uint64(b[1])<<48 | uint64(b[0])<<56
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
	n := len(p.queue)
	p.mu.Unlock()
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

// run is the batcher goroutine.
func (p *pipeline) run() {
	defer close(p.done)
	p.exporting.Store(curGoid())
	tick := time.NewTicker(p.flushInterval)
	defer tick.Stop()
	spare := make([]*Span, 0, p.queueSize)
	recs := make([]*record.Record, 0, p.batchSize)
	for {
		select {
		case <-p.kick:
		case <-tick.C:
		case done := <-p.flushReq:
			spare = p.drain(context.Background(), spare, &recs)
			close(done)
			continue
		case ctx := <-p.stopReq:
			p.drain(ctx, spare, &recs)
			p.shutdownErr = p.shutdownExporters(ctx)
			return
		}
		spare = p.drain(context.Background(), spare, &recs)
	}
}

// drain exports everything queued; it returns the emptied queue array
// for reuse as the next spare, with its full capacity.
func (p *pipeline) drain(ctx context.Context, spare []*Span, recs *[]*record.Record) []*Span {
	p.mu.Lock()
	queued := p.queue
	p.queue = spare[:0]
	p.mu.Unlock()
	p.roomy.Broadcast()
	for rest := queued; len(rest) > 0; {
		n := min(len(rest), p.batchSize)
		r := (*recs)[:0]
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
		*recs = r[:0]
		rest = rest[n:]
	}
	clear(queued)
	return queued[:0]
}

// exportAll gives records to every exporter, isolating failures.
func (p *pipeline) exportAll(ctx context.Context, recs []*record.Record) {
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
	p.logMu.Lock()
	first := !p.logged[name]
	if first {
		if p.logged == nil {
			p.logged = map[string]bool{}
		}
		p.logged[name] = true
	}
	p.logMu.Unlock()
	if first {
		p.logf("exporter %s: %s failed: %v (further failures of this exporter are only counted, see trace.Stats)", name, op, err)
	}
}

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
func (p *pipeline) flush(ctx context.Context) error {
	if p == disabledP || p.syncMode || !p.started.Load() {
		return nil
	}
	done := make(chan struct{})
	select {
	case p.flushReq <- done:
	case <-p.done:
		return nil
	case <-ctx.Done():
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

func (p *pipeline) flushBestEffort() {
	if p == nil || p == disabledP {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(p.shutdownTimeout, 2*time.Second))
	defer cancel()
	_ = p.flush(ctx)
}

// shutdown stops the pipeline once: later spans are dropped (and counted),
// queued spans are exported, exporters are shut down.
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
		p.mu.Unlock()
		p.roomy.Broadcast()
		if p.syncMode || !p.started.Load() {
			p.syncMu.Lock()
			p.exporting.Store(curGoid())
			p.shutdownErr = p.shutdownExporters(ctx)
			p.exporting.Store(0)
			p.syncMu.Unlock()
			return
		}
		p.stopReq <- ctx
		select {
		case <-p.done:
		case <-ctx.Done():
			p.shutdownErr = fmt.Errorf("tracegen: shutdown: %w (spans still queued may be lost)", ctx.Err())
		}
	})
	select {
	case <-p.done:
	default:
		if p.started.Load() && !p.syncMode && p.shutdownErr == nil {
			// Another caller's shutdown is still running.
			select {
			case <-p.done:
			case <-ctx.Done():
				return fmt.Errorf("tracegen: shutdown: %w", ctx.Err())
			}
		}
	}
	return p.shutdownErr
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
