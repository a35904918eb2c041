package instrument

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/types"
	"strings"
)

// CallRewriter decides which call sites become calls of a runtime wrapper
// (the LLM rules implement it). Run type-checks a package only when one of its
// files imports a path from Imports; it then offers every call expression of
// the package, inside traced functions or not, to Rewrite.
//
// Implementations must be safe for concurrent use: packages are processed in parallel.
type CallRewriter interface {
	// Imports lists the SDK import paths the rules match. Files importing none
	// of them are not type-checked for call rewriting.
	Imports() []string
	// Rewrite inspects one call. When it returns true, the call
	//	fun(args...)
	// becomes
	//	alias.Func(Args..., fun, args...)
	// where alias names ImportPath in the file (a trailing ... is kept);
	// with Recv set (fun is recv.M), alias.Func(Args..., recv, fun, args...).
	Rewrite(pkg *types.Package, info *types.Info, call *ast.CallExpr) (CallRewrite, bool)
}

// CallRewrite describes the wrapper a call is routed through.
type CallRewrite struct {
	ImportPath string   // package of the wrapper, e.g. ".../runtime/genai"; not RuntimePath
	Func       string   // exported function name in that package, e.g. "Call"
	Args       []string // leading arguments, each a Go basic literal (e.g. a quoted rule id)
	// Recv, when set, is the receiver of the method call, passed after Args:
	// an identifier or field selections on one (it is evaluated twice), and
	// Func's name starts with "Method", which is how -strip knows to drop it.
	Recv ast.Expr
}

// validate checks what the rewriter relies on to undo the rewrite.
func (c CallRewrite) validate() error {
	if c.ImportPath == "" || c.ImportPath == RuntimePath {
		return fmt.Errorf("call rewrite: bad ImportPath %q", c.ImportPath)
	}
	if !isIdent(c.Func) {
		return fmt.Errorf("call rewrite: bad Func %q", c.Func)
	}
	if c.Recv != nil && !strings.HasPrefix(c.Func, "Method") {
		return fmt.Errorf("call rewrite: %s takes a receiver but its name does not start with Method", c.Func)
	}
	for _, a := range c.Args {
		e, err := parser.ParseExpr(a)
		if err != nil {
			return fmt.Errorf("call rewrite: argument %q: %v", a, err)
		}
		if _, ok := e.(*ast.BasicLit); !ok {
			return fmt.Errorf("call rewrite: argument %q is not a basic literal", a)
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// wrapperAliasBase is the preferred alias of a wrapper package: "tracegen" + its last path element.
func wrapperAliasBase(path string) string {
	last := path[strings.LastIndex(path, "/")+1:]
	var b strings.Builder
	b.WriteString("tracegen")
	for i, c := range last {
		if c >= 'a' && c <= 'z' && i == 0 {
			c -= 'a' - 'A'
		}
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// rewriteCalls offers every call of the file to the CallRewriter.
func (r *rewriter) rewriteCalls() {
	ast.Inspect(r.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		cr, ok := r.calls.Rewrite(r.pkg, r.info, call)
		if !ok {
			return true
		}
		if err := cr.validate(); err != nil {
			r.errorf(r.fset.PositionFor(call.Pos(), false), "%v", err)
			return true
		}
		funEnd, lp := r.off(call.Fun.End()), r.off(call.Lparen)
		if funEnd != lp {
			return true // something (a comment) between the function and '(': leave it
		}
		alias := r.aliasFor(cr.ImportPath)
		r.useImport(alias, cr.ImportPath)
		r.callDone[call] = true
		prefix := alias + "." + cr.Func + "("
		for _, a := range cr.Args {
			prefix += a + ", "
		}
		if cr.Recv != nil {
			prefix += string(r.src[r.off(cr.Recv.Pos()):r.off(cr.Recv.End())]) + ", "
		}
		p := r.off(call.Fun.Pos())
		r.add(p, p, prefix)
		rp := r.off(call.Rparen)
		args := r.src[lp+1 : rp]
		switch {
		case len(args) == 0:
			r.add(lp, lp+1, "")
		case args[0] == '\n' || args[0] == '\r':
			r.add(lp, lp+1, ",")
		default:
			r.add(lp, lp+1, ", ")
		}
		return true
	})
}
