package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Problem is an input that could not be read, or a line of it that is not a
// span. Its String form is "file:line: message" (go vet's), or "file:
// message" for the whole input.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// Input describes one input that was read.
type Input struct {
	File     string `json:"file"`
	Format   string `json:"format"` // "jsonl", "otlp-json" or "" when unreadable
	Spans    int    `json:"spans"`
	Problems int    `json:"problems"`
}

// Spans is the spans of one run, read from one or more inputs, with what
// could not be read.
type Spans struct {
	Inputs   []Input
	Problems []Problem
	tab      *symtab
	spans    []span
}

// Len returns the number of spans read.
func (s *Spans) Len() int { return len(s.spans) }

// StdinName is the name that stands for standard input among the inputs.
const StdinName = "-"

// Read reads the spans of the named inputs: files written by the jsonl or
// json exporter (one span per line), OTLP/JSON files (one request per line,
// as the Collector's file exporter writes, or one request in the whole
// file), or "-" for stdin. It never stops at a bad line: every problem is
// recorded and the rest is read.
func Read(names []string, stdin io.Reader) *Spans {
	out := &Spans{tab: newSymtab()}
	for _, name := range names {
		in := Input{File: name}
		var r io.Reader = stdin
		if name == StdinName {
			in.File = "stdin"
		} else {
			f, err := os.Open(name)
			if err != nil {
				msg := err.Error()
				if u := errors.Unwrap(err); u != nil {
					msg = u.Error() // the path is already the problem's file
				}
				out.Problems = append(out.Problems, Problem{File: name, Message: msg})
				out.Inputs = append(out.Inputs, in)
				continue
			}
			r = f
			defer f.Close()
		}
		n, probs, format := out.readOne(in.File, r)
		in.Spans, in.Problems, in.Format = n, len(probs), format
		out.Problems = append(out.Problems, probs...)
		out.Inputs = append(out.Inputs, in)
	}
	return out
}

// blockSize is how much of an input one worker decodes at a time.
const blockSize = 1 << 20

// chunkSize is the number of spans a worker collects per slice: chunks are
// never copied while they fill, only once into the final slice.
const chunkSize = 1 << 14

// block is a run of whole lines of an input.
type block struct {
	data      []byte
	firstLine int
}

// result is what a worker decoded.
type result struct {
	tab         *symtab
	chunks      [][]span
	probs       []Problem
	jsonl, otlp int // lines of each format
}

// add appends a zero span and returns it.
func (res *result) add() *span {
	if n := len(res.chunks); n == 0 || len(res.chunks[n-1]) == chunkSize {
		res.chunks = append(res.chunks, make([]span, 0, chunkSize))
	}
	c := &res.chunks[len(res.chunks)-1]
	*c = append(*c, span{})
	return &(*c)[len(*c)-1]
}

// drop removes the span add returned last.
func (res *result) drop() {
	c := &res.chunks[len(res.chunks)-1]
	*c = (*c)[:len(*c)-1]
}

func (res *result) len() int {
	n := 0
	for _, c := range res.chunks {
		n += len(c)
	}
	return n
}

// readOne reads one input, decoding its lines on every CPU.
func (s *Spans) readOne(file string, r io.Reader) (int, []Problem, string) {
	head := make([]byte, blockSize)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, []Problem{{File: file, Message: err.Error()}}, ""
	}
	if isDocument(head) {
		rest, err := io.ReadAll(r)
		if err != nil {
			return 0, []Problem{{File: file, Message: err.Error()}}, ""
		}
		return s.readDocument(file, append(head, rest...))
	}
	workers := runtime.GOMAXPROCS(0)
	blocks := make(chan block, workers)
	free := make(chan []byte, 2*workers+2) // buffers the workers are done with
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- decodeBlocks(file, blocks, free)
		}()
	}
	var readErr error
	go func() {
		readErr = splitBlocks(head, r, blocks, free)
		close(blocks)
		wg.Wait()
		close(results)
	}()
	var all []result
	jsonl, otlp := 0, 0
	var probs []Problem
	for res := range results {
		jsonl += res.jsonl
		otlp += res.otlp
		probs = append(probs, res.probs...)
		all = append(all, res)
	}
	count := s.merge(all...)
	if readErr != nil {
		probs = append(probs, Problem{File: file, Message: readErr.Error()})
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	format := "jsonl"
	switch {
	case otlp > 0 && jsonl > 0:
		format = "jsonl+otlp-json"
	case otlp > 0:
		format = "otlp-json"
	}
	return count, probs, format
}

