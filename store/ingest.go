package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Result is what an ingest did.
type Result struct {
	Inputs     []report.Input   // per input: its name, format, spans read, problems
	Problems   []report.Problem // unreadable inputs and lines that are not spans
	Read       int              // spans read
	Added      int              // spans stored
	Duplicates int              // spans read that were already stored (or read twice)
	Traces     int              // traces created or given new spans
}

// spanRow is one decoded span on its way into the store.
type spanRow struct {
	id, parent record.SpanID
	start      int64
	info       report.Info
	line       []byte   // the JSONL line, without its newline
	packed     []byte   // report.Spans.AppendPacked
	keys       []string // posting keys not already given by an earlier span of the trace in the same block
}

// batch is the decoded spans of one block of an input.
type batch struct {
	rows        []spanRow
	probs       []report.Problem
	jsonl, otlp int
}

// decoder turns lines into rows, reusing its buffers between lines.
type decoder struct {
	file  string
	spans *report.Spans
	extra report.Extra
	seen  map[string]struct{} // trace id + posting key, within the block
	key   []byte
	// The trace and resource of the previous span: the spans of a process
	// share one resource, whose keys need checking once per trace.
	lastTrace    record.TraceID
	lastResource []byte
	resBuf       []byte
	out          *batch
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, spans: report.NewSpans(), seen: map[string]struct{}{}, out: &batch{}}
}

// line decodes one line: a JSONL span, or an OTLP/JSON request of several.
func (d *decoder) line(l []byte, n int) {
	l = bytes.TrimSpace(l)
	if len(l) == 0 {
		return
	}
	if !report.IsOTLP(l) {
		d.out.jsonl++
		d.span(l, n)
		return
	}
	d.out.otlp++
	recs, err := report.OTLPRecords(l)
	if err != nil {
		d.problem(n, err)
		return
	}
	d.records(recs, n)
}

// records adds spans in the runtime's form, as JSONL lines.
func (d *decoder) records(recs []*record.Record, n int) {
	for _, r := range recs {
		d.span(r.AppendJSON(nil), n)
	}
}

func (d *decoder) problem(n int, err error) {
	d.out.probs = append(d.out.probs, report.Problem{File: d.file, Line: n, Message: err.Error()})
}

// span decodes one JSONL span and adds its row.
func (d *decoder) span(l []byte, n int) {
	i := d.spans.Len()
	if err := d.spans.DecodeLine(l, &d.extra); err != nil {
		d.problem(n, err)
		return
	}
	info := d.spans.Info(i)
	row := spanRow{id: info.ID, parent: info.Parent, start: d.extra.Start, info: info, line: l}
	row.packed = d.spans.AppendPacked(nil, i)
	x := &d.extra
	d.addKey(&row, keyName, info.Name, "")
	d.addKey(&row, keyStatus, x.Status, "")
	if x.Type != "" {
		d.addKey(&row, keyType, x.Type, "")
	}
	if info.Model != "" {
		d.addKey(&row, keyModel, info.Model, "")
	}
	for _, t := range x.Tags {
		d.addKey(&row, keyTag, t, "")
	}
	resource := x.Resource
	d.resBuf = d.resBuf[:0]
	for _, a := range x.Resource {
		d.resBuf = append(append(append(append(d.resBuf, a.Key...), 0), a.Value...), 0)
	}
	if info.Trace == d.lastTrace && bytes.Equal(d.resBuf, d.lastResource) {
		resource = nil // its keys are in seen already
	} else {
		d.lastTrace, d.lastResource = info.Trace, append(d.lastResource[:0], d.resBuf...)
	}
	for _, attrs := range [...][]report.RawAttr{x.Attrs, resource} {
		for _, a := range attrs {
			d.addKey(&row, keyHas, a.Key, "")
			if v, ok := indexText(a.Value); ok {
				d.addKey(&row, keyAttr, a.Key, v)
			}
		}
	}
	d.out.rows = append(d.out.rows, row)
}

// addKey adds a posting key to row unless an earlier span of its trace in
// this block had it.
func (d *decoder) addKey(row *spanRow, prefix, a, b string) {
	k := append(d.key[:0], row.info.Trace[:]...)
	k = append(k, prefix...)
	k = append(k, a...)
	if prefix == keyAttr {
		k = append(k, 0)
		k = append(k, b...)
	}
	d.key = k
	if _, ok := d.seen[string(k)]; ok {
		return
	}
	s := string(k)
	d.seen[s] = struct{}{}
	row.keys = append(row.keys, s[len(row.info.Trace):])
}

// indexText returns the text an attribute value is indexed and filtered
// by: a string's characters, a number's or a boolean's JSON text. Null,
// objects, arrays and values over maxIndexedValue bytes are not indexed.
func indexText(raw []byte) (string, bool) {
	if len(raw) == 0 || len(raw) > maxIndexedValue+2 {
		return "", false
	}
	switch c := raw[0]; {
	case c == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil || len(s) > maxIndexedValue {
			return "", false
		}
		return s, true
	case c == 't' || c == 'f' || c == '-' || (c >= '0' && c <= '9'):
		return string(raw), true
	}
	return "", false
}

