package pii

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Every instrumented program links this package; with masking off it must
// cost next to nothing at start-up (patterns compile on first use).
func TestInitIsCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	// GODEBUG goes to the program only: tools the go command runs would
	// print init traces too, and the go command caches their output.
	bin := filepath.Join(t.TempDir(), "initcost")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/initcost").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(cmd.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	m := regexp.MustCompile(`init github.com/tracegen-dev/tracegen/runtime/pii @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs`).FindSubmatch(out)
	if m == nil {
		// No line: the package has no initialisation work at all, provided
		// inittrace reported the others.
		if !regexp.MustCompile(`(?m)^init \S+ @`).Match(out) {
			t.Fatalf("GODEBUG=inittrace=1 printed no init lines:\n%s", out)
		}
		return
	}
	if allocs, _ := strconv.Atoi(string(m[2])); allocs > 20 {
		t.Errorf("runtime/pii's init makes %s allocations (%s bytes); compile patterns on first use", m[2], m[1])
	}
}
