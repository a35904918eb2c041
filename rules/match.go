package rules

import (
	"encoding/json"
	"go/ast"
	"go/types"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// GenaiPath is the import path of the runtime package whose wrappers
// rewritten call sites call.
const GenaiPath = "github.com/tracegen-dev/tracegen/runtime/genai"

// LLMHTTPPath is the package of the wrappers of SDK client constructors
// (client rules).
const LLMHTTPPath = "github.com/tracegen-dev/tracegen/runtime/llmhttp"

// role says what a matched function is for its rule.
type role int

const (
	roleCall role = iota
	roleNext
	roleRecv
	roleEvents
	roleClose
)

type binding struct {
	rule *Rule
	role role
}

// Matcher finds calls that rules cover, by the go/types identity of the
// called function, and says how to rewrite them. It is immutable and safe
// for concurrent use.
type Matcher struct {
	rules   []*Rule
	byFunc  map[string][]binding
	imports []string
	noHTTP  bool // WithoutHTTP: net/http calls are left alone
}

// NewMatcher builds a matcher over rules (typically Builtin() followed by a
// user's Load result). Later rules win when two bind the same call function.
func NewMatcher(rules []*Rule) *Matcher {
	m := &Matcher{rules: rules, byFunc: map[string][]binding{}}
	seen := map[string]bool{}
	for _, r := range rules {
		for _, f := range r.Funcs {
			m.byFunc[f] = append([]binding{{r, roleCall}}, m.byFunc[f]...)
		}
		for _, sm := range []struct {
			name string
			role role
		}{{r.Stream.Next, roleNext}, {r.Stream.Recv, roleRecv}, {r.Stream.Events, roleEvents}, {r.Stream.Close, roleClose}} {
			if sm.name != "" {
				m.byFunc[sm.name] = append(m.byFunc[sm.name], binding{r, sm.role})
			}
		}
		for _, p := range r.ImportPaths() {
			if !seen[p] {
				seen[p] = true
				m.imports = append(m.imports, p)
			}
		}
	}
	if !seen[httpImport] {
		m.imports = append(m.imports, httpImport) // rules/http.go
	}
	sort.Strings(m.imports)
	return m
}

// Imports returns the import paths of every package a rule names; files
// importing none of them need no type-based matching.
func (m *Matcher) Imports() []string { return m.imports }

// WithoutHTTP returns a matcher with m's LLM rules only: net/http client
// calls are not routed through runtime/propagation. Dependencies are
// rewritten with it: the HTTP rules are for the program's own requests,
// while a library's (an exporter's own posts among them) stay as written.
func (m *Matcher) WithoutHTTP() *Matcher {
	c := *m
	c.noHTTP = true
	c.imports = slices.DeleteFunc(slices.Clone(m.imports), func(p string) bool { return p == httpImport })
	return &c
}

// Rules returns the matcher's rules.
func (m *Matcher) Rules() []*Rule { return m.rules }

// Match is the rewrite of one call: the rewriter emits
// Func(Args..., <original function expression>, <original arguments>...)
// with Func taken from the package at GenaiPath.
type Match struct {
	Rule *Rule
	Func string   // wrapper name in runtime/genai, e.g. "Call1V"
	Args []string // leading arguments, Go basic literals: the rule for call wrappers
	// ImportPath is the wrappers' package: LLMHTTPPath for client rules,
	// GenaiPath for the others ("" also means GenaiPath).
	ImportPath string
	// Recv is the receiver of a method call whose rule reads it (span-of:
	// recv): the Method wrappers take it before the method value.
	Recv ast.Expr
}

// MatchCall returns how to rewrite call, or false when no rule covers it or
// its shape has no wrapper (the call is then left alone).
func (m *Matcher) MatchCall(info *types.Info, call *ast.CallExpr) (Match, bool) {
	fn, recv := callee(info, call)
	if fn == nil {
		return Match{}, false
	}
	bs := m.byFunc[fn.Origin().FullName()]
	if len(bs) == 0 {
		return Match{}, false
	}
	sig, ok := info.TypeOf(call.Fun).(*types.Signature)
	if !ok || tupleArg(info, call) {
		return Match{}, false
	}
	b := bs[0]
	switch b.role {
	case roleCall:
		if b.rule.Client != "" {
			wrapper := clientShape(info, call, sig)
			if wrapper == "" {
				return Match{}, false
			}
			return Match{Rule: b.rule, Func: wrapper, Args: []string{strconv.Quote(b.rule.Client)}, ImportPath: LLMHTTPPath}, true
		}
		wrapper := shapeOf(sig, b.rule.Spec.Stream)
		if wrapper == "" {
			return Match{}, false
		}
		if wrapper = convertArgs(info, call, sig, wrapper); wrapper == "" {
			return Match{}, false
		}
		if readsRecv(b.rule) {
			return methodMatch(b.rule, wrapper, recv)
		}
		return Match{Rule: b.rule, Func: wrapper, Args: []string{ruleArg(b.rule)}, ImportPath: GenaiPath}, true
	case roleEvents:
		if sig.Params().Len() == 0 && sig.Results().Len() == 1 {
			if _, ok := sig.Results().At(0).Type().Underlying().(*types.Chan); ok {
				return Match{Rule: b.rule, Func: "StreamEvents"}, true
			}
		}
		return Match{}, false
	}
	// Next, Recv and Close find the stream by the pointer their method value
	// binds, so the receiver must be a pointer.
	if recv == nil || sig.Params().Len() != 0 {
		return Match{}, false
	}
	if _, isPtr := info.TypeOf(recv).Underlying().(*types.Pointer); !isPtr {
		return Match{}, false
	}
	res := sig.Results()
	switch {
	case b.role == roleNext && res.Len() == 1 && isBool(res.At(0).Type()):
		return Match{Rule: b.rule, Func: "StreamNext"}, true
	case b.role == roleRecv && res.Len() == 2 && isError(res.At(1).Type()):
		return Match{Rule: b.rule, Func: "StreamRecv"}, true
	case b.role == roleClose && res.Len() == 1 && isError(res.At(0).Type()):
		return Match{Rule: b.rule, Func: "StreamClose"}, true
	case b.role == roleClose && res.Len() == 0:
		return Match{Rule: b.rule, Func: "StreamCloseNoErr"}, true
	}
	return Match{}, false
}

// readsRecv reports whether rule reads the receiver of the method it covers.
func readsRecv(r *Rule) bool {
	root, _, _ := strings.Cut(r.Spec.SpanOf, ".")
	return root == "recv"
}

// methodMatch routes a call whose rule reads the receiver through the Method
// wrapper of its shape: Call1 becomes Method1(rule, recv, recv.M, ctx, a).
// The receiver is then evaluated twice, so it must be a name or a chain of
// field selections on one (no call, no index); other calls, and calls of
// functions, are left alone.
func methodMatch(r *Rule, wrapper string, recv ast.Expr) (Match, bool) {
	if recv == nil || !plainOperand(recv) {
		return Match{}, false
	}
	var method string
	switch wrapper {
	case "Call1":
		method = "Method1"
	case "Call1V":
		method = "Method1V"
	default:
		return Match{}, false
	}
	return Match{Rule: r, Func: method, Args: []string{ruleArg(r)}, ImportPath: GenaiPath, Recv: recv}, true
}

// plainOperand reports whether e is an identifier or a selection x.f.g on
// one: evaluating it twice has no effect the first time did not.
func plainOperand(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return plainOperand(e.X)
	}
	return false
}

