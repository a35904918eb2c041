package otel

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func init() {
	export.Register("otel", func() (export.Exporter, error) { return New(), nil })
}

// ScopeName is the instrumentation scope of the spans Export hands over.
const ScopeName = "github.com/tracegen-dev/tracegen/runtime"

// ErrIDsNotKept is wrapped by the error of an Export whose spans the
// global TracerProvider gave other ids: it was not built with
// [IDGenerator], or it is not the SDK's (no TracerProvider was set).
var ErrIDsNotKept = errors.New("the global TracerProvider does not keep tracegen's span ids " +
	"(build it with sdktrace.WithIDGenerator(otel.IDGenerator(nil)), package github.com/tracegen-dev/tracegen/runtime/export/otel)")

// Exporter hands spans to the global TracerProvider; see the package
// documentation. It is safe for concurrent use.
type Exporter struct {
	handed, notKept atomic.Int64
}

// New returns an exporter to the global TracerProvider, which it looks up
// at each Export (a provider set after the first span is used).
func New() *Exporter { return &Exporter{} }

// Stats counts the spans the exporter handed over and those the
// TracerProvider gave other ids (not ended).
type Stats struct {
	Handed, NotKept int64
}

// Stats returns the exporter's counts.
func (e *Exporter) Stats() Stats { return Stats{Handed: e.handed.Load(), NotKept: e.notKept.Load()} }

// Export starts and ends one OpenTelemetry span per record. It keeps
// nothing of the records (ReleasesRecords).
func (e *Exporter) Export(ctx context.Context, recs []*record.Record) error {
	tracer := otelapi.GetTracerProvider().Tracer(ScopeName)
	bad := 0
	for _, r := range recs {
		if !hand(tracer, r) {
			bad++
		}
	}
	e.handed.Add(int64(len(recs) - bad))
	if bad > 0 {
		e.notKept.Add(int64(bad))
		return fmt.Errorf("otel exporter: %d of %d spans not handed over: %w", bad, len(recs), ErrIDsNotKept)
	}
	return nil
}

// hand starts and ends r's span, or returns false, ending nothing, when
// the tracer gave it other ids.
func hand(tracer oteltrace.Tracer, r *record.Record) bool {
	ctx := withIDs(context.Background(), r.TraceID, r.SpanID)
	if r.ParentSpanID.IsValid() {
		ctx = oteltrace.ContextWithSpanContext(ctx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
			TraceID: oteltrace.TraceID(r.TraceID), SpanID: oteltrace.SpanID(r.ParentSpanID),
			TraceFlags: oteltrace.FlagsSampled, Remote: r.RemoteParent,
		}))
	}
	_, sp := tracer.Start(ctx, r.Name, oteltrace.WithTimestamp(r.Start), oteltrace.WithSpanKind(kinds[r.Kind%record.Kind(len(kinds))]),
		oteltrace.WithAttributes(attrs(r)...))
	if sc := sp.SpanContext(); sc.TraceID() != oteltrace.TraceID(r.TraceID) || sc.SpanID() != oteltrace.SpanID(r.SpanID) {
		return false
	}
	for _, ev := range r.Events {
		kvs := make([]attribute.KeyValue, 0, len(ev.Attrs))
		for _, a := range ev.Attrs {
			kvs = append(kvs, kv(a.Key, a.Value))
		}
		sp.AddEvent(ev.Name, oteltrace.WithTimestamp(ev.Time), oteltrace.WithAttributes(kvs...))
	}
	switch r.Status {
	case record.StatusOK:
		sp.SetStatus(codes.Ok, "")
	case record.StatusError:
		sp.SetStatus(codes.Error, r.StatusMsg)
	}
	sp.End(oteltrace.WithTimestamp(r.End))
	return true
}

