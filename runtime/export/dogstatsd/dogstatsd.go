// Package dogstatsd adds the exporter TRACEGEN_EXPORTER=dogstatsd: span
// counts, durations, energy, CO2e, water and LLM tokens sent to a Datadog
// Agent in the DogStatsD format, through the official client
// github.com/DataDog/datadog-go/v5/statsd.
//
// It is opt-in, because it links that client:
//
//	import _ "github.com/tracegen-dev/tracegen/runtime/export/dogstatsd"
//
// The metrics, their labels (sent as tags span_name, span_type, status,
// model, and direction for tokens; empty ones left out), the cap on label
// sets and the run report are those of package runtime/export/metrics.
// Names and types on the wire:
//
//	tracegen.spans                  count         1 per span
//	tracegen.span.duration.seconds  distribution  each span's duration
//	tracegen.energy.joules          distribution  each span's own energy, when not 0
//	tracegen.co2e.grams             distribution  each span's own CO2e, when not 0
//	tracegen.water.litres           distribution  each span's own water, when not 0
//	tracegen.llm.tokens             count         tokens, tag direction:input|output
//
// Energy, CO2e and water are fractional, which a DogStatsD count (an
// integer in the client) cannot carry: they are distributions, whose sum
// is the total.
//
// The Agent's address is, in this order: DD_DOGSTATSD_URL (udp://host:port
// or unix:///path.sock), DD_AGENT_HOST with DD_DOGSTATSD_PORT (default
// 8125), or [DefaultAddr]. The client is made at the first export, not
// before; it aggregates counts for 2 s and sends datagrams every 100 ms from
// goroutines of its own, which Idle (when the span pipeline goes idle) and
// Shutdown stop after a last flush; the next export makes a new client. Send
// errors are counted and returned by the next export (the span pipeline
// logs the first and counts them all); the program goes on. The client's
// own telemetry metrics are turned off.
package dogstatsd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// DefaultAddr is the Agent's address when neither DD_DOGSTATSD_URL nor
// DD_AGENT_HOST is set (DD_DOGSTATSD_PORT still sets the port).
const DefaultAddr = metrics.DefaultDogStatsDAddr

// retryClient is how long after a failure to make the client the next
// attempt is.
const retryClient = time.Minute

func init() {
	export.Register("dogstatsd", func() (export.Exporter, error) {
		cfg, err := metrics.ConfigFromEnv("dogstatsd")
		if err != nil {
			return nil, err
		}
		return New(Options{Addr: addrFromEnv(), Metrics: cfg}), nil
	})
}

// addrFromEnv returns "" when DD_DOGSTATSD_URL or DD_AGENT_HOST is set in
// the environment, so that the client resolves them itself; when they come
// from the env file (TRACEGEN_ENV_FILE), which the client does not read,
// the address they give; and otherwise DefaultAddr with DD_DOGSTATSD_PORT's
// port.
func addrFromEnv() string {
	if os.Getenv("DD_DOGSTATSD_URL") != "" || os.Getenv("DD_AGENT_HOST") != "" {
		return ""
	}
	return metrics.DogStatsDAddrFromEnv()
}

// Options configure an [Exporter].
type Options struct {
	// Addr is the Agent's address (host:port for UDP, unix:///path for a
	// socket); "" lets the client read DD_DOGSTATSD_URL, DD_AGENT_HOST and
	// DD_DOGSTATSD_PORT.
	Addr string
	// Metrics configures the series cap and the report.
	Metrics metrics.Config
}

// Exporter sends span metrics to a DogStatsD server. It is safe for
// concurrent use.
type Exporter struct {
	agg  *metrics.Aggregator
	addr string

	mu       sync.Mutex
	client   *statsd.Client
	nextTry  time.Time // of the client, after a failure
	shutdown bool
	errs     uint64 // send errors so far
	reported uint64 // errs when Export last returned an error
	lastErr  error
}

// New returns an exporter; nothing is sent or started until the first
// Export.
func New(o Options) *Exporter {
	if o.Metrics.Exporter == "" {
		o.Metrics.Exporter = "dogstatsd"
	}
	return &Exporter{agg: metrics.New(o.Metrics), addr: o.Addr}
}

// Report returns the run's metric report so far.
func (e *Exporter) Report() metrics.Report { return e.agg.Report() }

// ReleasesRecords reports true: the exporter keeps nothing of a record.
func (e *Exporter) ReleasesRecords() bool { return true }

