package llmhttp

import (
	"context"
	"net/http"
	"reflect"
	"unsafe"
)

// Constructors of SDK clients, for code instrumented in place: the rewriter
// routes a call such as openai.NewClient(opts...) through one of these
// wrappers, which hands the client the traced transport through the SDK's
// own configuration, so that calls made through it anywhere (in
// dependencies the rewriter never sees) are traced. field names the
// *http.Client field of the SDK's configuration struct (RequestConfig's
// HTTPClient, langchaingo's httpClient); only a non-nil *http.Client found
// there is wrapped ([Wrap]: a copy, the user's client is not changed), so a
// custom client of another type, or a nil one the SDK fills in later, stays
// as it is.

// ClientV wraps f(opts...) C, a constructor with functional options
// (openai-go and anthropic-sdk-go NewClient): an option that wraps the
// configuration's HTTP client is added after the caller's.
func ClientV[O, C any](field string, f func(...O) C, opts ...O) C {
	return f(withTracedClient(field, opts)...)
}

// ClientVE is ClientV for a constructor that also returns an error
// (langchaingo's openai.New).
func ClientVE[O, C any](field string, f func(...O) (C, error), opts ...O) (C, error) {
	return f(withTracedClient(field, opts)...)
}

// Client1 wraps f(cfg) C, a constructor taking its configuration by value
// or by pointer (go-openai NewClientWithConfig): it is given a copy whose
// HTTP client is wrapped.
func Client1[X, C any](field string, f func(X) C, cfg X) C {
	return f(tracedConfig(field, cfg))
}

// ClientCtx wraps f(ctx, cfg) (C, error) (genai.NewClient with a
// *ClientConfig) like Client1.
func ClientCtx[X, C any](field string, f func(context.Context, X) (C, error), ctx context.Context, cfg X) (C, error) {
	return f(ctx, tracedConfig(field, cfg))
}

// withTracedClient appends to opts an option of type O that wraps the HTTP
// client at field of the struct the options configure. O is a func type
// taking a pointer to that struct (func(*options)), or an interface one of
// opts implements with such a func type (Stainless SDKs' RequestOptionFunc);
// otherwise opts come back unchanged.
func withTracedClient[O any](field string, opts []O) []O {
	o, ok := tracingOption[O](field, opts)
	if !ok {
		return opts
	}
	return append(opts[:len(opts):len(opts)], o)
}

func tracingOption[O any](field string, opts []O) (o O, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	want := reflect.TypeOf((*O)(nil)).Elem()
	ft := want
	if want.Kind() == reflect.Interface {
		ft = nil
		for _, opt := range opts {
			if t := reflect.TypeOf(opt); t != nil && optionFunc(t) {
				ft = t
				break
			}
		}
	}
	if ft == nil || !optionFunc(ft) {
		return o, false
	}
	fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		if !args[0].IsNil() {
			wrapField(args[0].Elem(), field)
		}
		out := make([]reflect.Value, ft.NumOut())
		for i := range out {
			out[i] = reflect.Zero(ft.Out(i))
		}
		return out
	})
	o, ok = fn.Interface().(O)
	return o, ok
}

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// optionFunc reports whether t is func(*Struct) or func(*Struct) error.
func optionFunc(t reflect.Type) bool {
	return t.Kind() == reflect.Func && t.NumIn() == 1 && t.In(0).Kind() == reflect.Pointer &&
		t.In(0).Elem().Kind() == reflect.Struct &&
		(t.NumOut() == 0 || t.NumOut() == 1 && t.Out(0) == errorType)
}

// tracedConfig returns cfg, a struct or a pointer to one, with the HTTP
// client at field wrapped, in a copy.
func tracedConfig[X any](field string, cfg X) (out X) {
	out = cfg
	defer func() {
		if recover() != nil {
			out = cfg
		}
	}()
	v := reflect.ValueOf(&out).Elem()
	switch {
	case v.Kind() == reflect.Struct:
		wrapField(v, field)
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		cp := reflect.New(v.Elem().Type())
		cp.Elem().Set(v.Elem())
		wrapField(cp.Elem(), field)
		v.Set(cp)
	}
	return out
}

// wrapField replaces a non-nil *http.Client at field of the addressable
// struct v by its traced copy. Unexported fields are reached through their
// address (the SDK's own options write them the same way).
func wrapField(v reflect.Value, field string) {
	f := v.FieldByName(field)
	if !f.IsValid() {
		return
	}
	if !f.CanSet() {
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	}
	c, ok := f.Interface().(*http.Client)
	if !ok || c == nil {
		return
	}
	if _, traced := c.Transport.(*Transport); traced {
		return
	}
	w := reflect.ValueOf(Wrap(c))
	if w.Type().AssignableTo(f.Type()) {
		f.Set(w)
	}
}
