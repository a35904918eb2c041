// Package record holds the plain data of a finished span and its JSONL encoding.
//
// A [Record] is what the span core in runtime/trace hands to exporters once a
// span has ended: identifiers, name, kind and GenAI type, times, status,
// attributes (own and inherited), events, captured input/output, the
// resource of the process and the environmental [Impact] of the work done
// inside the span. Records are immutable once handed to an exporter; an
// exporter may keep the pointer for as long as it likes.
//
// Attribute values are a small tagged union ([Value]), in the spirit of
// log/slog: scalars are stored without boxing, slices, maps and other values
// are kept as any and encoded with encoding/json.
//
// [Record.AppendJSON] writes the stable JSONL form, one object per span:
//
//	{"trace_id":"<32 hex>","span_id":"<16 hex>","parent_span_id":"<16 hex or empty>",
//	 "name":"...","kind":"internal","type":"llm","start_time":"<RFC 3339 nanoseconds UTC>",
//	 "end_time":"...","duration_ms":1.5,"status":"unset|ok|error","status_message":"",
//	 "attributes":{...},"resource":{...},"events":[...],
//	 "impact":{"energy_kwh":0,"co2e_g":0,"water_l":0,"energy_source":""}}
//
// The optional keys "tags", "input" and "output" are added when present, and
// "impact" gains "energy_j" (joules per source) when energy was measured. A
// snapshot of a running span (Record.Snapshot) has "end_time":"",
// "duration_ms":0 and "snapshot":true before "impact".
package record
