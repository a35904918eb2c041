package llmhttp

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSDKModule runs the tests of testdata/llmhttp, a separate module that
// drives the real SDKs (go-openai, openai-go, anthropic-sdk-go, genai,
// bedrockruntime, ollama/api, langchaingo) through this transport against fake servers
// speaking each provider's wire format. It needs the go command and the
// SDK modules (from the module cache or the module proxy); -short skips it.
func TestSDKModule(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the SDK module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "llmhttp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		// The SDK module lives in the repository, outside the runtime
		// module: a copy of the runtime module alone (the module cache,
		// go test all in a user's module) does not have it.
		t.Skipf("no SDK module next to the runtime module: %v", err)
	}
	cmd := exec.Command(goTool, "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	t.Logf("go test in %s:\n%s", dir, out)
	if err != nil {
		t.Fatalf("SDK module tests failed: %v", err)
	}
}
