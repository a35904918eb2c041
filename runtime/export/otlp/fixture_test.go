package otlp

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// The fixture: three spans of one trace that use every field the exporter
// maps, and what a receiver must see of them, written out by hand.

var fixtureResource = []record.Attr{
	record.String("service.name", "otlp-test"),
	record.String("telemetry.sdk.name", "tracegen"),
	record.String("telemetry.sdk.language", "go"),
	record.Int("process.pid", 4242),
}

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)

func fixture() []*record.Record {
	tid := record.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	root := &record.Record{
		TraceID: tid, SpanID: record.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		Kind: record.KindServer, Type: record.TypeAgent, Status: record.StatusOK, Name: "planner",
		Start: t0, End: t0.Add(1500 * time.Millisecond),
		Attrs:    []record.Attr{record.String("http.route", "/chat")},
		Tags:     []string{"prod", "eu"},
		Resource: fixtureResource,
	}
	llm := &record.Record{
		TraceID: tid, SpanID: record.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, ParentSpanID: root.SpanID,
		Kind: record.KindClient, Type: record.TypeLLM, Status: record.StatusError, StatusMsg: "rate limited",
		Name: "chat gpt-4o-mini", Start: t0.Add(10 * time.Millisecond), End: t0.Add(900 * time.Millisecond),
		Inherited: []record.Attr{record.String("session.id", "s-1"), record.String("user", "u1")},
		Attrs: []record.Attr{
			record.String("gen_ai.provider.name", "openai"),
			record.String("gen_ai.operation.name", "chat"),
			record.String("gen_ai.request.model", "gpt-4o-mini"),
			record.Int("gen_ai.usage.input_tokens", 12),
			record.Int("gen_ai.usage.output_tokens", 34),
			record.Any("gen_ai.response.finish_reasons", []string{"stop"}),
			record.Float64("gen_ai.request.temperature", 0.25),
			record.Bool("gen_ai.request.stream", true),
			record.String("user", "u2"),
		},
		Events: []record.Event{{Name: "exception", Time: t0.Add(899 * time.Millisecond), Attrs: []record.Attr{
			record.String("exception.type", "*openai.Error"), record.String("exception.message", "429 Too Many Requests"),
		}}},
		Input:    []record.Attr{record.String("prompt", "hi")},
		Resource: fixtureResource,
		Impact: record.Impact{EnergyKWh: 1.5e-6, CO2eG: 0.00042, WaterL: 3e-6, EnergySource: "cpu-model+llm-estimate",
			Joules: [record.NumEnergySources]float64{record.EnergyCPU: 0.0034, record.EnergyLLM: 0.002}},
	}
	remote := &record.Record{
		TraceID: tid, SpanID: record.SpanID{9, 9, 9, 9, 9, 9, 9, 9}, ParentSpanID: record.SpanID{7, 7, 7, 7, 7, 7, 7, 7},
		RemoteParent: true, Kind: record.KindConsumer, Name: "consume",
		Start: t0.Add(2 * time.Second), End: t0.Add(2*time.Second + time.Microsecond),
		Attrs:    []record.Attr{record.Any("payload", map[string]any{"k": "v", "n": 1})},
		Resource: fixtureResource,
	}
	return []*record.Record{root, llm, remote}
}

// gotSpan is a span as a receiver reads it, with its resource and scope.
type gotSpan struct {
	Resource            map[string]any
	ScopeName, ScopeVer string
	TraceID, SpanID     string
	ParentSpanID        string
	Flags               uint32
	Name                string
	Kind                int
	Start, End          uint64
	Attrs               map[string]any
	Events              []gotEvent
	StatusCode          int
	StatusMsg           string
}

type gotEvent struct {
	Name  string
	Time  uint64
	Attrs map[string]any
}

func ns(t time.Time) uint64 { return uint64(t.UnixNano()) }

