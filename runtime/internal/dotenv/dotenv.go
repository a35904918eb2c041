// Package dotenv reads dotenv files: lines of KEY=VALUE, as the common
// parsers (python-dotenv, godotenv, docker compose's env_file) accept them.
//
// A line is blank, a comment (first non-blank character #), or an
// assignment, optionally prefixed with "export ". Spaces around the key
// and the = are ignored. An unquoted value ends at the end of the line or
// at a # preceded by a blank, and is trimmed. A value in single quotes is
// taken literally; one in double quotes understands \n, \r, \t, \", \\ and
// \$. Either kind of quotes must close on the same line, and only a
// comment may follow them. Variables are not expanded.
package dotenv

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// SyntaxError is a line that is none of the above.
type SyntaxError struct {
	File string // as given to Parse
	Line int    // 1-based
	Msg  string
}

// Error returns "file:line: msg".
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse reads r, named file in errors. It returns the assignments in the
// order of the file (a key assigned twice keeps its last value) and every
// syntax error; lines in error are skipped.
func Parse(r io.Reader, file string) (map[string]string, []error) {
	vals := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		k, v, err := parseLine(sc.Text())
		if err != "" {
			errs = append(errs, &SyntaxError{File: file, Line: n, Msg: err})
			continue
		}
		if k != "" {
			vals[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", file, err))
	}
	return vals, errs
}

// parseLine returns the assignment of line ("" key for a blank or comment
// line) or what is wrong with it.
func parseLine(line string) (key, val, err string) {
	s := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	if s == "" || s[0] == '#' {
		return "", "", ""
	}
	if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimSpace(rest)
	}
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok {
		return "", "", "want KEY=VALUE" // the line is not shown: it may be a secret
	}
	if !validKey(k) {
		return "", "", "the text before = is not a variable name"
	}
	v = strings.TrimLeft(v, " \t")
	if v == "" {
		return k, "", ""
	}
	switch v[0] {
	case '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", "", fmt.Sprintf("%s: unterminated single quote", k)
		}
		if !onlyComment(v[end+2:]) {
			return "", "", fmt.Sprintf("%s: text after the closing quote", k)
		}
		return k, v[1 : end+1], ""
	case '"':
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			c := v[i]
			switch {
			case c == '"':
				if !onlyComment(v[i+1:]) {
					return "", "", fmt.Sprintf("%s: text after the closing quote", k)
				}
				return k, b.String(), ""
			case c == '\\' && i+1 < len(v):
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '$':
					b.WriteByte(v[i])
				default:
					b.WriteByte('\\')
					b.WriteByte(v[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", "", fmt.Sprintf("%s: unterminated double quote", k)
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			v = v[:i]
			break
		}
	}
	return k, strings.TrimSpace(v), ""
}

func onlyComment(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s[0] == '#'
}

func validKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
