package metrics

import (
	"strings"
	"unicode/utf8"
)

// Kind is how a metric accumulates.
type Kind uint8

// Metric kinds.
const (
	Counter   Kind = iota // a sum that only grows
	Histogram             // a distribution of per-span values
)

// Metric describes one of the published metrics.
type Metric struct {
	// Name is the Prometheus name, e.g. "tracegen_energy_joules_total".
	Name string
	// StatsD is the DogStatsD name, e.g. "tracegen.energy.joules".
	StatsD string
	Kind   Kind
	Unit   string // of the values: "spans", "seconds", "joules", ...
	Help   string
}

// The metrics, in the order of [All].
var (
	Spans = Metric{"tracegen_spans_total", "tracegen.spans", Counter, "spans",
		"Spans ended, by span name, type, status and LLM model."}
	Duration = Metric{"tracegen_span_duration_seconds", "tracegen.span.duration.seconds", Histogram, "seconds",
		"Span duration in seconds."}
	Energy = Metric{"tracegen_energy_joules_total", "tracegen.energy.joules", Counter, "joules",
		"Energy of the work done in spans, without that of their children, in joules."}
	CO2e = Metric{"tracegen_co2e_grams_total", "tracegen.co2e.grams", Counter, "grams",
		"CO2e of the work done in spans, without that of their children, in grams."}
	Water = Metric{"tracegen_water_litres_total", "tracegen.water.litres", Counter, "litres",
		"Water of the work done in spans, without that of their children, in litres."}
	Tokens = Metric{"tracegen_llm_tokens_total", "tracegen.llm.tokens", Counter, "tokens",
		"LLM tokens, by direction (input or output)."}
)

// All lists the metrics every metrics exporter publishes.
var All = []Metric{Spans, Duration, Energy, CO2e, Water, Tokens}

// Label names. Tokens also carry LabelDirection.
const (
	LabelSpanName  = "span_name"
	LabelSpanType  = "span_type"
	LabelStatus    = "status"
	LabelModel     = "model"
	LabelDirection = "direction" // "input" or "output"
)

// LabelNames are the labels of every metric, in the order of [Labels.Values].
var LabelNames = []string{LabelSpanName, LabelSpanType, LabelStatus, LabelModel}

// Labels identify a series. SpanType is "" for untyped spans and Model is
// "" for spans without a gen_ai model: Prometheus shows such a label as
// absent, DogStatsD leaves the tag out.
type Labels struct {
	SpanName string
	SpanType string // "llm", "tool", "agent", "chain", "task" or ""
	Status   string // "unset", "ok" or "error"
	Model    string // gen_ai.request.model, else gen_ai.response.model
}

// Values returns the label values in the order of [LabelNames].
func (l Labels) Values() []string {
	return []string{l.SpanName, l.SpanType, l.Status, l.Model}
}

// OverflowValue is the value of every label of the overflow series.
const OverflowValue = "other"

// Overflow is the series that label sets beyond the cap are counted in.
var Overflow = Labels{OverflowValue, OverflowValue, OverflowValue, OverflowValue}

// DefaultMaxSeries is the default cap on distinct label sets.
const DefaultMaxSeries = 1000

// MaxLabelLen is the longest label value kept, in bytes; longer values are
// cut (at a rune boundary).
const MaxLabelLen = 128

// cleanLabel cuts s to MaxLabelLen bytes and makes it valid UTF-8, which
// Prometheus requires of label values.
func cleanLabel(s string) string {
	if len(s) > MaxLabelLen {
		cut := MaxLabelLen
		for i := cut; i > cut-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				cut = i // a rune starts here: cutting keeps whole runes
				break
			}
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
