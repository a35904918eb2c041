package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"

	"github.com/tracegen-dev/tracegen/instrument"
)

// addStop makes the main function of a package main file flush the spans
// before the program ends, for overlay builds of a main package that has no
// directive itself while packages it imports do (the rewriter only touches
// main in packages it traces). It adds `defer <alias>.Stop();` at the start
// of main's body, turns os.Exit calls in main into <alias>.Exit (which
// flushes first), and imports the runtime on the package clause's line, so
// every line keeps its number. ok is false when the file has no func main.
func addStop(path string, src []byte) (out []byte, ok bool, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, false, err
	}
	if f.Name.Name != "main" {
		return nil, false, nil
	}
	var main *ast.FuncDecl
	used := map[string]bool{}
	osName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		used[name] = true
		if p == "os" && name != "_" && name != "." {
			osName = name
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				used[d.Name.Name] = true
			}
			if d.Recv == nil && d.Name.Name == "main" && d.Body != nil && d.Type.TypeParams == nil {
				main = d
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					used[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						used[n.Name] = true
					}
				}
			}
		}
	}
	if main == nil {
		return nil, false, nil
	}
	alias := "tracegen"
	for used[alias] || mentions(main.Body, alias) {
		alias += "_"
	}
	type insert struct {
		off  int
		del  int // bytes of src replaced
		text string
	}
	edits := []insert{
		{fset.Position(f.Name.End()).Offset, 0, "; import " + alias + " " + strconv.Quote(instrument.RuntimePath)},
		{fset.Position(main.Body.Lbrace).Offset + 1, 0, " defer " + alias + ".Stop();"},
	}
	if osName != "" {
		ast.Inspect(main.Body, func(n ast.Node) bool {
			if _, lit := n.(*ast.FuncLit); lit {
				return false // os.Exit in a closure may run after main returns
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Exit" {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == osName {
				start := fset.Position(id.Pos()).Offset
				edits = append(edits, insert{start, len(osName), alias})
			}
			return true
		})
	}
	// Apply from the end so earlier offsets stay valid.
	sort.Slice(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	out = append([]byte(nil), src...)
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		out = append(out[:e.off], append([]byte(e.text), out[e.off+e.del:]...)...)
	}
	return out, true, nil
}

// mentions reports whether name is used as an identifier anywhere in n
// (a local variable that would shadow the runtime's alias).
func mentions(n ast.Node, name string) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}
