package rules

import (
	"go/ast"
	"go/importer"
	goparser "go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// TestHTTPRewrites: the client calls of net/http, whatever the receiver
// expression, go through the runtime/propagation wrapper of their name;
// other net/http calls, method expressions and function values do not.
func TestHTTPRewrites(t *testing.T) {
	const src = `package p

import (
	"net/http"
	web "net/http"
	"net/url"
	"strings"
)

type svc struct{ client *http.Client }

func f(c *http.Client, s svc, req *http.Request) {
	c.Do(req)                                  // want Do
	s.client.Get("u")                          // want Get
	http.DefaultClient.Head("u")               // want Head
	c.Post("u", "t", strings.NewReader(""))    // want Post
	c.PostForm("u", url.Values{})              // want PostForm
	http.Get("u")                              // want Get
	web.Post("u", "t", nil)                    // want Post
	http.PostForm("u", nil)                    // want PostForm
	http.Head("u")                             // want Head
	var v http.Client
	v.Get("u")                                 // want Get
	http.NewRequest("GET", "u", nil)           // not a client call
	(*http.Client).Do(c, req)                  // method expression
	get := http.Get
	get("u")                                   // function value
	c.CloseIdleConnections()                   // not a request
}
`
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "p.go", src, goparser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", nil)}
	if _, err := conf.Check("p", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(Builtin())
	if !strings.Contains(strings.Join(m.Imports(), " "), "net/http") {
		t.Errorf("Imports() = %v lacks net/http: its files would not be type-checked", m.Imports())
	}
	want := map[int]string{}
	for i, line := range strings.Split(src, "\n") {
		if _, w, ok := strings.Cut(line, "// want "); ok {
			want[i+1] = w
		}
	}
	got := map[int]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if cr, ok := m.Rewrite(nil, info, call); ok {
			if cr.ImportPath != "github.com/tracegen-dev/tracegen/runtime/propagation" || len(cr.Args) != 0 {
				t.Errorf("line %d: rewrite %+v", fset.Position(call.Pos()).Line, cr)
			}
			got[fset.Position(call.Pos()).Line] = cr.Func
		}
		return true
	})
	for line, w := range want {
		if got[line] != w {
			t.Errorf("line %d: rewritten to %q, want %q", line, got[line], w)
		}
	}
	for line, g := range got {
		if want[line] == "" {
			t.Errorf("line %d: rewritten to %q, want it left alone", line, g)
		}
	}
}

// TestWithoutHTTP: the matcher dependencies are rewritten with leaves every
// net/http call alone and does not name net/http among its imports, while
// keeping the LLM rules.
func TestWithoutHTTP(t *testing.T) {
	const src = `package p

import "net/http"

func f(c *http.Client, req *http.Request) {
	c.Do(req)
	http.Get("u")
}
`
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", nil)}
	if _, err := conf.Check("p", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	full := NewMatcher(Builtin())
	m := full.WithoutHTTP()
	if imps := strings.Join(m.Imports(), " "); strings.Contains(imps, "net/http") || len(m.Imports()) != len(full.Imports())-1 {
		t.Errorf("Imports() = %v, want the full matcher's %v without net/http", m.Imports(), full.Imports())
	}
	if len(m.Rules()) != len(full.Rules()) {
		t.Errorf("%d rules, want the full matcher's %d", len(m.Rules()), len(full.Rules()))
	}
	n := 0
	ast.Inspect(f, func(x ast.Node) bool {
		if call, ok := x.(*ast.CallExpr); ok {
			if _, ok := full.Rewrite(nil, info, call); ok {
				n++
			}
			if cr, ok := m.Rewrite(nil, info, call); ok {
				t.Errorf("line %d rewritten to %+v", fset.Position(call.Pos()).Line, cr)
			}
		}
		return true
	})
	if n != 2 {
		t.Errorf("the full matcher rewrote %d calls, want 2", n)
	}
}
