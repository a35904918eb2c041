package otlp

import (
	"reflect"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracegen-dev/tracegen/runtime/record"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Attribute keys of the record fields OpenTelemetry has no field for.
const (
	AttrType         = "tracegen.span.type" // llm, tool, agent, chain, task
	AttrTags         = "tracegen.tags"      // string array
	AttrInputPrefix  = "tracegen.input."    // + the captured argument's name
	AttrOutputPrefix = "tracegen.output."   // + the captured result's name
	AttrEnergyKWh    = "tracegen.impact.energy_kwh"
	AttrCO2eG        = "tracegen.impact.co2e_g"
	AttrWaterL       = "tracegen.impact.water_l"
	AttrEnergySource = "tracegen.impact.energy_source"
	AttrEnergyJ      = "tracegen.impact.energy_j." // + cpu, memory, gpu, llm
)

// ScopeName is the instrumentation scope of every span.
const ScopeName = "github.com/tracegen-dev/tracegen/runtime"

// runtimeVersion is the version of the runtime module linked into the
// program, "devel" in a development build.
var runtimeVersion = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == ScopeName && m.Replace == nil && m.Version != "" {
				return m.Version
			}
		}
	}
	return "devel"
}()

// queued is a converted span waiting for delivery, with the resource of its
// process.
type queued struct {
	res  *resourcepb.Resource
	span *tracepb.Span
}

// converter turns records into OTLP spans. It is used by Export only (one
// goroutine), and caches the converted resource, which the span pipeline
// shares between the records of a process.
type converter struct {
	lastRes []record.Attr // the slice last converted (compared by identity)
	res     *resourcepb.Resource
	// Slabs: attributes are allocated 256 at a time.
	kvs  slab[commonpb.KeyValue]
	vals slab[commonpb.AnyValue]
	strs slab[commonpb.AnyValue_StringValue]
	ints slab[commonpb.AnyValue_IntValue]
	dbls slab[commonpb.AnyValue_DoubleValue]
}

// slab hands out pointers into arrays of 256 values, one allocation each,
// rather than one allocation per value. An array lives as long as any of
// its values is queued.
type slab[T any] struct{ free []T }

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, 256)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// validUTF8 replaces invalid UTF-8 with U+FFFD: protobuf refuses to encode
// such strings, and one would lose its whole batch.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func sameSlice(a, b []record.Attr) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (c *converter) resource(attrs []record.Attr) *resourcepb.Resource {
	if c.res != nil && sameSlice(attrs, c.lastRes) {
		return c.res
	}
	r := &resourcepb.Resource{}
	hasVersion := false
	for _, a := range attrs {
		hasVersion = hasVersion || a.Key == "telemetry.sdk.version"
		r.Attributes = append(r.Attributes, c.kv(a.Key, a.Value))
	}
	if !hasVersion {
		r.Attributes = append(r.Attributes, c.kv("telemetry.sdk.version", record.StringValue(runtimeVersion)))
	}
	c.lastRes, c.res = attrs, r
	return r
}

func (c *converter) kv(k string, v record.Value) *commonpb.KeyValue {
	kv := c.kvs.next()
	kv.Key = validUTF8(k)
	kv.Value = c.value(v)
	return kv
}

// value converts a record value: scalars as such, slices and arrays as
// array values, maps with string keys as key-value lists, []byte as bytes,
// and anything else as its JSON text (as the JSONL record has it).
func (c *converter) value(v record.Value) *commonpb.AnyValue {
	av := c.vals.next()
	switch v.Kind() {
	case record.ValueString:
		x := c.strs.next()
		x.StringValue = validUTF8(v.Str())
		av.Value = x
	case record.ValueInt64:
		x := c.ints.next()
		x.IntValue = v.Int64()
		av.Value = x
	case record.ValueFloat64:
		x := c.dbls.next()
		x.DoubleValue = v.Float64()
		av.Value = x
	case record.ValueBool:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: v.Bool()}
	default:
		c.composite(av, v.Any())
	}
	return av
}

// composite fills av from a value that is not a scalar.
func (c *converter) composite(av *commonpb.AnyValue, x any) {
	if x == nil {
		return // an empty AnyValue
	}
	if b, ok := x.([]byte); ok {
		av.Value = &commonpb.AnyValue_BytesValue{BytesValue: append([]byte(nil), b...)}
		return
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		arr := &commonpb.ArrayValue{Values: make([]*commonpb.AnyValue, rv.Len())}
		for i := range arr.Values {
			arr.Values[i] = c.value(record.AnyValue(rv.Index(i).Interface()))
		}
		av.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: arr}
		return
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			kl := &commonpb.KeyValueList{}
			it := rv.MapRange()
			for it.Next() {
				kl.Values = append(kl.Values, c.kv(it.Key().String(), record.AnyValue(it.Value().Interface())))
			}
			sortKVs(kl.Values)
			av.Value = &commonpb.AnyValue_KvlistValue{KvlistValue: kl}
			return
		}
	}
	av.Value = &commonpb.AnyValue_StringValue{StringValue: string(record.AppendValue(nil, record.AnyValue(x)))}
}

func sortKVs(kvs []*commonpb.KeyValue) {
	for i := 1; i < len(kvs); i++ {
		for j := i; j > 0 && kvs[j].Key < kvs[j-1].Key; j-- {
			kvs[j], kvs[j-1] = kvs[j-1], kvs[j]
		}
	}
}

