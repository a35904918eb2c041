// Package metricstest computes, from a list of finished spans, the values
// that the metrics exporters must publish, without package metrics'
// Aggregator: tests of an exporter compare what a real back end received
// with what the spans themselves say. It applies no series cap.
package metricstest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Span is what the metrics need of a finished span.
type Span struct {
	SpanID, ParentSpanID string // hex; ParentSpanID "" for a root
	Labels               metrics.Labels
	Seconds              float64
	// EnergyJ, CO2eG and WaterL are the record's, children included.
	EnergyJ, CO2eG, WaterL    float64
	InputTokens, OutputTokens int64
}

// FromRecord returns the Span of r.
func FromRecord(r *record.Record) Span {
	s := Span{
		SpanID: r.SpanID.String(), ParentSpanID: r.ParentSpanID.String(),
		Labels:  metrics.Labels{SpanName: r.Name, SpanType: r.Type.String(), Status: r.Status.String()},
		Seconds: r.Duration().Seconds(),
		CO2eG:   r.Impact.CO2eG, WaterL: r.Impact.WaterL,
	}
	if r.RemoteParent {
		s.ParentSpanID = ""
	}
	for _, j := range r.Impact.Joules {
		s.EnergyJ += j
	}
	if s.EnergyJ == 0 {
		s.EnergyJ = r.Impact.EnergyKWh * 3.6e6
	}
	for _, k := range []string{"gen_ai.request.model", "gen_ai.response.model"} {
		if v, ok := r.Lookup(k); ok && s.Labels.Model == "" {
			s.Labels.Model = v.Str()
		}
	}
	for _, a := range r.Attrs {
		switch a.Key {
		case "gen_ai.usage.input_tokens":
			s.InputTokens = a.Value.Int64()
		case "gen_ai.usage.output_tokens":
			s.OutputTokens = a.Value.Int64()
		}
	}
	return s
}

// jsonlSpan is the part of a JSONL line that Span needs.
type jsonlSpan struct {
	SpanID     string         `json:"span_id"`
	Parent     string         `json:"parent_span_id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Status     string         `json:"status"`
	Start      time.Time      `json:"start_time"`
	End        time.Time      `json:"end_time"`
	Attributes map[string]any `json:"attributes"`
	Impact     struct {
		EnergyKWh float64            `json:"energy_kwh"`
		CO2eG     float64            `json:"co2e_g"`
		WaterL    float64            `json:"water_l"`
		EnergyJ   map[string]float64 `json:"energy_j"`
	} `json:"impact"`
}

// ReadJSONL reads the spans of a file the jsonl exporter wrote, in file
// order.
func ReadJSONL(r io.Reader) ([]Span, error) {
	var out []Span
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		var j jsonlSpan
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		s := Span{
			SpanID: j.SpanID, ParentSpanID: j.Parent,
			Labels:  metrics.Labels{SpanName: j.Name, SpanType: j.Type, Status: j.Status},
			Seconds: j.End.Sub(j.Start).Seconds(),
			CO2eG:   j.Impact.CO2eG, WaterL: j.Impact.WaterL,
		}
		for _, v := range j.Impact.EnergyJ {
			s.EnergyJ += v
		}
		if s.EnergyJ == 0 {
			s.EnergyJ = j.Impact.EnergyKWh * 3.6e6
		}
		for _, k := range []string{"gen_ai.request.model", "gen_ai.response.model"} {
			if m, ok := j.Attributes[k].(string); ok && s.Labels.Model == "" {
				s.Labels.Model = m
			}
		}
		if n, ok := j.Attributes["gen_ai.usage.input_tokens"].(float64); ok {
			s.InputTokens = int64(n)
		}
		if n, ok := j.Attributes["gen_ai.usage.output_tokens"].(float64); ok {
			s.OutputTokens = int64(n)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// Values are the expected values of one series.
type Values struct {
	Spans                     uint64
	DurationSum               float64
	Durations                 []float64 // each span's, in order
	EnergyJ, CO2eG, WaterL    float64   // sums of the spans' own impact
	InputTokens, OutputTokens int64
	HasTokens                 bool // some span had tokens (a token series exists)
}

// Want returns the expected values per label set of spans, which are in
// the order they ended. A span's own impact is its record's minus that of
// its children listed before it.
func Want(spans []Span) map[metrics.Labels]*Values {
	out := map[metrics.Labels]*Values{}
	for i, s := range spans {
		j, g, l := s.EnergyJ, s.CO2eG, s.WaterL
		for _, c := range spans[:i] {
			if c.ParentSpanID == s.SpanID {
				j, g, l = j-c.EnergyJ, g-c.CO2eG, l-c.WaterL
			}
		}
		v := out[s.Labels]
		if v == nil {
			v = &Values{}
			out[s.Labels] = v
		}
		v.Spans++
		v.DurationSum += s.Seconds
		v.Durations = append(v.Durations, s.Seconds)
		v.EnergyJ += max(j, 0)
		v.CO2eG += max(g, 0)
		v.WaterL += max(l, 0)
		v.InputTokens += s.InputTokens
		v.OutputTokens += s.OutputTokens
		v.HasTokens = v.HasTokens || s.InputTokens > 0 || s.OutputTokens > 0
	}
	return out
}
