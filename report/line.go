package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// This file is the part of the package that the store (package store) uses
// to keep spans without decoding them a second way: it decodes one line at
// a time, keeping more of it when asked ([Extra]), and packs the fields a
// report needs into bytes and back, so that a report of a store reads no
// JSON.

// RawAttr is an attribute as a line holds it: its key and its value's JSON
// text (a string with its quotes, a number, true, false, null, an object or
// an array). Both alias the line.
type RawAttr struct {
	Key   string
	Value []byte
}

// Extra is what [Spans.DecodeLine] keeps of a span beyond what a report
// needs. Its strings and byte slices alias the line: copy what must outlive
// it.
type Extra struct {
	Start         int64  // start_time, Unix nanoseconds; 0 when absent
	Kind          string // internal, server, client, producer, consumer
	Type          string // llm, tool, agent, chain, task or ""
	Status        string // unset, ok or error
	StatusMessage string
	Tags          []string
	Attrs         []RawAttr // own and inherited attributes, in line order
	Resource      []RawAttr
}

// field reads the top-level keys a report skips; it reports whether it
// read the value.
func (x *Extra) field(l *lexer, key string) bool {
	switch key {
	case "start_time":
		s := l.str()
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			x.Start = t.UnixNano()
		} else if l.err == nil {
			l.fail("start_time %q: %v", s, err)
		}
	case "kind":
		x.Kind = l.str()
	case "status_message":
		x.StatusMessage = l.str()
	case "tags":
		l.array(func() { x.Tags = append(x.Tags, l.str()) })
	default:
		return false
	}
	return true
}

// NewSpans returns an empty set of spans, for [Spans.DecodeLine] and
// [Spans.AddPacked].
func NewSpans() *Spans { return &Spans{tab: newSymtab()} }

// DecodeLine decodes one span in the jsonl exporter's encoding (one line of
// its output, without the newline) and adds it to s. When x is not nil it
// also fills x with the rest of the span (reusing x's slices). A line that
// is not a span adds nothing and returns the error a report would print.
func (s *Spans) DecodeLine(line []byte, x *Extra) error {
	s.spans = append(s.spans, span{})
	if err := decodeJSONL(line, &s.spans[len(s.spans)-1], s.tab, x); err != nil {
		s.spans = s.spans[:len(s.spans)-1]
		return err
	}
	return nil
}

// Info is the report's view of one span.
type Info struct {
	Trace        record.TraceID
	ID, Parent   record.SpanID
	Name         string
	Model        string // response model, else request model, on LLM spans only
	Session      string // session.id
	Error        bool
	LLM          bool
	Duration     time.Duration
	InputTokens  int64
	OutputTokens int64
	EnergyKWh    float64
	CO2eG        float64
	WaterL       float64
}

// Info returns the report's view of span i (0 ≤ i < s.Len()).
func (s *Spans) Info(i int) Info {
	sp := &s.spans[i]
	return Info{
		Trace: sp.trace, ID: sp.id, Parent: sp.parent,
		Name: s.tab.str(sp.dims[dimName]), Model: s.tab.str(sp.dims[dimModel]), Session: s.tab.str(sp.dims[dimSession]),
		Error: sp.isErr, LLM: sp.isLLM, Duration: time.Duration(sp.dur),
		InputTokens: sp.inTok, OutputTokens: sp.outTok,
		EnergyKWh: sp.kwh, CO2eG: sp.co2e, WaterL: sp.water,
	}
}

// unsafeString returns b as a string without copying (the symbol table
// copies what it keeps).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// packVersion is the first byte of a packed span; AddPacked refuses others.
// It changes with the layout (the number of dimensions included).
const packVersion = 1

const (
	packErr = 1 << iota
	packLLM
)

// AppendPacked appends span i of s to b in a compact binary form that
// [Spans.AddPacked] reads: ids, flags, duration, tokens, impact, joules per
// source and the strings it is grouped by.
func (s *Spans) AppendPacked(b []byte, i int) []byte {
	sp := &s.spans[i]
	var flags byte
	if sp.isErr {
		flags |= packErr
	}
	if sp.isLLM {
		flags |= packLLM
	}
	b = append(b, packVersion, flags)
	b = append(b, sp.trace[:]...)
	b = append(b, sp.id[:]...)
	b = append(b, sp.parent[:]...)
	b = binary.AppendVarint(b, sp.dur)
	b = binary.AppendVarint(b, sp.inTok)
	b = binary.AppendVarint(b, sp.outTok)
	for _, f := range [...]float64{sp.kwh, sp.co2e, sp.water} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	var nonzero byte // one bit per energy source
	for j, v := range sp.joules {
		if v != 0 {
			nonzero |= 1 << j
		}
	}
	b = append(b, nonzero)
	for _, v := range sp.joules {
		if v != 0 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	for _, d := range sp.dims {
		str := s.tab.str(d)
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	return b
}

var errPacked = errors.New("malformed packed span")

// AddPacked adds the spans packed one after another in b by
// [Spans.AppendPacked].
func (s *Spans) AddPacked(b []byte) error {
	for len(b) > 0 {
		var sp span
		var err error
		if b, err = s.unpack(b, &sp); err != nil {
			return err
		}
		s.spans = append(s.spans, sp)
	}
	return nil
}

// unpack decodes one packed span from the front of b.
func (s *Spans) unpack(b []byte, sp *span) ([]byte, error) {
	const fixed = 2 + 16 + 8 + 8
	if len(b) < fixed {
		return nil, errPacked
	}
	if b[0] != packVersion {
		return nil, fmt.Errorf("packed span version %d, want %d", b[0], packVersion)
	}
	sp.isErr, sp.isLLM = b[1]&packErr != 0, b[1]&packLLM != 0
	copy(sp.trace[:], b[2:])
	copy(sp.id[:], b[18:])
	copy(sp.parent[:], b[26:])
	b = b[fixed:]
	for _, v := range [...]*int64{&sp.dur, &sp.inTok, &sp.outTok} {
		n, k := binary.Varint(b)
		if k <= 0 {
			return nil, errPacked
		}
		*v, b = n, b[k:]
	}
	if len(b) < 3*8+1 {
		return nil, errPacked
	}
	for _, v := range [...]*float64{&sp.kwh, &sp.co2e, &sp.water} {
		*v, b = math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
	}
	nonzero := b[0]
	b = b[1:]
	for j := range sp.joules {
		if nonzero&(1<<j) == 0 {
			continue
		}
		if len(b) < 8 {
			return nil, errPacked
		}
		sp.joules[j], b = math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:]
	}
	for d := range sp.dims {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errPacked
		}
		sp.dims[d] = s.tab.intern(unsafeString(b[k : k+int(n)]))
		b = b[k+int(n):]
	}
	return b, nil
}
