package fakepkgs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

func TestImporter(t *testing.T) {
	fset := token.NewFileSet()
	im := NewImporter(fset, map[string]string{
		"a":     "package a\ntype T int",
		"b/c":   "package c\nimport \"a\"\nfunc F() a.T { return 0 }",
		"wrong": "package wrong\nvar x int = \"s\"",
	})
	f, err := parser.ParseFile(fset, "x.go", "package x\nimport \"b/c\"\nvar v = c.F()", 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	pkg, err := (&types.Config{Importer: im}).Check("x", fset, []*ast.File{f}, info)
	if err != nil {
		t.Fatal(err)
	}
	if got := pkg.Scope().Lookup("v").Type().String(); got != "a.T" {
		t.Errorf("v has type %s, want a.T", got)
	}
	a1, _ := im.Import("a")
	if a2, _ := im.Import("a"); a1 == nil || a1 != a2 {
		t.Error("a package is type-checked again on a second import")
	}
	if _, err := im.Import("missing"); err == nil || !strings.Contains(err.Error(), `no fake package "missing"`) {
		t.Errorf("Import(missing) = %v", err)
	}
	if _, err := im.Import("wrong"); err == nil || !strings.Contains(err.Error(), "wrong.go:2") {
		t.Errorf("Import(wrong) = %v, want a type error in wrong.go", err)
	}
}
