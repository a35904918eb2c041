package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/internal/ratelog"
	"github.com/tracegen-dev/tracegen/runtime/record"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

func init() {
	export.Register("otlp", func() (export.Exporter, error) {
		cfg, err := ConfigFromEnv(export.LookupEnv)
		if err != nil {
			return nil, err
		}
		return New(cfg)
	})
}

// Exporter sends spans to an OTLP/HTTP endpoint. Export converts the
// records and queues them without waiting for the network; a sender
// goroutine of its own (two while a full batch waits behind the one in
// flight), running only while spans are queued, posts them in batches and
// retries. It is safe for concurrent use.
type Exporter struct {
	cfg       Config
	where     string // the endpoint as messages show it (redacted)
	client    *http.Client
	transport *http.Transport // the exporter's own, nil with Config.Transport
	scope     *commonpb.InstrumentationScope
	warn      *ratelog.Logger
	secrets   []string // header values, scrubbed from response bodies

	convMu sync.Mutex // Export's converter and its slabs
	conv   converter

	mu        sync.Mutex
	cond      *sync.Cond // room in the queue; the sender exited
	queue     []queued
	senders   int             // sender goroutines running (at most maxSenders)
	closing   bool            // Shutdown began: no more Export
	idleAsked bool            // Idle came while sending: close connections when done
	failing   bool            // the latest request failed: Blocking does not wait
	closingCh chan struct{}   // closed when Shutdown begins
	deadline  time.Time       // Shutdown's; set before closingCh is closed
	stop      context.Context // cancelled when Shutdown gives up waiting
	cancel    context.CancelFunc

	stats   counters
	lastErr atomic.Value // error: the latest failure, for Shutdown's message
}

// New returns an exporter for cfg, or an error when its endpoint is not
// an http or https URL.
func New(cfg Config) (*Exporter, error) {
	cfg = cfg.withDefaults()
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		return nil, fmt.Errorf("%w: endpoint: %v", ErrConfig, err)
	}
	if cfg.Protocol != ProtocolProtobuf && cfg.Protocol != ProtocolJSON {
		return nil, fmt.Errorf("%w: protocol %q: want http/protobuf or http/json", ErrConfig, cfg.Protocol)
	}
	e := &Exporter{
		cfg:       cfg,
		where:     redactedURL(cfg.Endpoint),
		scope:     &commonpb.InstrumentationScope{Name: ScopeName, Version: runtimeVersion},
		warn:      &ratelog.Logger{W: cfg.Log, Prefix: "otlp exporter", Interval: WarnInterval, Now: time.Now},
		closingCh: make(chan struct{}),
	}
	if e.warn.W == nil {
		e.warn.W = os.Stderr
	}
	for _, v := range cfg.Headers {
		if v != "" {
			e.secrets = append(e.secrets, v)
		}
	}
	rt := cfg.Transport
	if rt == nil {
		e.transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
			ForceAttemptHTTP2:   true,
		}
		rt = e.transport
	}
	e.client = &http.Client{Transport: rt}
	e.cond = sync.NewCond(&e.mu)
	e.stop, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// ReleasesRecords reports true: Export copies what it needs.
func (e *Exporter) ReleasesRecords() bool { return true }

// errShutDown is returned by Export after Shutdown.
var errShutDown = errors.New("otlp exporter: already shut down")

