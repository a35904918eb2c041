package rules

import (
	"fmt"
	"go/token"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/llmspec"
)

// Rule is one LLM call rule: the functions it matches and how their calls
// become spans. A rule file is a YAML list of rules; see docs/llm.md.
type Rule struct {
	Name string // dotted identifier, unique; the runtime looks built-in rules up by it
	Doc  string // one lower-case line, shown by `tracegen rules`
	// Funcs are types.Func.FullName() values of the generic origin, e.g.
	// "(*github.com/openai/openai-go/v3.ChatCompletionService).New".
	Funcs []string
	// Stream names the methods of the stream object that the rewriter follows.
	Stream StreamMethods
	// Client, for a rule of SDK client constructors, is the *http.Client
	// field of the SDK's configuration struct: the constructor's call is
	// routed through a runtime/llmhttp wrapper that hands the client the
	// traced transport there. Such a rule makes no span itself.
	Client string
	// Spec is the run-time part, handed to runtime/genai (the shape is package llmspec).
	Spec llmspec.Spec
	// Pos is where the rule starts in its file (the file name is "builtin.yaml"
	// for the embedded rules).
	Pos token.Position
	// Builtin reports whether the rule ships with tracegen, so call sites name
	// it instead of carrying its spec.
	Builtin bool
}

// StreamMethods are the full names of a stream type's methods that end or
// advance the stream; calls to them are rewritten into runtime/genai
// wrappers that look the span up by the stream object.
type StreamMethods struct {
	Next   string // sse: Next() bool
	Recv   string // recv: Recv() (T, error)
	Events string // events: Events() <-chan T
	Close  string // Close() error
}

// ImportPaths returns the packages the rule's functions belong to, so files
// that import none of them can be skipped before type-checking.
func (r *Rule) ImportPaths() []string {
	var out []string
	add := func(full string) {
		if full == "" {
			return
		}
		if p := pkgOfFullName(full); p != "" {
			out = append(out, p)
		}
	}
	for _, f := range r.Funcs {
		add(f)
	}
	add(r.Stream.Next)
	add(r.Stream.Recv)
	add(r.Stream.Events)
	add(r.Stream.Close)
	return out
}

// pkgOfFullName extracts the import path from a types.Func full name:
// "(*a/b.T).M" and "(a/b.T).M" and "a/b.F" all give "a/b".
func pkgOfFullName(full string) string {
	s := full
	if strings.HasPrefix(s, "(") {
		end := strings.Index(s, ")")
		if end < 0 {
			return ""
		}
		s = strings.TrimPrefix(s[1:end], "*")
		if i := strings.Index(s, "["); i >= 0 {
			s = s[:i]
		}
	}
	slash := strings.LastIndex(s, "/")
	dot := strings.Index(s[slash+1:], ".")
	if dot < 0 {
		return ""
	}
	return s[:slash+1+dot]
}

// Error is a problem in a rule file, positioned at the offending YAML node.
type Error struct {
	Pos     token.Position
	Keyword string // the YAML key at fault, "" for the file as a whole
	Msg     string
}

// Error formats the problem as "file:line:col: keyword: message".
func (e *Error) Error() string {
	if e.Keyword == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Keyword, e.Msg)
}

// ErrorList is every problem found in one load, in file order.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}
