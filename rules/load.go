package rules

import (
	_ "embed"
	"fmt"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/tracegen-dev/tracegen/runtime/llmspec"
)

//go:embed builtin.yaml
var builtinYAML []byte

var (
	builtinOnce  sync.Once
	builtinRules []*Rule
)

// Builtin returns the rules that ship with tracegen, in file order. The
// slice and the rules are shared: do not modify them.
func Builtin() []*Rule {
	builtinOnce.Do(func() {
		rs, err := Parse("builtin.yaml", builtinYAML)
		if err != nil {
			// The embedded file is checked by the package's tests; reaching
			// this is a build of a broken tree.
			panic("rules: invalid built-in rules: " + err.Error())
		}
		for _, r := range rs {
			r.Builtin = true
		}
		builtinRules = rs
	})
	return builtinRules
}

// Load reads a user rule file and checks it, together with the built-in
// rules (names and functions must stay unique). Errors are an [ErrorList]
// whose entries read "file:line:col: keyword: message".
func Load(path string) ([]*Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	rs, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := checkUnique(append(append([]*Rule(nil), Builtin()...), rs...)); err != nil {
		return nil, err
	}
	return rs, nil
}

// Parse decodes and validates a rule file's contents; filename is used in
// positions only.
func Parse(filename string, data []byte) ([]*Rule, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, ErrorList{{Pos: token.Position{Filename: filename, Line: yamlErrLine(err)}, Msg: yamlErrMsg(err)}}
	}
	p := &parser{file: filename}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, ErrorList{{Pos: token.Position{Filename: filename, Line: 1, Column: 1}, Msg: "empty rule file: want a list of rules"}}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.SequenceNode {
		p.errorf(root, "", "want a list of rules, got %s", kindName(root))
		return nil, p.errs
	}
	var out []*Rule
	for _, n := range root.Content {
		if r := p.rule(resolve(n)); r != nil {
			out = append(out, r)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

var yamlPrefixRE = regexp.MustCompile(`^yaml: (line \d+: )?`)

func yamlErrMsg(err error) string { return yamlPrefixRE.ReplaceAllString(err.Error(), "") }

func yamlErrLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	return 1
}

type parser struct {
	file string
	errs ErrorList
}

func (p *parser) pos(n *yaml.Node) token.Position {
	return token.Position{Filename: p.file, Line: n.Line, Column: n.Column}
}

func (p *parser) errorf(n *yaml.Node, keyword, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Keyword: keyword, Msg: fmt.Sprintf(format, args...)})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// fields walks a mapping, calling set for each known key and reporting
// unknown keys, duplicates and non-mappings.
func (p *parser) fields(n *yaml.Node, where string, known map[string]func(v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, where, "want a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		set, ok := known[k.Value]
		switch {
		case !ok:
			keys := make([]string, 0, len(known))
			for key := range known {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			p.errorf(k, k.Value, "unknown key (want one of %s)", strings.Join(keys, ", "))
		case seen[k.Value]:
			p.errorf(k, k.Value, "key repeated")
		default:
			seen[k.Value] = true
			set(v)
		}
	}
}

func (p *parser) str(n *yaml.Node, key string, dst *string) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, key, "want a string, got %s", kindName(n))
		return
	}
	*dst = n.Value
}

func (p *parser) boolean(n *yaml.Node, key string, dst *bool) {
	if n.Kind != yaml.ScalarNode || (n.Value != "true" && n.Value != "false") {
		p.errorf(n, key, "want true or false, got %s", kindName(n))
		return
	}
	*dst = n.Value == "true"
}

// strs accepts one string or a list of strings.
func (p *parser) strs(n *yaml.Node, key string, dst *[]string) {
	if n.Kind == yaml.ScalarNode {
		var s string
		p.str(n, key, &s)
		*dst = []string{s}
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, key, "want a string or a list of strings, got %s", kindName(n))
		return
	}
	for _, e := range n.Content {
		var s string
		p.str(resolve(e), key, &s)
		*dst = append(*dst, s)
	}
}

// paths is strs plus a syntax check of each path; request selects the
// request roots (arg1.., args, opts, recv).
func (p *parser) paths(n *yaml.Node, key string, request bool, dst *[]string) {
	before := len(*dst)
	p.strs(n, key, dst)
	for _, s := range (*dst)[before:] {
		if msg := checkPath(s, request); msg != "" {
			p.errorf(n, key, "%s", msg)
		}
	}
}

