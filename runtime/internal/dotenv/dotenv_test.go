package dotenv

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const file = `# comment
  # indented comment

A=1
export B = two words  
C='single # not a comment'  # comment
D="line\nbreak \"q\" \$HOME \x"
E=plain # comment
F=url#fragment
G=
H=""
export I="x" # after
A=last
J=${NOT_EXPANDED}
`
	got, errs := Parse(strings.NewReader(file), ".env")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := map[string]string{
		"A": "last", "B": "two words", "C": "single # not a comment", "D": "line\nbreak \"q\" $HOME \\x",
		"E": "plain", "F": "url#fragment", "G": "", "H": "", "I": "x", "J": "${NOT_EXPANDED}",
	}
	if !maps.Equal(got, want) {
		t.Errorf("Parse =\n%q\nwant\n%q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		line, msg string
	}{
		{"sk-secret-token-1234567890", "want KEY=VALUE"},
		{"1KEY=x", "not a variable name"},
		{"my key=x", "not a variable name"},
		{"K='open", "K: unterminated single quote"},
		{`K="open`, "K: unterminated double quote"},
		{`K="a" b`, "K: text after the closing quote"},
		{"K='a'b", "K: text after the closing quote"},
	}
	for _, tt := range tests {
		vals, errs := Parse(strings.NewReader("OK=1\n"+tt.line+"\n"), "conf/.env")
		if len(errs) != 1 {
			t.Errorf("%q: %d errors, want 1", tt.line, len(errs))
			continue
		}
		var se *SyntaxError
		if !errors.As(errs[0], &se) || se.Line != 2 || se.File != "conf/.env" {
			t.Errorf("%q: error %#v, want a *SyntaxError at conf/.env:2", tt.line, errs[0])
			continue
		}
		if msg := errs[0].Error(); !strings.HasPrefix(msg, "conf/.env:2: ") || !strings.Contains(msg, tt.msg) {
			t.Errorf("%q: error %q, want conf/.env:2: …%s…", tt.line, msg, tt.msg)
		}
		if strings.Contains(errs[0].Error(), "secret") {
			t.Errorf("%q: the error shows the line: %q", tt.line, errs[0])
		}
		if vals["OK"] != "1" {
			t.Errorf("%q: the good line before it was lost", tt.line)
		}
	}
}
