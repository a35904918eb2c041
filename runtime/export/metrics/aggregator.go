package metrics

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// GenAI attributes the aggregator reads.
const (
	attrRequestModel  = "gen_ai.request.model"
	attrResponseModel = "gen_ai.response.model"
	attrInputTokens   = "gen_ai.usage.input_tokens"
	attrOutputTokens  = "gen_ai.usage.output_tokens"
)

// maxPendingParents bounds the children's impact remembered for parents
// that have not ended yet. A parent that ends after more than half as many
// other parents were remembered is counted with its children's impact.
const maxPendingParents = 8192

// Config configures an [Aggregator].
type Config struct {
	// Exporter names the exporter in reports ("prometheus", "dogstatsd").
	Exporter string
	// MaxSeries caps the distinct label sets; 0 means DefaultMaxSeries.
	MaxSeries int
	// ReportTo is where [Aggregator.Finish] writes the report: "" for
	// nowhere, "stderr", or a file path the report is appended to.
	ReportTo string
}

// ConfigFromEnv returns the Config of exporter from the environment:
// TRACEGEN_METRICS_MAX_SERIES (a positive integer) and
// TRACEGEN_METRICS_REPORT ("stderr" or "1" or "true" for stderr, "",
// "0", "false" or "off" for none, anything else a file path).
func ConfigFromEnv(exporter string) (Config, error) {
	cfg := Config{Exporter: exporter}
	if v := strings.TrimSpace(export.Getenv("TRACEGEN_METRICS_MAX_SERIES")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("TRACEGEN_METRICS_MAX_SERIES=%q: want a positive integer", v)
		}
		cfg.MaxSeries = n
	}
	switch v := strings.TrimSpace(export.Getenv("TRACEGEN_METRICS_REPORT")); strings.ToLower(v) {
	case "", "0", "false", "off":
	case "1", "true", "stderr":
		cfg.ReportTo = "stderr"
	default:
		cfg.ReportTo = v
	}
	return cfg, nil
}

// Point is what one span contributes to the metrics.
type Point struct {
	Labels  Labels
	Seconds float64 // duration
	// EnergyJ, CO2eG and WaterL are the impact of the span's own work:
	// its record's minus that of its children that ended before it.
	EnergyJ, CO2eG, WaterL float64
	// InputTokens and OutputTokens are the span's own gen_ai.usage tokens.
	InputTokens, OutputTokens int64
}

// impact is the part of a record's Impact that the metrics count.
type impact struct{ j, g, l float64 }

func (x impact) isZero() bool { return x == impact{} }

// An Aggregator turns finished spans into points under a series cap and
// keeps the run's report. It is safe for concurrent use.
type Aggregator struct {
	cfg Config

	mu         sync.Mutex
	series     map[Labels]Labels // admitted label sets, to their own copies
	overflowed uint64            // spans counted under Overflow
	// pending holds the summed impact of ended children per parent span
	// id; older is the previous generation, dropped when pending fills.
	pending, older map[record.SpanID]impact
	stats          [numStats]Stat
}

// New returns an aggregator for cfg and adds it to those [Reports] returns.
func New(cfg Config) *Aggregator {
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultMaxSeries
	}
	a := &Aggregator{cfg: cfg, series: map[Labels]Labels{}, pending: map[record.SpanID]impact{}}
	a.initStats()
	remember(a)
	return a
}

// Add counts r and returns its point. Spans must be added in the order
// they ended (the order exporters receive them), so that children come
// before their parents.
func (a *Aggregator) Add(r *record.Record) Point {
	p := Point{Seconds: r.Duration().Seconds()}
	if p.Seconds < 0 {
		p.Seconds = 0
	}
	p.InputTokens, _ = ownInt(r, attrInputTokens)
	p.OutputTokens, _ = ownInt(r, attrOutputTokens)
	l := Labels{SpanName: r.Name, SpanType: r.Type.String(), Status: r.Status.String(), Model: model(r)}

	a.mu.Lock()
	defer a.mu.Unlock()
	p.Labels = a.admit(l)
	own := a.ownImpact(r)
	p.EnergyJ, p.CO2eG, p.WaterL = own.j, own.g, own.l
	a.observe(r, &p)
	return p
}

