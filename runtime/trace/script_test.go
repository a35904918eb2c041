package trace

import (
	"errors"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs testdata/script/*.txtar: the environment configuration
// of a small instrumented program (tgprog in prog_test.go).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits},
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

// cmdExits runs a program and checks its exit code:
//
//	exits code program args...
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits code program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if code != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], code, want)
	}
}
