package trace

import (
	"context"
	"sync/atomic"
)

// A Definition is the fixed part of the spans of one traced function: its
// span name and start options. Generated code builds one per traced
// function, once, at package initialisation,
//
//	var tracegenPlan = tracegen.Define("planner", tracegen.TypeAgent)
//
// and starts the function's span from it at the top of the body:
//
//	span := tracegenPlan.Start(ctx)
//	defer span.Return(&err)
//
// Define reads no environment and starts nothing. A Definition is safe for
// concurrent use.
type Definition struct {
	name string
	opts []StartOption
}

// Define returns the definition of spans named name with opts.
func Define(name string, opts ...StartOption) *Definition {
	return &Definition{name: name, opts: opts}
}

// Name returns the span name.
func (d *Definition) Name() string { return d.name }

// Start starts a span of d as a child of the span in ctx (or of an
// OpenTelemetry span context in ctx), else of the goroutine's current span,
// like [Start], but leaves ctx alone: the function goes on with the context
// its caller passed. When tracing is disabled it returns nil, at the cost
// of one atomic load.
func (d *Definition) Start(ctx context.Context) *Span {
	if atomic.LoadUint32(&offFlag) != 0 {
		return nil
	}
	return startSlow(ctx, d.name, d.opts)
}

// StartContext is [Start] with d's name and options: it also returns a
// context carrying the new span, for the rebind directive key. With
// runtime/otelbridge linked, OpenTelemetry spans started from that context
// are children of the new span.
func (d *Definition) StartContext(ctx context.Context) (context.Context, *Span) {
	if atomic.LoadUint32(&offFlag) != 0 {
		return ctx, nil
	}
	s := startSlow(ctx, d.name, d.opts)
	if s == nil || s == &unsampledBelow {
		return ctx, s
	}
	return s.context(), s
}

// Begin starts a span of d for a function without a context parameter, as
// [Begin] does.
func (d *Definition) Begin() *Span {
	if atomic.LoadUint32(&offFlag) == 0 {
		return beginSlow(d.name, d.opts)
	}
	return nil
}
