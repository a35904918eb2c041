// Package otel is the "otel" exporter: it hands tracegen's finished spans
// to the global OpenTelemetry TracerProvider the program set up
// (otel.SetTracerProvider), so they travel through the program's own
// pipeline (its span processors, exporters, limits and resource) with
// their real ids, parent links, start and end times, kind, status, events
// and attributes. A program links it with a blank import and turns it on
// with TRACEGEN_EXPORTER=otel.
//
// # Span ids
//
// The OpenTelemetry API cannot make a span with given ids: a tracer takes
// the trace id from the parent span context it is given, but always asks
// its TracerProvider's IDGenerator for the span id, and the SpanProcessors
// a span would reach are not reachable from outside the SDK. The
// IDGenerator is the one place the SDK lets ids in, and it is handed the
// context of each Start. So the program builds its TracerProvider with
// this package's generator, which answers with the ids a context carries
// and otherwise asks the generator the program used (or the SDK's random
// one):
//
//	tp := sdktrace.NewTracerProvider(
//		sdktrace.WithIDGenerator(tracegenotel.IDGenerator(nil)),
//		sdktrace.WithBatcher(exporter),
//	)
//	otel.SetTracerProvider(tp)
//
// Export then starts each span with the SDK's tracer, from a context that
// carries its parent's span context (remote when the parent is outside
// the process) and its own ids, at its real start time, sets its
// attributes, events and status, and ends it at its real end time. A span
// the TracerProvider gives other ids (it was built without the generator,
// or it is not the SDK's) is not ended, so it never reaches the program's
// exporters with ids that would break the trace; Export returns
// ErrIDsNotKept, which the span pipeline reports once on stderr.
//
// # Sampling
//
// tracegen has already sampled (TRACEGEN_SAMPLE): only spans it records
// reach Export. The program's sampler is still consulted, as for every
// span its tracers start, with the span's parent as parent context, marked
// sampled. With the SDK's default sampler, ParentBased(AlwaysSample), every
// span tracegen sampled goes through; a sampler that drops some spans
// drops them here too. A ratio sampler for roots (ParentBased(
// TraceIDRatioBased(r))) applies to tracegen's root spans only, and their
// children, sampled parents, pass: sample with TRACEGEN_SAMPLE instead, so
// that traces stay whole.
//
// # Mapping
//
// Span attributes are the record's own and inherited ones; the span type,
// tags, captured input and output and the impact are the attributes the
// otlp exporter sends (tracegen.span.type, tracegen.tags,
// tracegen.input.*, tracegen.output.*, tracegen.impact.*). The resource
// is the TracerProvider's: tracegen's own resource attributes are not
// added, since the program's pipeline has its own. The instrumentation
// scope is github.com/tracegen-dev/tracegen/runtime.
//
// # Shutdown order
//
// Spans reach the TracerProvider when tracegen's pipeline exports them,
// shortly after they end and at trace.Stop. A program that shuts its
// TracerProvider down before trace.Stop runs (defer tp.Shutdown in main
// runs before the defer tracegen generated at the top of main) loses the
// spans still queued: flush tracegen first,
//
//	defer func() {
//		trace.Flush(ctx)
//		tp.Shutdown(ctx)
//	}()
//
// Spans the program makes with OpenTelemetry beneath a traced function,
// and traced functions beneath its OpenTelemetry spans, share one trace
// through runtime/otelbridge, which tracegen links into such programs.
package otel
