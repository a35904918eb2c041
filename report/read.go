package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
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

// block is a run of whole lines of an input.
type block struct {
	data      []byte
	firstLine int
}

// result is what a worker decoded.
type result struct {
	tab         *symtab
	spans       []span
	probs       []Problem
	jsonl, otlp int // lines of each format
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
	blocks := make(chan block, 4)
	results := make(chan result)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- decodeBlocks(file, blocks)
		}()
	}
	var readErr error
	go func() {
		readErr = splitBlocks(head, r, blocks)
		close(blocks)
		wg.Wait()
		close(results)
	}()
	count, jsonl, otlp := 0, 0, 0
	var probs []Problem
	for res := range results {
		count += len(res.spans)
		jsonl += res.jsonl
		otlp += res.otlp
		s.merge(res)
		probs = append(probs, res.probs...)
	}
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
// lines, numbered, to out.
func splitBlocks(head []byte, r io.Reader, out chan<- block) error {
	buf := head
	line := 1
	for {
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if cut > 0 {
			b := block{data: buf[:cut], firstLine: line}
			line += bytes.Count(b.data, []byte{'\n'})
			out <- b
		}
		rest := buf[cut:]
		next := make([]byte, len(rest), max(blockSize, 2*len(rest)))
		copy(next, rest)
		n, err := io.ReadFull(r, next[len(rest):cap(next)])
		buf = next[:len(rest)+n]
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
// a symbol table of its own.
func decodeBlocks(file string, in <-chan block) result {
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
		res.spans = append(res.spans, spans...)
		return nil
	}
	res.jsonl++
	res.spans = append(res.spans, span{})
	if err := decodeJSONL(l, &res.spans[len(res.spans)-1], res.tab); err != nil {
		res.spans = res.spans[:len(res.spans)-1]
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
			err = decodeOTLP(raw, res.tab, func(sp *span) { res.spans = append(res.spans, *sp) })
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
	s.merge(res)
	return len(res.spans), probs, "otlp-json"
}

// merge adds a worker's spans, re-interning their symbols in s's table.
func (s *Spans) merge(res result) {
	remap := make([]sym, len(res.tab.strs))
	for i, str := range res.tab.strs {
		remap[i] = s.tab.intern(str)
	}
	for i := range res.spans {
		sp := &res.spans[i]
		for d := range sp.dims {
			sp.dims[d] = remap[sp.dims[d]]
		}
	}
	s.spans = append(s.spans, res.spans...)
}