// callee resolves the function a call calls, and the receiver expression of
// a method call. Method expressions, function values and conversions give nil.
func callee(info *types.Info, call *ast.CallExpr) (*types.Func, ast.Expr) {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[f]; ok {
			if sel.Kind() != types.MethodVal {
				return nil, nil
			}
			fn, _ := sel.Obj().(*types.Func)
			return fn, f.X
		}
		fn, _ := info.Uses[f.Sel].(*types.Func)
		return fn, nil
	case *ast.Ident:
		fn, _ := info.Uses[f].(*types.Func)
		return fn, nil
	}
	return nil, nil
}

// clientShape picks the runtime/llmhttp wrapper of a client constructor:
// ClientV f(opts...) C, ClientVE f(opts...) (C, error), Client1 f(cfg) C,
// ClientCtx f(ctx, cfg) (C, error); "" when the call has another shape or
// arguments of other types than the parameters'.
func clientShape(info *types.Info, call *ast.CallExpr, sig *types.Signature) string {
	p, r := sig.Params(), sig.Results()
	if anyOpts, ok := variadicArgs(info, call, sig); !ok || anyOpts {
		return ""
	}
	same := func(i int) bool {
		tv, ok := info.Types[call.Args[i]]
		return ok && types.Identical(tv.Type, p.At(i).Type())
	}
	switch {
	case p.Len() == 1 && sig.Variadic() && r.Len() == 1:
		return "ClientV"
	case p.Len() == 1 && sig.Variadic() && r.Len() == 2 && isError(r.At(1).Type()):
		return "ClientVE"
	case p.Len() == 1 && !sig.Variadic() && r.Len() == 1 && len(call.Args) == 1 && same(0):
		return "Client1"
	case p.Len() == 2 && !sig.Variadic() && isContext(p.At(0).Type()) && r.Len() == 2 && isError(r.At(1).Type()) &&
		len(call.Args) == 2 && same(1):
		return "ClientCtx"
	}
	return ""
}

