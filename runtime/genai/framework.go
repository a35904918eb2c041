package genai

import (
	"context"
	"reflect"
	"strings"
)

// Framework rules (a Spec with Span set) trace the runs of chains, agents
// and tools: the call gets a span of that type, named after the Go type of
// the value at SpanOf (the chain, the agent executor; a tool by what its
// Name method returns, when it has one), and the LLM calls
// made during the run are its descendants. A run does not put an LLM call in
// the context, so those calls still get their own spans. A framework entry
// point that calls another for the same value (langchaingo's chains.Run
// calling chains.Call) opens one span, not two; so does a run of a rule with
// a fixed name (SpanName) directly inside a run of the same rule. A rule
// with a stream (eino's Runnable.Stream) returns a stream object the run
// goes on in: its span ends when that stream is drained, fails or is
// closed, as an LLM call's stream does.

// runKey keys the identity of the innermost framework run in a context.
type runKey struct{}

// frameworkSpec returns the spec of rule when it is a framework rule and
// tracing is on, else nil.
func frameworkSpec(rule string) *Spec {
	if !enabled() {
		return nil
	}
	if s := lookupSpec(rule); s.Span != "" {
		return s
	}
	return nil
}

// framed runs call under the span of one framework run.
func framed[R any](ctx context.Context, spec *Spec, st site, call func(context.Context) (R, error)) (R, error) {
	if ctx == nil {
		return call(ctx)
	}
	typ, name := spec.Span, spec.SpanName
	var id any = spec.Name // a run named by the rule is the same run one layer down
	safely(func() {
		if spec.SpanOf == "" {
			return
		}
		v := st.root(spec.SpanOf)
		if t := spanTypes(v, spec.SpanTypes); t != "" {
			typ = t
		}
		name, id = runName(v), runIdentity(v)
		if typ == SpanTool {
			if n := toolName(ctx, v); n != "" {
				name = n
			}
		}
	})
	if id != nil && ctx.Value(runKey{}) == id {
		return call(ctx) // the same run, entered again one layer down
	}
	ctx, end := startRun(ctx, spec.Name, typ, name)
	if id != nil {
		ctx = context.WithValue(ctx, runKey{}, id)
	}
	done := false
	defer func() {
		if !done {
			end(errPanic, false) // the panic goes on unchanged
		}
	}()
	r, err := call(ctx)
	done = true
	if err == nil && spec.Stream != "" && trackRun(spec, r, end) {
		return r, err // the run goes on while its stream is read
	}
	end(err, false)
	return r, err
}

// spanTypes maps the package of v's dynamic type through types.
func spanTypes(v reflect.Value, types map[string]string) string {
	if len(types) == 0 || !v.IsValid() {
		return ""
	}
	return providerOf(v, types)
}

// concrete follows interfaces to the dynamic value.
func concrete(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	return v
}

// runName is v's type as package.Type, without pointers ("chains.LLMChain").
func runName(v reflect.Value) string {
	v = concrete(v)
	if !v.IsValid() {
		return ""
	}
	return strings.TrimLeft(v.Type().String(), "*")
}

// toolName is what v's Name() string method returns (langchaingo's and
// Genkit's tools have one); else the Name string field of what its
// Info(ctx) (T, error) method returns without error (eino's tools return a
// *schema.ToolInfo; Info is a getter in every eino tool known); else "".
func toolName(ctx context.Context, v reflect.Value) string {
	v = concrete(v)
	if !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return ""
	}
	if n, ok := v.Interface().(interface{ Name() string }); ok {
		return n.Name()
	}
	info := v.MethodByName("Info")
	if !info.IsValid() {
		return ""
	}
	t := info.Type()
	if t.NumIn() != 1 || t.In(0) != ctxType || t.NumOut() != 2 || t.Out(1) != errType {
		return ""
	}
	out := info.Call([]reflect.Value{reflect.ValueOf(&ctx).Elem()})
	if !out[1].IsNil() {
		return ""
	}
	r := concrete(out[0])
	for r.Kind() == reflect.Pointer && !r.IsNil() {
		r = r.Elem()
	}
	if r.Kind() != reflect.Struct {
		return ""
	}
	if n := r.FieldByName("Name"); n.IsValid() && n.Kind() == reflect.String {
		return n.String()
	}
	return ""
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// runID is the identity of a run's value: its type and, for a pointer, its
// address.
type runID struct {
	t reflect.Type
	p uintptr
}

func runIdentity(v reflect.Value) any {
	v = concrete(v)
	if !v.IsValid() {
		return nil
	}
	id := runID{t: v.Type()}
	if v.Kind() == reflect.Pointer {
		id.p = v.Pointer()
	}
	return id
}
