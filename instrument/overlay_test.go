package instrument

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeOverlay runs the rewriter in overlay mode over dir and writes the
// instrumented copies plus an overlay.json for the go command.
func writeOverlay(t *testing.T, dir string) string {
	t.Helper()
	res, err := Run(Config{Dir: dir, Mode: Overlay}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	odir := t.TempDir()
	replace := map[string]string{}
	for i, f := range res.Files {
		if !f.Changed {
			continue
		}
		p := filepath.Join(odir, strings.TrimSuffix(filepath.Base(f.Path), ".go")+"_"+string(rune('a'+i))+".go")
		if err := os.WriteFile(p, f.New, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[f.Path] = p
	}
	if len(replace) == 0 {
		t.Fatal("overlay is empty")
	}
	b, _ := json.Marshal(map[string]any{"Replace": replace})
	path := filepath.Join(odir, "overlay.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const callerProg = `package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
)

//trace:span
func traced(ctx context.Context) (string, error) {
	_, file, line, _ := runtime.Caller(0)
	return fmt.Sprintf("%s:%d", file, line), nil
}

func main() {
	where, _ := traced(context.Background())
	fmt.Println(where)
	_, file, line, _ := runtime.Caller(0)
	fmt.Printf("%s:%d\n", file, line)
	os.Exit(0)
}
`

// TestOverlayPositions builds with -overlay and checks that runtime.Caller
// reports the original file and line, in and after a traced function.
func TestOverlayPositions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with the go command; skipped in -short mode")
	}
	dir := tempModule(t, map[string]string{"main.go": callerProg})
	overlay := writeOverlay(t, dir)
	out, err := goCmd(t, dir, "run", "-overlay="+overlay, ".")
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		t.Fatalf("output %q", out)
	}
	want := []string{"main.go:12", "main.go:19"}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], "/"+w) {
			t.Errorf("runtime.Caller line %d = %q, want the original position .../%s", i, lines[i], w)
		}
	}
}

// TestOverlayCompileError checks that a compiler error after a traced
// function names the original file, line and column.
func TestOverlayCompileError(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with the go command; skipped in -short mode")
	}
	src := `package p

import "context"

//trace:span
func F(_ context.Context) error { return nil }

func G() int {
	return "not an int"
}

//trace:span
func H() (int, error) { go G(); return "same line", nil }
`
	dir := tempModule(t, map[string]string{"p/p.go": src})
	overlay := writeOverlay(t, dir)
	out, err := goCmd(t, dir, "build", "-overlay="+overlay, "./p")
	if err == nil {
		t.Fatal("build succeeded, want a type error")
	}
	for _, re := range []string{`p/p\.go:9:9: cannot use "not an int"`, `p/p\.go:13:40: cannot use "same line"`} {
		if !regexp.MustCompile(re).Match(out) {
			t.Errorf("compiler error does not match %s:\n%s", re, out)
		}
	}
}

// overlayTok is a token with the position the compiler will report for it.
type overlayTok struct {
	tok       token.Token
	lit       string
	file      string
	line, col int
}

// scanTokens returns the tokens of src with //line-adjusted positions,
// leaving out the semicolons the scanner inserts at line ends.
func scanTokens(name string, src []byte) []overlayTok {
	fset := token.NewFileSet()
	f := fset.AddFile(name, -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	var out []overlayTok
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		p := fset.Position(pos)
		out = append(out, overlayTok{tok, lit, p.Filename, p.Line, p.Column})
	}
}

// overlayPositionsOK checks that every token of src appears in out at the
// same file, line and column once //line directives are applied. Only the
// tokens of os.Exit selectors, a renamed os import and renamed blank
// parameters or results may be replaced.
func overlayPositionsOK(name string, src, out []byte) error {
	have := map[overlayTok]bool{}
	for _, g := range scanTokens(name, out) {
		have[g] = true
	}
	osNames := map[string]bool{"os": true}
	if f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly); err == nil {
		for _, imp := range f.Imports {
			if imp.Path.Value == `"os"` && imp.Name != nil {
				osNames[imp.Name.Name] = true
			}
		}
	}
	for _, w := range scanTokens(name, src) {
		if have[w] {
			continue
		}
		if w.tok == token.PERIOD || w.tok == token.IDENT && (w.lit == "Exit" || w.lit == "_" || osNames[w.lit]) {
			continue
		}
		return fmt.Errorf("original token %s %q at %s:%d:%d has no counterpart at the same position in the overlay", w.tok, w.lit, w.file, w.line, w.col)
	}
	return nil
}
