package llmproof

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGenkit builds testdata/llm/genkit with `tracegen go run`: a flow run
// (core.Flow.Run) and genkit.Generate/GenerateText are chain spans, and the
// request each generation makes through the Google AI plugin
// (google.golang.org/genai, rewritten as a dependency) is one LLM span with
// tokens and footprint. Genkit starts OpenTelemetry spans of its own
// between them; with the OpenTelemetry bridge (linked because the module
// requires go.opentelemetry.io/otel/trace) they are one trace, and, since
// Genkit's spans are in the trace of a GenAI span, tracegen's spans pass
// over them (docs/runtime.md, "OpenTelemetry, both ways"): each LLM span is
// a child of its Generate span, the flow's Generate a child of the flow.
func TestGenkit(t *testing.T) {
	t.Parallel()
	spans, out := instrumentAndRunMode(t, "genkit", true)
	plain := run(t, filepath.Join(repoRoot(t), "testdata", "llm", "genkit"), nil, "go", "run", ".")
	if out != plain {
		t.Errorf("traced program printed\n%s\nplain build printed\n%s", out, plain)
	}
	if !strings.Contains(out, "requests: 2\n") {
		t.Fatalf("the fake did not receive 2 requests:\n%s", out)
	}
	var root, flow *span
	var gens, llm []*span
	for _, s := range sortByStart(spans) {
		switch {
		case s.Name == "main.run":
			root = s
		case s.Name == "chain genkit.Flow":
			flow = s
		case s.Name == "chain genkit.Generate":
			gens = append(gens, s)
		case s.Type == "llm":
			llm = append(llm, s)
		}
	}
	if root == nil || flow == nil || len(gens) != 2 || len(llm) != 2 {
		t.Fatalf("want main.run, one flow, two Generate and two LLM spans; got root %v flow %v, %d Generate, %d LLM",
			root != nil, flow != nil, len(gens), len(llm))
	}
	for _, s := range append([]*span{flow}, append(gens, llm...)...) {
		if s.TraceID != root.TraceID {
			t.Errorf("%s: trace %s, want main.run's %s", s.Name, s.TraceID, root.TraceID)
		}
	}
	if flow.Parent != root.SpanID || gens[1].Parent != root.SpanID {
		t.Errorf("the flow and GenerateText must be children of main.run")
	}
	if gens[0].Parent != flow.SpanID {
		t.Errorf("the flow's Generate is not a child of the flow")
	}
	for i, s := range llm {
		check(t, s, expect{name: "generate_content gemini-2.5-flash", provider: "gcp.gen_ai", operation: "generate_content",
			respModel: "gemini-2.5-flash", in: float64(11 + i), out: float64(6 + i), finish: "STOP", impact: true})
		if s.Parent != gens[i].SpanID {
			t.Errorf("LLM span %d is not a child of Generate span %d", i, i)
		}
	}
}
