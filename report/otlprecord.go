package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Attribute keys of the record fields OpenTelemetry has no field for, as
// tracegen's otlp exporter (runtime/export/otlp) writes them. OTLPRecord
// turns them back into the record's fields.
const (
	KeySpanType     = "tracegen.span.type" // llm, tool, agent, chain, task
	KeyTags         = "tracegen.tags"      // string array
	KeyInputPrefix  = "tracegen.input."    // + the captured argument's name
	KeyOutputPrefix = "tracegen.output."   // + the captured result's name
	KeyJoulesPrefix = "tracegen.impact.energy_j."
)

// OTLPSpan is one OTLP span in plain Go values, decoded from OTLP/JSON
// ([OTLPRecords]) or from protobuf (the store's OTLP/HTTP receiver).
type OTLPSpan struct {
	TraceID       record.TraceID
	SpanID        record.SpanID
	ParentSpanID  record.SpanID
	Name          string
	Kind          int // OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer
	Start, End    uint64
	StatusCode    int // 0 unset, 1 ok, 2 error
	StatusMessage string
	Attributes    []record.Attr
	Events        []record.Event
	Remote        bool // the parent is in another process (flags bit 9)
}

// OTLPRecord converts an OTLP span with its resource's attributes into the
// runtime's record, undoing the otlp exporter's mapping: tracegen.span.type,
// tracegen.tags, tracegen.input.*, tracegen.output.* and tracegen.impact.*
// become the type, tags, captured content and impact again.
func OTLPRecord(o *OTLPSpan, resource []record.Attr) *record.Record {
	r := &record.Record{
		TraceID: o.TraceID, SpanID: o.SpanID, ParentSpanID: o.ParentSpanID, RemoteParent: o.Remote,
		Name: o.Name, StatusMsg: o.StatusMessage, Events: o.Events, Resource: resource,
	}
	if o.Start > 0 {
		r.Start = time.Unix(0, int64(o.Start)).UTC()
	}
	if o.End > 0 {
		r.End = time.Unix(0, int64(o.End)).UTC()
	}
	if o.Kind >= 1 && o.Kind <= 5 {
		r.Kind = record.Kind(o.Kind - 1)
	}
	if o.StatusCode >= 0 && o.StatusCode <= 2 {
		r.Status = record.Status(o.StatusCode)
	}
	for _, a := range o.Attributes {
		if !applyTracegenAttr(r, a) {
			r.Attrs = append(r.Attrs, a)
		}
	}
	return r
}

// typesByName maps the names of record.Type back to types.
var typesByName = func() map[string]record.Type {
	m := map[string]record.Type{}
	for t := record.TypeLLM; t <= record.TypeTask; t++ {
		m[t.String()] = t
	}
	return m
}()

// applyTracegenAttr applies one of the otlp exporter's tracegen.*
// attributes to r and reports whether a was one.
func applyTracegenAttr(r *record.Record, a record.Attr) bool {
	im := &r.Impact
	switch {
	case a.Key == KeySpanType:
		t, ok := typesByName[a.Value.Str()]
		r.Type = t
		return ok
	case a.Key == KeyTags:
		if tags, ok := a.Value.Any().([]any); ok {
			for _, t := range tags {
				r.Tags = append(r.Tags, fmt.Sprint(t))
			}
			return true
		}
	case a.Key == KeyImpactEnergyKWh:
		im.EnergyKWh = a.Value.Float64()
		return true
	case a.Key == KeyImpactCO2eG:
		im.CO2eG = a.Value.Float64()
		return true
	case a.Key == KeyImpactWaterL:
		im.WaterL = a.Value.Float64()
		return true
	case a.Key == KeyImpactSource:
		im.EnergySource = a.Value.Str()
		return true
	case strings.HasPrefix(a.Key, KeyJoulesPrefix):
		src := strings.TrimPrefix(a.Key, KeyJoulesPrefix)
		for i := range record.NumEnergySources {
			if record.EnergySource(i).String() == src {
				im.Joules[i] = a.Value.Float64()
				return true
			}
		}
	case strings.HasPrefix(a.Key, KeyInputPrefix):
		r.Input = append(r.Input, record.Attr{Key: strings.TrimPrefix(a.Key, KeyInputPrefix), Value: a.Value})
		return true
	case strings.HasPrefix(a.Key, KeyOutputPrefix):
		r.Output = append(r.Output, record.Attr{Key: strings.TrimPrefix(a.Key, KeyOutputPrefix), Value: a.Value})
		return true
	}
	return false
}