func wantFixture() []gotSpan {
	res := map[string]any{
		"service.name": "otlp-test", "telemetry.sdk.name": "tracegen", "telemetry.sdk.language": "go",
		"process.pid": int64(4242), "telemetry.sdk.version": runtimeVersion,
	}
	base := gotSpan{Resource: res, ScopeName: ScopeName, ScopeVer: runtimeVersion,
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	root, llm, remote := base, base, base
	root.SpanID, root.Flags, root.Name, root.Kind = "00f067aa0ba902b7", 0x101, "planner", 2
	root.Start, root.End = ns(t0), ns(t0.Add(1500*time.Millisecond))
	root.Attrs = map[string]any{"http.route": "/chat", "tracegen.span.type": "agent", "tracegen.tags": []any{"prod", "eu"}}
	root.StatusCode = 1

	llm.SpanID, llm.ParentSpanID, llm.Flags, llm.Name, llm.Kind = "0102030405060708", "00f067aa0ba902b7", 0x101, "chat gpt-4o-mini", 3
	llm.Start, llm.End = ns(t0.Add(10*time.Millisecond)), ns(t0.Add(900*time.Millisecond))
	llm.Attrs = map[string]any{
		"session.id": "s-1", "user": "u2",
		"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": int64(12), "gen_ai.usage.output_tokens": int64(34),
		"gen_ai.response.finish_reasons": []any{"stop"}, "gen_ai.request.temperature": 0.25, "gen_ai.request.stream": true,
		"tracegen.span.type": "llm", "tracegen.input.prompt": "hi",
		"tracegen.impact.energy_kwh": 1.5e-6, "tracegen.impact.co2e_g": 0.00042, "tracegen.impact.water_l": 3e-6,
		"tracegen.impact.energy_source": "cpu-model+llm-estimate",
		"tracegen.impact.energy_j.cpu":  0.0034, "tracegen.impact.energy_j.llm": 0.002,
	}
	llm.Events = []gotEvent{{Name: "exception", Time: ns(t0.Add(899 * time.Millisecond)), Attrs: map[string]any{
		"exception.type": "*openai.Error", "exception.message": "429 Too Many Requests"}}}
	llm.StatusCode, llm.StatusMsg = 2, "rate limited"

	remote.SpanID, remote.ParentSpanID, remote.Flags, remote.Name, remote.Kind = "0909090909090909", "0707070707070707", 0x301, "consume", 5
	remote.Start, remote.End = ns(t0.Add(2*time.Second)), ns(t0.Add(2*time.Second+time.Microsecond))
	remote.Attrs = map[string]any{"payload": map[string]any{"k": "v", "n": int64(1)}}
	return []gotSpan{root, llm, remote}
}

// compareSpans reports, field by field, how got differs from want; spans
// are matched by span id.
func compareSpans(t *testing.T, got, want []gotSpan) {
	t.Helper()
	byID := map[string]gotSpan{}
	for _, s := range got {
		if _, dup := byID[s.SpanID]; dup {
			t.Errorf("span %s received twice", s.SpanID)
		}
		byID[s.SpanID] = s
	}
	if len(got) != len(want) {
		t.Errorf("received %d spans, want %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := byID[w.SpanID]
		if !ok {
			t.Errorf("span %s (%s) not received", w.SpanID, w.Name)
			continue
		}
		gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
		for i := 0; i < gv.NumField(); i++ {
			if f := gv.Type().Field(i); !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("span %s %s:\n got  %#v\n want %#v", w.Name, f.Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
}

// fromProto reads spans from an ExportTraceServiceRequest in protobuf.
func fromProto(t *testing.T, body []byte) []gotSpan {
	t.Helper()
	var td tracepb.TracesData
	if err := proto.Unmarshal(body, &td); err != nil {
		t.Fatalf("body is not an ExportTraceServiceRequest: %v", err)
	}
	var out []gotSpan
	for _, rs := range td.ResourceSpans {
		res := protoKVs(rs.Resource.GetAttributes())
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				g := gotSpan{Resource: res, ScopeName: ss.Scope.GetName(), ScopeVer: ss.Scope.GetVersion(),
					TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					ParentSpanID: hex.EncodeToString(s.ParentSpanId), Flags: s.Flags, Name: s.Name, Kind: int(s.Kind),
					Start: s.StartTimeUnixNano, End: s.EndTimeUnixNano, Attrs: protoKVs(s.Attributes),
					StatusCode: int(s.Status.GetCode()), StatusMsg: s.Status.GetMessage()}
				for _, e := range s.Events {
					g.Events = append(g.Events, gotEvent{Name: e.Name, Time: e.TimeUnixNano, Attrs: protoKVs(e.Attributes)})
				}
				out = append(out, g)
			}
		}
	}
	return out
}

func protoKVs(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[kv.Key] = protoValue(kv.Value)
	}
	return m
}

func protoValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		var a []any
		for _, e := range x.ArrayValue.Values {
			a = append(a, protoValue(e))
		}
		return a
	case *commonpb.AnyValue_KvlistValue:
		return protoKVs(x.KvlistValue.Values)
	}
	return nil
}

