package genai

import (
	"context"
	"reflect"
	"runtime"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// site is what a wrapper knows about the call before making it.
type site struct {
	spec *Spec
	fn   any          // the wrapped function value
	recv any          // the receiver f is bound to, for the Method wrappers
	args []any        // arguments after the context
	opts func() []any // variadic options, applied only when a model path needs them
}

// begin opens the call's span. It returns the original ctx and a nil call
// when tracing is off or a call is already in progress in ctx.
func begin(ctx context.Context, rule string, st site) (context.Context, *Call, *Spec) {
	spec := lookupSpec(rule)
	applySDKTracingEnv(spec)
	if ctx == nil || FromContext(ctx) != nil || !enabled() {
		return ctx, nil, spec
	}
	st.spec = spec
	req := Request{
		Provider:  spec.Provider,
		Operation: spec.Operation,
		Stream:    spec.Stream != "",
	}
	var model string
	safely(func() {
		if spec.ProviderOf != "" {
			if p := providerOf(st.root(spec.ProviderOf), spec.Providers); p != "" {
				req.Provider = p
			}
		}
		if req.Provider == "" {
			req.Provider = "unknown"
		}
		for _, p := range spec.Model {
			if model = readStringAt(st.requestValue(p)); model != "" {
				break
			}
		}
		if spec.Stream == StreamKindCallback {
			req.Stream = streamFlag(st)
		}
		if spec.StreamOption != "" {
			if o := indirect(st.root("opts")); o.Kind() == reflect.Struct {
				f := o.FieldByName(spec.StreamOption)
				req.Stream = f.IsValid() && f.Kind() == reflect.Func && !f.IsNil()
			}
		}
		if spec.Input != "" {
			if v, rest := st.requestValue(spec.Input); v.IsValid() {
				if len(rest) == 0 && v.CanInterface() {
					req.Input = v.Interface()
				} else {
					req.Input = readAny(v, pathOrSelf(rest))
				}
			}
		}
	})
	req.Model = model
	req.Attrs = append(req.Attrs, record.String(AttrRule, spec.Name))
	ctx, c := Start(ctx, req)
	return ctx, c, spec
}

// streamFlag reads a *bool Stream field of the request (Ollama: nil means
// the server streams).
func streamFlag(st site) bool {
	if len(st.args) == 0 {
		return true
	}
	v := indirect(reflect.ValueOf(st.args[0]))
	if v.Kind() != reflect.Struct {
		return true
	}
	f := v.FieldByName("Stream")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return true
	}
	return f.Elem().Kind() != reflect.Bool || f.Elem().Bool()
}

func pathOrSelf(rest []string) string {
	if len(rest) == 0 {
		return ""
	}
	out := rest[0]
	for _, s := range rest[1:] {
		out += "." + s
	}
	return out
}

// requestValue splits a request path into its root value and the rest.
func (st site) requestValue(p string) (reflect.Value, []string) {
	root, rest := p, ""
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			root, rest = p[:i], p[i+1:]
			break
		}
	}
	v := st.root(root)
	if rest == "" {
		return v, nil
	}
	return v, []string{rest}
}

// readString on a (root, rest) pair.
func readStringAt(v reflect.Value, rest []string) string {
	if !v.IsValid() {
		return ""
	}
	if len(rest) == 0 {
		return stringOf(v)
	}
	return readString(v, rest)
}

func (st site) root(name string) reflect.Value {
	switch {
	case name == "func":
		return reflect.ValueOf(st.fn)
	case name == "recv":
		return reflect.ValueOf(st.recv)
	case name == "args":
		return reflect.ValueOf(st.args)
	case name == "opts":
		return applyOptions(st.opts)
	case len(name) > 3 && name[:3] == "arg":
		n := 0
		for _, c := range name[3:] {
			n = n*10 + int(c-'0')
		}
		if n >= 1 && n <= len(st.args) {
			return reflect.ValueOf(st.args[n-1])
		}
	}
	return reflect.Value{}
}

// applyOptions applies functional options func(*T) to a fresh T and returns
// it, so "opts.Model" reads what llms.WithModel set.
func applyOptions(get func() []any) reflect.Value {
	if get == nil {
		return reflect.Value{}
	}
	opts := get()
	if len(opts) == 0 {
		return reflect.Value{}
	}
	var target reflect.Value
	for _, o := range opts {
		fv := reflect.ValueOf(o)
		if fv.Kind() != reflect.Func || fv.IsNil() || fv.Type().NumIn() != 1 || fv.Type().NumOut() != 0 {
			return reflect.Value{}
		}
		in := fv.Type().In(0)
		if in.Kind() != reflect.Pointer {
			return reflect.Value{}
		}
		if !target.IsValid() {
			target = reflect.New(in.Elem())
		}
		if target.Type() != in {
			return reflect.Value{}
		}
		fv.Call([]reflect.Value{target})
	}
	return target
}

