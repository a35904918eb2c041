package llmproof

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEino builds testdata/llm/eino with `tracegen go run`: an eino chain
// and a graph, each run (compose.Runnable.Invoke) a chain span, and the one
// request each makes through eino-ext's model (a go-openai fork, rewritten
// as a dependency) one LLM span beneath it with tokens and footprint.
func TestEino(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunMode(t, "eino", true)
	plain := run(t, filepath.Join(repoRoot(t), "testdata", "llm", "eino"), nil, "go", "run", ".")
	if out != plain {
		t.Errorf("traced program printed\n%s\nplain build printed\n%s", out, plain)
	}
	if !strings.Contains(out, "requests: 2\n") {
		t.Fatalf("the fake did not receive 2 requests:\n%s", out)
	}
	byID := map[string]*span{}
	var root *span
	for _, s := range spans {
		byID[s.SpanID] = s
		if s.Name == "main.run" {
			root = s
		}
	}
	if root == nil {
		t.Fatal("no main.run span")
	}
	n := 0
	for _, s := range sortByStart(spans) {
		if s.Type != "llm" {
			continue
		}
		n++
		check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
			respModel: "gpt-4o-mini-2024-07-18", in: float64(10 + n), out: float64(5 + n), finish: "stop", impact: true})
		p := byID[s.Parent]
		if p == nil || p.Type != "chain" || p.Name != "chain compose.Runnable" || p.Parent != root.SpanID {
			t.Errorf("LLM span %d: parent %+v, want a chain span compose.Runnable under main.run", n, p)
		}
	}
	if n != 2 {
		t.Errorf("got %d LLM spans for 2 requests", n)
	}
}
