package instrument

import (
	"fmt"
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DirectivePrefix starts every tracegen directive comment.
const DirectivePrefix = "//trace:"

// Verb is the first word of a directive: the span type, or ignore.
type Verb string

// The verbs a directive may use.
const (
	VerbSpan   Verb = "span"
	VerbLLM    Verb = "llm"
	VerbTool   Verb = "tool"
	VerbAgent  Verb = "agent"
	VerbChain  Verb = "chain"
	VerbTask   Verb = "task"
	VerbIgnore Verb = "ignore"
)

// typeOption maps a verb to the runtime option naming its span type ("" = none).
var typeOption = map[Verb]string{
	VerbSpan: "", VerbLLM: "TypeLLM", VerbTool: "TypeTool", VerbAgent: "TypeAgent",
	VerbChain: "TypeChain", VerbTask: "TypeTask", VerbIgnore: "",
}

// kindOption maps a kind= value to the runtime option.
var kindOption = map[string]string{
	"internal": "KindInternal", "server": "KindServer", "client": "KindClient",
	"producer": "KindProducer", "consumer": "KindConsumer",
}

// KV is one key/value pair of a directive, in the order written.
type KV struct {
	Key, Value string
	// Quoted records that the value was written in quotes: it stays a string.
	// An unquoted value that reads as an integer, a float or true/false is
	// passed to the runtime as that type.
	Quoted bool
}

// literal renders the value as a Go expression.
func (kv KV) literal() string {
	if !kv.Quoted {
		if kv.Value == "true" || kv.Value == "false" {
			return kv.Value
		}
		if _, err := strconv.ParseInt(kv.Value, 10, 64); err == nil && !strings.HasPrefix(kv.Value, "+") && (kv.Value == "0" || !strings.HasPrefix(strings.TrimPrefix(kv.Value, "-"), "0")) {
			return kv.Value
		}
		if isDecimalFloat(kv.Value) {
			if _, err := strconv.ParseFloat(kv.Value, 64); err == nil {
				return kv.Value
			}
		}
	}
	return strconv.Quote(kv.Value)
}

// isDecimalFloat reports whether s is spelled like 1.5, -0.25 or 2e3 (and is
// therefore also a Go float literal).
func isDecimalFloat(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || s[0] < '0' || s[0] > '9' || !strings.ContainsAny(s, ".eE") {
		return false
	}
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '.':
		case c == 'e' || c == 'E':
		case (c == '-' || c == '+') && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E'):
		default:
			return false
		}
	}
	return s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// Directive is a parsed //trace: comment.
type Directive struct {
	Pos       token.Position // position of the comment
	Verb      Verb
	Name      string // name=; "" means the default pkg.Func
	Kind      string // kind=; "" means the runtime default (internal)
	Attrs     []KV   // attr.<k>=<v>, in order
	Inherited []KV   // inherit.<k>=<v>, in order
	Input     bool   // record arguments
	Output    bool   // record results
	Rebind    bool   // rebind: callees get the span's context, not the caller's
	Agent     string // agent=
	Model     string // model=
	Tags      []string
}

// IsDirective reports whether a comment's text (with its // marker) is a tracegen directive line.
func IsDirective(text string) bool { return strings.HasPrefix(text, DirectivePrefix) }

