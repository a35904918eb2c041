package genai

import (
	"context"
	"fmt"
	"iter"
	"reflect"
)

// The wrappers below are what rule-rewritten call sites call. Each takes the
// rule (a built-in name or a user rule's JSON), the original function value
// (usually a method value such as client.Chat.Completions.New) and the
// original arguments; it returns exactly what the function returns. Their
// names say the shape: the number of arguments after the context, V for a
// variadic last argument.

// Call1 wraps f(ctx, a) (R, error).
func Call1[A, R any](rule string, f func(context.Context, A) (R, error), ctx context.Context, a A) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, args: []any{a}}, func(ctx context.Context) (R, error) { return f(ctx, a) })
	}
	if skip(ctx) {
		r, err := f(ctx, a)
		enrichOuter(ctx, rule, r, err)
		return r, err
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a}})
	if c == nil {
		return f(ctx, a)
	}
	defer endOnPanic(c)
	r, err := f(ctx, a)
	finishResult(c, spec, r, err)
	return r, err
}

// Call1V wraps f(ctx, a, opts...) (R, error).
func Call1V[A, O, R any](rule string, f func(context.Context, A, ...O) (R, error), ctx context.Context, a A, opts ...O) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, args: []any{a}, opts: anys(opts)}, func(ctx context.Context) (R, error) { return f(ctx, a, opts...) })
	}
	if skip(ctx) {
		r, err := f(ctx, a, opts...)
		enrichOuter(ctx, rule, r, err)
		return r, err
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a}, opts: anys(opts)})
	if c == nil {
		return f(ctx, a, opts...)
	}
	defer endOnPanic(c)
	r, err := f(ctx, a, timeStreamOption(c, spec, opts)...)
	finishResult(c, spec, r, err)
	return r, err
}

// Call2V wraps f(ctx, a, b, opts...) (R, error).
func Call2V[A, B, O, R any](rule string, f func(context.Context, A, B, ...O) (R, error), ctx context.Context, a A, b B, opts ...O) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, args: []any{a, b}, opts: anys(opts)}, func(ctx context.Context) (R, error) { return f(ctx, a, b, opts...) })
	}
	if skip(ctx) {
		r, err := f(ctx, a, b, opts...)
		enrichOuter(ctx, rule, r, err)
		return r, err
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a, b}, opts: anys(opts)})
	if c == nil {
		return f(ctx, a, b, opts...)
	}
	defer endOnPanic(c)
	r, err := f(ctx, a, b, timeStreamOption(c, spec, opts)...)
	finishResult(c, spec, r, err)
	return r, err
}

// Call3 wraps f(ctx, a, b, c) (R, error).
func Call3[A, B, C, R any](rule string, f func(context.Context, A, B, C) (R, error), ctx context.Context, a A, b B, c3 C) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, args: []any{a, b, c3}}, func(ctx context.Context) (R, error) { return f(ctx, a, b, c3) })
	}
	if skip(ctx) {
		r, err := f(ctx, a, b, c3)
		enrichOuter(ctx, rule, r, err)
		return r, err
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a, b, c3}})
	if c == nil {
		return f(ctx, a, b, c3)
	}
	defer endOnPanic(c)
	r, err := f(ctx, a, b, c3)
	finishResult(c, spec, r, err)
	return r, err
}

// CallV wraps f(ctx, parts...) (R, error).
func CallV[P, R any](rule string, f func(context.Context, ...P) (R, error), ctx context.Context, parts ...P) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, args: anys(parts)()}, func(ctx context.Context) (R, error) { return f(ctx, parts...) })
	}
	if skip(ctx) {
		r, err := f(ctx, parts...)
		enrichOuter(ctx, rule, r, err)
		return r, err
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: anys(parts)()})
	if c == nil {
		return f(ctx, parts...)
	}
	defer endOnPanic(c)
	r, err := f(ctx, parts...)
	finishResult(c, spec, r, err)
	return r, err
}