// Export counts records and hands their metrics to the client, made on
// the first call. It returns the error of making the client, or one that
// counts the send errors since the last error it returned.
func (e *Exporter) Export(_ context.Context, records []*record.Record) error {
	c, err := e.ensureClient()
	for _, r := range records {
		p := e.agg.Add(r)
		if c != nil {
			e.send(c, p)
		}
	}
	if err != nil {
		return err
	}
	return e.takeErrors()
}

func (e *Exporter) ensureClient() (*statsd.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil || e.shutdown || time.Now().Before(e.nextTry) {
		return e.client, nil
	}
	c, err := statsd.New(e.addr, statsd.WithoutTelemetry(), statsd.WithErrorHandler(e.noteError))
	if err != nil {
		e.nextTry = time.Now().Add(retryClient)
		return nil, fmt.Errorf("dogstatsd exporter: %w (metrics are still counted; next try in %v)", err, retryClient)
	}
	e.client = c
	return c, nil
}

func (e *Exporter) send(c *statsd.Client, p metrics.Point) {
	tags := tags(p.Labels)
	e.check(c.Count(metrics.Spans.StatsD, 1, tags, 1))
	e.check(c.Distribution(metrics.Duration.StatsD, p.Seconds, tags, 1))
	for _, v := range []struct {
		name  string
		value float64
	}{{metrics.Energy.StatsD, p.EnergyJ}, {metrics.CO2e.StatsD, p.CO2eG}, {metrics.Water.StatsD, p.WaterL}} {
		if v.value > 0 {
			e.check(c.Distribution(v.name, v.value, tags, 1))
		}
	}
	if p.InputTokens > 0 || p.OutputTokens > 0 {
		// Two slices: the client may keep tags until it flushes.
		in := append(tags[:len(tags):len(tags)], metrics.LabelDirection+":input")
		out := append(tags[:len(tags):len(tags)], metrics.LabelDirection+":output")
		e.check(c.Count(metrics.Tokens.StatsD, p.InputTokens, in, 1))
		e.check(c.Count(metrics.Tokens.StatsD, p.OutputTokens, out, 1))
	}
}

// tags returns the DogStatsD tags of l, leaving empty values out and
// replacing the characters that separate tags and fields.
func tags(l metrics.Labels) []string {
	out := make([]string, 0, 5)
	for i, v := range l.Values() {
		if v != "" {
			out = append(out, metrics.LabelNames[i]+":"+tagEscaper.Replace(v))
		}
	}
	return out
}

var tagEscaper = strings.NewReplacer(",", "_", "|", "_", "\n", " ", "\r", " ")

func (e *Exporter) check(err error) {
	if err != nil {
		e.noteError(err)
	}
}

// noteError counts a send error; the client calls it from its goroutines.
func (e *Exporter) noteError(err error) {
	e.mu.Lock()
	e.errs++
	e.lastErr = err
	e.mu.Unlock()
}

// takeErrors returns an error counting the send errors not returned yet.
func (e *Exporter) takeErrors() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.errs == e.reported {
		return nil
	}
	n := e.errs - e.reported
	e.reported = e.errs
	return fmt.Errorf("dogstatsd exporter: %d send errors, the last: %w", n, e.lastErr)
}

// Idle flushes and closes the client while the span pipeline is idle, so
// that an idle program has none of its goroutines; the next Export makes a
// new one.
func (e *Exporter) Idle(ctx context.Context) error {
	return errors.Join(e.closeClient(ctx, false), e.takeErrors())
}

// Shutdown flushes and closes the client within ctx and writes the report
// when TRACEGEN_METRICS_REPORT asks for it.
func (e *Exporter) Shutdown(ctx context.Context) error {
	errs := []error{e.closeClient(ctx, true), e.takeErrors()}
	if err := e.agg.Finish(); err != nil {
		errs = append(errs, fmt.Errorf("dogstatsd exporter: %w", err))
	}
	return errors.Join(errs...)
}

// closeClient closes the client, if any, waiting for it until ctx is done;
// with shutdown set no client is made again.
func (e *Exporter) closeClient(ctx context.Context, shutdown bool) error {
	e.mu.Lock()
	e.shutdown = e.shutdown || shutdown
	c := e.client
	e.client = nil
	e.mu.Unlock()
	if c == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("dogstatsd exporter: close: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dogstatsd exporter: close: %w", ctx.Err())
	}
}
