// Package propagation carries tracegen traces across services over HTTP,
// in the W3C Trace Context headers (traceparent, tracestate) with the W3C
// baggage header passed along.
//
// The model: a request that leaves the process is a client span (kind
// client, named by its method) beneath the span that made it, and carries
// that span's ids and sampled flag in traceparent; a request that arrives
// joins the trace its traceparent names, as a remote parent of the span the
// handler starts, so an unsampled caller leads to unsampled callees. The
// tracestate and baggage a request arrived with are handed on, unchanged,
// to every request made beneath the span that joined it (tracegen adds no
// tracestate entry of its own). A request that already carries a
// traceparent, which the program or another tracer set, is sent as it is,
// and no second client span is made for it.
//
// Instrumented code needs nothing: tracegen routes the calls of
// (*http.Client).Do, Get, Head, Post and PostForm, and of http.Get, Head,
// Post and PostForm, through [Do], [Get], [Head], [Post] and [PostForm],
// and a traced function with an *http.Request parameter starts its span
// from [Context] (or [Join], when it also takes a context), so that it
// joins the caller's trace. Code built without tracegen uses the wrappers:
// [Handler] around an http.Handler and [Transport] around an
// http.RoundTripper.
//
// With tracing disabled (no TRACEGEN_EXPORTER) nothing is added to any
// request and handlers see the requests they were sent.
package propagation
