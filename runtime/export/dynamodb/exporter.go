package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/internal/ratelog"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func init() {
	export.Register("dynamodb", func() (export.Exporter, error) {
		cfg, err := ConfigFromEnv(os.LookupEnv)
		if err != nil {
			return nil, err
		}
		return New(cfg)
	})
}

// Exporter writes spans to a DynamoDB table and reads them back (see the
// package documentation). It is safe for concurrent use.
type Exporter struct {
	cfg  Config
	warn *ratelog.Logger

	clientOnce sync.Once
	client     *dynamodb.Client
	clientErr  error
	tableMu    sync.Mutex // CreateTable, before the first write
	tableReady bool

	mu       sync.Mutex
	idle     *sync.Cond // the writer exited
	queue    []item
	writing  bool // the writer goroutine runs
	closing  bool
	stop     context.Context // cancelled when Shutdown stops waiting
	cancel   context.CancelFunc
	shutOnce sync.Once
	shutErr  error

	sent, dropped, failed, requests, retries atomic.Uint64
}

// Stats are an exporter's counts since it was made.
type Stats struct {
	Sent     uint64 // items DynamoDB took
	Dropped  uint64 // spans dropped: queue full, or left at shutdown
	Failed   uint64 // items given up on after their attempts, or refused
	Requests uint64 // BatchWriteItem requests
	Retries  uint64 // requests that wrote a batch's failed or unprocessed items again
}

// New returns an exporter for cfg. It does not touch the network: the
// AWS configuration is loaded, and the table created when asked, by the
// first write or read.
func New(cfg Config) (*Exporter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	e := &Exporter{cfg: cfg, warn: &ratelog.Logger{W: cfg.Log, Prefix: "dynamodb exporter", Interval: WarnInterval, Now: time.Now}}
	if e.warn.W == nil {
		e.warn.W = os.Stderr
	}
	e.idle = sync.NewCond(&e.mu)
	e.stop, e.cancel = context.WithCancel(context.Background())
	return e, nil
}

// Stats returns the exporter's counts.
func (e *Exporter) Stats() Stats {
	return Stats{Sent: e.sent.Load(), Dropped: e.dropped.Load(), Failed: e.failed.Load(),
		Requests: e.requests.Load(), Retries: e.retries.Load()}
}

// ReleasesRecords reports true: Export turns records into items at once.
func (e *Exporter) ReleasesRecords() bool { return true }

// dynamo returns the client, loading the AWS configuration the first time.
func (e *Exporter) dynamo(ctx context.Context) (*dynamodb.Client, error) {
	e.clientOnce.Do(func() {
		var opts []func(*awsconfig.LoadOptions) error
		if e.cfg.Region != "" {
			opts = append(opts, awsconfig.WithRegion(e.cfg.Region))
		}
		ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			e.clientErr = fmt.Errorf("dynamodb exporter: loading the AWS configuration: %w", err)
			return
		}
		e.client = dynamodb.NewFromConfig(ac, func(o *dynamodb.Options) {
			if e.cfg.Endpoint != "" {
				o.BaseEndpoint = aws.String(e.cfg.Endpoint)
			}
			// The writer retries with its own backoff, bounded by
			// Shutdown's deadline; the SDK's retry quota would refuse
			// retries for minutes after an outage.
			o.Retryer = aws.NopRetryer{}
		})
	})
	return e.client, e.clientErr
}

var errShutDown = errors.New("dynamodb exporter: already shut down")

// Export turns records into items and queues them for the writer without
// waiting for the network; what does not fit in the queue is dropped and
// counted.
func (e *Exporter) Export(_ context.Context, records []*record.Record) error {
	items := make([]item, len(records))
	for i, r := range records {
		items[i] = e.toItem(r)
	}
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		e.dropped.Add(uint64(len(items)))
		return errShutDown
	}
	take := min(len(items), e.cfg.QueueSize-len(e.queue))
	e.queue = append(e.queue, items[:take]...)
	if len(e.queue) > 0 && !e.writing {
		e.writing = true
		go e.run()
	}
	e.mu.Unlock()
	if n := len(items) - take; n > 0 {
		e.dropped.Add(uint64(n))
		e.warn.Printf("queue full (%d items waiting for table %s): %d spans dropped", e.cfg.QueueSize, e.cfg.Table, n)
	}
	return nil
}

// run is the writer goroutine: it writes batches until the queue is empty,
// then exits.
func (e *Exporter) run() {
	for {
		e.mu.Lock()
		n := min(len(e.queue), BatchSize)
		if n == 0 {
			e.writing = false
			e.idle.Broadcast()
			e.mu.Unlock()
			return
		}
		batch := append([]item(nil), e.queue[:n]...)
		clear(e.queue[:n])
		e.queue = e.queue[n:]
		if len(e.queue) == 0 {
			e.queue = nil // let the backing array go
		}
		e.mu.Unlock()
		e.writeBatch(e.stop, batch)
	}
}

// Idle does nothing: the writer exits on its own once the queue is empty.
func (e *Exporter) Idle(context.Context) error { return nil }

// Shutdown writes what is queued within ctx's deadline
// (DefaultShutdownTimeout when it has none), a little before it so that
// the span pipeline, bounded by the same ctx, gets the answer in time;
// what is left then is dropped. It returns an error when spans were lost
// during the shutdown, unless a warning line was written less than
// WarnInterval ago (the span pipeline prints the error, and one line per
// interval is the limit). Later exports are dropped.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.shutOnce.Do(func() { e.shutErr = e.shutdown(ctx) })
	return e.shutErr
}

// shutdownMargin bounds how much earlier than its deadline Shutdown gives up.
const shutdownMargin = 250 * time.Millisecond

func (e *Exporter) shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultShutdownTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(-min(time.Until(deadline)/10, shutdownMargin)))
	defer cancel()
	before := e.dropped.Load() + e.failed.Load()
	stopWaiting := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.idle.Broadcast()
		e.mu.Unlock()
	})
	defer stopWaiting()
	e.mu.Lock()
	e.closing = true
	for e.writing && ctx.Err() == nil {
		e.idle.Wait()
	}
	left := len(e.queue)
	e.queue = nil
	e.cancel()      // abort the request in flight and the backoff
	for e.writing { // which returns at once
		e.idle.Wait()
	}
	e.mu.Unlock()
	e.dropped.Add(uint64(left))
	lost := e.dropped.Load() + e.failed.Load() - before
	if lost == 0 {
		return nil
	}
	if ok, _ := e.warn.Allow(); !ok {
		return nil
	}
	why := "the shutdown timeout passed"
	if ctx.Err() == nil {
		why = "writes failed"
	}
	return fmt.Errorf("dynamodb exporter: %d spans not written to table %s: %s", lost, e.cfg.Table, why)
}
