package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tracegen-dev/tracegen/report"
)

// Impact is energy, CO2e and water.
type Impact struct {
	EnergyKWh float64 `json:"energy_kwh"`
	CO2eG     float64 `json:"co2e_g"`
	WaterL    float64 `json:"water_l"`
}

// Span is one span of a trace, as a waterfall shows it.
type Span struct {
	SpanID        string          `json:"span_id"`
	ParentSpanID  string          `json:"parent_span_id"`
	Depth         int             `json:"depth"` // 0 for a root; a child is one deeper than its parent
	Name          string          `json:"name"`
	Kind          string          `json:"kind"`
	Type          string          `json:"type"`
	Status        string          `json:"status"`
	StatusMessage string          `json:"status_message,omitempty"`
	Start         time.Time       `json:"start"`
	OffsetMS      float64         `json:"offset_ms"` // from the trace's start
	DurationMS    float64         `json:"duration_ms"`
	Model         string          `json:"model,omitempty"`
	InputTokens   int64           `json:"input_tokens"`
	OutputTokens  int64           `json:"output_tokens"`
	Impact        Impact          `json:"impact"` // the span's, its children's included
	Self          Impact          `json:"self"`   // the span's minus its children's: what it cost itself
	EnergySource  string          `json:"energy_source,omitempty"`
	Estimate      *Estimate       `json:"estimate,omitempty"` // LLM footprint estimate
	Expensive     bool            `json:"expensive"`          // the span that cost the most itself
	Attributes    json.RawMessage `json:"attributes"`
	Resource      json.RawMessage `json:"resource"`
	Events        json.RawMessage `json:"events"`
	Tags          []string        `json:"tags,omitempty"`
	Input         json.RawMessage `json:"input,omitempty"`
	Output        json.RawMessage `json:"output,omitempty"`
}

