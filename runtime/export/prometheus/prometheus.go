// Package prometheus adds the exporter TRACEGEN_EXPORTER=prometheus: span
// counts, durations, energy, CO2e, water and LLM tokens as Prometheus
// metrics, served on /metrics for a Prometheus server to scrape.
//
// It is opt-in, because it links github.com/prometheus/client_golang:
//
//	import _ "github.com/tracegen-dev/tracegen/runtime/export/prometheus"
//
// The metrics, their labels, the cap on label sets and the run report are
// those of package runtime/export/metrics. The exporter keeps them in a
// registry of its own (never the program's default registry) and serves
// them on TRACEGEN_PROMETHEUS_ADDR (default [DefaultAddr], loopback only;
// ":9464" or "0.0.0.0:9464" listens on every interface, "off" serves
// nothing). The listener is opened at the first export, not before, and
// closed by Shutdown; its goroutine never keeps a program alive. When the
// address cannot be listened on (a port in use), the export returns the
// error, which the span pipeline logs once and counts; the metrics keep
// being counted, the program goes on, and the listener is tried again at
// most once a minute. The server's own errors are discarded rather than
// written to the program's log.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// DefaultAddr is the address /metrics is served on when
// TRACEGEN_PROMETHEUS_ADDR is not set: the loopback interface, port 9464
// (the OpenTelemetry Prometheus exporter's).
const DefaultAddr = metrics.DefaultPrometheusAddr

// DurationBuckets are the upper bounds of tracegen_span_duration_seconds,
// from 100 µs to one minute.
var DurationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// retryListen is how long after a failed listen the next is tried.
const retryListen = time.Minute

func init() {
	export.Register("prometheus", func() (export.Exporter, error) {
		cfg, err := metrics.ConfigFromEnv("prometheus")
		if err != nil {
			return nil, err
		}
		addr := strings.TrimSpace(export.Getenv("TRACEGEN_PROMETHEUS_ADDR"))
		if addr != "" && addr != "off" {
			if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
				return nil, fmt.Errorf("TRACEGEN_PROMETHEUS_ADDR=%q: want host:port or off: %w", addr, export.ErrBadEndpoint)
			}
		}
		return New(Options{Addr: addr, Metrics: cfg}), nil
	})
}

// Options configure an [Exporter].
type Options struct {
	// Addr is the host:port /metrics is served on; "" means DefaultAddr
	// and "off" serves nothing (read the metrics through Gatherer).
	Addr string
	// Metrics configures the series cap and the report.
	Metrics metrics.Config
}

// Exporter publishes span metrics for Prometheus. It is safe for
// concurrent use.
type Exporter struct {
	agg      *metrics.Aggregator
	reg      *prom.Registry
	spans    *prom.CounterVec
	duration *prom.HistogramVec
	energy   *prom.CounterVec
	co2e     *prom.CounterVec
	water    *prom.CounterVec
	tokens   *prom.CounterVec

	addr string    // "" when not serving
	info sync.Once // registers target_info from the first record's resource

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	served   chan struct{} // closed when Serve returned
	nextTry  time.Time     // of the listener, after a failure
	shutdown bool
}

// New returns an exporter; nothing listens until the first Export.
func New(o Options) *Exporter {
	if o.Metrics.Exporter == "" {
		o.Metrics.Exporter = "prometheus"
	}
	e := &Exporter{agg: metrics.New(o.Metrics), reg: prom.NewRegistry()}
	switch o.Addr {
	case "":
		e.addr = DefaultAddr
	case "off":
	default:
		e.addr = o.Addr
	}
	counter := func(m metrics.Metric, extra ...string) *prom.CounterVec {
		c := prom.NewCounterVec(prom.CounterOpts{Name: m.Name, Help: m.Help}, append(metrics.LabelNames[:len(metrics.LabelNames):len(metrics.LabelNames)], extra...))
		e.reg.MustRegister(c)
		return c
	}
	e.spans = counter(metrics.Spans)
	e.energy = counter(metrics.Energy)
	e.co2e = counter(metrics.CO2e)
	e.water = counter(metrics.Water)
	e.tokens = counter(metrics.Tokens, metrics.LabelDirection)
	e.duration = prom.NewHistogramVec(prom.HistogramOpts{Name: metrics.Duration.Name, Help: metrics.Duration.Help, Buckets: DurationBuckets}, metrics.LabelNames)
	e.reg.MustRegister(e.duration)
	return e
}

