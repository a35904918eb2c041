package instrument

import (
	"bytes"
	"go/format"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// instrumentOne rewrites src as the only file of its package.
func instrumentOne(t *testing.T, src string, cfg Config) (string, []*Error) {
	t.Helper()
	name := "main"
	if f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly); err == nil {
		name = f.Name.Name
	}
	files, errs := processPackage(cfg, "example.com/p", name, []*srcFile{{path: "/src/p/p.go", orig: []byte(src)}}, nil, "")
	return string(files[0].New), errs
}

// checkInPlace runs the properties every in-place rewrite must have.
func checkInPlace(t *testing.T, src, out string, cfg Config) {
	t.Helper()
	if _, err := parser.ParseFile(token.NewFileSet(), "out.go", out, 0); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}
	back, err := StripSource([]byte(out))
	if err != nil {
		t.Fatalf("StripSource: %v", err)
	}
	if string(back) != src {
		t.Fatalf("strip does not restore the input:\n--- got\n%s\n--- want\n%s", back, src)
	}
	again, errs := instrumentOne(t, out, cfg)
	if len(errs) > 0 || again != out {
		t.Fatalf("second run changed the output (errs %v):\n%s", errs, again)
	}
	if fmtIn, err := format.Source([]byte(src)); err == nil && bytes.Equal(fmtIn, []byte(src)) {
		fmtOut, err := format.Source([]byte(out))
		if err != nil || string(fmtOut) != out {
			t.Fatalf("gofmt-clean input gave output that is not gofmt-clean:\n%s", out)
		}
	}
}