func (p *parser) path(n *yaml.Node, key string, request bool, dst *string) {
	p.str(n, key, dst)
	if msg := checkPath(*dst, request); *dst != "" && msg != "" {
		p.errorf(n, key, "%s", msg)
	}
}

// spanOf reads span-of: a request path, or one rooted at recv, the
// receiver of the method the rule covers.
func (p *parser) spanOf(n *yaml.Node, dst *string) {
	p.str(n, "span-of", dst)
	if *dst == "" {
		return
	}
	root, rest, _ := strings.Cut(*dst, ".")
	msg := ""
	switch {
	case root != "recv":
		if msg = checkPath(*dst, true); msg != "" {
			msg += " (or, for span-of, recv: the method's receiver)"
		}
	case rest != "":
		msg = checkPath(rest, false)
	}
	if msg != "" {
		p.errorf(n, "span-of", "%s", msg)
	}
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$`)
	stepRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[[0-9]*\])*$`)
	rootRE = regexp.MustCompile(`^(arg[1-9][0-9]*|args|opts|func)$`)
	envRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=.*$`)
)

// checkPath returns "" when path is well formed, else what is wrong with it.
func checkPath(path string, request bool) string {
	if path == "" {
		return "empty path"
	}
	steps := strings.Split(path, ".")
	if request && !rootRE.MatchString(steps[0]) {
		return fmt.Sprintf("path %q must start with arg1, arg2, ..., args, opts or func", path)
	}
	for _, s := range steps {
		if !stepRE.MatchString(s) {
			return fmt.Sprintf("path %q: bad step %q (want Name, Name[] or Name[N])", path, s)
		}
	}
	return ""
}

var operations = map[string]bool{
	"chat": true, "generate_content": true, "text_completion": true, "embeddings": true,
	"execute_tool": true, "invoke_agent": true, "create_agent": true,
}

func (p *parser) rule(n *yaml.Node) *Rule {
	r := &Rule{Pos: p.pos(n)}
	nerr := len(p.errs)
	var providers map[string]string
	p.fields(n, "rule", map[string]func(*yaml.Node){
		"name":            func(v *yaml.Node) { p.str(v, "name", &r.Name) },
		"doc":             func(v *yaml.Node) { p.str(v, "doc", &r.Doc) },
		"funcs":           func(v *yaml.Node) { p.strs(v, "funcs", &r.Funcs) },
		"provider":        func(v *yaml.Node) { p.str(v, "provider", &r.Spec.Provider) },
		"provider-of":     func(v *yaml.Node) { p.path(v, "provider-of", true, &r.Spec.ProviderOf) },
		"providers":       func(v *yaml.Node) { providers = p.strMap(v, "providers") },
		"operation":       func(v *yaml.Node) { p.str(v, "operation", &r.Spec.Operation) },
		"model":           func(v *yaml.Node) { p.paths(v, "model", true, &r.Spec.Model) },
		"input":           func(v *yaml.Node) { p.path(v, "input", true, &r.Spec.Input) },
		"sdk-tracing-env": func(v *yaml.Node) { p.str(v, "sdk-tracing-env", &r.Spec.SDKTracingEnv) },
		"stream-option":   func(v *yaml.Node) { p.str(v, "stream-option", &r.Spec.StreamOption) },
		"stream":          func(v *yaml.Node) { p.stream(v, r) },
		"response":        func(v *yaml.Node) { p.response(v, &r.Spec.Response) },
		"span":            func(v *yaml.Node) { p.str(v, "span", &r.Spec.Span) },
		"span-of":         func(v *yaml.Node) { p.spanOf(v, &r.Spec.SpanOf) },
		"span-types":      func(v *yaml.Node) { r.Spec.SpanTypes = p.strMap(v, "span-types") },
		"span-name":       func(v *yaml.Node) { p.str(v, "span-name", &r.Spec.SpanName) },
		"client":          func(v *yaml.Node) { p.str(v, "client", &r.Client) },
	})
	r.Spec.Name = r.Name
	r.Spec.Providers = providers
	switch {
	case r.Name == "":
		p.errorf(n, "name", "missing")
	case !nameRE.MatchString(r.Name):
		p.errorf(n, "name", "%q is not a dotted lower-case name like openai.chat", r.Name)
	}
	if len(r.Funcs) == 0 {
		p.errorf(n, "funcs", "missing: list the functions' full names, e.g. (*example.com/sdk.Client).Chat")
	}
	for _, f := range r.Funcs {
		if pkgOfFullName(f) == "" {
			p.errorf(n, "funcs", "%q is not a function full name like (*example.com/sdk.Client).Chat or example.com/sdk.Func", f)
		}
	}
	if r.Client != "" {
		if !token.IsIdentifier(r.Client) || r.Spec.Span != "" || r.Spec.Provider != "" || r.Spec.Operation != "" || r.Spec.Stream != "" {
			p.errorf(n, "client", "a client rule names the *http.Client field of the SDK's configuration (an identifier) and nothing else")
		}
	} else if r.Spec.Span != "" {
		p.frameworkRule(n, r)
	} else if r.Spec.Operation == "" {
		p.errorf(n, "operation", "missing (e.g. chat, embeddings, generate_content)")
	} else if !operations[r.Spec.Operation] && !strings.Contains(r.Spec.Operation, ".") {
		p.errorf(n, "operation", "%q is not a GenAI operation name; custom operations need a dot (vendor.op)", r.Spec.Operation)
	}
	switch {
	case r.Spec.Span != "" || r.Client != "":
	case r.Spec.Provider == "" && r.Spec.ProviderOf == "":
		p.errorf(n, "provider", "missing (e.g. openai, anthropic, gcp.gen_ai, aws.bedrock)")
	case r.Spec.ProviderOf != "" && len(providers) == 0:
		p.errorf(n, "providers", "missing: provider-of needs a providers map from package path to provider name")
	}
	if e := r.Spec.SDKTracingEnv; e != "" && !envRE.MatchString(e) {
		p.errorf(n, "sdk-tracing-env", "%q is not NAME=value", e)
	}
	if len(p.errs) > nerr {
		return nil
	}
	return r
}

// frameworkRule checks a rule with span: (a chain, agent or tool run).
func (p *parser) frameworkRule(n *yaml.Node, r *Rule) {
	kinds := map[string]bool{llmspec.SpanChain: true, llmspec.SpanAgent: true, llmspec.SpanTool: true}
	if !kinds[r.Spec.Span] {
		p.errorf(n, "span", "%q is not a span type: want chain, agent or tool", r.Spec.Span)
	}
	for pkg, t := range r.Spec.SpanTypes {
		if !kinds[t] {
			p.errorf(n, "span-types", "%s: %q is not a span type: want chain, agent or tool", pkg, t)
		}
	}
	if (r.Spec.SpanOf == "") == (r.Spec.SpanName == "") {
		p.errorf(n, "span-of", "want one of span-of (the request path of the value the span is named after, e.g. arg1) or span-name (a fixed name)")
	}
	if r.Spec.Provider != "" || r.Spec.Operation != "" {
		p.errorf(n, "span", "a framework rule has no provider or operation: its LLM calls have their own rules")
	}
	// A run that returns a stream object goes on while it is read: its
	// span ends with the stream, found by the stream wrappers (sse, recv).
	if k := r.Spec.Stream; k != "" && k != llmspec.StreamKindSSE && k != llmspec.StreamKindRecv {
		p.errorf(n, "stream", "a framework rule's stream is of kind sse or recv (the run returns the stream object), not %q", k)
	}
}

func (p *parser) strMap(n *yaml.Node, key string) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, key, "want a mapping, got %s", kindName(n))
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v string
		p.str(resolve(n.Content[i+1]), key, &v)
		m[n.Content[i].Value] = v
	}
	return m
}

func (p *parser) stream(n *yaml.Node, r *Rule) {
	s := &r.Stream
	p.fields(n, "stream", map[string]func(*yaml.Node){
		"kind":          func(v *yaml.Node) { p.str(v, "kind", &r.Spec.Stream) },
		"next":          func(v *yaml.Node) { p.str(v, "next", &s.Next) },
		"recv":          func(v *yaml.Node) { p.str(v, "recv", &s.Recv) },
		"events":        func(v *yaml.Node) { p.str(v, "events", &s.Events) },
		"close":         func(v *yaml.Node) { p.str(v, "close", &s.Close) },
		"accessor":      func(v *yaml.Node) { p.str(v, "accessor", &r.Spec.Accessor) },
		"missing-usage": func(v *yaml.Node) { p.str(v, "missing-usage", &r.Spec.MissingUsage) },
	})
	need := func(key, val string) {
		if val == "" {
			p.errorf(n, key, "missing: stream kind %s needs it", r.Spec.Stream)
		} else if pkgOfFullName(val) == "" {
			p.errorf(n, key, "%q is not a method full name", val)
		}
	}
	switch r.Spec.Stream {
	case llmspec.StreamKindSSE:
		need("next", s.Next)
	case llmspec.StreamKindRecv:
		need("recv", s.Recv)
	case llmspec.StreamKindEvents:
		need("events", s.Events)
		if r.Spec.Accessor == "" {
			p.errorf(n, "accessor", "missing: stream kind events needs the result's method returning the stream (e.g. GetStream)")
		}
	case llmspec.StreamKindSeq, llmspec.StreamKindCallback:
	case "":
		p.errorf(n, "kind", "missing (sse, recv, seq, callback or events)")
	default:
		p.errorf(n, "kind", "%q is not a stream kind (sse, recv, seq, callback or events)", r.Spec.Stream)
	}
	if s.Close != "" && pkgOfFullName(s.Close) == "" {
		p.errorf(n, "close", "%q is not a method full name", s.Close)
	}
}

func (p *parser) response(n *yaml.Node, r *llmspec.Paths) {
	p.fields(n, "response", map[string]func(*yaml.Node){
		"id":                        func(v *yaml.Node) { p.paths(v, "id", false, &r.ID) },
		"model":                     func(v *yaml.Node) { p.paths(v, "model", false, &r.Model) },
		"finish-reasons":            func(v *yaml.Node) { p.paths(v, "finish-reasons", false, &r.FinishReasons) },
		"input-tokens":              func(v *yaml.Node) { p.paths(v, "input-tokens", false, &r.InputTokens) },
		"output-tokens":             func(v *yaml.Node) { p.paths(v, "output-tokens", false, &r.OutputTokens) },
		"cache-read-tokens":         func(v *yaml.Node) { p.paths(v, "cache-read-tokens", false, &r.CacheReadTokens) },
		"cache-write-tokens":        func(v *yaml.Node) { p.paths(v, "cache-write-tokens", false, &r.CacheWriteTokens) },
		"reasoning-tokens":          func(v *yaml.Node) { p.paths(v, "reasoning-tokens", false, &r.ReasoningTokens) },
		"input-excludes-cache":      func(v *yaml.Node) { p.boolean(v, "input-excludes-cache", &r.InputExcludesCache) },
		"input-tokens-add":          func(v *yaml.Node) { p.paths(v, "input-tokens-add", false, &r.InputTokensAdd) },
		"output-excludes-reasoning": func(v *yaml.Node) { p.boolean(v, "output-excludes-reasoning", &r.OutputExcludesReasoning) },
		"output":                    func(v *yaml.Node) { p.path(v, "output", false, &r.Output) },
	})
}

// checkUnique reports rules sharing a name or a function.
func checkUnique(rs []*Rule) error {
	var errs ErrorList
	names := map[string]*Rule{}
	funcs := map[string]*Rule{}
	for _, r := range rs {
		if prev, ok := names[r.Name]; ok {
			errs = append(errs, &Error{Pos: r.Pos, Keyword: "name", Msg: fmt.Sprintf("%q already defined at %s", r.Name, prev.Pos)})
		}
		names[r.Name] = r
		for _, f := range r.allFuncs() {
			if prev, ok := funcs[f]; ok && prev != r {
				// Stream methods are shared by design (every openai-go stream
				// is an ssestream.Stream); only call functions must be unique.
				if r.isCallFunc(f) && prev.isCallFunc(f) {
					errs = append(errs, &Error{Pos: r.Pos, Keyword: "funcs", Msg: fmt.Sprintf("%s already matched by rule %q at %s", f, prev.Name, prev.Pos)})
				}
			}
			funcs[f] = r
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (r *Rule) isCallFunc(f string) bool {
	for _, g := range r.Funcs {
		if g == f {
			return true
		}
	}
	return false
}

func (r *Rule) allFuncs() []string {
	out := append([]string(nil), r.Funcs...)
	for _, s := range []string{r.Stream.Next, r.Stream.Recv, r.Stream.Events, r.Stream.Close} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
