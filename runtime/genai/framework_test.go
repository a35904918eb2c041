package genai

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// Fake framework types: a chain, an agent executor, and their entry point.

type chainer interface{ name() string }

type fakeChain struct{ svc *chatService }

func (*fakeChain) name() string { return "chain" }

type fakeExecutor struct{ inner *fakeChain }

func (*fakeExecutor) name() string { return "executor" }

const runRule = `{"name":"test.run","span":"chain","span_of":"arg1","span_types":{"example.com/none":"agent"}}`

// runChain is the framework's entry point (like chains.Run): it enters itself
// again for the same value, as chains.Run calls chains.Call, and makes one
// LLM call per chain; an executor runs its inner chain.
func runChain(ctx context.Context, c chainer, input any, opts ...option) (string, error) {
	switch c := c.(type) {
	case *fakeChain:
		if input == "again" {
			return Call2VC(runRule, runChain, ctx, c, "once", opts...)
		}
		_, err := Call1V("openai.chat", c.svc.New, ctx, chatParams{Model: "gpt-4o-mini"})
		return "ok", err
	case *fakeExecutor:
		return Call2VC(runRule, runChain, ctx, c.inner, "once", opts...)
	}
	return "", nil
}

func TestFrameworkRuns(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	svc := &chatService{resp: &completion{Model: "gpt-4o-mini", Usage: usage{PromptTokens: 9, CompletionTokens: 12}}}
	chain := &fakeChain{svc: svc}
	ctx, root := trace.Start(context.Background(), "user")
	if out, err := Call2VC(runRule, runChain, ctx, chain, "again"); out != "ok" || err != nil {
		t.Fatalf("Call2VC = %q, %v; want the function's own result", out, err)
	}
	if _, err := Call2VC(runRule, runChain, ctx, &fakeExecutor{inner: chain}, "go"); err != nil {
		t.Fatal(err)
	}
	root.End()
	chains := rec.ByName("chain genai.fakeChain")
	agents := rec.ByName("chain genai.fakeExecutor")
	if len(chains) != 2 || len(agents) != 1 {
		t.Fatalf("spans %v: want two chain runs (the chain entered twice for the same value is one) and one executor run", rec.Names())
	}
	if chains[0].ParentSpanID != root.SpanID() || agents[0].ParentSpanID != root.SpanID() {
		t.Errorf("the runs the user started are not children of the user's span")
	}
	if rec.Parent(chains[1]) != agents[0] || chains[1].Type != record.TypeChain {
		t.Errorf("the executor's chain run is not a chain span beneath the executor")
	}
	llm := rec.ByAttr(AttrRule, "openai.chat")
	if len(llm) != 2 {
		t.Fatalf("got %d LLM spans, want one per chain run", len(llm))
	}
	for _, s := range llm {
		if p := rec.Parent(s); p == nil || p.Type != record.TypeChain {
			t.Errorf("LLM span's parent %v, want a chain run", p)
		}
	}
	if got := rec.Attr(chains[0], "tracegen.chain.name").String(); got != "genai.fakeChain" {
		t.Errorf("tracegen.chain.name = %q", got)
	}
}

// TestFrameworkAgentType: span_types maps the package of the value's
// dynamic type to another span type.
func TestFrameworkAgentType(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	rule := `{"name":"test.agent","span":"chain","span_of":"arg1","span_types":{"github.com/tracegen-dev/tracegen/runtime/genai":"agent"}}`
	run := func(ctx context.Context, c chainer, input any, opts ...option) (string, error) { return "", nil }
	Call2VC(rule, run, context.Background(), &fakeExecutor{}, "go")
	s := rec.Only()
	if s.Name != "invoke_agent genai.fakeExecutor" || s.Type != record.TypeAgent ||
		rec.Attr(s, AttrOperationName).String() != "invoke_agent" || rec.Attr(s, "gen_ai.agent.name").String() != "genai.fakeExecutor" {
		t.Errorf("agent span %q type %v attrs %v", s.Name, s.Type, s.Attrs)
	}
}