func TestRewriteInPlace(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		src  string
		want []string // lines (trimmed) the output must contain
		not  []string // substrings it must not contain
	}{
		{
			name: "ctx and unnamed error",
			src: `package p

import "context"

//trace:span
func Load(ctx context.Context, id string) (string, error) {
	return id, nil
}
`,
			want: []string{
				`func Load(ctx context.Context, id string) (_ string, err error) {`,
				`span := tracegenLoad.Start(ctx)`,
				`//tracegen:was results=" (string, error) "
	tracegenLoad = tracegen.Define("p.Load")`,
				`defer span.Return(&err)`,
				`import tracegen "github.com/tracegen-dev/tracegen/runtime/trace"`,
			},
		},
		{
			name: "rebind",
			src: `package p

import "context"

//trace:span rebind
func f(ctx context.Context) error { return g(ctx) }

func g(context.Context) error { return nil }
`,
			want: []string{`ctx, span := tracegenF.StartContext(ctx)`, `defer span.Return(&err)`},
		},
		{
			name: "no ctx no results",
			src: `package p

//trace:tool name="web search" kind=client attr.engine=ddg
func search() {
	println()
}
`,
			want: []string{`span := tracegenSearch.Begin()`,
				"tracegenSearch = tracegen.Define(\"web search\", tracegen.TypeTool, tracegen.KindClient,\n\t\ttracegen.WithAttr(\"engine\", \"ddg\"))",
				`defer span.Return(nil)`},
			not: []string{"tracegen:was"},
		},
		{
			name: "names already used",
			src: `package p

import "errors"

var span, err = 1, errors.New("x")

//trace:span
func f() error {
	_ = span
	return err
}
`,
			want: []string{`func f() (err2 error) {`, `span2 := tracegenF.Begin()`, `span2.Return(&err2)`},
		},
		{
			name: "alias taken",
			src: `package p

var tracegen = 1

//trace:span
func f() {}
`,
			want: []string{`import tracegen2 "github.com/tracegen-dev/tracegen/runtime/trace"`, `span := tracegenF.Begin()`, `tracegenF = tracegen2.Define("p.f")`},
		},
		{
			name: "named results and bare return",
			src: `package p

//trace:span
func f() (n int, err error) {
	n = 2
	return
}
`,
			want: []string{`func f() (n int, err error) {`, `span.Return(&err)`},
			not:  []string{"tracegen:was"},
		},
		{
			name: "blank ctx and blank error",
			src: `package p

import ctxpkg "context"

//trace:span
func f(n int, _ ctxpkg.Context) (_ int, _ error) {
	return n, nil
}
`,
			want: []string{`func f(n int, _ ctxpkg.Context) (_ int, err error) {`, `span := tracegenF.Begin()`},
		},
		{
			name: "unnamed params",
			src: `package p

import "context"

//trace:span
func f(context.Context, int) {}
`,
			want: []string{`func f(context.Context, int) {`, `span := tracegenF.Begin()`},
		},
		{
			name: "methods and generics",
			src: `package p

type List[T any] struct{ items []T }

//trace:span
func (l *List[T]) Len() int { return len(l.items) }

//trace:span
func Map[T, U any](xs []T, f func(T) U) []U {
	var out []U
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
`,
			want: []string{`span := tracegenList_Len.Begin()`, "//tracegen:was gaps=\" \",\" \"\n\ttracegenList_Len = tracegen.Define(\"p.List.Len\")", `span := tracegenMap.Begin()`},
		},
		{
			name: "input and output",
			src: `package p

import "context"

//trace:span input output
func f(ctx context.Context, q string, _ int) (string, int) {
	return q, 1
}
`,
			want: []string{`func f(ctx context.Context, q string, _ int) (result string, result2 int) {`,
				`span.RecordInput("q", q)`,
				`defer span.ReturnOutput(nil, "result", &result, "result2", &result2)`},
		},
		{
			name: "go statements",
			src: `package p

func work(int)         {}
func gen[T any](x T)   {}

//trace:span
func f(ch chan int) {
	go work(1)
	go func() { ch <- 1 }()
	go close(ch)
	go println("x")
	go gen(1)
	go gen[int](1)
}
`,
			want: []string{`go tracegen.Fork(span, work)(1)`, `go tracegen.Fork(span, func() { ch <- 1 })()`, `go close(ch)`,
				`go println("x")`, `go gen(1)`, `go tracegen.Fork(span, gen[int])(1)`},
		},
		{
			name: "function literal on the line above",
			src: `package p

func f() {
	//trace:tool name=inner
	g := func() error { return nil }
	h := func() {}
	_, _ = g, h
}
`,
			want: []string{`g := func() (err error) {`, `tracegen.Define("inner", tracegen.TypeTool)`},
			not:  []string{`p.f"`},
		},
		{
			name: "main with os.Exit",
			src: `package main

import (
	"fmt"
	"os"
)

//trace:span
func run() error { return nil }

func main() {
	if err := run(); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
`,
			want: []string{`_ "os"`, `//tracegen:generated os=""`, `defer tracegen.Stop()`, `tracegen.Exit(1)`},
		},
		{
			name: "all",
			cfg:  Config{All: true},
			src: `package p

func init() {}

//trace:ignore
func skip() {}

func a() {}

type T struct{}

func (T) b() {}

//go:nosplit
func fast() {}

func (T) String() string { return "T" }

func (T) Error() string { return "T" }
`,
			want: []string{`span := tracegenA.Begin()`, `span := tracegenT_b.Begin()`},
			not:  []string{`"p.init"`, `"p.skip"`, `"p.fast"`, `"p.T.String"`, `"p.T.Error"`},
		},
		{
			name: "comment after brace and existing comments",
			src: `package p

import "fmt" // for printing

//trace:span
func f() { // keep me
	// first
	fmt.Println() // why
}
`,
			want: []string{`func f() { // keep me`, `span := tracegenF.Begin()`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs := instrumentOne(t, tt.src, tt.cfg)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[strings.TrimSpace(l)] = true
			}
			for _, w := range tt.want {
				if !lines[w] && !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
			checkInPlace(t, tt.src, out, tt.cfg)
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"bad verb", "package p\n\n//trace:spam\nfunc f() {}\n", "/src/p/p.go:3:9: unknown directive verb \"spam\" (want span, llm, tool, agent, chain, task or ignore)"},
		{"misplaced", "package p\n\n//trace:span\nvar x = 1\n", "/src/p/p.go:3:1: //trace:span must be in the doc comment of a function or on the line above a function literal"},
		{"no body", "package p\n\n//trace:span\nfunc f()\n", "/src/p/p.go:3:1: //trace:span on function f without a body"},
		{"two directives", "package p\n\n//trace:span\n//trace:llm\nfunc f() {}\n", "/src/p/p.go:4:1: more than one //trace: directive for the same function (first at line 3)"},
		{"syntax error", "package p\n\n//trace:span\nfunc f() {\n", "/src/p/p.go:4:12: expected '}', found 'EOF'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs := instrumentOne(t, tt.src, Config{})
			if out != tt.src {
				t.Errorf("file changed despite errors:\n%s", out)
			}
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			if got := errs[0].Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestErrorInOneFileChangesNoFile(t *testing.T) {
	good := []byte("package p\n\n//trace:span\nfunc f() {}\n")
	bad := []byte("package p\n\n//trace:bogus\nfunc g() {}\n")
	files, errs := processPackage(Config{}, "p", "p", []*srcFile{{path: "/a.go", orig: good}, {path: "/b.go", orig: bad}}, nil, "")
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	for _, f := range files {
		if f.Changed || !bytes.Equal(f.New, f.Orig) {
			t.Errorf("%s changed", f.Path)
		}
	}
}

func TestOverlayKeepsLines(t *testing.T) {
	src := `package main

import (
	"context"
	"os"
)

//trace:span
func f(_ context.Context) error { return nil }

//trace:span
func g() (int, error) {
	go f(nil)
	return 0, nil
}

func main() {
	if f(context.Background()) != nil {
		os.Exit(2)
	}
}
`
	out, errs := instrumentOne(t, src, Config{Mode: Overlay})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "", out, 0); err != nil {
		t.Fatalf("overlay does not parse: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "//line /src/p/p.go:1:1\n") {
		t.Errorf("overlay does not start with a //line directive naming the original file")
	}
	if err := overlayPositionsOK("/src/p/p.go", []byte(src), []byte(out)); err != nil {
		t.Errorf("%v\n%s", err, out)
	}
	if strings.Contains(out, "//tracegen") {
		t.Errorf("overlay carries markers:\n%s", out)
	}
	if !strings.Contains(out, "\npackage main; import tracegen \"github.com/tracegen-dev/tracegen/runtime/trace\"\n") {
		t.Errorf("import not on the package line:\n%s", out)
	}
}

func TestOverlayOfInPlaceFiles(t *testing.T) {
	src := "package p\n\n//trace:span\nfunc f() error { return nil }\n\nfunc g() {}\n"
	inPlace, errs := instrumentOne(t, src, Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// Up to date: built as it is.
	out, errs := instrumentOne(t, inPlace, Config{Mode: Overlay})
	if len(errs) > 0 || out != inPlace {
		t.Fatalf("up-to-date in-place file changed in overlay mode (errors %v):\n%s", errs, out)
	}
	// A directive added since: the overlay must not silently build the old instrumentation.
	stale := strings.Replace(inPlace, "func g() {}", "//trace:span\nfunc g() {}", 1)
	out, errs = instrumentOne(t, stale, Config{Mode: Overlay})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "/src/p/p.go:1:1: instrumented in place but out of date") {
		t.Fatalf("errors %v, want one out-of-date error", errs)
	}
	if out != stale {
		t.Errorf("file changed despite the error")
	}
}
