package report

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// OTLP/JSON is the JSON encoding of an ExportTraceServiceRequest, as OTLP/HTTP
// with JSON bodies sends it and the Collector's file exporter writes it (one
// request per line). Its rules (from the OTLP specification): field names in
// lowerCamelCase, trace and span ids in hex, enums as integers (names are
// accepted too), 64-bit integers as decimal strings (numbers are accepted
// too), attribute values as AnyValue objects ({"stringValue": ...}). These
// structs hold what a report reads; unknown fields are ignored.
type otlpRequest struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes []otlpKeyValue `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
		// Before OTLP 0.15 (2022) scopes were instrumentation libraries.
		InstrumentationLibrarySpans []otlpScopeSpans `json:"instrumentationLibrarySpans"`
	} `json:"resourceSpans"`
}

type otlpScopeSpans struct {
	Spans []otlpSpan `json:"spans"`
}

type otlpSpan struct {
	TraceID      string          `json:"traceId"`
	SpanID       string          `json:"spanId"`
	ParentSpanID string          `json:"parentSpanId"`
	Name         string          `json:"name"`
	Start        json.RawMessage `json:"startTimeUnixNano"`
	End          json.RawMessage `json:"endTimeUnixNano"`
	Attributes   []otlpKeyValue  `json:"attributes"`
	Status       struct {
		Code json.RawMessage `json:"code"`
	} `json:"status"`
}

type otlpKeyValue struct {
	Key   string `json:"key"`
	Value struct {
		String json.RawMessage `json:"stringValue"`
		Int    json.RawMessage `json:"intValue"`
		Double json.RawMessage `json:"doubleValue"`
		Bool   json.RawMessage `json:"boolValue"`
	} `json:"value"`
}

// raw returns the JSON of the scalar the value holds (arrays, maps and
// bytes give null: the report groups by scalars only).
func (kv *otlpKeyValue) raw() []byte {
	v := &kv.Value
	for _, r := range [...]json.RawMessage{v.String, v.Int, v.Double, v.Bool} {
		if len(r) > 0 {
			return r
		}
	}
	return []byte("null")
}

// decodeOTLP decodes one ExportTraceServiceRequest and calls emit for each
// of its spans.
func decodeOTLP(b []byte, tab *symtab, emit func(*span)) error {
	var req otlpRequest
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&req); err != nil {
		return err
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range append(rs.ScopeSpans, rs.InstrumentationLibrarySpans...) {
			for i := range ss.Spans {
				var s span
				if err := otlpSpanTo(&ss.Spans[i], rs.Resource.Attributes, &s, tab); err != nil {
					return fmt.Errorf("span %q: %v", ss.Spans[i].Name, err)
				}
				emit(&s)
			}
		}
	}
	return nil
}

func otlpSpanTo(o *otlpSpan, resource []otlpKeyValue, s *span, tab *symtab) error {
	if err := otlpID(s.trace[:], o.TraceID, false); err != nil {
		return fmt.Errorf("traceId: %v", err)
	}
	if err := otlpID(s.id[:], o.SpanID, false); err != nil {
		return fmt.Errorf("spanId: %v", err)
	}
	if err := otlpID(s.parent[:], o.ParentSpanID, true); err != nil {
		return fmt.Errorf("parentSpanId: %v", err)
	}
	start, err := otlpUint(o.Start)
	if err != nil {
		return fmt.Errorf("startTimeUnixNano: %v", err)
	}
	end, err := otlpUint(o.End)
	if err != nil {
		return fmt.Errorf("endTimeUnixNano: %v", err)
	}
	if end > start {
		s.dur = int64(end - start)
	}
	var f spanFields
	f.dims[dimName] = o.Name
	for _, group := range [...]struct {
		kvs []otlpKeyValue
		res bool
	}{{o.Attributes, false}, {resource, true}} {
		for i := range group.kvs {
			l := lexer{b: group.kvs[i].raw()}
			f.attr(&l, s, group.kvs[i].Key, group.res)
			if l.err != nil {
				return fmt.Errorf("attribute %s: %v", group.kvs[i].Key, l.err)
			}
		}
	}
	switch code := string(bytes.Trim(o.Status.Code, `"`)); code {
	case "2", "STATUS_CODE_ERROR":
		f.status = "error"
	}
	f.finish(s, tab)
	return nil
}

// otlpID decodes a hex id; "" is allowed only where empty is true.
func otlpID(dst []byte, s string, empty bool) error {
	if s == "" && empty {
		return nil
	}
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%q is not %d hex digits", s, 2*len(dst))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// otlpUint reads a uint64 written as a string or a number; absent is 0.
func otlpUint(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	return strconv.ParseUint(string(bytes.Trim(raw, `"`)), 10, 64)
}
