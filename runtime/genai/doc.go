// Package genai turns calls into LLM client SDKs into spans that follow the
// OpenTelemetry GenAI conventions.
//
// A call is a [Call]: [Start] opens a client span named "{operation} {model}"
// of type llm under the span in the context, with gen_ai.provider.name,
// gen_ai.operation.name, gen_ai.request.model and gen_ai.request.stream; the
// caller then reports what it learns ([Call.FirstChunk], [Call.SetResponse])
// and ends it with [Call.End], which sets the response and usage attributes,
// error.type on failure, the time to first chunk, and the footprint estimate
// of the remote call (runtime/footprint) as the span's llm energy. The call is
// kept in the returned context, so an http.RoundTripper further down
// ([FromContext]) enriches it instead of opening a second span for the same
// request, and a nested rule call (a wrapper calling a wrapped SDK) does not
// open a second span either.
//
// Code rewritten by tracegen does not call Start itself: each call into a
// known SDK becomes a call of one of the generic wrappers ([Call1V], [Call3],
// [Stream1V], [Callback2], [Seq3], ...), chosen by the call's signature and
// given the rule that matched it (a [Spec]). Wrappers read the request model
// and the result's id, model, finish reasons and token counts by reflection,
// so this package never imports an SDK. Streams end their span when they are
// drained, closed or fail, not when the call returns: the rewriter also
// rewrites the stream's Next/Recv/Events/Close calls into [StreamNext],
// [StreamRecv], [StreamEvents] and [StreamClose], which find the span by the
// stream object; iterators and callbacks are wrapped by value. A stream that is
// never drained in instrumented code ends at [Shutdown] with
// tracegen.stream.abandoned=true.
//
// [RecordLLMCall] logs a call made by any other means. Message content
// (gen_ai.input.messages, gen_ai.output.messages) is recorded only when
// content capture is on (TRACEGEN_CAPTURE_CONTENT=true or the directive).
package genai
