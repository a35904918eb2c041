package llmproof

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLangChainChains builds testdata/llm/langchainchains with `tracegen go
// run`: the program makes no SDK call itself, every request is made inside
// langchaingo (chains, a sequential chain, an MRKL agent), which only the
// rewrite of dependencies sees. Each request the fake received is exactly
// one LLM span, with model, tokens (from the GenerateContent call that
// GenerateFromSinglePrompt makes) and footprint, under the chain or agent
// span that made it; the program prints what its plain build prints.
func TestLangChainChains(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunMode(t, "langchainchains", true)
	plain := run(t, filepath.Join(repoRoot(t), "testdata", "llm", "langchainchains"), nil, "go", "run", ".")
	if out != plain {
		t.Errorf("traced program printed\n%s\nplain build printed\n%s", out, plain)
	}
	if !strings.Contains(out, "requests: 7\n") {
		t.Fatalf("the fake did not receive 7 requests:\n%s", out)
	}
	byID := map[string]*span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	// path names a span by the chain of its ancestors' names up to main.run.
	path := func(s *span) string {
		var names []string
		for p := byID[s.Parent]; p != nil; p = byID[p.Parent] {
			names = append([]string{p.Name}, names...)
		}
		return strings.Join(names, " > ")
	}
	var got []string
	for _, s := range sortByStart(spans) {
		if s.Type != "llm" {
			continue
		}
		got = append(got, path(s))
		check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
			in: float64(10 + len(got)), out: float64(5 + len(got)), impact: true})
		if p := byID[s.Parent]; p == nil || p.Type != "chain" {
			t.Errorf("LLM span %d: parent %v, want a chain span", len(got), p)
		}
	}
	want := []string{
		"main.run > chain chains.LLMChain",
		"main.run > chain chains.LLMChain",
		"main.run > chain chains.LLMChain",
		"main.run > chain chains.SimpleSequentialChain > chain chains.LLMChain",
		"main.run > chain chains.SimpleSequentialChain > chain chains.LLMChain",
		"main.run > invoke_agent agents.Executor > chain chains.LLMChain",
		"main.run > invoke_agent agents.Executor > chain chains.LLMChain",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("LLM spans beneath\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range spans {
		if s.Name == "invoke_agent agents.Executor" && (s.Type != "agent" || s.str("gen_ai.operation.name") != "invoke_agent" || s.str("gen_ai.agent.name") != "agents.Executor") {
			t.Errorf("agent span: type %q attrs %v", s.Type, s.Attrs)
		}
	}
}