// Stream1V wraps f(ctx, a, opts...) S for functions returning a stream
// object and no error (openai-go and anthropic NewStreaming): the span stays
// open until the stream is drained, fails or is closed.
func Stream1V[A, O, S any](rule string, f func(context.Context, A, ...O) S, ctx context.Context, a A, opts ...O) S {
	if skip(ctx) {
		return f(ctx, a, opts...)
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a}, opts: anys(opts)})
	if c == nil {
		return f(ctx, a, opts...)
	}
	defer endOnPanic(c)
	s := f(ctx, a, opts...)
	if !track(c, spec, s) {
		c.End(nil)
	}
	return s
}

// Callback2 wraps f(ctx, a, fn) error where fn is called once per response
// element (Ollama's Chat and Generate, streaming or not).
func Callback2[A, R any, F ~func(R) error](rule string, f func(context.Context, A, F) error, ctx context.Context, a A, fn F) error {
	if skip(ctx) {
		return f(ctx, a, fn)
	}
	ctx, c, spec := begin(ctx, rule, site{fn: f, args: []any{a}})
	if c == nil {
		return f(ctx, a, fn)
	}
	defer endOnPanic(c)
	acc := newAccumulator(c, spec)
	err := f(ctx, a, F(func(r R) error {
		if c.req.Stream {
			c.FirstChunk()
		}
		acc.add(r)
		if fn == nil {
			return nil
		}
		return fn(r)
	}))
	c.SetResponse(acc.response())
	c.End(err)
	return err
}

// Seq3 wraps f(ctx, a, b, c) iter.Seq2[T, error] (genai GenerateContentStream).
// The span covers one iteration of the returned sequence, which is when the
// request is made.
func Seq3[A, B, C, T any](rule string, f func(context.Context, A, B, C) iter.Seq2[T, error], ctx context.Context, a A, b B, c3 C) iter.Seq2[T, error] {
	return wrapSeq(rule, site{fn: f, args: []any{a, b, c3}}, ctx, func(ctx context.Context) iter.Seq2[T, error] { return f(ctx, a, b, c3) })
}

// SeqV wraps f(ctx, parts...) iter.Seq2[T, error] (genai Chat.SendMessageStream).
func SeqV[P, T any](rule string, f func(context.Context, ...P) iter.Seq2[T, error], ctx context.Context, parts ...P) iter.Seq2[T, error] {
	return wrapSeq(rule, site{fn: f, args: anys(parts)()}, ctx, func(ctx context.Context) iter.Seq2[T, error] { return f(ctx, parts...) })
}

func wrapSeq[T any](rule string, st site, ctx context.Context, call func(context.Context) iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		ctx, c, spec := begin(ctx, rule, st)
		seq := call(ctx)
		if c == nil {
			if seq != nil {
				seq(yield)
			}
			return
		}
		defer endOnPanic(c)
		acc := newAccumulator(c, spec)
		var err error
		if seq != nil {
			for v, e := range seq {
				if e != nil {
					err = e
				} else {
					c.FirstChunk()
					acc.add(v)
				}
				if !yield(v, e) {
					break
				}
			}
		}
		c.SetResponse(acc.response())
		noteMissingUsage(c, spec, acc)
		c.End(err)
	}
}

// finishResult ends a non-streaming call, or hands a stream result to the
// stream tracker.
func finishResult(c *Call, spec *Spec, r any, err error) {
	if err == nil && spec.Stream != "" && spec.Stream != StreamKindCallback && spec.Stream != StreamKindSeq {
		if track(c, spec, r) {
			return
		}
	}
	if err == nil {
		acc := newAccumulator(c, spec)
		acc.add(r)
		c.SetResponse(acc.response())
	}
	c.End(err)
}

// endOnPanic ends the call when the wrapped function (or the loop body of a
// sequence) panics, then lets the panic continue unchanged.
func endOnPanic(c *Call) {
	if r := recover(); r != nil {
		c.End(fmt.Errorf("panic: %v", r))
		panic(r)
	}
}

func anys[T any](xs []T) func() []any {
	return func() []any {
		out := make([]any, len(xs))
		for i, x := range xs {
			out[i] = x
		}
		return out
	}
}

func isNil(x any) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func:
		return v.IsNil()
	}
	return false
}

