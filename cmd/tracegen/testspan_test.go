package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestTestSpans(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		spans int // spans added
	}{
		{"test and subtest", "package p\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {\n\tt.Run(\"x\", func(t *testing.T) {})\n}\n", 2},
		{"aliased testing", "package p\n\nimport tt \"testing\"\n\nfunc TestA(x *tt.T) {}\n", 1},
		{"not tests", "package p\n\nimport \"testing\"\n\nfunc BenchmarkA(b *testing.B) {}\nfunc TestB(_ *testing.T) {}\nfunc helper(t *testing.T) {}\nfunc (s) TestC(t *testing.T) {}\n", 0},
		{"no testing import", "package p\n\nfunc TestA(t *T) {}\n", 0},
		{"alias taken", "package p\n\nimport \"testing\"\n\nvar tracegen_test = 1\n\nfunc TestA(t *testing.T) {}\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok, err := testSpans("p_test.go", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tt.spans > 0) {
				t.Fatalf("ok = %v, want %v", ok, tt.spans > 0)
			}
			if !ok {
				return
			}
			if got := strings.Count(string(out), ".Begin("); got != tt.spans {
				t.Errorf("%d spans added, want %d:\n%s", got, tt.spans, out)
			}
			if bytes.Count(out, []byte("\n")) != strings.Count(tt.src, "\n") {
				t.Errorf("line count changed:\n%s", out)
			}
			// A function literal added would renumber the test's own.
			if got, want := strings.Count(string(out), "func("), strings.Count(tt.src, "func("); got != want {
				t.Errorf("%d function literals, want %d:\n%s", got, want, out)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), "p_test.go", out, 0); err != nil {
				t.Errorf("output does not parse: %v\n%s", err, out)
			}
			if strings.Contains(tt.name, "taken") && !strings.Contains(string(out), "(tracegen_test_ \"") {
				t.Errorf("alias not renamed:\n%s", out)
			}
		})
	}
}