// The OTLP/JSON request in full, for OTLPRecords (the report's own
// decoder, otlpRequest, reads only what a report needs).
type otlpFullRequest struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes []otlpFullKV `json:"attributes"`
		} `json:"resource"`
		ScopeSpans                  []otlpFullScope `json:"scopeSpans"`
		InstrumentationLibrarySpans []otlpFullScope `json:"instrumentationLibrarySpans"`
	} `json:"resourceSpans"`
}

type otlpFullScope struct {
	Spans []struct {
		TraceID      string          `json:"traceId"`
		SpanID       string          `json:"spanId"`
		ParentSpanID string          `json:"parentSpanId"`
		Flags        uint32          `json:"flags"`
		Name         string          `json:"name"`
		Kind         json.RawMessage `json:"kind"`
		Start        json.RawMessage `json:"startTimeUnixNano"`
		End          json.RawMessage `json:"endTimeUnixNano"`
		Attributes   []otlpFullKV    `json:"attributes"`
		Events       []struct {
			Name       string          `json:"name"`
			Time       json.RawMessage `json:"timeUnixNano"`
			Attributes []otlpFullKV    `json:"attributes"`
		} `json:"events"`
		Status struct {
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
		} `json:"status"`
	} `json:"spans"`
}

type otlpFullKV struct {
	Key   string        `json:"key"`
	Value otlpFullValue `json:"value"`
}

type otlpFullValue struct {
	String *string         `json:"stringValue"`
	Int    json.RawMessage `json:"intValue"`
	Double *float64        `json:"doubleValue"`
	Bool   *bool           `json:"boolValue"`
	Bytes  *string         `json:"bytesValue"` // base64, as in protobuf's JSON mapping
	Array  *struct {
		Values []otlpFullValue `json:"values"`
	} `json:"arrayValue"`
	KVList *struct {
		Values []otlpFullKV `json:"values"`
	} `json:"kvlistValue"`
}

// value converts an AnyValue: scalars as such, arrays as []any, key-value
// lists as map[string]any, bytes as []byte.
func (v *otlpFullValue) value() (record.Value, error) {
	switch {
	case v.String != nil:
		return record.StringValue(*v.String), nil
	case len(v.Int) > 0:
		n, err := strconv.ParseInt(string(bytes.Trim(v.Int, `"`)), 10, 64)
		return record.Int64Value(n), err
	case v.Double != nil:
		return record.Float64Value(*v.Double), nil
	case v.Bool != nil:
		return record.BoolValue(*v.Bool), nil
	case v.Bytes != nil:
		b, err := base64.StdEncoding.DecodeString(*v.Bytes)
		return record.AnyValue(b), err
	case v.Array != nil:
		out := make([]any, len(v.Array.Values))
		for i := range v.Array.Values {
			x, err := v.Array.Values[i].value()
			if err != nil {
				return record.Value{}, err
			}
			out[i] = x.Any()
		}
		return record.AnyValue(out), nil
	case v.KVList != nil:
		out := make(map[string]any, len(v.KVList.Values))
		for i := range v.KVList.Values {
			x, err := v.KVList.Values[i].Value.value()
			if err != nil {
				return record.Value{}, err
			}
			out[v.KVList.Values[i].Key] = x.Any()
		}
		return record.AnyValue(out), nil
	}
	return record.AnyValue(nil), nil
}

