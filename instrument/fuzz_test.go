package instrument

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/internal/fakepkgs"
)

// stubPackages are small stand-ins for the packages fuzz inputs may import, so
// that inputs and outputs can be type-checked in-process (no go command).
var stubPackages = map[string]string{
	"context": `package context
type Context interface{ Err() error }
func Background() Context { return nil }
func WithCancel(ctx Context) (Context, func()) { return ctx, nil }`,
	"errors": `package errors
func New(string) error { return nil }`,
	"fmt": `package fmt
func Println(...any) (int, error) { return 0, nil }
func Printf(string, ...any) (int, error) { return 0, nil }
func Sprint(...any) string { return "" }
func Errorf(string, ...any) error { return nil }`,
	"os": `package os
var Args []string
func Exit(int) {}`,
	RuntimePath: `package trace
import "context"
type Span struct{}
type StartOption interface{ opt() }
type Kind int
func (Kind) opt() {}
type Type int
func (Type) opt() {}
const (
	KindInternal Kind = iota
	KindServer
	KindClient
	KindProducer
	KindConsumer
)
const (
	TypeLLM Type = iota
	TypeTool
	TypeAgent
	TypeChain
	TypeTask
)
type option struct{}
func (option) opt() {}
func WithAttr(string, any) StartOption { return option{} }
func WithInherited(string, any) StartOption { return option{} }
func WithTags(...string) StartOption { return option{} }
func WithContentCapture() StartOption { return option{} }
func Start(ctx context.Context, name string, opts ...StartOption) (context.Context, *Span) { return ctx, nil }
func Begin(name string, opts ...StartOption) *Span { return nil }
func Bind[F any](s *Span, f F) F { return f }
func Stop() {}
func Exit(int) {}
func (*Span) Finish(error, any) {}
func Fork[F any](s *Span, f F) F { return f }
type Definition struct{}
func Define(name string, opts ...StartOption) *Definition { return nil }
func (*Definition) Start(context.Context) *Span { return nil }
func (*Definition) StartContext(ctx context.Context) (context.Context, *Span) { return ctx, nil }
func (*Definition) Begin() *Span { return nil }
func (*Span) Return(*error) {}
func (*Span) ReturnOutput(*error, ...any) {}
func (*Span) RecordInput(...any) {}
func (*Span) RecordOutput(...any) {}`,
}

// typeCheck reports the first type error of src (a single-file package), using the stubs.
func typeCheck(src []byte) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.ParseComments)
	if err != nil {
		return err
	}
	conf := types.Config{Importer: fakepkgs.NewImporter(fset, stubPackages)}
	_, err = conf.Check("example.com/p", fset, []*ast.File{f}, nil)
	return err
}

func FuzzRewrite(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "input.go"))
	for _, p := range inputs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, false)
		}
	}
	f.Add([]byte("package p\n\n//trace:span\nfunc f() error { return nil }\n"), false)
	f.Add([]byte("package p\n\nfunc f(a, b int) (int, error) { return a + b, nil }\n"), true)
	f.Add([]byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(1) }\n"), true)
	f.Fuzz(func(t *testing.T, src []byte, all bool) {
		if bytes.Contains(src, []byte("tracegen")) {
			return // inputs that already spell our markers or alias are not user code we promise to round-trip
		}
		af, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.ParseComments)
		if err != nil {
			return
		}
		cfg := Config{All: all}
		files, errs := processPackage(cfg, "example.com/p", af.Name.Name, []*srcFile{{path: "/src/p.go", orig: src}}, nil, "")
		out := files[0].New
		if len(errs) > 0 {
			if !bytes.Equal(out, src) {
				t.Fatalf("errors %v but the file changed", errs)
			}
			for _, e := range errs {
				if e.Pos.Filename == "" || e.Pos.Line == 0 {
					t.Fatalf("error without position: %v", e)
				}
			}
			return
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "out.go", out, parser.ParseComments); err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		back, err := StripSource(out)
		if err != nil {
			t.Fatalf("StripSource: %v\n%s", err, out)
		}
		if !bytes.Equal(back, src) {
			t.Fatalf("strip(instrument(x)) != x\n--- x\n%q\n--- out\n%s\n--- back\n%q", src, out, back)
		}
		again, errs := processPackage(cfg, "example.com/p", af.Name.Name, []*srcFile{{path: "/src/p.go", orig: out}}, nil, "")
		if len(errs) > 0 || !bytes.Equal(again[0].New, out) {
			t.Fatalf("not idempotent (errors %v):\n%s\n---\n%s", errs, out, again[0].New)
		}
		if fmtd, err := format.Source(src); err == nil && bytes.Equal(fmtd, src) {
			if fo, err := format.Source(out); err != nil || !bytes.Equal(fo, out) {
				t.Fatalf("gofmt-clean input, output not gofmt-clean:\n%s", out)
			}
		}
		if typeCheck(src) == nil {
			if err := typeCheck(out); err != nil {
				t.Fatalf("input type-checks, output does not: %v\n%s", err, out)
			}
		}
		ov, _ := processPackage(Config{All: all, Mode: Overlay}, "example.com/p", af.Name.Name, []*srcFile{{path: "/src/p.go", orig: src}}, nil, "")
		o := ov[0].New
		if err := overlayPositionsOK("/src/p.go", src, o); err != nil {
			t.Fatalf("overlay moved code: %v\n%s", err, o)
		}
		if typeCheck(src) == nil && !bytes.Equal(o, src) {
			if err := typeCheck(o); err != nil && !strings.Contains(err.Error(), "x.go") {
				t.Fatalf("input type-checks, overlay does not: %v\n%s", err, o)
			} else if err != nil {
				t.Fatalf("input type-checks, overlay does not: %v\n%s", err, o)
			}
		}
	})
}

// TestStubTypeCheck makes sure the fuzz oracle itself works: golden outputs type-check.
func TestStubTypeCheck(t *testing.T) {
	if err := typeCheck([]byte("package p\nfunc f() { x := 1 }\n")); err == nil {
		t.Fatal("unused variable not reported")
	}
	for _, c := range goldenCases(t) {
		if typeCheck(c.input) != nil {
			continue
		}
		out, errs := instrumentOne(t, string(c.input), c.cfg)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if err := typeCheck([]byte(out)); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// FuzzStripSource feeds arbitrary (mostly damaged) instrumented files to
// StripSource: it must never panic, and stripping twice changes nothing more.
func FuzzStripSource(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "want.go.golden"))
	for _, p := range golden {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := StripSource(src)
		if err != nil {
			return
		}
		again, err := StripSource(out)
		if err != nil {
			if _, perr := parser.ParseFile(token.NewFileSet(), "", out, parser.ParseComments); perr != nil {
				return // the first strip left text that does not parse (the input's own damage)
			}
			t.Fatalf("second strip failed: %v\n%s", err, out)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("strip is not idempotent:\n%s\n---\n%s", out, again)
		}
	})
}
