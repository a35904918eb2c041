package trace

import (
	"context"
	"reflect"
)

// Bind returns a function of the same type as f that, in the goroutine
// that runs it, makes s the current span for the duration of the call, so
// that spans begun there become children of s. The rewriter uses it at go
// statements inside traced functions:
//
//	go trace.Bind(span, worker)(a, b)
//
// The arguments are still evaluated by the caller, as for any go statement.
// func(), func() error, func(context.Context) and func(context.Context) error
// are wrapped without reflection; other function types go through
// reflect.MakeFunc (variadic functions through CallSlice), which costs a
// few hundred nanoseconds per call. A nil span, a nil f or a non-function F
// returns f unchanged.
func Bind[F any](s *Span, f F) F {
	if s == &unsampledBelow {
		s = currentOf(curGoid()) // the unsampled span it stands for
	}
	if s == nil {
		return f
	}
	switch fn := any(f).(type) {
	case nil:
		return f
	case func():
		if fn == nil {
			return f
		}
		return any(func() {
			prev, g := enterBound(s)
			defer restoreCurrent(g, prev)
			fn()
		}).(F)
	case func() error:
		if fn == nil {
			return f
		}
		return any(func() error {
			prev, g := enterBound(s)
			defer restoreCurrent(g, prev)
			return fn()
		}).(F)
	case func(context.Context):
		if fn == nil {
			return f
		}
		return any(func(ctx context.Context) {
			prev, g := enterBound(s)
			defer restoreCurrent(g, prev)
			fn(ctx)
		}).(F)
	case func(context.Context) error:
		if fn == nil {
			return f
		}
		return any(func(ctx context.Context) error {
			prev, g := enterBound(s)
			defer restoreCurrent(g, prev)
			return fn(ctx)
		}).(F)
	}
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Func || v.IsNil() {
		return f
	}
	variadic := v.Type().IsVariadic()
	w := reflect.MakeFunc(v.Type(), func(args []reflect.Value) []reflect.Value {
		prev, g := enterBound(s)
		defer restoreCurrent(g, prev)
		if variadic {
			return v.CallSlice(args)
		}
		return v.Call(args)
	})
	return w.Interface().(F)
}

// enterBound makes s current on the calling goroutine and returns what
// was current before, with the goroutine id.
func enterBound(s *Span) (prev *Span, goid int64) {
	goid = curGoid()
	return swapCurrent(goid, s), goid
}