// Export converts records and queues them for the sender. It does not wait
// for the network: when the queue is full the spans that do not fit are
// dropped and counted. With Config.Blocking it waits for room instead, but
// only while the endpoint takes spans: once a request has failed (and
// until one succeeds) it drops as without Blocking, so an endpoint that is
// down never stalls the program.
func (e *Exporter) Export(ctx context.Context, records []*record.Record) error {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		e.count(cDropped, len(records))
		return errShutDown
	}
	room := e.cfg.QueueSize - len(e.queue)
	e.mu.Unlock()
	take := len(records)
	if !e.cfg.Blocking {
		take = min(take, room) // room only grows until the next Export
	}
	spans := e.convert(records[:take])
	dropped := len(records) - take
	if e.cfg.Blocking {
		defer context.AfterFunc(ctx, func() {
			e.mu.Lock()
			e.cond.Broadcast()
			e.mu.Unlock()
		})()
	}
	e.mu.Lock()
	for _, q := range spans {
		for e.cfg.Blocking && len(e.queue) >= e.cfg.QueueSize && !e.closing && !e.failing && ctx.Err() == nil {
			e.startSender()
			e.cond.Wait()
		}
		if len(e.queue) >= e.cfg.QueueSize || e.closing {
			dropped++
			continue
		}
		e.queue = append(e.queue, q)
	}
	if len(e.queue) > 0 {
		e.startSender()
	}
	e.mu.Unlock()
	if dropped > 0 {
		e.count(cDropped, dropped)
		e.warnf("queue full (%d spans waiting for %s): %d spans dropped", e.cfg.QueueSize, e.where, dropped)
	}
	return nil
}

// convert turns records into OTLP spans (Export may be called by several
// goroutines when user code calls it directly; the pipeline uses one).
func (e *Exporter) convert(records []*record.Record) []queued {
	e.convMu.Lock()
	defer e.convMu.Unlock()
	spans := make([]queued, len(records))
	for i, r := range records {
		spans[i] = queued{res: e.conv.resource(r.Resource), span: e.conv.span(r)}
	}
	return spans
}

// setFailing records whether the latest request failed and wakes the
// exports waiting for room, which stop waiting while it fails.
func (e *Exporter) setFailing(failing bool) {
	e.mu.Lock()
	if e.failing != failing {
		e.failing = failing
		e.cond.Broadcast()
	}
	e.mu.Unlock()
}

// maxSenders is how many requests may be in flight: two, so that the next
// batch is encoded while the server reads the previous one.
const maxSenders = 2

// startSender starts a sender goroutine when none runs, and a second one
// when a full batch is waiting; e.mu is held.
func (e *Exporter) startSender() {
	if e.senders == 0 || e.senders < maxSenders && len(e.queue) >= e.cfg.BatchSize {
		e.senders++
		go e.run()
	}
}

// run is a sender goroutine: it sends batches until the queue is empty,
// then exits; the last one to exit closes idle connections when asked.
func (e *Exporter) run() {
	batch := make([]queued, 0, e.cfg.BatchSize)
	for {
		e.mu.Lock()
		if len(e.queue) == 0 || e.stop.Err() != nil {
			e.count(cFailed, len(e.queue)) // shutting down: what is left is lost
			clear(e.queue)
			e.queue = e.queue[:0]
			e.senders--
			idle := e.senders == 0 && (e.idleAsked || e.closing)
			if idle {
				e.idleAsked = false
			}
			e.cond.Broadcast()
			e.mu.Unlock()
			if idle {
				e.closeIdle()
			}
			return
		}
		n := min(len(e.queue), e.cfg.BatchSize)
		batch = append(batch[:0], e.queue[:n]...)
		rest := copy(e.queue, e.queue[n:])
		clear(e.queue[rest:])
		e.queue = e.queue[:rest]
		e.cond.Broadcast()
		e.mu.Unlock()
		e.deliver(batch)
		clear(batch)
	}
}

// Idle closes the exporter's idle connections once nothing is being sent
// (the span pipeline calls it when no span has ended for a while), so an
// idle program holds no connection goroutines; the next Export reconnects.
func (e *Exporter) Idle(context.Context) error {
	e.mu.Lock()
	running := e.senders > 0
	if running {
		e.idleAsked = true
	}
	e.mu.Unlock()
	if !running {
		e.closeIdle()
	}
	return nil
}

func (e *Exporter) closeIdle() {
	if e.transport != nil {
		e.transport.CloseIdleConnections()
	}
}

// shutdownMargin is how much earlier than its deadline Shutdown stops
// waiting (at most a tenth of the time it has).
const shutdownMargin = 100 * time.Millisecond