var kinds = [...]tracepb.Span_SpanKind{
	record.KindInternal: tracepb.Span_SPAN_KIND_INTERNAL,
	record.KindServer:   tracepb.Span_SPAN_KIND_SERVER,
	record.KindClient:   tracepb.Span_SPAN_KIND_CLIENT,
	record.KindProducer: tracepb.Span_SPAN_KIND_PRODUCER,
	record.KindConsumer: tracepb.Span_SPAN_KIND_CONSUMER,
}

var statuses = [...]tracepb.Status_StatusCode{
	record.StatusUnset: tracepb.Status_STATUS_CODE_UNSET,
	record.StatusOK:    tracepb.Status_STATUS_CODE_OK,
	record.StatusError: tracepb.Status_STATUS_CODE_ERROR,
}

// W3C trace flags: every exported span was sampled.
const (
	flagSampled  = 0x01
	flagHasIsRem = uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	flagIsRemote = uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
)

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

// spanAlloc is what span allocates per record.
type spanAlloc struct {
	span   tracepb.Span
	status tracepb.Status
	ids    [32]byte // trace, span and parent span id
}

// span converts one record. Attributes are the inherited ones, then the
// span's own (a key keeps its last value, as in the JSONL record), then
// the record fields OpenTelemetry has no place for.
func (c *converter) span(r *record.Record) *tracepb.Span {
	// One allocation holds the span, its status and its three ids; records
	// are recycled after Export, so nothing may point into r.
	a := &spanAlloc{}
	copy(a.ids[:], r.TraceID[:])
	copy(a.ids[16:], r.SpanID[:])
	s := &a.span
	s.TraceId, s.SpanId = a.ids[:16:16], a.ids[16:24:24]
	s.Name, s.Kind = validUTF8(r.Name), tracepb.Span_SPAN_KIND_INTERNAL
	s.StartTimeUnixNano, s.EndTimeUnixNano = unixNano(r.Start), unixNano(r.End)
	s.Flags = flagSampled | flagHasIsRem
	a.status.Message = validUTF8(r.StatusMsg)
	s.Status = &a.status
	if r.ParentSpanID.IsValid() {
		copy(a.ids[24:], r.ParentSpanID[:])
		s.ParentSpanId = a.ids[24:32:32]
		if r.RemoteParent {
			s.Flags |= flagIsRemote
		}
	}
	if int(r.Kind) < len(kinds) {
		s.Kind = kinds[r.Kind]
	}
	if int(r.Status) < len(statuses) {
		s.Status.Code = statuses[r.Status]
	}
	s.Attributes = c.attrs(r)
	if len(r.Events) > 0 {
		evs := make([]tracepb.Span_Event, len(r.Events))
		s.Events = make([]*tracepb.Span_Event, len(r.Events))
		for i, e := range r.Events {
			evs[i].Name, evs[i].TimeUnixNano = validUTF8(e.Name), unixNano(e.Time)
			evs[i].Attributes = make([]*commonpb.KeyValue, len(e.Attrs))
			for j, a := range e.Attrs {
				evs[i].Attributes[j] = c.kv(a.Key, a.Value)
			}
			s.Events[i] = &evs[i]
		}
	}
	return s
}

func (c *converter) attrs(r *record.Record) []*commonpb.KeyValue {
	n := len(r.Inherited) + len(r.Attrs) + len(r.Input) + len(r.Output) + 1
	if len(r.Tags) > 0 {
		n++
	}
	if !r.Impact.IsZero() {
		n += 4 + int(record.NumEnergySources)
	}
	out := make([]*commonpb.KeyValue, 0, n)
	all := func(i int) record.Attr {
		if i < len(r.Inherited) {
			return r.Inherited[i]
		}
		return r.Attrs[i-len(r.Inherited)]
	}
	total := len(r.Inherited) + len(r.Attrs)
	for i := 0; i < total; i++ {
		a := all(i)
		dup := false
		for j := i + 1; j < total && !dup; j++ {
			dup = all(j).Key == a.Key
		}
		if !dup {
			out = append(out, c.kv(a.Key, a.Value))
		}
	}
	if r.Type != record.TypeNone {
		out = append(out, c.kv(AttrType, record.StringValue(r.Type.String())))
	}
	if len(r.Tags) > 0 {
		out = append(out, c.kv(AttrTags, record.AnyValue(r.Tags)))
	}
	for _, a := range r.Input {
		out = append(out, c.kv(AttrInputPrefix+a.Key, a.Value))
	}
	for _, a := range r.Output {
		out = append(out, c.kv(AttrOutputPrefix+a.Key, a.Value))
	}
	if im := &r.Impact; !im.IsZero() {
		out = append(out,
			c.kv(AttrEnergyKWh, record.Float64Value(im.EnergyKWh)),
			c.kv(AttrCO2eG, record.Float64Value(im.CO2eG)),
			c.kv(AttrWaterL, record.Float64Value(im.WaterL)),
			c.kv(AttrEnergySource, record.StringValue(im.EnergySource)))
		for i, j := range im.Joules {
			if j != 0 {
				out = append(out, c.kv(AttrEnergyJ+record.EnergySource(i).String(), record.Float64Value(j)))
			}
		}
	}
	return out
}
