// Package trace is the tracegen runtime API that instrumented programs
// link: it starts and ends spans, nests them, and ships finished spans to
// exporters.
//
// # Model
//
// A span is one timed operation with a name, an OpenTelemetry kind, an
// optional GenAI type (llm, tool, agent, chain, task), attributes, events,
// tags, captured input/output, a status and the energy spent inside it.
// [Start] opens a span under the span carried by a context.Context (or an
// OpenTelemetry span context, whose trace it joins); [Begin] opens one for
// code that has no context, under the goroutine's current span. [Span.End]
// (or [Span.Return], which also records the function's error) closes it
// and queues it; deferred, both record a panic that unwinds the function
// without recovering it. A background batcher hands queued spans to the exporters of
// package export in batches; [Flush], [Shutdown], [Stop] and [Exit] drain
// the queue. Attributes set with [WithInherited] are copied by every
// descendant.
//
// Generated code is two lines per function, and one [Definition] of its
// span name and options, built once:
//
//	span := tracegenFunc.Start(ctx) // var tracegenFunc = tracegen.Define("pkg.Func", tracegen.TypeLLM)
//	defer span.Return(&err)
//
// # Configuration and the disabled fast path
//
// The environment is read once, at the first span (or Enabled, Configure):
// TRACEGEN_EXPORTER (comma list of registered exporters: none, stdout,
// json, jsonl, memory, ...), TRACEGEN_JSONL_PATH, TRACEGEN_SAMPLE,
// TRACEGEN_CAPTURE_CONTENT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and
// the pipeline knobs listed in docs/runtime.md. [Configure] overrides the
// environment. With no exporter configured nothing is started (no
// goroutine, no file, no output) and Start is a single atomic load that
// returns the context unchanged and a nil *Span, whose methods all do
// nothing.
//
// # Goroutine-local current span
//
// Go has no goroutine-local storage. The package keeps a lock-free table
// (open-addressed slots, an overflow map when they are taken) from
// goroutine id to the innermost span started on that goroutine; Start and
// Begin push, End pops, and an entry disappears when nothing is current.
// The goroutine id is read from the runtime's g struct (a few lines of
// assembly on amd64 and arm64, with the field offset discovered at the
// first span), or parsed from runtime.Stack elsewhere. [Fork] nests the
// spans of goroutines started by go statements in traced functions under
// the span that started them, without wrapping the goroutine's function.
// Cost: about 2 ns for the id, an atomic swap per push, and an uncontended
// mutex with a compare-and-swap per pop.
//
// # Cost when enabled
//
// A *Span is its own context.Context (it embeds the parent context), so
// Start allocates one object and no context.WithValue; the record keeps its
// first four attributes inline and enters the queue without allocating.
// When every exporter releases records after Export
// (export.RecordReleaser: json, jsonl), records are recycled through a pool
// and a span is a 152-byte allocation; otherwise span and record are one
// allocation that exporters may keep. Spans themselves are never reused.
//
// # Failures
//
// The runtime never breaks the program it is linked into: exporter errors
// and panics are recovered, reported once per exporter on stderr with the
// prefix "tracegen: ", and counted ([ReadStats]); the queue is bounded and
// drops (and counts) spans when full unless blocking mode is on.
package trace