// admit returns the stored copy of l, admitting it while there is room, or
// Overflow.
func (a *Aggregator) admit(l Labels) Labels {
	if s, ok := a.series[l]; ok {
		return s
	}
	if len(a.series) >= a.cfg.MaxSeries {
		a.overflowed++
		return Overflow
	}
	// Own copies, for the key too: record strings may share memory the
	// pipeline recycles. Type and status names are constants.
	key := Labels{SpanName: strings.Clone(l.SpanName), SpanType: l.SpanType, Status: l.Status, Model: strings.Clone(l.Model)}
	s := Labels{SpanName: cleanLabel(key.SpanName), SpanType: l.SpanType, Status: l.Status, Model: cleanLabel(key.Model)}
	a.series[key] = s
	return s
}

// ownImpact returns r's impact minus that of its children that ended
// before it, and remembers r's impact for its parent.
func (a *Aggregator) ownImpact(r *record.Record) impact {
	all := impact{j: joules(&r.Impact), g: r.Impact.CO2eG, l: r.Impact.WaterL}
	own := all
	for _, m := range []map[record.SpanID]impact{a.pending, a.older} {
		if c, ok := m[r.SpanID]; ok {
			delete(m, r.SpanID)
			own.j, own.g, own.l = own.j-c.j, own.g-c.g, own.l-c.l
		}
	}
	// Rounding (and energy booked on a parent after its child ended) can
	// leave a hair below zero.
	own.j, own.g, own.l = max(own.j, 0), max(own.g, 0), max(own.l, 0)
	if !r.IsLocalRoot() && !all.isZero() {
		if len(a.pending) >= maxPendingParents/2 {
			a.older, a.pending = a.pending, make(map[record.SpanID]impact, len(a.pending))
		}
		if c, ok := a.older[r.ParentSpanID]; ok {
			delete(a.older, r.ParentSpanID)
			all.j, all.g, all.l = all.j+c.j, all.g+c.g, all.l+c.l
		}
		c := a.pending[r.ParentSpanID]
		a.pending[r.ParentSpanID] = impact{c.j + all.j, c.g + all.g, c.l + all.l}
	}
	return own
}

// joules is the span's energy in joules: the sum over sources, or
// EnergyKWh when no source is broken out.
func joules(im *record.Impact) float64 {
	j := 0.0
	for _, x := range im.Joules {
		j += x
	}
	if j == 0 {
		j = im.EnergyKWh * 3.6e6
	}
	return j
}

// model returns the span's model: gen_ai.request.model, else
// gen_ai.response.model (own or inherited), else "".
func model(r *record.Record) string {
	for _, k := range []string{attrRequestModel, attrResponseModel} {
		if v, ok := r.Lookup(k); ok && v.Kind() == record.ValueString && v.Str() != "" {
			return v.Str()
		}
	}
	return ""
}

// ownInt returns the span's own integer attribute key (last one wins);
// token counts are never inherited.
func ownInt(r *record.Record, key string) (int64, bool) {
	for i := len(r.Attrs) - 1; i >= 0; i-- {
		if r.Attrs[i].Key != key {
			continue
		}
		switch v := r.Attrs[i].Value; v.Kind() {
		case record.ValueInt64:
			return max(v.Int64(), 0), true
		case record.ValueFloat64:
			return max(int64(v.Float64()), 0), true
		}
		return 0, false
	}
	return 0, false
}

// Default addresses of the metrics exporters.
const (
	DefaultPrometheusAddr = "127.0.0.1:9464" // the OpenTelemetry Prometheus exporter's port, loopback only
	DefaultDogStatsDAddr  = "127.0.0.1:8125"
)

// PrometheusAddrFromEnv returns the address the prometheus exporter serves
// /metrics on: TRACEGEN_PROMETHEUS_ADDR, "off" for none, or
// DefaultPrometheusAddr.
func PrometheusAddrFromEnv() string {
	if v := strings.TrimSpace(export.Getenv("TRACEGEN_PROMETHEUS_ADDR")); v != "" {
		return v
	}
	return DefaultPrometheusAddr
}

// DogStatsDAddrFromEnv returns the address the dogstatsd exporter sends
// to, resolved as the Datadog client does: DD_DOGSTATSD_URL (udp:// removed,
// unix:// kept), else DD_AGENT_HOST with DD_DOGSTATSD_PORT (default 8125),
// else 127.0.0.1 with that port.
func DogStatsDAddrFromEnv() string {
	port := strings.TrimSpace(export.Getenv("DD_DOGSTATSD_PORT"))
	if u := strings.TrimSpace(export.Getenv("DD_DOGSTATSD_URL")); u != "" {
		return strings.TrimPrefix(u, "udp://")
	}
	if port == "" {
		port = "8125"
	}
	host := strings.TrimSpace(export.Getenv("DD_AGENT_HOST"))
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
