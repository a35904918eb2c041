package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/report"
)

// TraceSummary is one trace in a list. Energy, CO2e and water are summed
// over the trace's root spans (a span includes its children's).
type TraceSummary struct {
	TraceID      string    `json:"trace_id"`
	Root         string    `json:"root"`
	Start        time.Time `json:"start"`
	DurationMS   float64   `json:"duration_ms"`
	Spans        int64     `json:"spans"`
	Errors       int64     `json:"errors"`
	LLMCalls     int64     `json:"llm_calls"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
	EnergyKWh    float64   `json:"energy_kwh"`
	CO2eG        float64   `json:"co2e_g"`
	WaterL       float64   `json:"water_l"`
	Models       []string  `json:"models"`
	Session      string    `json:"session,omitempty"`
}

// Query selects and pages traces: the newest first.
type Query struct {
	Filters []Filter // every filter must match (each by some span of the trace)
	Limit   int      // at most this many traces (0: DefaultLimit)
	Offset  int      // skip this many
}

// DefaultLimit is the page size of a Query with no Limit.
const DefaultLimit = 50

// TraceList is a page of traces and how many match in all.
type TraceList struct {
	Total  int64          `json:"total"`
	Offset int            `json:"offset"`
	Traces []TraceSummary `json:"traces"`
}

const summaryColumns = `trace_id, root, start, end, spans, errors, llm_calls, input_tokens, output_tokens,
	energy_kwh, co2e_g, water_l, models, session`

func scanSummary(sc interface{ Scan(...any) error }) (TraceSummary, error) {
	var t TraceSummary
	var tid []byte
	var start, end int64
	var models string
	err := sc.Scan(&tid, &t.Root, &start, &end, &t.Spans, &t.Errors, &t.LLMCalls, &t.InputTokens, &t.OutputTokens,
		&t.EnergyKWh, &t.CO2eG, &t.WaterL, &models, &t.Session)
	t.TraceID = hex.EncodeToString(tid)
	t.Start = time.Unix(0, start).UTC()
	t.DurationMS = float64(end-start) / 1e6
	t.Models = []string{}
	if models != "" {
		t.Models = strings.Split(models, ",")
	}
	return t, err
}

// Traces lists the traces that match q, newest first.
func (s *Store) Traces(ctx context.Context, q Query) (*TraceList, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	out := &TraceList{Offset: q.Offset, Traces: []TraceSummary{}}
	if len(q.Filters) == 0 {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM traces`).Scan(&out.Total); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+summaryColumns+` FROM traces ORDER BY start DESC, id DESC LIMIT ? OFFSET ?`, q.Limit, q.Offset)
		if err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		return out, collectSummaries(rows, &out.Traces)
	}
	ids, err := s.match(ctx, q.Filters)
	if err != nil {
		return nil, err
	}
	out.Total = int64(len(ids))
	page, err := s.newest(ctx, ids, q.Offset, q.Limit)
	if err != nil {
		return nil, err
	}
	return out, s.summaries(ctx, page, &out.Traces)
}

// match returns the sorted row ids of the traces that every filter matches.
func (s *Store) match(ctx context.Context, filters []Filter) ([]int64, error) {
	var ids []int64
	for i, f := range filters {
		var got []int64
		if f.Kind == "trace" {
			tid, _ := hex.DecodeString(f.Value)
			var id int64
			switch err := s.db.QueryRowContext(ctx, `SELECT id FROM traces WHERE trace_id = ?`, tid).Scan(&id); {
			case err == nil:
				got = []int64{id}
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("store: %v", err)
			}
		} else {
			var blob []byte
			err := s.db.QueryRowContext(ctx, `SELECT traces FROM postings WHERE key = ?`, f.postingKey()).Scan(&blob)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("store: %v", err)
			}
			if got, err = decodePostings(blob, nil); err != nil {
				return nil, fmt.Errorf("store: filter %s: %v", f, err)
			}
		}
		if i == 0 {
			ids = got
		} else {
			ids = intersectSorted(ids, got)
		}
		if len(ids) == 0 {
			return nil, nil
		}
	}
	return ids, nil
}