// splitBlocks reads r (after head, already read) and sends blocks of whole
// lines, numbered, to out, reusing the buffers that come back on free.
func splitBlocks(head []byte, r io.Reader, out chan<- block, free <-chan []byte) error {
	buf := head
	line := 1
	for {
		cut := bytes.LastIndexByte(buf, '\n') + 1
		rest := buf[cut:]
		var next []byte
		select {
		case next = <-free:
		default:
		}
		if cap(next) < max(blockSize, 2*len(rest)) {
			next = make([]byte, 0, max(blockSize, 2*len(rest)))
		}
		next = append(next[:0], rest...) // before the worker may hand buf back
		if cut > 0 {
			b := block{data: buf[:cut], firstLine: line}
			line += bytes.Count(b.data, []byte{'\n'})
			out <- b
		}
		n, err := io.ReadFull(r, next[len(next):cap(next)])
		buf = next[:len(next)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if len(buf) > 0 {
				out <- block{data: buf, firstLine: line}
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// decodeBlocks decodes the lines of the blocks it receives into spans with
// a symbol table of its own, and hands each block's buffer back on free.
func decodeBlocks(file string, in <-chan block, free chan<- []byte) result {
	res := result{tab: newSymtab()}
	for b := range in {
		line := b.firstLine
		data := b.data
		for len(data) > 0 {
			end := bytes.IndexByte(data, '\n')
			var l []byte
			if end < 0 {
				l, data = data, nil
			} else {
				l, data = data[:end], data[end+1:]
			}
			l = bytes.TrimSpace(l)
			if len(l) > 0 {
				if err := res.decodeLine(l); err != nil {
					res.probs = append(res.probs, Problem{File: file, Line: line, Message: err.Error()})
				}
			}
			line++
		}
		select {
		case free <- b.data[:0]:
		default:
		}
	}
	return res
}

// decodeLine decodes a JSONL span or an OTLP/JSON request.
func (res *result) decodeLine(l []byte) error {
	if isOTLP(l) {
		res.otlp++
		var spans []span
		if err := decodeOTLP(l, res.tab, func(s *span) { spans = append(spans, *s) }); err != nil {
			return err
		}
		for i := range spans {
			*res.add() = spans[i]
		}
		return nil
	}
	res.jsonl++
	if err := decodeJSONL(l, res.add(), res.tab, nil); err != nil {
		res.drop()
		if err == errSnapshot {
			return nil
		}
		return err
	}
	return nil
}

// isOTLP reports whether a line is an OTLP/JSON request: an object whose
// first key is resourceSpans.
func isOTLP(l []byte) bool {
	l = bytes.TrimLeft(bytes.TrimPrefix(l, []byte("{")), " \t\r\n")
	return bytes.HasPrefix(l, []byte(`"resourceSpans"`))
}

// isDocument reports whether an input is one JSON document spread over
// several lines (a pretty-printed OTLP/JSON request) rather than lines of
// one value each: its first line is not a whole value.
func isDocument(head []byte) bool {
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	first = bytes.TrimSpace(first)
	return len(first) > 0 && first[0] == '{' && !json.Valid(first) && isOTLP(bytes.TrimSpace(head))
}

// readDocument reads an input holding OTLP/JSON requests spread over lines.
func (s *Spans) readDocument(file string, data []byte) (int, []Problem, string) {
	res := result{tab: newSymtab()}
	d := json.NewDecoder(bytes.NewReader(data))
	var probs []Problem
	for {
		start := d.InputOffset()
		var raw json.RawMessage
		err := d.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err == nil {
			err = decodeOTLP(raw, res.tab, func(sp *span) { *res.add() = *sp })
		}
		if err != nil {
			line := 1 + bytes.Count(data[:start], []byte{'\n'})
			if len(raw) == 0 { // a syntax error: no way to resynchronise
				var se *json.SyntaxError
				if errors.As(err, &se) {
					line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte{'\n'})
				}
				probs = append(probs, Problem{File: file, Line: line, Message: err.Error()})
				break
			}
			probs = append(probs, Problem{File: file, Line: line, Message: err.Error()})
		}
	}
	return s.merge(res), probs, "otlp-json"
}

// merge adds the workers' spans, re-interning their symbols in s's table,
// and returns how many it added.
func (s *Spans) merge(all ...result) int {
	n := 0
	for i := range all {
		n += all[i].len()
	}
	s.spans = slices.Grow(s.spans, n)
	for _, res := range all {
		remap := make([]sym, len(res.tab.strs))
		for i, str := range res.tab.strs {
			remap[i] = s.tab.intern(str)
		}
		for _, c := range res.chunks {
			for i := range c {
				for d := range c[i].dims {
					c[i].dims[d] = remap[c[i].dims[d]]
				}
			}
			s.spans = append(s.spans, c...)
		}
	}
	return n
}
