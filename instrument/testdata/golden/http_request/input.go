package p

import (
	"context"
	"fmt"
	web "net/http"
)

// A handler joins the caller's trace through its request, as a server span.
//
//trace:span
func Handle(w web.ResponseWriter, r *web.Request) { fmt.Fprintln(w, "hi") }

// A directive's kind wins.
//
//trace:span kind=consumer
func Consume(w web.ResponseWriter, req *web.Request) {}

// With a context too: the context, joined to the request's trace.
//
//trace:span
func Both(ctx context.Context, r *web.Request) error { return nil }

//trace:span rebind
func Rebound(ctx context.Context, _ int, r *web.Request) { _ = ctx }

type server struct{}

//trace:span
func (server) ServeHTTP(w web.ResponseWriter, r *web.Request) {}

// A blank request parameter cannot be read: the span starts as before.
//
//trace:span
func Blank(_ *web.Request) {}

// A body on lines of its own: -strip removes the generated lines and the
// propagation call inside them together.
//
//trace:span
func Lines(w web.ResponseWriter, r *web.Request) {
	fmt.Fprintln(w, "a")
	fmt.Fprintln(w, "b")
}
