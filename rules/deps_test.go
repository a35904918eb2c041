package rules

import (
	"os/exec"
	"strings"
	"testing"
)

// The rewriter must not link the runtime: rules shares only the call-shape
// description (runtime/llmspec, which imports nothing) with runtime/genai.
func TestRulesDoNotLinkTheRuntime(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/tracegen-dev/tracegen/runtime/") && dep != "github.com/tracegen-dev/tracegen/runtime/llmspec" {
			t.Errorf("rules depends on %s", dep)
		}
	}
}
