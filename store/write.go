package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// flushSpans is how many spans the writer holds before it writes them
// (grouped by trace, so a trace is written once per flush, not per span).
const flushSpans = 1 << 17

// writer is one ingest: one transaction, spans grouped by trace in memory
// until flushSpans are pending, posting lists kept until commit.
type writer struct {
	s        *Store
	ctx      context.Context
	tx       *sql.Tx
	res      Result
	pending  map[record.TraceID]*pendingTrace
	order    []record.TraceID // pending traces in the order first seen
	nPending int
	postings map[string][]int64 // key -> trace row ids gained in this ingest
	formats  map[*report.Input]*[2]int
	done     bool
}

// pendingTrace is the new spans of one trace and their posting keys.
type pendingTrace struct {
	rows []spanRow
	keys []string
}

func (s *Store) newWriter(ctx context.Context) (*writer, error) {
	s.wmu.Lock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.wmu.Unlock()
		return nil, fmt.Errorf("store: %v", err)
	}
	return &writer{s: s, ctx: ctx, tx: tx, pending: map[record.TraceID]*pendingTrace{},
		postings: map[string][]int64{}, formats: map[*report.Input]*[2]int{}}, nil
}

func (w *writer) rollback() {
	if !w.done {
		w.done = true
		w.tx.Rollback()
		w.s.wmu.Unlock()
	}
}

// add takes a decoded batch of input in.
func (w *writer) add(in *report.Input, b *batch) error {
	if w.done {
		return errClosed
	}
	in.Spans += len(b.rows)
	in.Problems += len(b.probs)
	f := w.formats[in]
	if f == nil {
		f = &[2]int{}
		w.formats[in] = f
	}
	f[0] += b.jsonl
	f[1] += b.otlp
	switch {
	case f[0] > 0 && f[1] > 0:
		in.Format = "jsonl+otlp-json"
	case f[1] > 0 && in.Format != "otlp":
		in.Format = "otlp-json"
	case f[0] > 0:
		in.Format = "jsonl"
	}
	w.res.Problems = append(w.res.Problems, b.probs...)
	w.res.Read += len(b.rows)
	for i := range b.rows {
		r := &b.rows[i]
		p := w.pending[r.info.Trace]
		if p == nil {
			p = &pendingTrace{}
			w.pending[r.info.Trace] = p
			w.order = append(w.order, r.info.Trace)
		}
		p.rows = append(p.rows, *r)
		p.keys = append(p.keys, r.keys...)
	}
	w.nPending += len(b.rows)
	if w.nPending >= flushSpans {
		return w.flush()
	}
	return nil
}

// storedTrace is what the store holds of a trace that gains spans.
type storedTrace struct {
	id           int64
	meta, packed []byte
	body         []byte
}

