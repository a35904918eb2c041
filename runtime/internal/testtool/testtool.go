// Package testtool finds the real programs the runtime's tests drive (an
// OpenTelemetry Collector, dynalite), which ./scripts/test builds or
// installs and names in environment variables. Under scripts/test (which
// sets TRACEGEN_TOOL_CACHE) a missing program fails the test; run alone,
// the test is skipped with the command that provides the program. RunSelf
// runs the test binary again as an instrumented program, so that a test can
// compare its output and exit code with and without tracing.
package testtool

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
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

// Run is what one run of a program printed, its exit code and how long
// it took.
type Run struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// RunSelf runs the test binary again as a program: marker=1 is added to
// its environment (the test's TestMain runs the program when it sees it),
// then env. No test runs in it.
func RunSelf(tb testing.TB, marker string, env ...string) Run {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{marker + "=1"}, env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Run{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		tb.Fatal(err)
	}
	return r
}
