package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/tracegen-dev/tracegen/runtime/record"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// The OTLP/JSON encoding is the protobuf JSON mapping of the same messages
// with the differences the OTLP specification sets: trace and span ids are
// hex strings (not base64), enums are integers, and keys are lowerCamelCase.
// 64-bit integers are strings, as protojson writes them. protojson itself
// cannot be told about the ids, hence this encoder over the generated
// types.

// appendJSON appends the JSON form of an ExportTraceServiceRequest (which
// has the fields of TracesData).
func appendJSON(b []byte, req *tracepb.TracesData) []byte {
	b = append(b, `{"resourceSpans":[`...)
	for i, rs := range req.ResourceSpans {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendResource(b, rs.Resource)
		b = append(b, `"scopeSpans":[`...)
		for j, ss := range rs.ScopeSpans {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"scope":{"name":`...)
			b = record.AppendString(b, ss.Scope.GetName())
			b = append(b, `,"version":`...)
			b = record.AppendString(b, ss.Scope.GetVersion())
			b = append(b, `},"spans":[`...)
			for k, s := range ss.Spans {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendSpan(b, s)
			}
			b = append(b, "]}"...)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func appendResource(b []byte, r *resourcepb.Resource) []byte {
	if r == nil {
		return b
	}
	b = append(b, `"resource":{"attributes":`...)
	b = appendKVs(b, r.Attributes)
	return append(b, "},"...)
}

func appendSpan(b []byte, s *tracepb.Span) []byte {
	b = append(b, `{"traceId":"`...)
	b = hex.AppendEncode(b, s.TraceId)
	b = append(b, `","spanId":"`...)
	b = hex.AppendEncode(b, s.SpanId)
	b = append(b, '"')
	if len(s.ParentSpanId) > 0 {
		b = append(b, `,"parentSpanId":"`...)
		b = hex.AppendEncode(b, s.ParentSpanId)
		b = append(b, '"')
	}
	b = append(b, `,"flags":`...)
	b = strconv.AppendUint(b, uint64(s.Flags), 10)
	b = append(b, `,"name":`...)
	b = record.AppendString(b, s.Name)
	b = append(b, `,"kind":`...)
	b = strconv.AppendInt(b, int64(s.Kind), 10)
	b = append(b, `,"startTimeUnixNano":"`...)
	b = strconv.AppendUint(b, s.StartTimeUnixNano, 10)
	b = append(b, `","endTimeUnixNano":"`...)
	b = strconv.AppendUint(b, s.EndTimeUnixNano, 10)
	b = append(b, `","attributes":`...)
	b = appendKVs(b, s.Attributes)
	if len(s.Events) > 0 {
		b = append(b, `,"events":[`...)
		for i, e := range s.Events {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"timeUnixNano":"`...)
			b = strconv.AppendUint(b, e.TimeUnixNano, 10)
			b = append(b, `","name":`...)
			b = record.AppendString(b, e.Name)
			b = append(b, `,"attributes":`...)
			b = appendKVs(b, e.Attributes)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":{`...)
	if st := s.Status; st != nil {
		b = append(b, `"code":`...)
		b = strconv.AppendInt(b, int64(st.Code), 10)
		if st.Message != "" {
			b = append(b, `,"message":`...)
			b = record.AppendString(b, st.Message)
		}
	}
	return append(b, "}}"...)
}

func appendKVs(b []byte, kvs []*commonpb.KeyValue) []byte {
	b = append(b, '[')
	for i, kv := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = record.AppendString(b, kv.Key)
		b = append(b, `,"value":`...)
		b = appendAnyValue(b, kv.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendAnyValue(b []byte, v *commonpb.AnyValue) []byte {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		b = append(b, `{"stringValue":`...)
		b = record.AppendString(b, x.StringValue)
	case *commonpb.AnyValue_IntValue:
		b = append(b, `{"intValue":"`...)
		b = strconv.AppendInt(b, x.IntValue, 10)
		b = append(b, '"')
	case *commonpb.AnyValue_DoubleValue:
		b = append(b, `{"doubleValue":`...)
		b = appendDouble(b, x.DoubleValue)
	case *commonpb.AnyValue_BoolValue:
		b = append(b, `{"boolValue":`...)
		b = strconv.AppendBool(b, x.BoolValue)
	case *commonpb.AnyValue_BytesValue:
		b = append(b, `{"bytesValue":"`...)
		b = base64.StdEncoding.AppendEncode(b, x.BytesValue)
		b = append(b, '"')
	case *commonpb.AnyValue_ArrayValue:
		b = append(b, `{"arrayValue":{"values":[`...)
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAnyValue(b, e)
		}
		b = append(b, "]}"...)
	case *commonpb.AnyValue_KvlistValue:
		b = append(b, `{"kvlistValue":{"values":`...)
		b = appendKVs(b, x.KvlistValue.GetValues())
		b = append(b, '}')
	default:
		b = append(b, '{')
	}
	return append(b, '}')
}

// appendDouble writes a float as protojson does: a number, or "NaN",
// "Infinity", "-Infinity".
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