// IngestFiles reads spans from the named inputs (files written by the
// jsonl or json exporter, OTLP/JSON files, or "-" for stdin) into the
// store, in one transaction. Problems with inputs and lines are in the
// result, as report.Read records them; the error is for the store itself.
func (s *Store) IngestFiles(ctx context.Context, names []string, stdin io.Reader) (*Result, error) {
	w, err := s.newWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer w.rollback()
	for _, name := range names {
		in := report.Input{File: name}
		r := stdin
		if name == report.StdinName {
			in.File = "stdin"
		} else {
			f, err := os.Open(name)
			if err != nil {
				msg := err.Error()
				if u := errors.Unwrap(err); u != nil {
					msg = u.Error()
				}
				w.res.Problems = append(w.res.Problems, report.Problem{File: name, Message: msg})
				w.res.Inputs = append(w.res.Inputs, in)
				continue
			}
			defer f.Close()
			r = f
		}
		if err := w.input(&in, r); err != nil {
			return nil, err
		}
		w.res.Inputs = append(w.res.Inputs, in)
	}
	return w.commit()
}

// IngestRecords stores spans in the runtime's form (what the OTLP/HTTP
// receiver decodes), in one transaction; name labels their problems.
func (s *Store) IngestRecords(ctx context.Context, name string, recs []*record.Record) (*Result, error) {
	w, err := s.newWriter(ctx)
	if err != nil {
		return nil, err
	}
	defer w.rollback()
	d := newDecoder(name)
	d.records(recs, 0)
	in := report.Input{File: name, Format: "otlp"}
	if err := w.add(&in, d.out); err != nil {
		return nil, err
	}
	w.res.Inputs = append(w.res.Inputs, in)
	return w.commit()
}

// blockSize is how much of an input one worker decodes at a time.
const blockSize = 1 << 20

// input reads one input: lines decoded on every CPU, in blocks of whole
// lines, and handed to the writer in order.
func (w *writer) input(in *report.Input, r io.Reader) error {
	br := bufio.NewReaderSize(r, blockSize)
	head, err := br.Peek(blockSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		w.res.Problems = append(w.res.Problems, report.Problem{File: in.File, Message: err.Error()})
		return nil
	}
	if report.IsOTLPDocument(head) {
		return w.document(in, br)
	}
	type job struct {
		data  []byte
		first int
		done  chan *batch
	}
	jobs := make(chan job)
	order := make(chan chan *batch, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d := newDecoder(in.File)
				n := j.first
				for data := j.data; len(data) > 0; n++ {
					l := data
					if i := bytes.IndexByte(data, '\n'); i >= 0 {
						l, data = data[:i], data[i+1:]
					} else {
						data = nil
					}
					d.line(l, n)
				}
				j.done <- d.out
			}
		}()
	}
	var readErr error
	go func() {
		defer close(order)
		defer close(jobs)
		readErr = splitLines(br, func(data []byte, first int) {
			j := job{data: data, first: first, done: make(chan *batch, 1)}
			order <- j.done
			jobs <- j
		})
	}()
	var addErr error
	for done := range order {
		b := <-done
		if addErr == nil {
			addErr = w.add(in, b)
		}
	}
	wg.Wait()
	if readErr != nil {
		w.res.Problems = append(w.res.Problems, report.Problem{File: in.File, Message: readErr.Error()})
	}
	return addErr
}

// splitLines reads r in blocks of whole lines and calls emit with each and
// the number of its first line. Blocks are not reused: rows alias them.
func splitLines(r io.Reader, emit func(data []byte, first int)) error {
	line := 1
	var rest []byte
	for {
		buf := make([]byte, max(blockSize, 2*len(rest)))
		n := copy(buf, rest)
		m, err := io.ReadFull(r, buf[n:])
		buf = buf[:n+m]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if len(buf) > 0 {
				emit(buf, line)
			}
			return nil
		}
		if err != nil {
			return err
		}
		cut := bytes.LastIndexByte(buf, '\n') + 1
		rest = buf[cut:]
		if cut > 0 {
			emit(buf[:cut:cut], line)
			line += bytes.Count(buf[:cut], []byte{'\n'})
		}
	}
}

// document reads an input holding OTLP/JSON requests spread over lines.
func (w *writer) document(in *report.Input, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		w.res.Problems = append(w.res.Problems, report.Problem{File: in.File, Message: err.Error()})
		return nil
	}
	d := newDecoder(in.File)
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		line := 1 + bytes.Count(data[:dec.InputOffset()], []byte{'\n'})
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte{'\n'})
			}
			d.problem(line, err)
			break
		}
		d.out.otlp++
		recs, err := report.OTLPRecords(raw)
		if err != nil {
			d.problem(line, err)
			continue
		}
		d.records(recs, line)
	}
	return w.add(in, d.out)
}

// errClosed is returned by a writer used after commit or rollback.
var errClosed = fmt.Errorf("store: ingest already finished")
