package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tracegen-dev/tracegen/instrument"
)

// testCaseKey is the attribute that names the test a span ran under:
// OpenTelemetry's test.case.name, which `tracegen report` groups by.
const testCaseKey = "test.case.name"

// tracetestPath is the runtime's test kit, whose EndTest ends a test's span.
var tracetestPath = path.Dir(instrument.RuntimePath) + "/tracetest"

// addTestSpans gives every test of the packages whose tests `tracegen go
// test` runs a span named after it (t.Name(), so subtests are named
// TestX/sub), marked failed when the test failed, whose test.case.name every
// span beneath it inherits. It edits the instrumented copy when there is
// one, else the test file itself, through the overlay only.
func (ov *overlayBuild) addTestSpans(replace map[string]string) error {
	for _, tm := range ov.testMains {
		entries, err := os.ReadDir(tm.abs)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, "_test.go") || name == testMainName {
				continue
			}
			path := filepath.Join(tm.abs, name)
			from := path
			if cp, ok := replace[path]; ok {
				from = cp
			}
			src, err := os.ReadFile(from)
			if err != nil {
				return err
			}
			// An instrumented copy starts with the //line directive putCopy
			// adds; putCopy adds it again.
			if nl := bytes.IndexByte(src, '\n'); from != path && nl >= 0 && bytes.HasPrefix(src, []byte("//line ")) {
				src = src[nl+1:]
			}
			out, ok, err := testSpans(path, src)
			if err != nil || !ok {
				continue // the go command reports syntax errors itself
			}
			cp, err := ov.cache.putCopy(path, out)
			if err != nil {
				return err
			}
			replace[path] = cp
		}
	}
	return nil
}

// testSpans adds the test spans to one test file: at the start of every
// func TestXxx(t *testing.T) and every func literal taking a *testing.T, on
// the line of its opening brace, and the runtime's import on the package
// clause's line, so every line keeps its number. ok is false when the file
// has no test to change.
func testSpans(path string, src []byte) (out []byte, ok bool, err error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, false, err
	}
	testing := ""
	used := map[string]bool{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		used[name] = true
		if p == "testing" && name != "_" && name != "." {
			testing = name
		}
	}
	if testing == "" {
		return nil, false, nil
	}
	alias := "tracegen_test"
	for used[alias] || mentions(f, alias) {
		alias += "_"
	}
	span := alias + "_span"
	kit := alias + "kit"
	for used[kit] || mentions(f, kit) {
		kit += "_"
	}
	var offs []int
	var tparams []string
	ast.Inspect(f, func(n ast.Node) bool {
		var typ *ast.FuncType
		var body *ast.BlockStmt
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv != nil || !strings.HasPrefix(n.Name.Name, "Test") || n.Body == nil {
				return true
			}
			typ, body = n.Type, n.Body
		case *ast.FuncLit:
			typ, body = n.Type, n.Body
		default:
			return true
		}
		if t := testingParam(typ, testing); t != "" {
			offs = append(offs, fset.Position(body.Lbrace).Offset+1)
			tparams = append(tparams, t)
		}
		return true
	})
	if len(offs) == 0 {
		return nil, false, nil
	}
	type edit struct {
		off  int
		text string
	}
	// No function literal is added: it would renumber the test's own
	// (TestX.func1 becomes TestX.func2), which tests that check caller
	// names see.
	edits := []edit{{fset.Position(f.Name.End()).Offset, "; import (" + alias + " " + strconv.Quote(instrument.RuntimePath) +
		"; " + kit + " " + strconv.Quote(tracetestPath) + ")"}}
	for i, off := range offs {
		t := tparams[i]
		edits = append(edits, edit{off, " " + span + " := " + alias + ".Begin(" + t + ".Name(), " + alias +
			".WithInherited(" + strconv.Quote(testCaseKey) + ", " + t + ".Name())); defer " + kit + ".EndTest(" + span + ", " + t + ");"})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	out = append([]byte(nil), src...)
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		out = append(out[:e.off], append([]byte(e.text), out[e.off:]...)...)
	}
	return out, true, nil
}

// testingParam returns the name of the only parameter of a function type
// when it is a *testing.T (testing being the package's name in the file),
// else "".
func testingParam(typ *ast.FuncType, testing string) string {
	if typ.Params == nil || len(typ.Params.List) != 1 || len(typ.Params.List[0].Names) != 1 || typ.Results != nil {
		return ""
	}
	p := typ.Params.List[0]
	star, ok := p.Type.(*ast.StarExpr)
	if !ok {
		return ""
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "T" {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != testing {
		return ""
	}
	if name := p.Names[0].Name; name != "_" {
		return name
	}
	return ""
}
