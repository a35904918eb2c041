package rules

import (
	"fmt"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/internal/fakepkgs"
)

// Fake packages with the shapes of the real SDKs; "context" and "iter" are
// stand-ins with the same names, which is all the matcher looks at.
var fakePkgs = map[string]string{
	"context": `package context
type Context interface{ Done() <-chan struct{} }`,
	"iter": `package iter
type Seq2[K, V any] func(yield func(K, V) bool)`,
	"example.com/sdk": `package sdk
import ("context"; "iter")
type Params struct{ Model string }
func (Params) Convert() Params { return Params{} }
type Resp struct{ ID string }
type Option func(*struct{})
type Service struct{}
func (s *Service) New(ctx context.Context, p Params, opts ...Option) (*Resp, error) { return nil, nil }
func (s *Service) NewStreaming(ctx context.Context, p Params, opts ...Option) *Stream[Resp] { return nil }
type Conv interface{ Convert() Params }
func (s *Service) Embed(ctx context.Context, c Conv) (*Resp, error) { return nil, nil }
type Stream[T any] struct{}
func (s *Stream[T]) Next() bool { return false }
func (s *Stream[T]) Close() error { return nil }
type Client struct{ Chat Service }
type Models struct{}
func (Models) Gen(ctx context.Context, model string, c []string, cfg *struct{}) iter.Seq2[*Resp, error] { return nil }
type Chat struct{ Models }
type Iface interface{ Generate(ctx context.Context, p []string, opts ...Option) (*Resp, error) }
type Impl struct{}
func (*Impl) Generate(ctx context.Context, p []string, opts ...Option) (*Resp, error) { return nil, nil }
func Helper(ctx context.Context, m Iface, prompt string, opts ...Option) (string, error) { return "", nil }
type RespFunc func(Resp) error
func (s *Service) Each(ctx context.Context, p *Params, fn RespFunc) error { return nil }
type GenOpt interface{ gen() }
type ModelOpt struct{}
func (ModelOpt) gen() {}
type PromptOpt struct{}
func (PromptOpt) gen() {}
func Generate(ctx context.Context, c *Client, opts ...GenOpt) (*Resp, error) { return nil, nil }
func Run(ctx context.Context, m Iface, input any, opts ...Option) (string, error) { return "", nil }
type Tool interface{ Call(ctx context.Context, in string) (string, error) }
type Config struct{ HTTPClient any }
func NewClient(opts ...Option) *Client { return nil }
func New(opts ...Option) (*Client, error) { return nil, nil }
func NewClientWithConfig(c Config) *Client { return nil }
func NewCtx(ctx context.Context, c *Config) (*Client, error) { return nil, nil }
type Reader[T any] struct{}
func (r *Reader[T]) Recv() (T, error) { var z T; return z, nil }
func (r *Reader[T]) Close() {}
type Runner interface{ Stream(ctx context.Context, in string, opts ...Option) (*Reader[string], error) }
`,
}

const fakeRules = `
- name: sdk.new
  doc: new
  funcs: ["(*example.com/sdk.Service).New", "(example.com/sdk.Iface).Generate"]
  provider: acme
  operation: chat
- name: sdk.stream
  doc: stream
  funcs: ["(*example.com/sdk.Service).NewStreaming"]
  provider: acme
  operation: chat
  stream:
    kind: sse
    next: (*example.com/sdk.Stream[T]).Next
    close: (*example.com/sdk.Stream[T]).Close
- name: sdk.gen
  doc: gen
  funcs: ["(example.com/sdk.Models).Gen"]
  provider: acme
  operation: chat
  stream:
    kind: seq
- name: sdk.embed
  doc: embed
  funcs: ["(*example.com/sdk.Service).Embed"]
  provider: acme
  operation: embeddings
- name: sdk.helper
  doc: helper
  funcs: ["example.com/sdk.Helper"]
  provider: acme
  operation: chat
- name: sdk.each
  doc: each
  funcs: ["(*example.com/sdk.Service).Each"]
  provider: acme
  operation: chat
  stream:
    kind: callback
- name: sdk.generate
  doc: generate
  funcs: ["example.com/sdk.Generate"]
  span: chain
  span-name: sdk.Generate
- name: sdk.run
  doc: run
  funcs: ["example.com/sdk.Run"]
  span: chain
  span-of: arg1
- name: sdk.client
  doc: client
  funcs: ["example.com/sdk.NewClient", "example.com/sdk.New", "example.com/sdk.NewClientWithConfig", "example.com/sdk.NewCtx"]
  client: HTTPClient
- name: sdk.tool
  doc: tool
  funcs: ["(example.com/sdk.Tool).Call"]
  span: tool
  span-of: recv
- name: sdk.runstream
  doc: run stream
  funcs: ["(example.com/sdk.Runner).Stream"]
  span: chain
  span-name: sdk.Runner
  stream:
    kind: recv
    recv: (*example.com/sdk.Reader[T]).Recv
    close: (*example.com/sdk.Reader[T]).Close
`

