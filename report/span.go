package report

import (
	"bytes"
	"encoding/hex"
	"errors"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Attribute keys the report groups and explains by. They are the runtime's
// (runtime/trace, runtime/session, runtime/genai); the test key is
// OpenTelemetry's test.case.name, which `tracegen go test` puts on every span
// beneath a test.
const (
	KeyTest            = "test.case.name"
	KeySession         = "session.id"
	KeyProject         = "tracegen.project_id"
	KeyApplication     = "tracegen.application_id"
	KeyService         = "service.name"
	KeyOperation       = "gen_ai.operation.name"
	KeyRequestModel    = "gen_ai.request.model"
	KeyResponseModel   = "gen_ai.response.model"
	KeyInputTokens     = "gen_ai.usage.input_tokens"
	KeyOutputTokens    = "gen_ai.usage.output_tokens"
	KeyFootprintMethod = "tracegen.footprint.method"
	KeyFootprintModel  = "tracegen.footprint.model"
	KeyFootprintNote   = "tracegen.footprint.note"
	// OTLP carries the impact as span attributes with these keys.
	KeyImpactEnergyKWh = "tracegen.impact.energy_kwh"
	KeyImpactCO2eG     = "tracegen.impact.co2e_g"
	KeyImpactWaterL    = "tracegen.impact.water_l"
	KeyImpactSource    = "tracegen.impact.energy_source"
)

// sym is an interned string: an index into a symbol table. 0 is "".
type sym uint32

// dimension is a grouping of spans: by span name, model, test, ...
type dimension uint8

const (
	dimName dimension = iota
	dimModel
	dimTest
	dimSession
	dimProject
	dimApplication
	dimService
	dimSource       // energy_source
	dimMethod       // tracegen.footprint.method
	dimFootprintMod // tracegen.footprint.model
	dimNote         // tracegen.footprint.note
	numDims
)

// span is the part of a finished span a report needs, with its strings
// interned so that a million of them fit in little memory.
type span struct {
	trace  record.TraceID
	id     record.SpanID
	parent record.SpanID
	isErr  bool
	isLLM  bool
	dur    int64 // nanoseconds
	inTok  int64
	outTok int64
	kwh    float64
	co2e   float64
	water  float64
	joules [record.NumEnergySources]float64
	dims   [numDims]sym
}

// tokens is input plus output tokens.
func (s *span) tokens() int64 { return s.inTok + s.outTok }

// symtab interns strings.
type symtab struct {
	idx  map[string]sym
	strs []string
}

func newSymtab() *symtab {
	return &symtab{idx: map[string]sym{"": 0}, strs: []string{""}}
}

// intern returns the symbol of s, copying s the first time it is seen (s
// may alias a buffer that is about to be reused).
func (t *symtab) intern(s string) sym {
	if id, ok := t.idx[s]; ok {
		return id
	}
	s = string([]byte(s))
	id := sym(len(t.strs))
	t.strs = append(t.strs, s)
	t.idx[s] = id
	return id
}

func (t *symtab) str(id sym) string { return t.strs[id] }

// spanFields collects the strings of a span while it is decoded, before
// they are interned.
type spanFields struct {
	dims                 [numDims]string
	reqModel, respModel  string
	typ, status          string
	sawTrace, sawSpan    bool
	sawName, sawDuration bool
	snapshot             bool // "snapshot":true, a running span's copy
}

// finish resolves the fields into s (model: response, else request).
func (f *spanFields) finish(s *span, tab *symtab) {
	if f.respModel != "" {
		f.dims[dimModel] = f.respModel
	} else {
		f.dims[dimModel] = f.reqModel
	}
	if f.typ == "llm" {
		s.isLLM = true
	}
	s.isErr = f.status == "error"
	if !s.isLLM {
		f.dims[dimModel] = "" // a model named on a non-LLM span (an agent's) is no LLM call
	}
	for d := range numDims {
		s.dims[d] = tab.intern(f.dims[d])
	}
}

// attr applies one attribute to s and f; the lexer is at its value. A
// resource attribute (res) never overrides a span's own.
func (f *spanFields) attr(l *lexer, s *span, key string, res bool) {
	set := func(d dimension) {
		if v := l.scalar(); !res || f.dims[d] == "" {
			f.dims[d] = v
		}
	}
	switch key {
	case KeyTest:
		set(dimTest)
	case KeySession:
		set(dimSession)
	case KeyProject:
		set(dimProject)
	case KeyApplication:
		set(dimApplication)
	case KeyService:
		set(dimService)
	case KeyFootprintMethod:
		set(dimMethod)
	case KeyFootprintModel:
		set(dimFootprintMod)
	case KeyFootprintNote:
		set(dimNote)
	case KeyRequestModel:
		f.reqModel = l.scalar()
	case KeyResponseModel:
		f.respModel = l.scalar()
	case KeyOperation:
		l.skip()
		s.isLLM = !res || s.isLLM
	case KeyInputTokens:
		s.inTok = int64(l.number())
	case KeyOutputTokens:
		s.outTok = int64(l.number())
	case KeyImpactEnergyKWh:
		s.kwh = l.number()
	case KeyImpactCO2eG:
		s.co2e = l.number()
	case KeyImpactWaterL:
		s.water = l.number()
	case KeyImpactSource:
		set(dimSource)
	default:
		l.skip()
	}
}

// decodeJSONL decodes one line written by the jsonl or json exporter
// (runtime/record's encoding) into s, and what a report does not keep into
// x when x is not nil.
func decodeJSONL(b []byte, s *span, tab *symtab, x *Extra) error {
	l := lexer{b: b}
	var f spanFields
	attrs := func(key string) { f.attr(&l, s, key, false) }
	resource := func(key string) { f.attr(&l, s, key, true) }
	if x != nil {
		*x = Extra{Attrs: x.Attrs[:0], Resource: x.Resource[:0], Tags: x.Tags[:0]}
		attrs = func(key string) {
			start := l.i
			f.attr(&l, s, key, false)
			x.Attrs = append(x.Attrs, RawAttr{Key: key, Value: bytes.TrimSpace(l.b[start:l.i])})
		}
		resource = func(key string) {
			start := l.i
			f.attr(&l, s, key, true)
			x.Resource = append(x.Resource, RawAttr{Key: key, Value: bytes.TrimSpace(l.b[start:l.i])})
		}
	}
	l.object(func(key string) {
		if x != nil && x.field(&l, key) {
			return
		}
		switch key {
		case "trace_id":
			f.sawTrace = decodeHex(&l, s.trace[:], false)
		case "span_id":
			f.sawSpan = decodeHex(&l, s.id[:], false)
		case "parent_span_id":
			decodeHex(&l, s.parent[:], true)
		case "name":
			f.dims[dimName] = l.str()
			f.sawName = true
		case "type":
			f.typ = l.str()
		case "status":
			f.status = l.str()
		case "duration_ms":
			s.dur = int64(l.number() * 1e6)
			f.sawDuration = true
		case "attributes":
			l.object(attrs)
		case "resource":
			l.object(resource)
		case "impact":
			decodeImpact(&l, s, &f)
		case "snapshot":
			f.snapshot = l.scalar() == "true"
		default:
			l.skip()
		}
	})
	l.end()
	if l.err != nil {
		return l.err
	}
	if f.snapshot {
		return errSnapshot
	}
	if x != nil {
		x.Type, x.Status = f.typ, f.status
	}
	switch {
	case !f.sawTrace:
		return errMissing("trace_id")
	case !f.sawSpan:
		return errMissing("span_id")
	case !f.sawName:
		return errMissing("name")
	case !f.sawDuration:
		return errMissing("duration_ms")
	}
	f.finish(s, tab)
	return nil
}

// errSnapshot marks a snapshot of a running span (trace.Span.Snapshot):
// the finished span comes on a line of its own, so the report skips it.
var errSnapshot = errors.New("a snapshot of a running span")

type errMissing string

func (e errMissing) Error() string { return "not a span: no " + string(e) + " field" }

// decodeImpact reads the impact object of a JSONL span.
func decodeImpact(l *lexer, s *span, f *spanFields) {
	l.object(func(key string) {
		switch key {
		case "energy_kwh":
			s.kwh = l.number()
		case "co2e_g":
			s.co2e = l.number()
		case "water_l":
			s.water = l.number()
		case "energy_source":
			f.dims[dimSource] = l.str()
		case "energy_j":
			l.object(func(src string) {
				j := l.number()
				for i := range record.NumEnergySources {
					if record.EnergySource(i).String() == src {
						s.joules[i] = j
					}
				}
			})
		default:
			l.skip()
		}
	})
}

// decodeHex reads a hex id string into dst; an empty string is allowed
// when empty is true (a root's parent).
func decodeHex(l *lexer, dst []byte, empty bool) bool {
	raw, _ := l.rawString()
	if l.err != nil {
		return false
	}
	if len(raw) == 0 && empty {
		return false
	}
	if len(raw) != 2*len(dst) {
		l.fail("id %q is not %d hex digits", raw, 2*len(dst))
		return false
	}
	if _, err := hex.Decode(dst, raw); err != nil {
		l.fail("id %q: %v", raw, err)
		return false
	}
	return true
}
