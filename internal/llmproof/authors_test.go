package llmproof

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The tests below run example programs written by the frameworks' authors
// (testdata/llm/authors/<name>, each with its licence and a SOURCE file
// naming the repository, commit and path it was copied from, its source
// unchanged) against the fakes of fakes_test.go, found through the
// environment only. Each program is run twice, as its plain build and with
// `tracegen go run` (dependencies rewritten), each time against a fresh
// fake: both print the same, and every request the traced run's fake
// received is exactly one LLM span with model, tokens and footprint,
// beneath the chain or agent span of the framework run that made it.

// example is one of the authors' programs.
type example struct {
	dir   string   // under testdata/llm/authors
	pkg   string   // the package to run, "." when empty
	env   []string // besides the fake's address
	stdin string
	// mask hides what differs between two runs of the program (a
	// timestamp), or nil.
	mask func(string) string
}

// runExample runs ex plain and traced, each against a fake from newFake
// whose address envOf turns into the program's environment, and checks the
// two printed the same. It returns the traced run's spans, output and fake.
func runExample(t *testing.T, ex example, newFake func(*testing.T) *fake, envOf func(*fake) []string) ([]*span, string, *fake) {
	t.Helper()
	name := filepath.Join("authors", ex.dir)
	pkg := ex.pkg
	if pkg == "" {
		pkg = "."
	}
	plainFake := newFake(t)
	plain := runStdin(t, filepath.Join(repoRoot(t), "testdata", "llm", name),
		append(append([]string{}, ex.env...), envOf(plainFake)...), ex.stdin, "go", "run", pkg)

	dir := copyProgram(t, name)
	jsonl := filepath.Join(dir, "spans.jsonl")
	f := newFake(t)
	env := append(append(traceEnv(jsonl), ex.env...), envOf(f)...)
	out := runStdin(t, dir, env, ex.stdin, tracegenTool(t), "go", "run", pkg)
	spans := readSpans(t, jsonl)
	for _, s := range spans {
		t.Logf("span %q type=%s id=%s parent=%s attrs=%v", s.Name, s.Type, s.SpanID, s.Parent, s.Attrs)
	}

	mask := ex.mask
	if mask == nil {
		mask = func(s string) string { return s }
	}
	if mask(out) != mask(plain) {
		t.Errorf("traced program printed\n%s\nplain build printed\n%s", out, plain)
	}
	if f.requests() != plainFake.requests() {
		t.Errorf("traced run made %d requests, plain run %d", f.requests(), plainFake.requests())
	}
	return spans, out, f
}

// openAIEnv points an OpenAI client at f.
func openAIEnv(f *fake) []string {
	return []string{"OPENAI_BASE_URL=" + f.srv.URL + "/v1", "OPENAI_API_KEY=test-key"}
}

// geminiEnv points google.golang.org/genai (and so Genkit's googlegenai
// plugin, which reads GEMINI_API_KEY) at f.
func geminiEnv(f *fake) []string {
	return []string{"GOOGLE_GEMINI_BASE_URL=" + f.srv.URL, "GEMINI_API_KEY=test-key"}
}

// tree indexes spans by id.
type tree map[string]*span

func newTree(spans []*span) tree {
	tr := tree{}
	for _, s := range spans {
		tr[s.SpanID] = s
	}
	return tr
}

// path names s by its ancestors' names, outermost first.
func (tr tree) path(s *span) string {
	var names []string
	for p := tr[s.Parent]; p != nil; p = tr[p.Parent] {
		names = append([]string{p.Name}, names...)
	}
	return strings.Join(names, " > ")
}

// checkClosed fails for a span whose parent is not among spans (a parent
// exported nowhere), or whose trace differs from its parent's.
func (tr tree) checkClosed(t *testing.T) {
	t.Helper()
	for _, s := range tr {
		if s.Parent == "" {
			continue
		}
		p := tr[s.Parent]
		switch {
		case p == nil:
			t.Errorf("span %q: parent %s is not among the exported spans", s.Name, s.Parent)
		case p.TraceID != s.TraceID:
			t.Errorf("span %q: trace %s, its parent %q's %s", s.Name, s.TraceID, p.Name, p.TraceID)
		}
	}
}

