package record

import "time"

// Event is a timestamped annotation inside a span, such as "exception".
type Event struct {
	Name  string
	Time  time.Time
	Attrs []Attr
}

// Impact is the environmental footprint of the work done inside a span.
// EnergyKWh, CO2eG and WaterL stay 0 until an energy sampler or an LLM
// footprint estimate fills them.
type Impact struct {
	EnergyKWh    float64
	CO2eG        float64
	WaterL       float64
	EnergySource string // e.g. "rapl", "tdp-estimate", "ecologits"; "" when unknown
	// Joules is the energy per source (cpu, memory, gpu, llm), including the
	// energy rolled up from child spans.
	Joules [NumEnergySources]float64
}

// IsZero reports whether nothing was measured or estimated.
func (im *Impact) IsZero() bool {
	return im.EnergyKWh == 0 && im.CO2eG == 0 && im.WaterL == 0 && im.EnergySource == "" &&
		im.Joules == [NumEnergySources]float64{}
}

// Record is a finished span. Exporters receive *Record and must treat it as
// read-only; they may keep the pointer.
type Record struct {
	TraceID      TraceID
	SpanID       SpanID
	ParentSpanID SpanID // zero for a root span
	// RemoteParent is true when the parent span lives outside this process
	// (adopted from an OpenTelemetry span context); the span is then the
	// root of the local tree even though ParentSpanID is set.
	RemoteParent bool
	// Snapshot is true for a copy of a span that is still running
	// (trace.Span.Snapshot): End is zero, and the span will be exported
	// again, finished, when it ends.
	Snapshot   bool
	Kind       Kind
	Type       Type
	Status     Status
	Name       string
	Start, End time.Time
	StatusMsg  string
	// Attrs are the span's own attributes, in the order they were set; a
	// later value for the same key wins when encoded.
	Attrs []Attr
	// Inherited are attributes copied from ancestors (and set with
	// WithInherited on this span); own Attrs override them on output.
	Inherited []Attr
	Tags      []string
	Events    []Event
	Input     []Attr // captured input (empty when capture is off)
	Output    []Attr // captured output
	// Resource holds the process-wide attributes, one slice shared
	// between records; it is not changed in place once a record holding
	// it has been exported (the JSON encoder caches the encoding of the
	// slice it meets most).
	Resource []Attr
	Impact   Impact
}

// IsLocalRoot reports whether the span has no parent inside this process.
func (r *Record) IsLocalRoot() bool { return !r.ParentSpanID.IsValid() || r.RemoteParent }

// Duration returns End - Start (0 for a snapshot, which has no end yet).
func (r *Record) Duration() time.Duration {
	if r.Snapshot {
		return 0
	}
	return r.End.Sub(r.Start)
}

// Lookup returns the value of key among the span's own attributes (last
// one wins) and then its inherited attributes.
func (r *Record) Lookup(key string) (Value, bool) {
	for i := len(r.Attrs) - 1; i >= 0; i-- {
		if r.Attrs[i].Key == key {
			return r.Attrs[i].Value, true
		}
	}
	for i := len(r.Inherited) - 1; i >= 0; i-- {
		if r.Inherited[i].Key == key {
			return r.Inherited[i].Value, true
		}
	}
	return Value{}, false
}
