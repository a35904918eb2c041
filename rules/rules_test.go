package rules

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite runtime/genai/builtin.json from builtin.yaml")

func TestBuiltinRulesValid(t *testing.T) {
	rs := Builtin()
	if len(rs) < 20 {
		t.Fatalf("Builtin() = %d rules, want every SDK operation (>= 20)", len(rs))
	}
	for _, r := range rs {
		if r.Doc == "" || strings.HasSuffix(r.Doc, ".") || strings.ToLower(r.Doc[:1]) != r.Doc[:1] {
			t.Errorf("%s: doc %q: want a lower-case title without final period", r.Name, r.Doc)
		}
		if len(r.ImportPaths()) == 0 {
			t.Errorf("%s: no import paths", r.Name)
		}
		if !r.Builtin {
			t.Errorf("%s: Builtin flag not set", r.Name)
		}
	}
}

// TestBuiltinJSON keeps the runtime's compiled-in specs in step with the
// YAML. Run with -update after editing builtin.yaml.
func TestBuiltinJSON(t *testing.T) {
	want, err := RuntimeJSON(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "runtime", "genai", "builtin.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test ./rules -run TestBuiltinJSON -update", path)
	}
}

func TestPkgOfFullName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"(*github.com/openai/openai-go/v3.ChatCompletionService).New", "github.com/openai/openai-go/v3"},
		{"(google.golang.org/genai.Models).GenerateContent", "google.golang.org/genai"},
		{"(*github.com/openai/openai-go/v3/packages/ssestream.Stream[T]).Next", "github.com/openai/openai-go/v3/packages/ssestream"},
		{"github.com/tmc/langchaingo/llms.GenerateFromSinglePrompt", "github.com/tmc/langchaingo/llms"},
		{"fmt.Println", "fmt"},
		{"Println", ""},
		{"(*broken", ""},
	}
	for _, tt := range tests {
		if got := pkgOfFullName(tt.in); got != tt.want {
			t.Errorf("pkgOfFullName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

const goodRule = `- name: acme.chat
  doc: acme chat
  funcs: ["(*example.com/acme.Client).Chat"]
  provider: acme
  operation: chat
  model: arg1.Model
  response:
    input-tokens: Usage.In
    output-tokens: Usage.Out
`

const goodFramework = `- name: acme.run
  doc: acme run
  funcs: ["example.com/acme.Run"]
  span: chain
  span-of: arg1
  span-types:
    example.com/acme/agents: agent
`

func TestParseFramework(t *testing.T) {
	rs, err := Parse("r.yaml", []byte(goodFramework))
	if err != nil {
		t.Fatal(err)
	}
	if s := rs[0].Spec; s.Span != "chain" || s.SpanOf != "arg1" || s.SpanTypes["example.com/acme/agents"] != "agent" {
		t.Errorf("parsed spec = %+v", s)
	}
	streamed := goodFramework + "  stream:\n    kind: recv\n    recv: (*example.com/acme.Reader[T]).Recv\n    close: (*example.com/acme.Reader[T]).Close\n"
	if rs, err := Parse("r.yaml", []byte(streamed)); err != nil || rs[0].Spec.Stream != "recv" || rs[0].Stream.Close != "(*example.com/acme.Reader[T]).Close" {
		t.Errorf("framework rule with a stream: %v, %+v", err, rs)
	}
	for _, of := range []string{"recv", "recv.Name"} {
		rs, err := Parse("r.yaml", []byte(strings.Replace(goodFramework, "span-of: arg1", "span-of: "+of, 1)))
		if err != nil || rs[0].Spec.SpanOf != of {
			t.Errorf("span-of: %s: %v, %+v", of, err, rs)
		}
	}
	bad := []struct{ name, src, want string }{
		{"span type", strings.Replace(goodFramework, "span: chain", "span: flow", 1), `span: "flow" is not a span type`},
		{"span-of root", strings.Replace(goodFramework, "span-of: arg1", "span-of: self", 1), `span-of: path "self" must start with arg1, arg2, ..., args, opts or func (or, for span-of, recv: the method's receiver)`},
		{"span-of step", strings.Replace(goodFramework, "span-of: arg1", "span-of: recv..X", 1), `span-of: path ".X": bad step ""`},
		{"mapped type", strings.Replace(goodFramework, ": agent", ": robot", 1), `span-types: example.com/acme/agents: "robot" is not a span type`},
		{"no name", strings.Replace(goodFramework, "  span-of: arg1\n", "", 1), "span-of: want one of span-of"},
		{"both names", goodFramework + "  span-name: x\n", "span-of: want one of span-of"},
		{"provider", goodFramework + "  provider: acme\n", "span: a framework rule has no provider"},
		{"stream kind", goodFramework + "  stream:\n    kind: seq\n", "stream: a framework rule's stream is of kind sse or recv"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	rs, err := Parse("r.yaml", []byte(goodRule))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("got %d rules, want 1", len(rs))
	}
	r := rs[0]
	if r.Name != "acme.chat" || r.Spec.Provider != "acme" || r.Spec.Model[0] != "arg1.Model" ||
		r.Spec.Response.OutputTokens[0] != "Usage.Out" || r.Pos.Line != 1 || r.Builtin {
		t.Errorf("parsed rule = %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "- name: [x\n", "r.yaml:"},
		{"not a list", "name: x\n", "r.yaml:1:1: want a list of rules"},
		{"empty", "", "r.yaml:1:1: empty rule file"},
		{"unknown key", goodRule + "  colour: red\n", "r.yaml:10:3: colour: unknown key"},
		{"repeated key", goodRule + "  provider: x\n", "r.yaml:10:3: provider: key repeated"},
		{"missing name", strings.Replace(goodRule, "- name: acme.chat\n  doc", "- doc", 1), "r.yaml:1:3: name: missing"},
		{"bad name", strings.Replace(goodRule, "acme.chat", "Acme Chat", 1), `name: "Acme Chat" is not a dotted lower-case name`},
		{"no funcs", strings.Replace(goodRule, `  funcs: ["(*example.com/acme.Client).Chat"]`+"\n", "", 1), "funcs: missing"},
		{"bad func", strings.Replace(goodRule, "(*example.com/acme.Client).Chat", "Chat", 1), `funcs: "Chat" is not a function full name`},
		{"no provider", strings.Replace(goodRule, "  provider: acme\n", "", 1), "provider: missing"},
		{"bad operation", strings.Replace(goodRule, "operation: chat", "operation: talk", 1), `operation: "talk" is not a GenAI operation name`},
		{"bad request root", strings.Replace(goodRule, "arg1.Model", "req.Model", 1), "r.yaml:6:10: model: path \"req.Model\" must start with arg1"},
		{"bad step", strings.Replace(goodRule, "Usage.In\n", "Usage..In\n", 1), `input-tokens: path "Usage..In": bad step ""`},
		{"bad bool", goodRule + "    input-excludes-cache: yes\n", "input-excludes-cache: want true or false"},
		{"stream kind", goodRule + "  stream:\n    kind: pipe\n", `kind: "pipe" is not a stream kind`},
		{"sse needs next", goodRule + "  stream:\n    kind: sse\n", "next: missing: stream kind sse needs it"},
		{"events needs accessor", goodRule + "  stream:\n    kind: events\n    events: (*example.com/acme.S).Events\n", "accessor: missing"},
		{"duplicate name", goodRule + strings.Replace(goodRule, "Chat\"]", "Talk\"]", 1), `r.yaml:10:3: name: "acme.chat" already defined at r.yaml:1:3`},
		{"duplicate func", goodRule + strings.Replace(goodRule, "acme.chat", "acme.other", 1), `funcs: (*example.com/acme.Client).Chat already matched by rule "acme.chat"`},
		{"bad env", goodRule + "  sdk-tracing-env: nope\n", `sdk-tracing-env: "nope" is not NAME=value`},
		{"provider-of needs map", strings.Replace(goodRule, "provider: acme", "provider-of: func", 1), "providers: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadClashesWithBuiltin(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	src := strings.Replace(goodRule, "(*example.com/acme.Client).Chat", "(*github.com/openai/openai-go/v3.ChatCompletionService).New", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), `already matched by rule "openai.chat"`) {
		t.Fatalf("Load = %v, want a clash with openai.chat", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	if err := os.WriteFile(path, []byte(goodRule), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := Load(path)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Load = %v, %v", rs, err)
	}
}