// providerOf maps the package of v's dynamic type (or, for a function
// value, of the function) to a provider name.
func providerOf(v reflect.Value, providers map[string]string) string {
	if !v.IsValid() {
		return ""
	}
	if v.Kind() == reflect.Func {
		if v.IsNil() {
			return ""
		}
		return providers[funcPkg(v.Pointer())]
	}
	t := v.Type()
	if v.Kind() == reflect.Interface && !v.IsNil() {
		t = v.Elem().Type()
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return providers[t.PkgPath()]
}

// safely runs f, swallowing a panic from reflection on an unexpected value:
// instrumentation must never break the call it observes.
func safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			warnOnce("reflect", "genai: could not read an SDK value; attributes may be missing")
		}
	}()
	f()
}

// accumulator gathers a Response from a result or from stream elements.
type accumulator struct {
	paths    *Paths
	capture  bool
	resp     Response
	in, out  int64
	cr, cw   int64
	reason   int64
	extra    []int64 // per InputTokensAdd path
	outParts []any
}

// add reads one result or stream element.
func (a *accumulator) add(x any) {
	safely(func() {
		v := reflect.ValueOf(x)
		p := a.paths
		if a.resp.ID == "" {
			a.resp.ID = readString(v, p.ID)
		}
		if a.resp.Model == "" {
			a.resp.Model = readString(v, p.Model)
		}
		a.resp.FinishReasons = append(a.resp.FinishReasons, readStrings(v, p.FinishReasons)...)
		lastNonZero := func(dst *int64, paths []string) {
			for _, path := range paths {
				if n, ok := readInt(v, []string{path}); ok && n != 0 {
					*dst = n
				}
			}
		}
		lastNonZero(&a.in, p.InputTokens)
		lastNonZero(&a.out, p.OutputTokens)
		lastNonZero(&a.cr, p.CacheReadTokens)
		lastNonZero(&a.cw, p.CacheWriteTokens)
		lastNonZero(&a.reason, p.ReasoningTokens)
		if len(p.InputTokensAdd) > 0 && a.extra == nil {
			a.extra = make([]int64, len(p.InputTokensAdd))
		}
		for i, path := range p.InputTokensAdd {
			lastNonZero(&a.extra[i], []string{path})
		}
		if a.capture && p.Output != "" {
			if o := readAny(v, p.Output); o != nil {
				a.outParts = append(a.outParts, o)
			}
		}
	})
}

// response returns the accumulated response with the convention's totals.
func (a *accumulator) response() Response {
	r := a.resp
	r.InputTokens, r.OutputTokens = a.in, a.out
	r.CacheReadTokens, r.CacheWriteTokens, r.ReasoningTokens = a.cr, a.cw, a.reason
	if a.paths.InputExcludesCache {
		r.InputTokens += a.cr + a.cw
	}
	if a.in > 0 {
		for _, n := range a.extra {
			r.InputTokens += n
		}
	}
	if a.paths.OutputExcludesReasoning {
		r.OutputTokens += a.reason
	}
	r.UsageKnown = a.in > 0 || a.out > 0
	switch len(a.outParts) {
	case 0:
	case 1:
		r.Output = a.outParts[0]
	default:
		r.Output = a.outParts
	}
	return r
}

func newAccumulator(c *Call, spec *Spec) *accumulator {
	return &accumulator{paths: &spec.Response, capture: c.capture()}
}

// capture reports whether content is recorded for this call.
func (c *Call) capture() bool { return c != nil && c.span.captureContent() }

// funcPkg returns the import path of the function at pc, method values
// included ("example.com/p.(*T).M-fm" gives "example.com/p").
func funcPkg(pc uintptr) string {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return ""
	}
	name := f.Name()
	slash := strings.LastIndex(name, "/")
	if dot := strings.Index(name[slash+1:], "."); dot >= 0 {
		return name[:slash+1+dot]
	}
	return ""
}

// timeStreamOption returns opts plus one option that wraps the streaming
// callback the caller's options set (field spec.StreamOption), so the call
// records its time to first chunk. It returns opts unchanged when the
// options are not functional options over a struct with that field.
func timeStreamOption[O any](c *Call, spec *Spec, opts []O) []O {
	if c == nil || spec.StreamOption == "" || len(opts) == 0 {
		return opts
	}
	ot := reflect.TypeFor[O]()
	if ot.Kind() != reflect.Func || ot.NumIn() != 1 || ot.NumOut() != 0 || ot.In(0).Kind() != reflect.Pointer ||
		ot.In(0).Elem().Kind() != reflect.Struct {
		return opts
	}
	field, ok := ot.In(0).Elem().FieldByName(spec.StreamOption)
	if !ok || field.Type.Kind() != reflect.Func || !field.IsExported() {
		return opts
	}
	hook := reflect.MakeFunc(ot, func(args []reflect.Value) []reflect.Value {
		safely(func() {
			f := args[0].Elem().FieldByIndex(field.Index)
			if f.IsNil() || !f.CanSet() {
				return
			}
			orig := reflect.ValueOf(f.Interface())
			f.Set(reflect.MakeFunc(f.Type(), func(in []reflect.Value) []reflect.Value {
				c.FirstChunk()
				return orig.Call(in)
			}))
		})
		return nil
	})
	h, ok := hook.Interface().(O)
	if !ok {
		return opts
	}
	return append(opts[:len(opts):len(opts)], h)
}