// flush writes the pending traces.
func (w *writer) flush() error {
	if len(w.order) == 0 {
		return nil
	}
	old, err := w.lookup(w.order)
	if err != nil {
		return err
	}
	ins, err := w.tx.PrepareContext(w.ctx, `INSERT INTO traces (trace_id, start, end, root, spans, errors, llm_calls,
		input_tokens, output_tokens, energy_kwh, co2e_g, water_l, models, session)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	defer ins.Close()
	insSpans, err := w.tx.PrepareContext(w.ctx, `INSERT OR REPLACE INTO trace_spans (id, meta, packed) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	defer insSpans.Close()
	insBody, err := w.tx.PrepareContext(w.ctx, `INSERT OR REPLACE INTO trace_bodies (id, body) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	defer insBody.Close()
	var meta, packed, body, stored []byte
	for _, tid := range w.order {
		p := w.pending[tid]
		st := old[tid]
		var prior []spanRow
		if st != nil {
			if prior, err = storedRows(st); err != nil {
				return fmt.Errorf("store: trace %s: %v", tid, err)
			}
		}
		fresh := dedupe(prior, p.rows)
		w.res.Duplicates += len(p.rows) - len(fresh)
		if len(fresh) == 0 {
			continue
		}
		w.res.Added += len(fresh)
		w.res.Traces++
		meta, packed, body = meta[:0], packed[:0], body[:0]
		if st != nil {
			meta, packed, body = append(meta, st.meta...), append(packed, st.packed...), append(body, st.body...)
		}
		for i := range fresh {
			r := &fresh[i]
			meta = append(meta, r.id[:]...)
			meta = append(meta, r.parent[:]...)
			meta = binary.LittleEndian.AppendUint64(meta, uint64(r.start))
			packed = append(packed, r.packed...)
			body = append(append(body, r.line...), '\n')
		}
		sum := summarize(append(prior, fresh...))
		args := []any{sum.start, sum.end, sum.root, sum.spans, sum.errors, sum.llm, sum.inTok, sum.outTok,
			sum.kwh, sum.co2e, sum.water, sum.models, sum.session}
		id := int64(0)
		if st == nil {
			r, err := ins.ExecContext(w.ctx, append([]any{tid[:]}, args...)...)
			if err != nil {
				return fmt.Errorf("store: insert trace %s: %v", tid, err)
			}
			id, _ = r.LastInsertId()
		} else {
			id = st.id
			_, err := w.tx.ExecContext(w.ctx, `UPDATE traces SET start = ?, end = ?, root = ?, spans = ?, errors = ?,
				llm_calls = ?, input_tokens = ?, output_tokens = ?, energy_kwh = ?, co2e_g = ?, water_l = ?, models = ?,
				session = ? WHERE id = ?`, append(args, id)...)
			if err != nil {
				return fmt.Errorf("store: update trace %s: %v", tid, err)
			}
		}
		if _, err := insSpans.ExecContext(w.ctx, id, meta, packed); err != nil {
			return fmt.Errorf("store: trace %s: %v", tid, err)
		}
		stored = packBody(stored[:0], body)
		if _, err := insBody.ExecContext(w.ctx, id, stored); err != nil {
			return fmt.Errorf("store: trace %s: %v", tid, err)
		}
		for _, k := range p.keys {
			w.postings[k] = append(w.postings[k], id)
		}
	}
	clear(w.pending)
	w.order, w.nPending = w.order[:0], 0
	return nil
}

// lookup returns the stored traces among ids.
func (w *writer) lookup(ids []record.TraceID) (map[record.TraceID]*storedTrace, error) {
	out := map[record.TraceID]*storedTrace{}
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i][:]
		}
		q := `SELECT t.id, t.trace_id, s.meta, s.packed, b.body FROM traces t JOIN trace_spans s ON s.id = t.id
			JOIN trace_bodies b ON b.id = t.id WHERE t.trace_id IN (?` + strings.Repeat(",?", n-1) + `)`
		rows, err := w.tx.QueryContext(w.ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		for rows.Next() {
			st := &storedTrace{}
			var tid []byte
			var stored []byte
			if err := rows.Scan(&st.id, &tid, &st.meta, &st.packed, &stored); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: %v", err)
			}
			if st.body, err = unpackBody(stored); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: trace %x: %v", tid, err)
			}
			out[record.TraceID(tid)] = st
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
		ids = ids[n:]
	}
	return out, nil
}

// storedRows rebuilds the rows of a stored trace from its meta and packed
// columns (without lines and keys, which a summary does not need).
func storedRows(st *storedTrace) ([]spanRow, error) {
	sp := report.NewSpans()
	if err := sp.AddPacked(st.packed); err != nil {
		return nil, err
	}
	if sp.Len()*24 != len(st.meta) {
		return nil, fmt.Errorf("%d packed spans, %d bytes of span metadata", sp.Len(), len(st.meta))
	}
	rows := make([]spanRow, sp.Len())
	for i := range rows {
		m := st.meta[24*i:]
		rows[i] = spanRow{info: sp.Info(i), start: int64(binary.LittleEndian.Uint64(m[16:]))}
		copy(rows[i].id[:], m)
		copy(rows[i].parent[:], m[8:])
	}
	return rows, nil
}

// dedupe returns the rows of fresh whose span id is neither in prior nor
// earlier in fresh.
func dedupe(prior, fresh []spanRow) []spanRow {
	seen := make(map[record.SpanID]struct{}, len(prior)+len(fresh))
	for i := range prior {
		seen[prior[i].id] = struct{}{}
	}
	out := fresh[:0:0]
	for i := range fresh {
		if _, ok := seen[fresh[i].id]; ok {
			continue
		}
		seen[fresh[i].id] = struct{}{}
		out = append(out, fresh[i])
	}
	return out
}

// traceSummary is the list columns of a trace.
type traceSummary struct {
	start, end         int64
	root               string
	spans, errors, llm int64
	inTok, outTok      int64
	kwh, co2e, water   float64
	models, session    string
}

// summarize computes a trace's list columns from all its spans. Energy,
// CO2e and water are summed over its root spans (those whose parent is not
// in the trace), as in a report.
func summarize(rows []spanRow) traceSummary {
	ids := make(map[record.SpanID]struct{}, len(rows))
	for i := range rows {
		ids[rows[i].id] = struct{}{}
	}
	var s traceSummary
	s.start = rows[0].start
	rootStart := int64(0)
	models := map[string]struct{}{}
	sessionStart := int64(0)
	for i := range rows {
		r := &rows[i]
		in := &r.info
		s.start = min(s.start, r.start)
		s.end = max(s.end, r.start+int64(in.Duration))
		s.spans++
		if in.Error {
			s.errors++
		}
		if in.LLM {
			s.llm++
		}
		s.inTok += in.InputTokens
		s.outTok += in.OutputTokens
		if in.Model != "" {
			models[in.Model] = struct{}{}
		}
		if in.Session != "" && (s.session == "" || r.start < sessionStart) {
			s.session, sessionStart = in.Session, r.start
		}
		if _, ok := ids[r.parent]; ok && r.parent.IsValid() {
			continue
		}
		s.kwh += in.EnergyKWh
		s.co2e += in.CO2eG
		s.water += in.WaterL
		if s.root == "" || r.start < rootStart {
			s.root, rootStart = in.Name, r.start
		}
	}
	if s.root == "" { // a cycle of parents: no root
		s.root = rows[0].info.Name
	}
	names := make([]string, 0, len(models))
	for m := range models {
		names = append(names, m)
	}
	sort.Strings(names)
	s.models = strings.Join(names, ",")
	return s
}

// commit writes what is pending and the posting lists, and commits.
func (w *writer) commit() (*Result, error) {
	if w.done {
		return nil, errClosed
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	if err := w.writePostings(); err != nil {
		return nil, err
	}
	if w.res.Added > 0 {
		if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO meta (key, value) VALUES ('generation', '1')
			ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`); err != nil {
			return nil, fmt.Errorf("store: %v", err)
		}
	}
	w.done = true
	defer w.s.wmu.Unlock()
	if err := w.tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %v", err)
	}
	return &w.res, nil
}

// writePostings merges the ids gained in this ingest into the stored
// posting lists.
func (w *writer) writePostings() error {
	keys := make([]string, 0, len(w.postings))
	for k := range w.postings {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	get, err := w.tx.PrepareContext(w.ctx, `SELECT traces FROM postings WHERE key = ?`)
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	defer get.Close()
	put, err := w.tx.PrepareContext(w.ctx, `INSERT OR REPLACE INTO postings (key, traces) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("store: %v", err)
	}
	defer put.Close()
	var ids []int64
	var buf []byte
	for _, k := range keys {
		var blob []byte
		err := get.QueryRowContext(w.ctx, k).Scan(&blob)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("store: posting %q: %v", k, err)
		}
		if ids, err = decodePostings(blob, ids[:0]); err != nil {
			return fmt.Errorf("store: posting %q: %v", k, err)
		}
		merged := mergeSorted(ids, sortedDistinct(w.postings[k]))
		buf = encodePostings(buf[:0], merged)
		if _, err := put.ExecContext(w.ctx, k, buf); err != nil {
			return fmt.Errorf("store: posting %q: %v", k, err)
		}
		ids = merged[:0]
	}
	return nil
}
