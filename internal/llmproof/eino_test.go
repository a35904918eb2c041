package llmproof

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestEinoStream builds testdata/llm/einostream with `tracegen go run`: a
// chain run by compose.Runnable.Stream and by Transform, each returned
// stream read to its end by the program. Each run is a chain span that
// ends when its stream is drained, not when Stream returns: after the LLM
// span of the model's streamed request (the go-openai fork's stream, read
// by eino-ext in a goroutine), which lasts past the fake's last spaced-out
// chunk and has the usage of its final chunk.
func TestEinoStream(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunMode(t, "einostream", true)
	plain := run(t, filepath.Join(repoRoot(t), "testdata", "llm", "einostream"), nil, "go", "run", ".")
	if out != plain {
		t.Errorf("traced program printed\n%s\nplain build printed\n%s", out, plain)
	}
	if out != "stream: Once upon a time\ntransform: Once upon a time\nrequests: 2\n" {
		t.Fatalf("want both streams read whole after two requests:\n%s", out)
	}
	tr := newTree(spans)
	tr.checkClosed(t)
	var llm []*span
	for _, s := range sortByStart(spans) {
		if s.Type == "llm" {
			llm = append(llm, s)
		}
	}
	if len(llm) != 2 {
		t.Fatalf("%d LLM spans for 2 requests", len(llm))
	}
	for i, s := range llm {
		n := float64(i + 1)
		check(t, s, expect{name: "chat gpt-4o-mini", provider: "openai", operation: "chat",
			respModel: "gpt-4o-mini-2024-07-18", in: 10 + n, out: 5 + n, finish: "stop",
			stream: true, minStream: 3 * 30 * time.Millisecond, impact: true})
		if got := tr.path(s); got != "main.run > chain compose.Runnable" {
			t.Errorf("LLM span %d beneath %q, want main.run > chain compose.Runnable", i+1, got)
		}
		if p := tr[s.Parent]; p != nil && p.End.Before(s.End) {
			t.Errorf("chain span %d ended at %v, before its LLM span (%v): it must end when its stream is drained",
				i+1, p.End.Format(time.StampMicro), s.End.Format(time.StampMicro))
		}
	}
	if llm[0].Parent == llm[1].Parent {
		t.Errorf("both LLM spans beneath one chain span: Stream and Transform are two runs")
	}
}
