package instrument

import (
	"go/ast"
	"go/types"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeRules routes calls of (*sdk.Client).Chat through wrap.Chat.
type fakeRules struct{ offered atomic.Int64 }

func (*fakeRules) Imports() []string { return []string{"example.com/golden/sdk"} }

func (f *fakeRules) Rewrite(pkg *types.Package, info *types.Info, call *ast.CallExpr) (CallRewrite, bool) {
	f.offered.Add(1)
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return CallRewrite{}, false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok {
		return CallRewrite{}, false
	}
	switch fn.FullName() {
	case "(*example.com/golden/sdk.Client).Chat":
		return CallRewrite{ImportPath: "example.com/golden/wrap", Func: "Chat", Args: []string{`"fake.chat"`}}, true
	case "(*example.com/golden/sdk.Client).Ask":
		return CallRewrite{ImportPath: "example.com/golden/wrap", Func: "MethodAsk", Args: []string{`"fake.ask"`}, Recv: sel.X}, true
	}
	return CallRewrite{}, false
}

const fakeSDK = `package sdk

import "context"

type Opt func(*string)

type Client struct{}

func (c *Client) Chat(ctx context.Context, prompt string, opts ...Opt) (string, error) {
	for _, o := range opts {
		o(&prompt)
	}
	return "re: " + prompt, nil
}

func (c *Client) Ask(ctx context.Context, q string) (string, error) { return "a: " + q, nil }
`

const fakeWrap = `package wrap

import (
	"context"
	"fmt"

	"example.com/golden/sdk"
)

func Chat(rule string, f func(context.Context, string, ...sdk.Opt) (string, error), ctx context.Context, prompt string, opts ...sdk.Opt) (string, error) {
	s, err := f(ctx, prompt, opts...)
	fmt.Printf("[%s] %s\n", rule, s)
	return s, err
}

func MethodAsk(rule string, c *sdk.Client, f func(context.Context, string) (string, error), ctx context.Context, q string) (string, error) {
	s, err := f(ctx, q)
	fmt.Printf("[%s] %T %s\n", rule, c, s)
	return s, err
}
`

const callerApp = `package main

import (
	"context"
	"fmt"

	"example.com/golden/sdk"
)

func must(s string, err error) string { return s }

func bg[T any](v T) {}

//trace:agent
func ask(ctx context.Context, c *sdk.Client, opts ...sdk.Opt) (string, error) {
	go c.Chat(ctx, "background")
	go fmt.Sprint("typed")
	go bg(1)
	go println()
	return c.Chat(ctx, "hello", opts...)
}

func main() {
	ctx := context.Background()
	c := &sdk.Client{}
	s, _ := ask(ctx, c, func(p *string) { *p += "!" })
	fmt.Println(must(c.Chat(ctx, must(c.Chat(ctx, "inner")))))
	fmt.Println(s, must(c.Chat(
		ctx,
		"multi-line",
	)))
	f := c.Chat
	_ = f
	fmt.Println(c.Ask(ctx, "why"))
}
`

func TestCallRewriter(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks and builds with the go command; skipped in -short mode")
	}
	dir := tempModule(t, map[string]string{"sdk/sdk.go": fakeSDK, "wrap/wrap.go": fakeWrap, "app/main.go": callerApp})
	rules := &fakeRules{}
	cfg := Config{Dir: dir, Calls: rules, BuildFlags: []string{"-mod=mod"}}
	res, err := Run(cfg, "./app", "./sdk")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	var app *File
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, "main.go") {
			app = f
		} else if f.Changed {
			t.Errorf("%s changed: it imports no SDK", f.Path)
		}
	}
	if app == nil || !app.Changed {
		t.Fatal("app/main.go not rewritten")
	}
	out := string(app.New)
	for _, w := range []string{
		`return tracegenWrap.Chat("fake.chat", c.Chat, ctx, "hello", opts...)`,
		`must(tracegenWrap.Chat("fake.chat", c.Chat, ctx, must(tracegenWrap.Chat("fake.chat", c.Chat, ctx, "inner"))))`,
		"tracegenWrap.Chat(\"fake.chat\", c.Chat,\n\t\tctx,",
		"f := c.Chat\n",
		`import tracegenWrap "example.com/golden/wrap"`,
		`go tracegenWrap.Chat("fake.chat", c.Chat, ctx, "background")`,
		`fmt.Println(tracegenWrap.MethodAsk("fake.ask", c, c.Ask, ctx, "why"))`,
		`go tracegen.Fork(span, fmt.Sprint)("typed")`,
		"go bg(1)\n",
		"go println()\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if rules.offered.Load() == 0 {
		t.Error("Rewrite was never called")
	}
	back, err := StripSource(app.New)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != callerApp {
		t.Fatalf("strip does not restore the input:\n%s", back)
	}
	if err := os.WriteFile(app.Path, app.New, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Run(cfg, "./app")
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if len(again.Errors) > 0 {
		t.Fatalf("second run: %v", again.Errors)
	}
	for _, f := range again.Files {
		if f.Changed {
			t.Errorf("second run changes %s:\n%s", f.Path, f.New)
		}
	}
	run, err := goCmd(t, dir, "run", "./app")
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, run)
	}
	if got := strings.Count(string(run), "[fake.chat]"); got < 4 {
		t.Errorf("wrapper ran %d times, want at least 4:\n%s", got, run)
	}
	if !strings.Contains(string(run), "[fake.ask] *sdk.Client a: why\n") {
		t.Errorf("the receiver wrapper did not run with the receiver:\n%s", run)
	}
}