// checkLLM checks that the program made requests requests, each one LLM
// span (in start order, request n with 10+n input and 5+n output tokens, w
// giving the rest), whose ancestors are those in paths, its parent a chain
// or agent span.
func checkLLM(t *testing.T, tr tree, spans []*span, requests int, w expect, paths []string) {
	t.Helper()
	var got []string
	for _, s := range sortByStart(spans) {
		if s.Type != "llm" {
			continue
		}
		got = append(got, tr.path(s))
		w.in, w.out = float64(10+len(got)), float64(5+len(got))
		check(t, s, w)
		if p := tr[s.Parent]; p == nil || p.Type != "chain" && p.Type != "agent" {
			t.Errorf("LLM span %d: parent %v, want a chain or agent span", len(got), p)
		}
	}
	if len(got) != requests {
		t.Errorf("%d LLM spans for the %d requests the fake received", len(got), requests)
	}
	if strings.Join(got, "\n") != strings.Join(paths, "\n") {
		t.Errorf("LLM spans beneath\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(paths, "\n"))
	}
}

// checkTools checks the tool spans, in start order: their names and the
// spans they are beneath.
func checkTools(t *testing.T, tr tree, spans []*span, want []string) {
	t.Helper()
	var got []string
	for _, s := range sortByStart(spans) {
		if s.Type != "tool" {
			continue
		}
		got = append(got, tr.path(s)+" > "+s.Name)
		if s.str("gen_ai.operation.name") != "execute_tool" || s.str("gen_ai.tool.name") == "" || !strings.HasSuffix(s.Name, " "+s.str("gen_ai.tool.name")) {
			t.Errorf("tool span %q: attributes %v, want gen_ai.operation.name execute_tool and the tool's gen_ai.tool.name", s.Name, s.Attrs)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tool spans\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func chatText(text string) func(int, string) reply {
	return func(n int, _ string) reply { return reply{text: fmt.Sprintf("%s %d", text, n)} }
}

var langchainLLM = expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
	respModel: "gpt-4o-mini-2024-07-18", finish: "stop", impact: true}

// TestAuthorsLangChainLLMChain runs langchaingo's examples/llm-chain-example:
// chains.Run and chains.Call of an LLMChain, one request each.
func TestAuthorsLangChainLLMChain(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake { return openAIFake(t, chatText("Socks & Co")) }
	spans, out, f := runExample(t, example{dir: "langchaingo-llm-chain-example", env: []string{"OPENAI_MODEL=gpt-4o-mini"}}, newFake, openAIEnv)
	if out != "Socks & Co 1\nSocks & Co 2\n" || f.requests() != 2 {
		t.Fatalf("want the two answers of two requests, got %d requests and\n%s", f.requests(), out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	checkLLM(t, tr, spans, f.requests(), langchainLLM, []string{"chain chains.LLMChain", "chain chains.LLMChain"})
}

// TestAuthorsLangChainSequentialChain runs langchaingo's
// examples/sequential-chain-example: a simple sequential chain and a
// sequential chain of two LLMChains each, four requests.
func TestAuthorsLangChainSequentialChain(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake { return openAIFake(t, chatText("A play")) }
	spans, out, f := runExample(t, example{dir: "langchaingo-sequential-chain-example", env: []string{"OPENAI_MODEL=gpt-4o-mini"}}, newFake, openAIEnv)
	if out != "A play 2\n\nA play 4\n" || f.requests() != 4 {
		t.Fatalf("want the answers of the second and fourth of four requests, got %d requests and\n%s", f.requests(), out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	checkLLM(t, tr, spans, f.requests(), langchainLLM, []string{
		"chain chains.SimpleSequentialChain > chain chains.LLMChain",
		"chain chains.SimpleSequentialChain > chain chains.LLMChain",
		"chain chains.SequentialChain > chain chains.LLMChain",
		"chain chains.SequentialChain > chain chains.LLMChain",
	})
}

// observation matches the MRKL prompt's line with a tool's result (the
// prompt's format instructions also say "Observation:", with no number).
var observation = regexp.MustCompile(`Observation: [0-9]`)

// TestAuthorsLangChainMRKLAgent runs langchaingo's
// examples/mrkl-agent-example: a one-shot (MRKL) agent run by
// agents.Executor, with the calculator and SerpAPI tools. The fake's first
// answer asks for the calculator (SerpAPI is built, with a dummy key, but
// never called); the request carrying the calculator's observation gets
// the final answer.
func TestAuthorsLangChainMRKLAgent(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake {
		return openAIFake(t, func(n int, body string) reply {
			if observation.MatchString(body) {
				return reply{text: "I now know the final answer.\nFinal Answer: Jason Sudeikis; 50 raised to the 0.23 power is about 2.46."}
			}
			return reply{text: "Jason Sudeikis is 50. I need 50^0.23.\nAction: calculator\nAction Input: pow(50, 0.23)"}
		})
	}
	ex := example{dir: "langchaingo-mrkl-agent-example", env: []string{"OPENAI_MODEL=gpt-4o-mini", "SERPAPI_API_KEY=test-key"}}
	spans, out, f := runExample(t, ex, newFake, openAIEnv)
	if !strings.Contains(out, "about 2.46") || f.requests() != 2 {
		t.Fatalf("want the final answer after two requests, got %d requests and\n%s", f.requests(), out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	agent := "invoke_agent agents.Executor > chain chains.LLMChain"
	checkLLM(t, tr, spans, f.requests(), langchainLLM, []string{agent, agent})
	checkTools(t, tr, spans, []string{"invoke_agent agents.Executor > execute_tool calculator"})
}

// logTime matches the timestamps eino-examples' internal/logs prints.
var logTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)

// TestAuthorsEinoToolCallOnce runs eino-examples' compose/graph/tool_call_once:
// a graph (chat template, the OpenAI chat model with a tool bound, a branch,
// a tools node) run by Runnable.Invoke. The fake's one answer asks for the
// user_info tool, whose result the graph returns; the tools node's call of
// it is an execute_tool span beneath the graph's run, named by the tool's
// Info(ctx).
func TestAuthorsEinoToolCallOnce(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake {
		return openAIFake(t, func(n int, body string) reply {
			return reply{calls: []toolCall{{name: "user_info", args: `{"name":"zhangsan","email":"zhangsan@bytedance.com"}`}}}
		})
	}
	ex := example{dir: "eino-tool-call-once", pkg: "./compose/graph/tool_call_once", env: []string{"OPENAI_MODEL_NAME=gpt-4o-mini"},
		mask: func(s string) string { return logTime.ReplaceAllString(s, "<time>") }}
	spans, out, f := runExample(t, ex, newFake, openAIEnv)
	if !strings.Contains(out, `"company":"Awesome company"`) || f.requests() != 1 {
		t.Fatalf("want the tool's result after one request, got %d requests and\n%s", f.requests(), out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	w := langchainLLM
	w.finish = "tool_calls"
	checkLLM(t, tr, spans, f.requests(), w, []string{"chain compose.Runnable"})
	checkTools(t, tr, spans, []string{"chain compose.Runnable > execute_tool user_info"})
}

// branchLine matches the line compose/chain's branch lambdas print: the
// branch is chosen at random (rand.Intn(2)), so each run may take either.
var branchLine = regexp.MustCompile(`hello in branch lambda 0[12]`)

// TestAuthorsEinoChain runs eino-examples' compose/chain: a chain (a
// lambda, a branch of two lambdas, a passthrough, a parallel of two
// lambdas, a nested chain of a chat template and the OpenAI chat model, a
// lambda) run by Runnable.Invoke, one request. The branch is random: the
// output is compared with the branch's line masked, and the request must
// carry the role the branch printed it chose.
func TestAuthorsEinoChain(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake { return openAIFake(t, chatText("Purr")) }
	ex := example{dir: "eino-compose-chain", pkg: "./compose/chain", env: []string{"OPENAI_MODEL_NAME=gpt-4o-mini"},
		mask: func(s string) string {
			return branchLine.ReplaceAllString(logTime.ReplaceAllString(s, "<time>"), "<branch>")
		}}
	spans, out, f := runExample(t, ex, newFake, openAIEnv)
	if !strings.Contains(out, "output is : Purr 1") || f.requests() != 1 {
		t.Fatalf("want the model's answer after one request, got %d requests and\n%s", f.requests(), out)
	}
	role := map[string]string{"hello in branch lambda 01": "cat", "hello in branch lambda 02": "dog"}[branchLine.FindString(out)]
	if body := f.body(1); role == "" || !strings.Contains(body, "You are a "+role+".") {
		t.Errorf("the branch printed %q; the request does not carry its role %q:\n%s", branchLine.FindString(out), role, body)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	checkLLM(t, tr, spans, f.requests(), langchainLLM, []string{"chain compose.Runnable"})
}

// TestAuthorsGenkitInterrupts runs Genkit's samples/intermediate-interrupts
// (the Google AI plugin, whose google.golang.org/genai client reads
// GOOGLE_GEMINI_BASE_URL): a flow whose genkit.Generate calls the model
// with the transferMoney tool. The user (stdin) asks for a transfer small
// enough not to be interrupted; the fake's first answer calls the tool, the
// request carrying its response gets the text the flow returns.
func TestAuthorsGenkitInterrupts(t *testing.T) {
	t.Parallel()
	newFake := func(t *testing.T) *fake {
		return geminiFake(t, func(n int, body string) reply {
			if strings.Contains(body, "functionResponse") {
				return reply{text: "Done: $50.00 went to ACC-123."}
			}
			return reply{calls: []toolCall{{name: "transferMoney", args: `{"toAccount":"ACC-123","amount":50}`}}}
		})
	}
	ex := example{dir: "genkit-intermediate-interrupts", stdin: "Send $50 to ACC-123\nquit\n"}
	spans, out, f := runExample(t, ex, newFake, geminiEnv)
	if !strings.Contains(out, "Done: $50.00 went to ACC-123.") || f.requests() != 2 {
		t.Fatalf("want the flow's answer after two requests, got %d requests and\n%s", f.requests(), out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	w := expect{name: "generate_content gemini-2.5-flash", provider: "gcp.gen_ai", operation: "generate_content",
		respModel: "gemini-2.5-flash", finish: "STOP", impact: true}
	gen := "chain genkit.Flow > chain genkit.Generate"
	checkLLM(t, tr, spans, f.requests(), w, []string{gen, gen})
	checkTools(t, tr, spans, []string{gen + " > execute_tool transferMoney"})
}
