// Package testtool finds the real programs the runtime's tests drive (an
// OpenTelemetry Collector, dynalite), which ./scripts/test builds or
// installs and names in environment variables. Under scripts/test (which
// sets TRACEGEN_TOOL_CACHE) a missing program fails the test; run alone,
// the test is skipped with the command that provides the program.
package testtool

import (
	"os"
	"testing"
)

// Path returns the program named by the environment variable env. what
// names the program and script the scripts/test step that provides it (as
// "./scripts/collector"), dir the module whose tests ask, for the command
// in the skip message.
func Path(tb testing.TB, env, what, script, dir string) string {
	tb.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("%s: %v", env, err)
		}
		return p
	}
	if os.Getenv("TRACEGEN_TOOL_CACHE") != "" {
		tb.Fatalf("%s is not set, and TRACEGEN_TOOL_CACHE is (so this runs under scripts/test, "+
			"which provides %s with %s and sets %s)", env, what, script, env)
	}
	tb.Skipf("no %s: run ./scripts/test, or %s=$(%s) go test ./... in %s", what, env, script, dir)
	return ""
}
