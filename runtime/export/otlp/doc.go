// Package otlp is the OTLP/HTTP exporter of tracegen: linked with a blank
// import, it sends finished spans to an OpenTelemetry Collector or any
// OTLP/HTTP back end when TRACEGEN_EXPORTER=otlp.
//
//	import _ "github.com/tracegen-dev/tracegen/runtime/export/otlp"
//
// It is configured by the OpenTelemetry variables ([ConfigFromEnv]):
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// _PROTOCOL (http/protobuf, the default, or http/json), _HEADERS,
// _COMPRESSION=gzip and _TIMEOUT, with the TRACES_ variant of each
// winning. Bodies are ExportTraceServiceRequest messages built from the
// official generated types of go.opentelemetry.io/proto/otlp (the trace,
// common and resource packages, which do not link gRPC).
//
// The model: the span pipeline of runtime/trace calls Export from its one
// batcher goroutine; Export converts the records to OTLP spans (ids,
// parent, kind, status, events, attributes; the span type, tags, captured
// content and the energy, CO2e and water figures become tracegen.*
// attributes) and puts them in a bounded queue, without touching the
// network, so a slow or unreachable endpoint never holds up the program.
// A sender goroutine, running only while spans are queued, posts them in
// batches (a second one joins while a full batch waits behind the request
// in flight). A batch the server did not take (connection refused, 429, 502,
// 503, 504) is sent again after an exponential backoff with jitter, or
// after the server's Retry-After; while it waits, new spans queue up to
// Config.QueueSize and the rest are dropped and counted. A batch is sent
// at most once: once the whole request may have reached the server (it
// did not answer within the timeout), it is never resent. Warnings go to
// stderr, one line per minute at most, and never contain header values.
// Shutdown sends what is left within its deadline (5 s by default).
package otlp