// Estimate is how an LLM call's footprint was estimated (the
// tracegen.footprint.* attributes).
type Estimate struct {
	Method string `json:"method"`
	Model  string `json:"model,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Trace is one trace with its spans in waterfall order: depth first, the
// children of a span by start time.
type Trace struct {
	Summary TraceSummary `json:"summary"`
	Spans   []Span       `json:"spans"`
	// Max holds the largest Self impact and tokens among the spans, the
	// scale of the waterfall's bars.
	Max struct {
		Impact
		Tokens int64 `json:"tokens"`
	} `json:"max"`
	// Expensive is the span id of the span that cost the most itself (by
	// energy, else tokens), "" when no span has either.
	Expensive string `json:"expensive"`
}

// ErrNotFound is returned for a trace the store does not hold.
var ErrNotFound = errors.New("no such trace")

// ErrBadID is returned for a trace id that is not 32 hex digits.
var ErrBadID = errors.New("want 32 hex digits")

// lineJSON is what Trace reads of a JSONL span beyond report's Info.
type lineJSON struct {
	Kind          string          `json:"kind"`
	Type          string          `json:"type"`
	Status        string          `json:"status"`
	StatusMessage string          `json:"status_message"`
	StartTime     time.Time       `json:"start_time"`
	Attributes    json.RawMessage `json:"attributes"`
	Resource      json.RawMessage `json:"resource"`
	Events        json.RawMessage `json:"events"`
	Tags          []string        `json:"tags"`
	Input         json.RawMessage `json:"input"`
	Output        json.RawMessage `json:"output"`
	Impact        struct {
		Source string `json:"energy_source"`
	} `json:"impact"`
}

// Trace returns one trace by its id (32 hex digits).
func (s *Store) Trace(ctx context.Context, id string) (*Trace, error) {
	tid, err := hex.DecodeString(id)
	if err != nil || len(tid) != 16 {
		return nil, fmt.Errorf("trace id %q: %w", id, ErrBadID)
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+summaryColumns+`, b.body FROM traces JOIN trace_bodies b ON b.id = traces.id
		WHERE trace_id = ?`, tid)
	var body []byte
	sum, err := scanSummary(scanFunc(func(dst ...any) error { return row.Scan(append(dst, &body)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("trace %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	t := &Trace{Summary: sum}
	if body, err = unpackBody(body); err != nil {
		return nil, fmt.Errorf("trace %s: %v", id, err)
	}
	if t.Spans, err = decodeBody(body, sum.Start); err != nil {
		return nil, fmt.Errorf("trace %s: %v", id, err)
	}
	order(t)
	return t, nil
}

// decodeBody decodes a trace's JSONL lines.
func decodeBody(body []byte, start time.Time) ([]Span, error) {
	rs := report.NewSpans()
	var spans []Span
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if err := rs.DecodeLine(line, nil); err != nil {
			return nil, err
		}
		in := rs.Info(rs.Len() - 1)
		var l lineJSON
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, err
		}
		sp := Span{
			SpanID: in.ID.String(), ParentSpanID: in.Parent.String(), Name: in.Name,
			Kind: l.Kind, Type: l.Type, Status: l.Status, StatusMessage: l.StatusMessage,
			Start: l.StartTime.UTC(), OffsetMS: float64(l.StartTime.Sub(start)) / 1e6, DurationMS: float64(in.Duration) / 1e6,
			Model: in.Model, InputTokens: in.InputTokens, OutputTokens: in.OutputTokens,
			Impact:       Impact{in.EnergyKWh, in.CO2eG, in.WaterL},
			EnergySource: l.Impact.Source,
			Attributes:   orEmpty(l.Attributes, "{}"), Resource: orEmpty(l.Resource, "{}"), Events: orEmpty(l.Events, "[]"),
			Tags: l.Tags, Input: l.Input, Output: l.Output,
		}
		sp.Estimate = estimate(l.Attributes)
		spans = append(spans, sp)
	}
	return spans, nil
}

func orEmpty(raw json.RawMessage, empty string) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(empty)
	}
	return raw
}

// estimate reads the tracegen.footprint.* attributes.
func estimate(attrs json.RawMessage) *Estimate {
	var a struct {
		Method string `json:"tracegen.footprint.method"`
		Model  string `json:"tracegen.footprint.model"`
		Note   string `json:"tracegen.footprint.note"`
	}
	if json.Unmarshal(attrs, &a) != nil || a.Method == "" {
		return nil
	}
	return &Estimate{a.Method, a.Model, a.Note}
}

// order puts t's spans in waterfall order, sets their depth and self
// impact, and marks the most expensive.
func order(t *Trace) {
	byID := map[string]int{}
	for i := range t.Spans {
		byID[t.Spans[i].SpanID] = i
	}
	children := map[string][]int{}
	var roots []int
	for i := range t.Spans {
		p := t.Spans[i].ParentSpanID
		if _, ok := byID[p]; ok && p != "" && p != t.Spans[i].SpanID {
			children[p] = append(children[p], i)
		} else {
			roots = append(roots, i)
		}
	}
	byStart := func(a, b int) int { return t.Spans[a].Start.Compare(t.Spans[b].Start) }
	slices.SortStableFunc(roots, byStart)
	out := make([]Span, 0, len(t.Spans))
	visited := make([]bool, len(t.Spans))
	var walk func(i, depth int)
	walk = func(i, depth int) {
		if visited[i] {
			return
		}
		visited[i] = true
		sp := t.Spans[i]
		sp.Depth = depth
		sp.Self = sp.Impact
		kids := children[sp.SpanID]
		slices.SortStableFunc(kids, byStart)
		for _, k := range kids {
			c := &t.Spans[k].Impact
			sp.Self.EnergyKWh -= c.EnergyKWh
			sp.Self.CO2eG -= c.CO2eG
			sp.Self.WaterL -= c.WaterL
		}
		sp.Self = Impact{max(sp.Self.EnergyKWh, 0), max(sp.Self.CO2eG, 0), max(sp.Self.WaterL, 0)}
		out = append(out, sp)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	for i := range t.Spans { // spans in a parent cycle
		walk(i, 0)
	}
	t.Spans = out
	best, bestE, bestTok := -1, 0.0, int64(0)
	for i := range out {
		sp := &out[i]
		tok := sp.InputTokens + sp.OutputTokens
		t.Max.EnergyKWh = max(t.Max.EnergyKWh, sp.Self.EnergyKWh)
		t.Max.CO2eG = max(t.Max.CO2eG, sp.Self.CO2eG)
		t.Max.WaterL = max(t.Max.WaterL, sp.Self.WaterL)
		t.Max.Tokens = max(t.Max.Tokens, tok)
		if sp.Self.EnergyKWh > bestE || (bestE == 0 && sp.Self.EnergyKWh == 0 && tok > bestTok) {
			best, bestE, bestTok = i, sp.Self.EnergyKWh, tok
		}
	}
	if best >= 0 {
		out[best].Expensive = true
		t.Expensive = out[best].SpanID
	}
}