// matchAll type-checks a user function body and returns, for each call in
// source order, "callee text -> Wrapper(args)" or "callee text -> none".
func matchAll(t *testing.T, m *Matcher, body string) []string {
	t.Helper()
	src := "package user\nimport (\"context\"; \"example.com/sdk\")\nfunc multi() (context.Context, sdk.Params) { return nil, sdk.Params{} }\nfunc f(ctx context.Context, c *sdk.Client, ch *sdk.Chat, i sdk.Iface, impl *sdk.Impl) {\n" + body + "\n}"
	fset := token.NewFileSet()
	file, err := goparser.ParseFile(fset, "user.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}, Defs: map[*ast.Ident]types.Object{}}
	if _, err := (&types.Config{Importer: fakepkgs.NewImporter(fset, fakePkgs)}).Check("user", fset, []*ast.File{file}, info); err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(file.Decls[len(file.Decls)-1], func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fun := types.ExprString(call.Fun)
		if mt, ok := m.MatchCall(info, call); ok {
			args := mt.Args
			if mt.Recv != nil {
				args = append(args[:len(args):len(args)], types.ExprString(mt.Recv))
			}
			out = append(out, fmt.Sprintf("%s -> %s(%s)", fun, mt.Func, strings.Join(args, ", ")))
		} else if fun != "multi" {
			out = append(out, fun+" -> none")
		}
		return true
	})
	return out
}