// Call1I is Call1 for a call whose argument has a concrete type passed to
// an interface parameter (go-openai CreateEmbeddings takes an
// EmbeddingRequestConverter): Go cannot infer A from both, so the argument
// keeps its own type B and is converted to A here.
func Call1I[A, R, B any](rule string, f func(context.Context, A) (R, error), ctx context.Context, b B) (R, error) {
	a, _ := any(b).(A)
	return Call1(rule, f, ctx, a)
}

// Call2VI is Call2V with the first argument converted to the interface
// parameter A (langchaingo GenerateFromSinglePrompt given a *openai.LLM).
func Call2VI[A, B2, O, R, B any](rule string, f func(context.Context, A, B2, ...O) (R, error), ctx context.Context, b B, b2 B2, opts ...O) (R, error) {
	a, _ := any(b).(A)
	return Call2V(rule, f, ctx, a, b2, opts...)
}

// Call2VC is Call2V with both arguments converted to their parameter
// types, for a second argument passed to an interface parameter
// (langchaingo's chains.Run takes its input as any).
func Call2VC[A, B, O, R, X, Y any](rule string, f func(context.Context, A, B, ...O) (R, error), ctx context.Context, x X, y Y, opts ...O) (R, error) {
	a, _ := any(x).(A)
	b, _ := any(y).(B)
	return Call2V(rule, f, ctx, a, b, opts...)
}

// Call1VA is Call1V for options of other types than the variadic
// parameter's interface element type (genkit's ai.GenerateOption, given
// values of several option types): Go cannot infer O from them, so they
// travel as any and are converted to O here.
func Call1VA[A, O, R any](rule string, f func(context.Context, A, ...O) (R, error), ctx context.Context, a A, opts ...any) (R, error) {
	return Call1V(rule, f, ctx, a, convertOpts[O](opts)...)
}

// Call2VA is Call2V with its options converted as in Call1VA.
func Call2VA[A, B, O, R any](rule string, f func(context.Context, A, B, ...O) (R, error), ctx context.Context, a A, b B, opts ...any) (R, error) {
	return Call2V(rule, f, ctx, a, b, convertOpts[O](opts)...)
}

func convertOpts[O any](opts []any) []O {
	out := make([]O, len(opts))
	for i, o := range opts {
		out[i], _ = o.(O)
	}
	return out
}

// skip is the fast path of every wrapper: tracing off, or a call already in
// progress in ctx (which then gets no second span).
func skip(ctx context.Context) bool { return !enabled() || FromContext(ctx) != nil }

// enrichOuter hands what a nested call returned (model, id, usage) to the
// call in progress in ctx, which opened the span: a helper that returns
// only text (langchaingo's GenerateFromSinglePrompt) gets the usage of the
// call it makes. Known values of the outer call's own result win, since it
// reports them when it ends; an HTTP layer below enriches the same call.
func enrichOuter(ctx context.Context, rule string, r any, err error) {
	if err != nil || !enabled() {
		return
	}
	outer := FromContext(ctx)
	if outer == nil {
		return
	}
	spec := lookupSpec(rule)
	if spec.Stream != "" && spec.Stream != StreamKindCallback {
		return
	}
	safely(func() {
		acc := newAccumulator(outer, spec)
		acc.add(r)
		outer.SetResponse(acc.response())
	})
}

// Method1 is Call1 for a framework rule that reads the method's receiver
// (span-of: recv): recv is the value the method value f is bound to
// (recv.M for f), which the rewrite passes as it passes f.
func Method1[T, A, R any](rule string, recv T, f func(context.Context, A) (R, error), ctx context.Context, a A) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, recv: recv, args: []any{a}}, func(ctx context.Context) (R, error) { return f(ctx, a) })
	}
	return f(ctx, a)
}

// Method1V is Method1 for f(ctx, a, opts...).
func Method1V[T, A, O, R any](rule string, recv T, f func(context.Context, A, ...O) (R, error), ctx context.Context, a A, opts ...O) (R, error) {
	if spec := frameworkSpec(rule); spec != nil {
		return framed(ctx, spec, site{fn: f, recv: recv, args: []any{a}, opts: anys(opts)}, func(ctx context.Context) (R, error) { return f(ctx, a, opts...) })
	}
	return f(ctx, a, opts...)
}