// TestNestedCallEnrichesOuter: a helper that returns only text gets the
// usage of the SDK call it makes, and that call makes no second span.
func TestNestedCallEnrichesOuter(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	svc := &chatService{resp: &completion{ID: "chatcmpl-9", Model: "gpt-4o-mini-2024-07-18", Usage: usage{PromptTokens: 9, CompletionTokens: 12}}}
	helper := func(ctx context.Context, prompt string, opts ...option) (string, error) {
		_, err := Call1V("openai.chat", svc.New, ctx, chatParams{Model: "gpt-4o-mini"})
		return "text", err
	}
	const rule = `{"name":"test.helper","provider":"openai","operation":"chat","model":["arg1"]}`
	if out, err := Call1V(rule, helper, context.Background(), "gpt-4o-mini"); out != "text" || err != nil {
		t.Fatalf("Call1V = %q, %v", out, err)
	}
	s := rec.Only()
	for k, w := range map[string]any{AttrInputTokens: int64(9), AttrOutputTokens: int64(12), AttrResponseID: "chatcmpl-9",
		AttrResponseModel: "gpt-4o-mini-2024-07-18", AttrRule: "test.helper"} {
		if g := rec.Attr(s, k).Any(); g != w {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	if s.Impact.Joules[record.EnergyLLM] <= 0 {
		t.Errorf("no footprint from the nested call's usage: %+v", s.Impact)
	}
}

func TestCall1VAConvertsOptions(t *testing.T) {
	tracetest.NewRecorder(t)
	var got []chainer
	f := func(ctx context.Context, a string, opts ...chainer) (string, error) {
		got = opts
		return a, nil
	}
	out, err := Call1VA("openai.chat", f, context.Background(), "x", &fakeChain{}, &fakeExecutor{}, nil)
	if out != "x" || err != nil || len(got) != 3 || got[0].name() != "chain" || got[1].name() != "executor" || got[2] != nil {
		t.Errorf("Call1VA = %q, %v; options %v", out, err, got)
	}
}

// A tool the way langchaingo's and Genkit's are: an interface with a Name.
type tooler interface {
	Name() string
	Call(ctx context.Context, input string) (string, error)
}

type calculator struct{ calls int }

func (*calculator) Name() string { return "calculator" }

func (c *calculator) Call(ctx context.Context, input string) (string, error) {
	c.calls++
	return "42", nil
}

type anonTool struct{}

func (anonTool) Call(ctx context.Context, input string) (string, error) { return "", nil }

// A tool the way eino's are: no Name, an Info(ctx) returning a pointer to
// a struct with a Name field (schema.ToolInfo).
type infoTool struct{ err error }

type toolInfo struct {
	Name, Desc string
}

func (t infoTool) Info(ctx context.Context) (*toolInfo, error) {
	if t.err != nil {
		return nil, t.err
	}
	return &toolInfo{Name: "user_info", Desc: "looks a user up"}, nil
}

func (infoTool) InvokableRun(ctx context.Context, args string, _ ...option) (string, error) {
	return "{}", nil
}

const toolRule = `{"name":"test.tool","span":"tool","span_of":"recv"}`

// TestFrameworkToolSpans: a tool rule (span_of recv) gets the receiver
// from the Method wrappers; its span is an execute_tool span named by the
// tool's Name, or the Name its Info(ctx) returns, or by its type when it
// has neither (or Info fails), and the tool's result is the wrapper's.
func TestFrameworkToolSpans(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx, root := trace.Start(context.Background(), "agent", trace.TypeAgent)
	calc := &calculator{}
	var tool tooler = calc
	if out, err := Method1(toolRule, tool, tool.Call, ctx, "6*7"); out != "42" || err != nil || calc.calls != 1 {
		t.Fatalf("Method1 = %q, %v after %d calls; want the tool's own result, one call", out, err, calc.calls)
	}
	call := func(ctx context.Context, in string, _ ...option) (string, error) { return anonTool{}.Call(ctx, in) }
	if _, err := Method1V(toolRule, anonTool{}, call, ctx, "x"); err != nil {
		t.Fatal(err)
	}
	for _, it := range []infoTool{{}, {err: errors.New("no info")}} {
		if out, err := Method1V(toolRule, it, it.InvokableRun, ctx, `{"name":"ann"}`); out != "{}" || err != nil {
			t.Fatalf("Method1V = %q, %v; want the tool's own result", out, err)
		}
	}
	root.End()
	tests := []struct{ span, name string }{
		{"execute_tool calculator", "calculator"},
		{"execute_tool genai.anonTool", "genai.anonTool"},
		{"execute_tool user_info", "user_info"},
		{"execute_tool genai.infoTool", "genai.infoTool"},
	}
	for _, tt := range tests {
		s := rec.ByName(tt.span)
		if len(s) != 1 {
			t.Fatalf("spans %v: want one %q", rec.Names(), tt.span)
		}
		if s[0].Type != record.TypeTool || s[0].ParentSpanID != root.SpanID() ||
			rec.Attr(s[0], AttrOperationName).String() != "execute_tool" || rec.Attr(s[0], "gen_ai.tool.name").String() != tt.name {
			t.Errorf("%s: type %s parent %s attrs %v", tt.span, s[0].Type, s[0].ParentSpanID, s[0].Attrs)
		}
	}
}

// A stream the way eino's schema.StreamReader is: Recv until io.EOF, and a
// Close that returns nothing.
type runReader struct{ left int }

func (r *runReader) Recv() (string, error) {
	if r.left == 0 {
		return "", io.EOF
	}
	r.left--
	return "chunk", nil
}

func (r *runReader) Close() {}

const runStreamRule = `{"name":"test.run.stream","span":"chain","span_name":"test.Runner","stream":"recv"}`

// TestFrameworkRunStream: a framework rule with a stream keeps the run's
// span open after the call returns, until the stream it returned is read to
// io.EOF, closed, or abandoned at Shutdown; a failed call ends it at once.
func TestFrameworkRunStream(t *testing.T) {
	tests := []struct {
		name      string
		fail      bool
		read      func(*runReader)
		abandoned bool
	}{
		{name: "drained", read: func(r *runReader) {
			for {
				if _, err := StreamRecv(r.Recv); err != nil {
					return
				}
			}
		}},
		{name: "closed early", read: func(r *runReader) { StreamRecv(r.Recv); StreamCloseNoErr(r.Close) }},
		{name: "abandoned", read: func(r *runReader) { StreamRecv(r.Recv); Shutdown() }, abandoned: true},
		{name: "failed", fail: true, read: func(*runReader) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			stream := func(ctx context.Context, in string, _ ...option) (*runReader, error) {
				if tt.fail {
					return nil, errors.New("no graph")
				}
				return &runReader{left: 2}, nil
			}
			r, err := Call1V(runStreamRule, stream, context.Background(), "q")
			if tt.fail != (err != nil) {
				t.Fatalf("Call1V error %v, want failure %v", err, tt.fail)
			}
			if !tt.fail {
				if n := len(rec.Spans()); n != 0 {
					t.Fatalf("%d spans ended when the call returned, before its stream was read: %v", n, rec.Names())
				}
			}
			tt.read(r)
			s := rec.Span("chain test.Runner")
			abandoned, _ := s.Lookup(AttrStreamAbandoned)
			if s.Type != record.TypeChain || abandoned.Bool() != tt.abandoned || (s.Status == record.StatusError) != tt.fail {
				t.Errorf("span type %s status %v attrs %v; want a chain, abandoned %v, failed %v", s.Type, s.Status, s.Attrs, tt.abandoned, tt.fail)
			}
		})
	}
}
