package record

// Kind is the OpenTelemetry span kind.
type Kind uint8

// Span kinds, as in OpenTelemetry. The zero value is KindInternal.
const (
	KindInternal Kind = iota
	KindServer
	KindClient
	KindProducer
	KindConsumer
)

var kindNames = [...]string{"internal", "server", "client", "producer", "consumer"}

// String returns the lower-case name used in JSONL ("internal", "client", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Type is the GenAI-style span type; the zero value TypeNone means untyped.
type Type uint8

// Span types. They follow the vocabulary of LLM observability tools.
const (
	TypeNone Type = iota
	TypeLLM
	TypeTool
	TypeAgent
	TypeChain
	TypeTask
)

var typeNames = [...]string{"", "llm", "tool", "agent", "chain", "task"}

// String returns the JSONL name ("llm", "tool", ...), or "" for TypeNone.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return ""
}

// Status is the outcome of a span.
type Status uint8

// Span statuses, as in OpenTelemetry.
const (
	StatusUnset Status = iota
	StatusOK
	StatusError
)

var statusNames = [...]string{"unset", "ok", "error"}

// String returns "unset", "ok" or "error".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unset"
}

// EnergySource names where a span's energy was measured or estimated.
type EnergySource uint8

// Energy sources. NumEnergySources is the size of per-source arrays.
const (
	EnergyCPU EnergySource = iota
	EnergyMemory
	EnergyGPU
	EnergyLLM
	NumEnergySources
)

var sourceNames = [...]string{"cpu", "memory", "gpu", "llm"}

// String returns "cpu", "memory", "gpu" or "llm".
func (e EnergySource) String() string {
	if int(e) < len(sourceNames) {
		return sourceNames[e]
	}
	return "unknown"
}
