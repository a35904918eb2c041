package trace

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs testdata/script/*.txtar: the environment configuration
// of a small instrumented program (tgprog in prog_test.go).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Scripts start from a clean tracing environment.
			for _, k := range []string{"TRACEGEN_EXPORTER", "TRACEGEN_JSONL_PATH", "TRACEGEN_SAMPLE",
				"TRACEGEN_CAPTURE_CONTENT", "TRACEGEN_STDOUT", "TRACEGEN_JSON", "OTEL_SERVICE_NAME",
				"OTEL_RESOURCE_ATTRIBUTES"} {
				env.Setenv(k, "")
			}
			// Under -race a program sleeps 1s at exit by default.
			env.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
	})
}