// newest returns the row ids of page [offset, offset+limit) of ids ordered
// newest first. Few ids are sorted by their start; many are found by
// walking the start index until the page is full.
func (s *Store) newest(ctx context.Context, ids []int64, offset, limit int) ([]int64, error) {
	if offset >= len(ids) {
		return nil, nil
	}
	const few = 4096
	if len(ids) <= few {
		type idStart struct{ id, start int64 }
		all := make([]idStart, 0, len(ids))
		err := s.inChunks(ctx, `SELECT id, start FROM traces WHERE id IN `, ids, func(rows *sql.Rows) error {
			var x idStart
			err := rows.Scan(&x.id, &x.start)
			all = append(all, x)
			return err
		})
		if err != nil {
			return nil, err
		}
		slices.SortFunc(all, func(a, b idStart) int {
			if a.start != b.start {
				return -cmpInt(a.start, b.start)
			}
			return -cmpInt(a.id, b.id)
		})
		all = all[offset:min(len(all), offset+limit)]
		page := make([]int64, len(all))
		for i := range all {
			page[i] = all[i].id
		}
		return page, nil
	}
	want := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		want[id] = struct{}{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM traces ORDER BY start DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	defer rows.Close()
	var page []int64
	seen := 0
	for rows.Next() && len(page) < limit {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		if _, ok := want[id]; ok {
			if seen >= offset {
				page = append(page, id)
			}
			seen++
		}
	}
	return page, rows.Err()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// summaries reads the summaries of the traces with the given row ids, in
// that order.
func (s *Store) summaries(ctx context.Context, ids []int64, out *[]TraceSummary) error {
	byID := map[int64]TraceSummary{}
	err := s.inChunks(ctx, `SELECT id, `+summaryColumns+` FROM traces WHERE id IN `, ids, func(rows *sql.Rows) error {
		var id int64
		t, err := scanSummary(scanFunc(func(dst ...any) error { return rows.Scan(append([]any{&id}, dst...)...) }))
		byID[id] = t
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		*out = append(*out, byID[id])
	}
	return nil
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// inChunks runs query (ending with "IN ") for ids, 500 at a time.
func (s *Store) inChunks(ctx context.Context, query string, ids []int64, row func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(500, len(ids))
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i]
		}
		rows, err := s.db.QueryContext(ctx, query+`(?`+strings.Repeat(",?", n-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("store: %v", err)
		}
		for rows.Next() {
			if err := row(rows); err != nil {
				rows.Close()
				return fmt.Errorf("store: %v", err)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: %v", err)
		}
		ids = ids[n:]
	}
	return nil
}

func collectSummaries(rows *sql.Rows, out *[]TraceSummary) error {
	defer rows.Close()
	for rows.Next() {
		t, err := scanSummary(rows)
		if err != nil {
			return fmt.Errorf("store: %v", err)
		}
		*out = append(*out, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %v", err)
	}
	return nil
}

// Spans returns the spans of the traces that match filters (all spans when
// there are none) for a report, read from the packed column: no JSON.
func (s *Store) Spans(ctx context.Context, filters []Filter) (*report.Spans, error) {
	sp := report.NewSpans()
	add := func(rows *sql.Rows) error {
		var packed []byte
		if err := rows.Scan(&packed); err != nil {
			return err
		}
		return sp.AddPacked(packed)
	}
	if len(filters) == 0 {
		rows, err := s.db.QueryContext(ctx, `SELECT packed FROM trace_spans ORDER BY id`)
		if err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := add(rows); err != nil {
				return nil, fmt.Errorf("store: %v", err)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
	} else {
		ids, err := s.match(ctx, filters)
		if err != nil {
			return nil, err
		}
		if err := s.inChunks(ctx, `SELECT packed FROM trace_spans WHERE id IN `, ids, add); err != nil {
			return nil, err
		}
	}
	sp.Inputs = []report.Input{{File: s.path, Format: "store", Spans: sp.Len()}}
	return sp, nil
}

// ValueCount is a value of a filter and how many traces hold it.
type ValueCount struct {
	Value  string `json:"value"`
	Traces int64  `json:"traces"`
}

// Values returns the values the index holds for a filter kind (name,
// model, type, status, tag, has, or attr with key), at most limit, in order.
func (s *Store) Values(ctx context.Context, kind, key string, limit int) ([]ValueCount, error) {
	prefix := Filter{Kind: kind, Key: key}.postingKey()
	if kind == "has" {
		prefix = keyHas
	}
	if prefix == "" {
		return nil, fmt.Errorf("no values for filter kind %q", kind)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, traces FROM postings WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`,
		prefix, prefix+"\xff", limit)
	if err != nil {
		return nil, fmt.Errorf("store: %v", err)
	}
	defer rows.Close()
	out := []ValueCount{}
	for rows.Next() {
		var k string
		var blob []byte
		if err := rows.Scan(&k, &blob); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		n := int64(0)
		for _, c := range blob { // one uvarint per trace: count their last bytes
			if c < 0x80 {
				n++
			}
		}
		out = append(out, ValueCount{Value: k[len(prefix):], Traces: n})
	}
	return out, rows.Err()
}