var kinds = [...]oteltrace.SpanKind{
	record.KindInternal: oteltrace.SpanKindInternal,
	record.KindServer:   oteltrace.SpanKindServer,
	record.KindClient:   oteltrace.SpanKindClient,
	record.KindProducer: oteltrace.SpanKindProducer,
	record.KindConsumer: oteltrace.SpanKindConsumer,
}

// Shutdown does nothing: the TracerProvider is the program's, and so is
// its shutdown.
func (e *Exporter) Shutdown(context.Context) error { return nil }

// ReleasesRecords reports that Export keeps nothing of a record.
func (e *Exporter) ReleasesRecords() bool { return true }

// Attribute keys of what a record holds besides its attributes, as the
// otlp exporter names them.
const (
	AttrType         = "tracegen.span.type"
	AttrTags         = "tracegen.tags"
	AttrInputPrefix  = "tracegen.input."
	AttrOutputPrefix = "tracegen.output."
	AttrEnergyKWh    = "tracegen.impact.energy_kwh"
	AttrCO2eG        = "tracegen.impact.co2e_g"
	AttrWaterL       = "tracegen.impact.water_l"
	AttrEnergySource = "tracegen.impact.energy_source"
	AttrEnergyJ      = "tracegen.impact.energy_j." // + cpu, memory, gpu, llm
)

// attrs are the span's attributes: inherited ones overridden by its own
// (the last value of a key wins), then type, tags, input, output, impact.
func attrs(r *record.Record) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(r.Inherited)+len(r.Attrs)+len(r.Input)+len(r.Output)+4)
	all := append(append(make([]record.Attr, 0, len(r.Inherited)+len(r.Attrs)), r.Inherited...), r.Attrs...)
	for i, a := range all {
		dup := false
		for _, b := range all[i+1:] {
			dup = dup || b.Key == a.Key
		}
		if !dup {
			out = append(out, kv(a.Key, a.Value))
		}
	}
	if r.Type != record.TypeNone {
		out = append(out, attribute.String(AttrType, r.Type.String()))
	}
	if len(r.Tags) > 0 {
		out = append(out, attribute.StringSlice(AttrTags, r.Tags))
	}
	for _, a := range r.Input {
		out = append(out, kv(AttrInputPrefix+a.Key, a.Value))
	}
	for _, a := range r.Output {
		out = append(out, kv(AttrOutputPrefix+a.Key, a.Value))
	}
	if im := &r.Impact; !im.IsZero() {
		out = append(out, attribute.Float64(AttrEnergyKWh, im.EnergyKWh), attribute.Float64(AttrCO2eG, im.CO2eG),
			attribute.Float64(AttrWaterL, im.WaterL), attribute.String(AttrEnergySource, im.EnergySource))
		for i, j := range im.Joules {
			if j != 0 {
				out = append(out, attribute.Float64(AttrEnergyJ+record.EnergySource(i).String(), j))
			}
		}
	}
	return out
}

// kv converts a value: scalars and slices of scalars as such, anything
// else as its JSON text (as the JSONL record has it).
func kv(k string, v record.Value) attribute.KeyValue {
	switch v.Kind() {
	case record.ValueString:
		return attribute.String(k, v.Str())
	case record.ValueInt64:
		return attribute.Int64(k, v.Int64())
	case record.ValueFloat64:
		return attribute.Float64(k, v.Float64())
	case record.ValueBool:
		return attribute.Bool(k, v.Bool())
	}
	switch x := v.Any().(type) {
	case []string:
		return attribute.StringSlice(k, x)
	case []int64:
		return attribute.Int64Slice(k, x)
	case []int:
		return attribute.IntSlice(k, x)
	case []float64:
		return attribute.Float64Slice(k, x)
	case []bool:
		return attribute.BoolSlice(k, x)
	case nil:
		return attribute.String(k, "")
	default:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.String {
			s := make([]string, rv.Len())
			for i := range s {
				s[i] = rv.Index(i).String()
			}
			return attribute.StringSlice(k, s)
		}
	}
	return attribute.String(k, string(record.AppendValue(nil, v)))
}
