package rules

import (
	"go/ast"
	"go/types"

	"github.com/tracegen-dev/tracegen/instrument"
)

var _ instrument.CallRewriter = (*Matcher)(nil)

// Rewrite implements instrument.CallRewriter: a call a rule covers becomes
// a call of a runtime/genai wrapper, e.g.
//
//	client.Chat.Completions.New(ctx, params)
//
// becomes
//
//	tracegenGenai.Call1V("openai.chat", client.Chat.Completions.New, ctx, params)
//
// Calls of net/http's client functions go through runtime/propagation
// (see http.go).
func (m *Matcher) Rewrite(pkg *types.Package, info *types.Info, call *ast.CallExpr) (instrument.CallRewrite, bool) {
	if !m.noHTTP {
		if cr, ok := rewriteHTTP(info, call); ok {
			return cr, true
		}
	}
	mt, ok := m.MatchCall(info, call)
	if !ok {
		return instrument.CallRewrite{}, false
	}
	path := mt.ImportPath
	if path == "" {
		path = GenaiPath
	}
	return instrument.CallRewrite{ImportPath: path, Func: mt.Func, Args: mt.Args, Recv: mt.Recv}, true
}