func TestMatchCall(t *testing.T) {
	rs, err := Parse("fake.yaml", []byte(fakeRules))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(rs)
	if !slices.Contains(m.Imports(), "example.com/sdk") {
		t.Errorf("Imports() = %v", m.Imports())
	}
	tests := []struct {
		name, body string
		want       []string
	}{
		{"method through a field", `c.Chat.New(ctx, sdk.Params{})`,
			[]string{"c.Chat.New -> Call1V(`" + specJSON(rs[0]) + "`)"}},
		{"spread options", `var o []sdk.Option; c.Chat.New(ctx, sdk.Params{}, o...)`,
			[]string{"c.Chat.New -> Call1V(`" + specJSON(rs[0]) + "`)"}},
		{"stream and its methods", `st := c.Chat.NewStreaming(ctx, sdk.Params{}); for st.Next() {}; st.Close()`,
			[]string{"c.Chat.NewStreaming -> Stream1V(`" + specJSON(rs[1]) + "`)", "st.Next -> StreamNext()", "st.Close -> StreamClose()"}},
		{"a run returning a stream, Close without error", `var r sdk.Runner; sr, _ := r.Stream(ctx, "q"); sr.Recv(); defer sr.Close()`,
			[]string{"r.Stream -> Call1V(`" + specJSON(rs[10]) + "`)", "sr.Recv -> StreamRecv()", "sr.Close -> StreamCloseNoErr()"}},
		{"promoted through an embedded struct", `ch.Gen(ctx, "m", nil, nil)`,
			[]string{"ch.Gen -> Seq3(`" + specJSON(rs[2]) + "`)"}},
		{"interface method", `i.Generate(ctx, nil)`,
			[]string{"i.Generate -> Call1V(`" + specJSON(rs[0]) + "`)"}},
		{"concrete argument for an interface parameter", `c.Chat.Embed(ctx, sdk.Params{})`,
			[]string{"c.Chat.Embed -> Call1I(`" + specJSON(rs[3]) + "`)"}},
		{"package function, interface argument", `sdk.Helper(ctx, i, "hi")`,
			[]string{"sdk.Helper -> Call2V(`" + specJSON(rs[4]) + "`)"}},
		{"package function, concrete argument", `sdk.Helper(ctx, impl, "hi")`,
			[]string{"sdk.Helper -> Call2VI(`" + specJSON(rs[4]) + "`)"}},
		{"callback literal for a named func type", `c.Chat.Each(ctx, nil, func(sdk.Resp) error { return nil })`,
			[]string{"c.Chat.Each -> Callback2(`" + specJSON(rs[5]) + "`)"}},
		{"options of several types for an interface element type", `sdk.Generate(ctx, c, sdk.ModelOpt{}, sdk.PromptOpt{})`,
			[]string{"sdk.Generate -> Call1VA(`" + specJSON(rs[6]) + "`)"}},
		{"options of the element type", `var o sdk.GenOpt; sdk.Generate(ctx, c, o)`,
			[]string{"sdk.Generate -> Call1V(`" + specJSON(rs[6]) + "`)"}},
		{"second argument for an any parameter", `sdk.Run(ctx, i, "text")`,
			[]string{"sdk.Run -> Call2VC(`" + specJSON(rs[7]) + "`)"}},
		{"both arguments converted", `sdk.Run(ctx, impl, 42)`,
			[]string{"sdk.Run -> Call2VC(`" + specJSON(rs[7]) + "`)"}},
		{"client constructor with options", `sdk.NewClient(nil, nil)`, []string{`sdk.NewClient -> ClientV("HTTPClient")`}},
		{"client constructor with an error", `sdk.New()`, []string{`sdk.New -> ClientVE("HTTPClient")`}},
		{"client constructor with a config value", `sdk.NewClientWithConfig(sdk.Config{})`,
			[]string{`sdk.NewClientWithConfig -> Client1("HTTPClient")`}},
		{"client constructor with a context and a config", `sdk.NewCtx(ctx, &sdk.Config{})`, []string{`sdk.NewCtx -> ClientCtx("HTTPClient")`}},
		{"receiver passed to a rule that reads it", `var tl sdk.Tool; tl.Call(ctx, "2+2")`,
			[]string{"tl.Call -> Method1(`" + specJSON(rs[9]) + "`, tl)"}},
		{"receiver through fields", `var b struct{ T sdk.Tool }; b.T.Call(ctx, "2+2")`,
			[]string{"b.T.Call -> Method1(`" + specJSON(rs[9]) + "`, b.T)"}},
		{"receiver evaluated with effects is left alone", `var ts []sdk.Tool; ts[0].Call(ctx, "2+2")`,
			[]string{"ts[0].Call -> none"}},
		{"function value is not followed", `f := c.Chat.New; f(ctx, sdk.Params{})`, []string{"f -> none"}},
		{"method expression is not followed", `(*sdk.Service).New(&c.Chat, ctx, sdk.Params{})`, []string{"(*sdk.Service).New -> none"}},
		{"multi-value argument is left alone", `c.Chat.New(multi())`, []string{"c.Chat.New -> none"}},
		{"stream value receiver is left alone", `var s sdk.Stream[int]; s.Next()`, []string{"s.Next -> none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchAll(t, m, tt.body)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func specJSON(r *Rule) string {
	s := ruleArg(r)
	return strings.Trim(s, "`")
}

func TestBuiltinRuleArgIsName(t *testing.T) {
	r := Builtin()[0]
	if got := ruleArg(r); got != `"`+r.Name+`"` {
		t.Errorf("ruleArg(builtin) = %s, want the quoted name", got)
	}
	m := NewMatcher(Builtin())
	for _, p := range []string{"github.com/openai/openai-go/v3", "google.golang.org/genai", "github.com/ollama/ollama/api"} {
		if !slices.Contains(m.Imports(), p) {
			t.Errorf("Imports() lacks %s", p)
		}
	}
}