// shapeOf picks the runtime/genai wrapper for a call signature (the method
// value's, receiver excluded), or "" when there is none.
func shapeOf(sig *types.Signature, stream string) string {
	p, r := sig.Params(), sig.Results()
	if p.Len() < 1 || !isContext(p.At(0).Type()) {
		return ""
	}
	n, v := p.Len()-1, sig.Variadic()
	switch {
	case r.Len() == 2 && isError(r.At(1).Type()):
		switch {
		case n == 1 && !v:
			return "Call1"
		case n == 1 && v:
			return "CallV"
		case n == 2 && v:
			return "Call1V"
		case n == 3 && v:
			return "Call2V"
		case n == 3 && !v:
			return "Call3"
		}
	case r.Len() == 1 && isError(r.At(0).Type()):
		if n == 2 && !v && stream == "callback" {
			if cb, ok := p.At(2).Type().Underlying().(*types.Signature); ok &&
				cb.Params().Len() == 1 && cb.Results().Len() == 1 && isError(cb.Results().At(0).Type()) {
				return "Callback2"
			}
		}
	case r.Len() == 1 && isSeq2Err(r.At(0).Type()):
		switch {
		case n == 3 && !v:
			return "Seq3"
		case n == 1 && v:
			return "SeqV"
		}
	case r.Len() == 1 && n == 2 && v && stream == "sse":
		return "Stream1V"
	}
	return ""
}

