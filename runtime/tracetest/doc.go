// Package tracetest lets a test assert on the spans that the code under
// test produces, as go.opentelemetry.io/otel/sdk/trace/tracetest does for
// OpenTelemetry.
//
// [NewRecorder] replaces the process-wide tracing configuration, for the
// rest of one test, with a synchronous pipeline that hands every finished
// span to an in-memory ring (an [export.Memory]) inside [trace.Span.End]:
// once End returns, the span can be read, with no flush and no waiting.
// Sync mode starts no goroutine, so no energy sampler runs either: a
// span's Impact holds only what is estimated when it ends (the footprint
// of LLM calls). [WithBackground] runs the pipeline as a program does
// instead, sampler included, for tests of energy attribution; the
// recorder then flushes before each read. The environment (TRACEGEN_*) is ignored while the
// recorder is active.
// At the test's cleanup the configuration that was active before comes
// back ([trace.Override]): nothing configured yet, tracing off, or the
// running pipeline, which was kept, not shut down. Spans are the
// [record.Record] values every exporter sees, after redaction; the
// recorder's methods find them by name, by attribute and by parent.
//
// The tracing configuration is one per process, so tests that use a
// Recorder must not run in parallel with each other (no t.Parallel) nor
// with tests that start spans of their own, whose spans would land in the
// recorder. NewRecorder fails the test when another recorder is still
// active (a parallel test, or a recorder made inside another's test).
package tracetest