// ErrUndelivered is wrapped by Shutdown's error when spans could not be
// delivered before its deadline or because the endpoint failed.
var ErrUndelivered = errors.New("spans not delivered")

// Shutdown sends what is queued and waits for it until ctx is done (or
// DefaultShutdownTimeout when ctx has no deadline). From then on a batch
// is retried only while the server answers and the delay fits before the
// deadline; when nothing answers it is dropped at once. It returns an
// error wrapping ErrUndelivered when spans were lost during the shutdown,
// unless a warning line was written less than WarnInterval ago (the span
// pipeline prints the error, and one line per interval is the limit).
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultShutdownTimeout)
		defer cancel()
	}
	// Give up a little before the deadline, so that the caller (the span
	// pipeline, bounded by the same ctx) gets this exporter's answer in
	// time and reports one line, not two.
	deadline, _ := ctx.Deadline()
	deadline = deadline.Add(-min(time.Until(deadline)/10, shutdownMargin))
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	e.closing = true
	e.deadline = deadline
	close(e.closingCh)
	e.cond.Broadcast()
	e.mu.Unlock()
	before := e.stats.lost()
	done := make(chan struct{})
	go func() {
		e.mu.Lock()
		for e.senders > 0 {
			e.cond.Wait()
		}
		e.mu.Unlock()
		close(done)
	}()
	timedOut := false
	select {
	case <-done:
	case <-ctx.Done():
		timedOut = true
		e.cancel() // abort the request in flight; the sender drops the rest
		<-done
	}
	e.cancel()
	e.closeIdle()
	lost := e.stats.lost() - before
	if lost == 0 {
		return nil
	}
	if ok, _ := e.warn.Allow(); !ok {
		return nil
	}
	why := "the shutdown timeout passed"
	if !timedOut {
		why = "the endpoint failed"
		if err, _ := e.lastErr.Load().(error); err != nil {
			why = err.Error()
		}
	}
	return fmt.Errorf("otlp exporter: %d %w to %s: %s", lost, ErrUndelivered, e.where, why)
}

// Stats are the counters of one exporter, or of all of them ([ReadStats]).
type Stats struct {
	Sent     uint64 // spans the endpoint accepted
	Dropped  uint64 // spans dropped before sending: queue full, or after Shutdown
	Failed   uint64 // spans in batches that failed for good, or were still queued when Shutdown gave up
	Rejected uint64 // spans the endpoint accepted the request of but reported rejected (partial success)
	Requests uint64 // requests made, retries included
	Retries  uint64 // requests that failed and were retried
}

// Counter indexes.
const (
	cSent = iota
	cDropped
	cFailed
	cRejected
	cRequests
	cRetries
	numCounters
)

type counters [numCounters]atomic.Uint64

// total counts for every exporter of the process.
var total counters

// count adds n to e's counter i and to the process total.
func (e *Exporter) count(i, n int) {
	if n > 0 {
		e.stats[i].Add(uint64(n))
		total[i].Add(uint64(n))
	}
}

func (c *counters) lost() uint64 {
	return c[cDropped].Load() + c[cFailed].Load() + c[cRejected].Load()
}

func (c *counters) read() Stats {
	return Stats{
		Sent: c[cSent].Load(), Dropped: c[cDropped].Load(), Failed: c[cFailed].Load(),
		Rejected: c[cRejected].Load(), Requests: c[cRequests].Load(), Retries: c[cRetries].Load(),
	}
}

// Stats returns e's counters.
func (e *Exporter) Stats() Stats { return e.stats.read() }

// ReadStats returns the counters of every OTLP exporter of the process,
// such as the one TRACEGEN_EXPORTER=otlp made.
func ReadStats() Stats { return total.read() }

// warnf writes a rate-limited warning, except once Shutdown has begun:
// Shutdown's error then sums up what was lost, in the one line allowed.
func (e *Exporter) warnf(format string, args ...any) {
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.lastErr.Store(err)
		}
	}
	if !e.shuttingDown() {
		e.warn.Printf(format, args...)
	}
}
