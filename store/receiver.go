package store

import (
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/runtime/record"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TracesPath is where OTLP/HTTP sends spans: an exporter whose
// OTEL_EXPORTER_OTLP_ENDPOINT is http://host:port posts to
// http://host:port/v1/traces.
const TracesPath = "/v1/traces"

// maxBody is the largest request body the receiver reads (decompressed).
const maxBody = 64 << 20

// Receiver is an OTLP/HTTP trace receiver that ingests what it is sent
// into a store: POST /v1/traces with an ExportTraceServiceRequest as
// application/x-protobuf or application/json (OTLP/JSON), optionally
// gzip-compressed. It answers as the OTLP specification asks: 200 with an
// empty ExportTraceServiceResponse in the request's encoding, 400 with a
// google.rpc.Status for a body it cannot decode, 415 for another content
// type.
type Receiver struct {
	store *Store
	// Logf, when set, is called once per request that adds spans or fails.
	Logf func(format string, args ...any)

	requests, spans, added atomic.Int64
}

// NewReceiver returns a receiver that ingests into s.
func NewReceiver(s *Store) *Receiver { return &Receiver{store: s} }

// Counts returns how many requests were accepted, spans received and spans
// added (the rest were already stored).
func (rc *Receiver) Counts() (requests, spans, added int64) {
	return rc.requests.Load(), rc.spans.Load(), rc.added.Load()
}

func (rc *Receiver) logf(format string, args ...any) {
	if rc.Logf != nil {
		rc.Logf(format, args...)
	}
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != TracesPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: POST an ExportTraceServiceRequest", http.StatusMethodNotAllowed)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := ct == "application/json"
	if !isJSON && ct != "application/x-protobuf" {
		http.Error(w, fmt.Sprintf("unsupported content type %q: send application/x-protobuf or application/json", ct),
			http.StatusUnsupportedMediaType)
		return
	}
	recs, err := readRequest(r, isJSON)
	if err != nil {
		rc.logf("collect: %s from %s: %v", r.URL.Path, r.RemoteAddr, err)
		writeStatus(w, isJSON, http.StatusBadRequest, err.Error())
		return
	}
	res, err := rc.store.IngestRecords(r.Context(), "otlp/http", recs)
	if err != nil {
		rc.logf("collect: %v", err)
		writeStatus(w, isJSON, http.StatusServiceUnavailable, "the store could not take the spans")
		return
	}
	rc.requests.Add(1)
	rc.spans.Add(int64(res.Read))
	rc.added.Add(int64(res.Added))
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// readRequest reads and decodes a request body.
func readRequest(r *http.Request, isJSON bool) ([]*record.Record, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %v", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("unsupported content encoding %q", enc)
	}
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %v", err)
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("body over %d bytes", maxBody)
	}
	if isJSON {
		return report.OTLPRecords(data)
	}
	return protoRecords(data)
}

// protoRecords decodes an ExportTraceServiceRequest in protobuf. The
// request is one repeated field (1: ResourceSpans), read here with
// protowire so that the collector service package, which links gRPC, is
// not needed.
func protoRecords(b []byte) ([]*record.Record, error) {
	var out []*record.Record
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("protobuf: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, fmt.Errorf("protobuf: %v", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, fmt.Errorf("protobuf: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var rs tracepb.ResourceSpans
		if err := proto.Unmarshal(v, &rs); err != nil {
			return nil, fmt.Errorf("protobuf: %v", err)
		}
		recs, err := resourceRecords(&rs)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

func resourceRecords(rs *tracepb.ResourceSpans) ([]*record.Record, error) {
	res := protoAttrs(rs.GetResource().GetAttributes())
	var out []*record.Record
	for _, ss := range rs.GetScopeSpans() {
		for _, p := range ss.GetSpans() {
			o := report.OTLPSpan{
				Name: p.GetName(), Kind: int(p.GetKind()), Start: p.GetStartTimeUnixNano(), End: p.GetEndTimeUnixNano(),
				StatusCode: int(p.GetStatus().GetCode()), StatusMessage: p.GetStatus().GetMessage(),
				Attributes: protoAttrs(p.GetAttributes()),
				Remote:     p.GetFlags()&uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK) != 0,
			}
			if len(p.GetTraceId()) != len(o.TraceID) || len(p.GetSpanId()) != len(o.SpanID) {
				return nil, fmt.Errorf("span %q: trace id of %d bytes, span id of %d", p.GetName(), len(p.GetTraceId()), len(p.GetSpanId()))
			}
			copy(o.TraceID[:], p.GetTraceId())
			copy(o.SpanID[:], p.GetSpanId())
			if len(p.GetParentSpanId()) == len(o.ParentSpanID) {
				copy(o.ParentSpanID[:], p.GetParentSpanId())
			}
			for _, e := range p.GetEvents() {
				o.Events = append(o.Events, record.Event{Name: e.GetName(), Time: unixTime(e.GetTimeUnixNano()), Attrs: protoAttrs(e.GetAttributes())})
			}
			out = append(out, report.OTLPRecord(&o, res))
		}
	}
	return out, nil
}

func protoAttrs(kvs []*commonpb.KeyValue) []record.Attr {
	out := make([]record.Attr, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, record.Attr{Key: kv.GetKey(), Value: record.AnyValue(protoValue(kv.GetValue()))})
	}
	return out
}

// protoValue converts an AnyValue to a Go value: scalars, []any, map[string]any, []byte.
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
		out := make([]any, len(x.ArrayValue.GetValues()))
		for i, e := range x.ArrayValue.GetValues() {
			out[i] = protoValue(e)
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		out := map[string]any{}
		for _, kv := range x.KvlistValue.GetValues() {
			out[kv.GetKey()] = protoValue(kv.GetValue())
		}
		return out
	}
	return nil
}

// writeStatus answers a failed request with a google.rpc.Status (code 3,
// INVALID_ARGUMENT, or 14, UNAVAILABLE) in the request's encoding.
func writeStatus(w http.ResponseWriter, isJSON bool, httpCode int, msg string) {
	code := 3
	if httpCode == http.StatusServiceUnavailable {
		code = 14
	}
	if isJSON {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(httpCode)
		fmt.Fprintf(w, `{"code":%d,"message":%q}`, code, msg)
		return
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(httpCode)
	w.Write(b)
}

func unixTime(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns)).UTC()
}