// ParseDirective parses one directive comment. text is the raw comment text,
// starting with "//trace:"; pos is the position of its first slash. Errors are
// *Error values positioned at the offending token.
func ParseDirective(text string, pos token.Position) (*Directive, error) {
	errAt := func(off int, format string, args ...any) error {
		p := pos
		p.Offset += off
		p.Column += off
		return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
	}
	if !IsDirective(text) {
		return nil, errAt(0, "not a //trace: directive")
	}
	if strings.ContainsAny(text, "\n\r") {
		return nil, errAt(0, "directive must be a single // line")
	}
	d := &Directive{Pos: pos}
	toks, err := splitDirective(text, len(DirectivePrefix))
	if err != nil {
		var te *tokErr
		if ok := asTokErr(err, &te); ok {
			return nil, errAt(te.off, "%s", te.msg)
		}
		return nil, err
	}
	if len(toks) == 0 || toks[0].off != len(DirectivePrefix) {
		return nil, errAt(len(DirectivePrefix), "missing verb after //trace: (want span, llm, tool, agent, chain, task or ignore)")
	}
	verb := toks[0]
	if verb.hasValue || verb.quoted {
		return nil, errAt(verb.off, "missing verb after //trace: (want span, llm, tool, agent, chain, task or ignore)")
	}
	if _, ok := typeOption[Verb(verb.key)]; !ok {
		return nil, errAt(verb.off, "unknown directive verb %q (want span, llm, tool, agent, chain, task or ignore)", verb.key)
	}
	d.Verb = Verb(verb.key)
	seen := map[string]bool{}
	for _, t := range toks[1:] {
		if d.Verb == VerbIgnore {
			return nil, errAt(t.off, "//trace:ignore takes no keys")
		}
		if seen[t.key] {
			return nil, errAt(t.off, "duplicate key %q", t.key)
		}
		seen[t.key] = true
		if err := d.setKey(t, errAt); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// unknownKey is the message for a key that is not one of the directive's.
const unknownKey = "unknown key %q (want name, kind, attr.<k>, inherit.<k>, input, output, rebind, agent, model or tags)"

// setKey records one key of a directive; errAt positions its errors.
func (d *Directive) setKey(t dtok, errAt func(off int, format string, args ...any) error) error {
	switch {
	case t.key == "input" || t.key == "output" || t.key == "rebind":
		if t.hasValue {
			return errAt(t.off, "key %q takes no value", t.key)
		}
		switch t.key {
		case "input":
			d.Input = true
		case "output":
			d.Output = true
		default:
			d.Rebind = true
		}
		return nil
	case !t.hasValue:
		if isKnownKey(t.key) {
			return errAt(t.off, "key %q needs a value (%s=...)", t.key, t.key)
		}
		return errAt(t.off, unknownKey, t.key)
	case t.value == "":
		return errAt(t.valOff, "empty value for key %q", t.key)
	}
	switch {
	case t.key == "name":
		d.Name = t.value
	case t.key == "kind":
		if _, ok := kindOption[t.value]; !ok {
			return errAt(t.valOff, "bad kind %q (want internal, server, client, producer or consumer)", t.value)
		}
		d.Kind = t.value
	case t.key == "agent":
		d.Agent = t.value
	case t.key == "model":
		d.Model = t.value
	case t.key == "tags":
		for _, tag := range strings.Split(t.value, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "" {
				return errAt(t.valOff, "empty tag in %q", t.value)
			}
			d.Tags = append(d.Tags, tag)
		}
	case strings.HasPrefix(t.key, "attr."), strings.HasPrefix(t.key, "inherit."):
		prefix, k, _ := strings.Cut(t.key, ".")
		if k == "" {
			return errAt(t.off, "missing attribute name after %s.", prefix)
		}
		if prefix == "attr" {
			d.Attrs = append(d.Attrs, KV{k, t.value, t.quoted})
		} else {
			d.Inherited = append(d.Inherited, KV{k, t.value, t.quoted})
		}
	default:
		return errAt(t.off, unknownKey, t.key)
	}
	return nil
}

func isKnownKey(k string) bool {
	switch k {
	case "name", "kind", "agent", "model", "tags":
		return true
	}
	return strings.HasPrefix(k, "attr.") || strings.HasPrefix(k, "inherit.")
}

// dtok is one whitespace-separated item of a directive.
type dtok struct {
	off      int // byte offset of the item in the comment text
	key      string
	hasValue bool
	value    string
	valOff   int
	quoted   bool
}

type tokErr struct {
	off int
	msg string
}

func (e *tokErr) Error() string { return e.msg }

func asTokErr(err error, target **tokErr) bool {
	te, ok := err.(*tokErr)
	if ok {
		*target = te
	}
	return ok
}

// splitDirective splits text[start:] into key[=value] items. Values may be
// double-quoted (Go escapes) or back-quoted (raw).
func splitDirective(text string, start int) ([]dtok, error) {
	var toks []dtok
	i := start
	for {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		if i >= len(text) {
			return toks, nil
		}
		t := dtok{off: i}
		j := i
		for j < len(text) && text[j] != '=' && text[j] != ' ' && text[j] != '\t' {
			if text[j] == '"' || text[j] == '`' {
				return nil, &tokErr{j, "unexpected quote in key (quote only values: key=\"a b\")"}
			}
			j++
		}
		t.key = text[i:j]
		if err := checkKey(t.key, i); err != nil {
			return nil, err
		}
		if j < len(text) && text[j] == '=' {
			t.hasValue = true
			j++
			t.valOff = j
			if j < len(text) && (text[j] == '"' || text[j] == '`') {
				end, err := quotedEnd(text, j)
				if err != nil {
					return nil, err
				}
				v, uerr := strconv.Unquote(text[j:end])
				if uerr != nil {
					return nil, &tokErr{j, fmt.Sprintf("bad quoted value %s: %v", text[j:end], uerr)}
				}
				t.value, t.quoted = v, true
				j = end
				if j < len(text) && text[j] != ' ' && text[j] != '\t' {
					return nil, &tokErr{j, "missing space after quoted value"}
				}
			} else {
				k := j
				for k < len(text) && text[k] != ' ' && text[k] != '\t' {
					if text[k] == '"' || text[k] == '`' {
						return nil, &tokErr{k, "unexpected quote inside value (quote the whole value: key=\"a b\")"}
					}
					k++
				}
				t.value = text[j:k]
				j = k
			}
		}
		toks = append(toks, t)
		i = j
	}
}

// quotedEnd returns the offset just past the closing quote of the string starting at text[i].
func quotedEnd(text string, i int) (int, error) {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j + 1, nil
		}
	}
	return 0, &tokErr{i, "unterminated quoted value"}
}