// convertArgs checks that each fixed argument has its parameter's type, so
// the wrapper's type parameters can be inferred from the function alone. An
// argument of another type passed to an interface parameter in first
// position selects the converting variant (Call1I, Call2VI), in second
// position Call2VC (both converted); any other
// difference (untyped constants and nil aside) leaves the call alone.
func convertArgs(info *types.Info, call *ast.CallExpr, sig *types.Signature, wrapper string) string {
	params := sig.Params()
	fixed := params.Len()
	if sig.Variadic() {
		fixed--
	}
	convert, second := false, false
	for i := 1; i < fixed && i < len(call.Args); i++ {
		tv, ok := info.Types[call.Args[i]]
		if !ok || tv.IsNil() || types.Identical(tv.Type, params.At(i).Type()) {
			continue
		}
		if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
			continue
		}
		// A func literal for a named func type (Ollama's ChatResponseFunc):
		// inference unifies a defined type with its unnamed underlying type.
		if pt := params.At(i).Type(); !isNamed(tv.Type) && types.Identical(tv.Type, pt.Underlying()) {
			continue
		}
		if i == 1 && types.IsInterface(params.At(i).Type()) {
			convert = true
			continue
		}
		if i == 2 && wrapper == "Call2V" && types.IsInterface(params.At(i).Type()) {
			second = true // chains.Run(ctx, chain, "text"): input any
			continue
		}
		return ""
	}
	if second {
		if anyOpts, ok := variadicArgs(info, call, sig); !ok || anyOpts {
			return ""
		}
		return "Call2VC"
	}
	anyOpts, ok := variadicArgs(info, call, sig)
	switch {
	case !ok:
		return ""
	case anyOpts && !convert && wrapper == "Call1V":
		return "Call1VA"
	case anyOpts && !convert && wrapper == "Call2V":
		return "Call2VA"
	case anyOpts:
		return ""
	case !convert:
		return wrapper
	}
	switch wrapper {
	case "Call1":
		return "Call1I"
	case "Call2V":
		return "Call2VI"
	}
	return ""
}

// variadicArgs checks the arguments of a variadic parameter: anyOpts is
// true when one has another type than the element type, an interface, so
// the options must be converted by the wrapper (Call1VA, Call2VA: genkit's
// ai.GenerateOption takes values of several option types); ok is false when
// one cannot be (the element type is not an interface).
func variadicArgs(info *types.Info, call *ast.CallExpr, sig *types.Signature) (anyOpts, ok bool) {
	params := sig.Params()
	if !sig.Variadic() || call.Ellipsis.IsValid() {
		return false, true
	}
	elem := params.At(params.Len() - 1).Type().(*types.Slice).Elem()
	for i := params.Len() - 1; i < len(call.Args); i++ {
		tv, found := info.Types[call.Args[i]]
		if !found || tv.IsNil() || types.Identical(tv.Type, elem) {
			continue
		}
		if b, isBasic := tv.Type.(*types.Basic); isBasic && b.Info()&types.IsUntyped != 0 {
			continue
		}
		if pt := elem; !isNamed(tv.Type) && types.Identical(tv.Type, pt.Underlying()) {
			continue
		}
		if !types.IsInterface(elem) {
			return false, false
		}
		anyOpts = true
	}
	return anyOpts, true
}

// tupleArg reports a call f(g()) whose single argument is a multi-value
// call: it cannot be spread into a wrapper.
func tupleArg(info *types.Info, call *ast.CallExpr) bool {
	if len(call.Args) != 1 {
		return false
	}
	_, ok := info.TypeOf(call.Args[0]).(*types.Tuple)
	return ok
}

func isNamed(t types.Type) bool {
	switch t.(type) {
	case *types.Named, *types.Alias, *types.TypeParam:
		return true
	}
	return false
}

func isContext(t types.Type) bool { return types.TypeString(t, nil) == "context.Context" }

func isError(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }

func isBool(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.Bool
}

func isSeq2Err(t types.Type) bool {
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "iter" || n.Obj().Name() != "Seq2" {
		return false
	}
	args := n.TypeArgs()
	return args.Len() == 2 && isError(args.At(1))
}

// ruleArg is the call site's rule argument: a built-in rule's name, or a
// user rule's spec as a JSON string literal.
func ruleArg(r *Rule) string {
	if r.Builtin {
		return strconv.Quote(r.Name)
	}
	b, _ := json.Marshal(r.Spec)
	if strings.Contains(string(b), "`") {
		return strconv.Quote(string(b))
	}
	return "`" + string(b) + "`"
}