func otlpFullAttrs(kvs []otlpFullKV) ([]record.Attr, error) {
	out := make([]record.Attr, 0, len(kvs))
	for i := range kvs {
		v, err := kvs[i].Value.value()
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %v", kvs[i].Key, err)
		}
		out = append(out, record.Attr{Key: kvs[i].Key, Value: v})
	}
	return out, nil
}

// otlpEnum reads an OTLP enum written as a number or as its name (names
// end with the value's suffix: SPAN_KIND_CLIENT, STATUS_CODE_ERROR).
func otlpEnum(raw json.RawMessage, names []string) int {
	s := string(bytes.Trim(raw, `"`))
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	for i, name := range names {
		if strings.HasSuffix(s, name) {
			return i
		}
	}
	return 0
}

var (
	kindEnum   = []string{"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"}
	statusEnum = []string{"UNSET", "OK", "ERROR"}
)

// flagIsRemote is bit 9 of an OTLP span's flags: its parent is remote.
const flagIsRemote = 1 << 9

// OTLPRecords decodes one OTLP/JSON ExportTraceServiceRequest into the
// runtime's records, in full (events, kind, status message, composite
// attribute values), through [OTLPRecord].
func OTLPRecords(b []byte) ([]*record.Record, error) {
	var req otlpFullRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	var out []*record.Record
	for _, rs := range req.ResourceSpans {
		res, err := otlpFullAttrs(rs.Resource.Attributes)
		if err != nil {
			return nil, fmt.Errorf("resource: %v", err)
		}
		for _, ss := range append(rs.ScopeSpans, rs.InstrumentationLibrarySpans...) {
			for i := range ss.Spans {
				o := &ss.Spans[i]
				sp := OTLPSpan{Name: o.Name, StatusMessage: o.Status.Message, Remote: o.Flags&flagIsRemote != 0,
					Kind: otlpEnum(o.Kind, kindEnum), StatusCode: otlpEnum(o.Status.Code, statusEnum)}
				err := fieldErr("traceId", otlpID(sp.TraceID[:], o.TraceID, false))
				if err == nil {
					err = fieldErr("spanId", otlpID(sp.SpanID[:], o.SpanID, false))
				}
				if err == nil {
					err = fieldErr("parentSpanId", otlpID(sp.ParentSpanID[:], o.ParentSpanID, true))
				}
				if err == nil {
					sp.Start, err = otlpUint(o.Start)
					err = fieldErr("startTimeUnixNano", err)
				}
				if err == nil {
					sp.End, err = otlpUint(o.End)
					err = fieldErr("endTimeUnixNano", err)
				}
				if err == nil {
					sp.Attributes, err = otlpFullAttrs(o.Attributes)
				}
				for j := 0; err == nil && j < len(o.Events); j++ {
					e := &o.Events[j]
					var t uint64
					var attrs []record.Attr
					if t, err = otlpUint(e.Time); err == nil {
						attrs, err = otlpFullAttrs(e.Attributes)
					}
					sp.Events = append(sp.Events, record.Event{Name: e.Name, Time: time.Unix(0, int64(t)).UTC(), Attrs: attrs})
				}
				if err != nil {
					return nil, fmt.Errorf("span %q: %v", o.Name, err)
				}
				out = append(out, OTLPRecord(&sp, res))
			}
		}
	}
	return out, nil
}

// IsOTLP reports whether a line is an OTLP/JSON request (an object whose
// first key is resourceSpans) rather than a span of the jsonl exporter.
func IsOTLP(line []byte) bool { return isOTLP(line) }

// IsOTLPDocument reports whether the start of an input is one OTLP/JSON
// request spread over several lines (pretty-printed) rather than lines of
// one value each.
func IsOTLPDocument(head []byte) bool { return isDocument(head) }

// fieldErr prefixes err with the field it is about, as the report's OTLP
// decoder does ("spanId: ...").
func fieldErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %v", field, err)
}
