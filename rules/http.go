package rules

import (
	"go/ast"
	"go/types"

	"github.com/tracegen-dev/tracegen/instrument"
)

// HTTP call rules. They are not LLM rules (no spec, no YAML): every call of
// these net/http functions in instrumented code goes through the wrapper of
// the same shape in runtime/propagation, which sends the request as a
// client span carrying the trace in its traceparent header:
//
//	resp, err := client.Do(req)
//
// becomes
//
//	resp, err := tracegenPropagation.Do(client.Do, req)
var httpCalls = map[string]string{
	"(*net/http.Client).Do":       "Do",
	"(*net/http.Client).Get":      "Get",
	"(*net/http.Client).Head":     "Head",
	"(*net/http.Client).Post":     "Post",
	"(*net/http.Client).PostForm": "PostForm",
	"net/http.Get":                "Get",
	"net/http.Head":               "Head",
	"net/http.Post":               "Post",
	"net/http.PostForm":           "PostForm",
}

// httpImport is the package of every function in httpCalls.
const httpImport = "net/http"

// HTTPCalls returns the full names of the net/http functions whose calls
// carry the trace, with the runtime/propagation wrapper of each, for
// `tracegen rules`.
func HTTPCalls() map[string]string {
	out := make(map[string]string, len(httpCalls))
	for k, v := range httpCalls {
		out[k] = v
	}
	return out
}

// rewriteHTTP routes a call of one of httpCalls through its wrapper. A
// method expression ((*http.Client).Do(c, req)) or a function value is
// left alone, as is a call whose single argument is a multi-value call.
func rewriteHTTP(info *types.Info, call *ast.CallExpr) (instrument.CallRewrite, bool) {
	fn, _ := callee(info, call)
	if fn == nil {
		return instrument.CallRewrite{}, false
	}
	wrapper, ok := httpCalls[fn.FullName()]
	if !ok || tupleArg(info, call) {
		return instrument.CallRewrite{}, false
	}
	return instrument.CallRewrite{ImportPath: instrument.PropagationPath, Func: wrapper}, true
}