// Gatherer returns the registry holding the exporter's metrics, for a
// program that serves them on a mux of its own
// (promhttp.HandlerFor(e.Gatherer(), promhttp.HandlerOpts{})).
func (e *Exporter) Gatherer() prom.Gatherer { return e.reg }

// Report returns the run's metric report so far.
func (e *Exporter) Report() metrics.Report { return e.agg.Report() }

// Addr returns the address /metrics is served on, or "" while nothing
// listens.
func (e *Exporter) Addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ln == nil {
		return ""
	}
	return e.ln.Addr().String()
}

// ReleasesRecords reports true: the exporter keeps nothing of a record.
func (e *Exporter) ReleasesRecords() bool { return true }

// Export counts records and, on the first call, starts serving /metrics.
// It returns an error only when the listener could not be opened.
func (e *Exporter) Export(_ context.Context, records []*record.Record) error {
	if len(records) > 0 {
		e.info.Do(func() { e.registerTargetInfo(records[0].Resource) })
	}
	for _, r := range records {
		e.add(e.agg.Add(r))
	}
	return e.serve()
}

func (e *Exporter) add(p metrics.Point) {
	l := p.Labels.Values()
	e.spans.WithLabelValues(l...).Inc()
	e.duration.WithLabelValues(l...).Observe(p.Seconds)
	// Series of zero stay: a counter that exists reads 0 rather than
	// missing, so rate() and sums see every span name.
	e.energy.WithLabelValues(l...).Add(p.EnergyJ)
	e.co2e.WithLabelValues(l...).Add(p.CO2eG)
	e.water.WithLabelValues(l...).Add(p.WaterL)
	if p.InputTokens > 0 || p.OutputTokens > 0 {
		e.tokens.WithLabelValues(append(l, "input")...).Add(float64(p.InputTokens))
		e.tokens.WithLabelValues(append(l, "output")...).Add(float64(p.OutputTokens))
	}
}

// TargetInfo is the name of the gauge that carries the process's resource
// as labels, as the OpenTelemetry Prometheus exporters name it: a query
// joins it on job and instance to split tracegen's series by pod, node or
// host (tracegen_spans_total * on(job, instance) group_left(k8s_pod_name)
// target_info).
const TargetInfo = "target_info"

// registerTargetInfo adds target_info, value 1, labelled with the resource
// attributes (dots and other characters Prometheus does not allow become
// underscores), except service.name and service.instance.id, which the
// scrape configuration's job and instance stand for.
func (e *Exporter) registerTargetInfo(res []record.Attr) {
	labels := prom.Labels{}
	for _, a := range res {
		if a.Key == "service.name" || a.Key == "service.instance.id" {
			continue
		}
		if name := labelName(a.Key); name != "" {
			labels[name] = a.Value.String()
		}
	}
	g := prom.NewGauge(prom.GaugeOpts{Name: TargetInfo, Help: "Target metadata: the resource of the traced process.", ConstLabels: labels})
	g.Set(1)
	_ = e.reg.Register(g) // cannot collide: registered once, under a name of its own
}

// labelName turns a resource key into a Prometheus label name.
func labelName(k string) string {
	b := []byte(k)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			b[i] = '_'
		}
	}
	name := string(b)
	if strings.HasPrefix(name, "__") || name == "job" || name == "instance" {
		return "" // reserved
	}
	return name
}

// serve opens the listener if it is not open, unless shut down, off, or a
// failed attempt was less than retryListen ago.
func (e *Exporter) serve() error {
	if e.addr == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ln != nil || e.shutdown || time.Now().Before(e.nextTry) {
		return nil
	}
	ln, err := net.Listen("tcp", e.addr)
	if err != nil {
		e.nextTry = time.Now().Add(retryListen)
		return fmt.Errorf("prometheus exporter: serving /metrics: %w (metrics are still counted; next try in %v)", err, retryListen)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	e.ln, e.served = ln, make(chan struct{})
	e.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}(e.srv, e.served)
	return nil
}

// Shutdown closes the listener, lets scrapes in progress finish within ctx
// and writes the report when TRACEGEN_METRICS_REPORT asks for it.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.shutdown = true
	srv, done := e.srv, e.served
	e.srv, e.ln = nil, nil
	e.mu.Unlock()
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("prometheus exporter: %w", err))
		}
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	if err := e.agg.Finish(); err != nil {
		errs = append(errs, fmt.Errorf("prometheus exporter: %w", err))
	}
	return errors.Join(errs...)
}