// sortByStart returns spans in start order.
func sortByStart(spans []*span) []*span {
	out := append([]*span(nil), spans...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start.Before(out[j-1].Start); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestLangChainChainsNoDeps: with -deps=false only the main module is
// rewritten: its own chains.Run/Call/Predict calls are still chain and agent
// spans, and its openai.New call still gets the traced transport, so each
// request is one span made by runtime/llmhttp; but the chains a sequential
// chain or an agent runs inside langchaingo get no span (the program's
// output is the same).
func TestLangChainChainsNoDeps(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunFlags(t, "langchainchains", true, []string{"-deps=false"})
	if !strings.Contains(out, "requests: 7\n") {
		t.Fatalf("the fake did not receive 7 requests:\n%s", out)
	}
	var root string
	for _, s := range spans {
		if s.Name == "main.run" {
			root = s.SpanID
		}
	}
	var runs []string
	llm := 0
	for _, s := range sortByStart(spans) {
		switch {
		case s.Type == "llm":
			llm++
			if s.str("tracegen.rule") != "" || s.str("tracegen.transport") != "llmhttp" {
				t.Errorf("LLM span with -deps=false: rule %q transport %q, want the transport's alone", s.str("tracegen.rule"), s.str("tracegen.transport"))
			}
		case s.Name != "main.run":
			runs = append(runs, s.Name)
			if s.Parent != root {
				t.Errorf("span %q with -deps=false is not a child of main.run", s.Name)
			}
		}
	}
	want := "chain chains.LLMChain,chain chains.LLMChain,chain chains.LLMChain,chain chains.SimpleSequentialChain,invoke_agent agents.Executor"
	if strings.Join(runs, ",") != want {
		t.Errorf("runs with -deps=false:\n%s\nwant the main module's own five:\n%s", strings.Join(runs, ","), want)
	}
	if llm != 7 {
		t.Errorf("got %d LLM spans for 7 requests", llm)
	}
}

// TestLangChainChainsVendored builds the same program from a vendor
// directory (-mod=vendor, the default when vendor/ exists): vendored files
// are overlaid where they are, since the wrappers' package is vendored too
// (the program imports it blank); the spans are those of the module-cache
// build.
func TestLangChainChainsVendored(t *testing.T) {
	t.Parallel()
	tool := tracegenTool(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(t), "testdata", "llm", "langchainchains"))); err != nil {
		t.Fatal(err)
	}
	keep := "package main\n\n// Vendored for tracegen go.\nimport (\n\t_ \"github.com/tracegen-dev/tracegen/runtime/genai\"\n\t_ \"github.com/tracegen-dev/tracegen/runtime/llmhttp\"\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "keep.go"), []byte(keep), 0o666); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, "go", "mod", "edit", "-require=github.com/tracegen-dev/tracegen/runtime@v0.0.0",
		"-replace=github.com/tracegen-dev/tracegen/runtime="+filepath.Join(repoRoot(t), "runtime"))
	run(t, dir, []string{"GOFLAGS=-mod=mod"}, "go", "mod", "tidy")
	run(t, dir, []string{"GOFLAGS="}, "go", "mod", "vendor")
	jsonl := filepath.Join(dir, "spans.jsonl")
	out := run(t, dir, []string{"GOFLAGS=", "TRACEGEN_EXPORTER=jsonl", "TRACEGEN_JSONL_PATH=" + jsonl, "TRACEGEN_SAMPLE=1"},
		tool, "go", "run", ".")
	if !strings.Contains(out, "requests: 7\n") || strings.Contains(out, "vendor/") {
		t.Fatalf("want 7 requests and no word about vendor/:\n%s", out)
	}
	n := 0
	for _, s := range readSpans(t, jsonl) {
		if s.Type == "llm" {
			n++
			check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", in: float64(10 + n), out: float64(5 + n), impact: true})
		}
	}
	if n != 7 {
		t.Errorf("got %d LLM spans from the vendored build, want 7", n)
	}
}

// TestLangChainChainsInPlace instruments the program in place, where no
// dependency is rewritten: the openai.New call in the program is handed
// the traced transport (client rule), so each of the 7 requests langchaingo
// makes is still one LLM span, made by runtime/llmhttp, with model, tokens
// and footprint, beneath the program's own chains.Run/Call/Predict run that
// led to it (the runs inside langchaingo are not seen in place).
func TestLangChainChainsInPlace(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRun(t, "langchainchains")
	if !strings.Contains(out, "requests: 7\n") {
		t.Fatalf("the fake did not receive 7 requests:\n%s", out)
	}
	byID := map[string]*span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	n := 0
	for _, s := range sortByStart(spans) {
		if s.Type != "llm" {
			continue
		}
		n++
		check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
			respModel: "gpt-4o-mini-2024-07-18", in: float64(10 + n), out: float64(5 + n), finish: "stop", impact: true})
		if s.str("tracegen.transport") != "llmhttp" || s.str("tracegen.rule") != "" {
			t.Errorf("LLM span %d: transport %q rule %q, want a span of the transport alone", n, s.str("tracegen.transport"), s.str("tracegen.rule"))
		}
		if p := byID[s.Parent]; p == nil || (p.Type != "chain" && p.Type != "agent") {
			t.Errorf("LLM span %d: parent %v, want the program's chain or agent run", n, p)
		}
	}
	if n != 7 {
		t.Errorf("got %d LLM spans for 7 requests", n)
	}
}