// fromJSON reads spans from OTLP/JSON: one TracesData object per line, as
// the request body of http/json and as the Collector's file exporter
// writes them.
func fromJSON(t *testing.T, data []byte) []gotSpan {
	t.Helper()
	var out []gotSpan
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var td jTraces
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&td); err != nil {
			t.Fatalf("line %d is not OTLP/JSON: %v\n%s", i+1, err, line)
		}
		for _, rs := range td.ResourceSpans {
			res := jsonKVs(t, rs.Resource.Attributes)
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					g := gotSpan{Resource: res, ScopeName: ss.Scope.Name, ScopeVer: ss.Scope.Version,
						TraceID: strings.ToLower(s.TraceID), SpanID: strings.ToLower(s.SpanID),
						ParentSpanID: strings.ToLower(s.ParentSpanID), Flags: uint32(jsonInt(t, s.Flags)), Name: s.Name,
						Kind: int(jsonInt(t, s.Kind)), Start: uint64(jsonInt(t, s.Start)), End: uint64(jsonInt(t, s.End)),
						Attrs: jsonKVs(t, s.Attributes), StatusCode: int(jsonInt(t, s.Status.Code)), StatusMsg: s.Status.Message}
					for _, e := range s.Events {
						g.Events = append(g.Events, gotEvent{Name: e.Name, Time: uint64(jsonInt(t, e.Time)), Attrs: jsonKVs(t, e.Attributes)})
					}
					out = append(out, g)
				}
			}
		}
	}
	return out
}

type jTraces struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes []jKV `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []struct {
			Scope struct{ Name, Version string } `json:"scope"`
			Spans []struct {
				TraceID      string      `json:"traceId"`
				SpanID       string      `json:"spanId"`
				ParentSpanID string      `json:"parentSpanId"`
				Flags        json.Number `json:"flags"`
				Name         string      `json:"name"`
				Kind         json.Number `json:"kind"`
				Start        json.Number `json:"startTimeUnixNano"`
				End          json.Number `json:"endTimeUnixNano"`
				Attributes   []jKV       `json:"attributes"`
				Events       []struct {
					Time       json.Number `json:"timeUnixNano"`
					Name       string      `json:"name"`
					Attributes []jKV       `json:"attributes"`
				} `json:"events"`
				Status struct {
					Code    json.Number `json:"code"`
					Message string      `json:"message"`
				} `json:"status"`
			} `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

type jKV struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

// jsonInt reads an integer written as a number or a string ("" is 0).
func jsonInt(t *testing.T, n json.Number) int64 {
	t.Helper()
	if n == "" {
		return 0
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		t.Fatalf("bad integer %q", n)
	}
	return i
}

func jsonKVs(t *testing.T, kvs []jKV) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[kv.Key] = jsonValue(t, kv.Value)
	}
	return m
}

func jsonValue(t *testing.T, v map[string]any) any {
	t.Helper()
	for k, x := range v {
		switch k {
		case "stringValue":
			return x.(string)
		case "intValue":
			return jsonInt(t, json.Number(fmt.Sprint(x)))
		case "doubleValue":
			f, err := strconv.ParseFloat(fmt.Sprint(x), 64)
			if err != nil {
				t.Fatalf("bad double %v", x)
			}
			return f
		case "boolValue":
			return x.(bool)
		case "bytesValue":
			b, _ := base64.StdEncoding.DecodeString(x.(string))
			return b
		case "arrayValue":
			var a []any
			for _, e := range x.(map[string]any)["values"].([]any) {
				a = append(a, jsonValue(t, e.(map[string]any)))
			}
			return a
		case "kvlistValue":
			m := map[string]any{}
			for _, e := range x.(map[string]any)["values"].([]any) {
				e := e.(map[string]any)
				m[e["key"].(string)] = jsonValue(t, e["value"].(map[string]any))
			}
			return m
		}
	}
	return nil
}

// body reads a request body, gunzipping it when it says so.
func body(t *testing.T, r *http.Request) []byte {
	t.Helper()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Errorf("gzip body: %v", err)
			return nil
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	return b
}

func spanIDs(spans []gotSpan) []string {
	var ids []string
	for _, s := range spans {
		ids = append(ids, s.SpanID)
	}
	sort.Strings(ids)
	return ids
}