func checkKey(key string, off int) error {
	if key == "" {
		return &tokErr{off, "missing key before '='"}
	}
	for k, r := range key {
		if r == utf8.RuneError {
			return &tokErr{off + k, "invalid UTF-8 in key"}
		}
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' || r == '/') {
			return &tokErr{off + k, fmt.Sprintf("invalid character %q in key %q", r, key)}
		}
	}
	return nil
}

// options renders the runtime options of d, each as Go source using alias.
func (d *Directive) options(alias string) []string {
	var opts []string
	if t := typeOption[d.Verb]; t != "" {
		opts = append(opts, alias+"."+t)
	}
	if d.Kind != "" {
		opts = append(opts, alias+"."+kindOption[d.Kind])
	}
	for _, kv := range d.Attrs {
		opts = append(opts, fmt.Sprintf("%s.WithAttr(%s, %s)", alias, strconv.Quote(kv.Key), kv.literal()))
	}
	for _, kv := range d.Inherited {
		opts = append(opts, fmt.Sprintf("%s.WithInherited(%s, %s)", alias, strconv.Quote(kv.Key), kv.literal()))
	}
	if len(d.Tags) > 0 {
		q := make([]string, len(d.Tags))
		for i, t := range d.Tags {
			q[i] = strconv.Quote(t)
		}
		opts = append(opts, fmt.Sprintf("%s.WithTags(%s)", alias, strings.Join(q, ", ")))
	}
	if d.Agent != "" {
		opts = append(opts, fmt.Sprintf("%s.WithAttr(\"gen_ai.agent.name\", %s)", alias, strconv.Quote(d.Agent)))
	}
	if d.Model != "" {
		opts = append(opts, fmt.Sprintf("%s.WithAttr(\"gen_ai.request.model\", %s)", alias, strconv.Quote(d.Model)))
	}
	if d.Input || d.Output {
		// LLM calls beneath record their messages too.
		opts = append(opts, alias+".WithContentCapture()")
	}
	return opts
}
