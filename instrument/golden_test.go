package instrument

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the *.golden files of testdata/golden (never the inputs)")

// goldenCase is one directory of testdata/golden: input.go, want.go.golden
// (in-place output), overlay.go.golden (overlay output) and an optional
// flags file ("all" turns on Config.All).
type goldenCase struct {
	name, dir string
	cfg       Config
	input     []byte
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases (%v)", err)
	}
	var cases []goldenCase
	for _, dir := range dirs {
		input, err := os.ReadFile(filepath.Join(dir, "input.go"))
		if err != nil {
			t.Fatal(err)
		}
		c := goldenCase{name: filepath.Base(dir), dir: dir, input: input}
		if flags, err := os.ReadFile(filepath.Join(dir, "flags")); err == nil {
			for _, f := range strings.Fields(string(flags)) {
				switch f {
				case "all":
					c.cfg.All = true
				default:
					t.Fatalf("%s/flags: unknown flag %q", dir, f)
				}
			}
		}
		cases = append(cases, c)
	}
	return cases
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if !strings.HasSuffix(path, ".golden") {
			t.Fatalf("refusing to update %s: only .golden files are written", path)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -run TestGolden -update to accept):\n--- got\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			out, errs := instrumentOne(t, string(c.input), c.cfg)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			compareGolden(t, filepath.Join(c.dir, "want.go.golden"), []byte(out))
			checkInPlace(t, string(c.input), out, c.cfg)

			ocfg := c.cfg
			ocfg.Mode = Overlay
			ov, errs := instrumentOne(t, string(c.input), ocfg)
			if len(errs) > 0 {
				t.Fatalf("overlay errors: %v", errs)
			}
			compareGolden(t, filepath.Join(c.dir, "overlay.go.golden"), []byte(ov))
			if err := overlayPositionsOK("/src/p/p.go", c.input, []byte(ov)); err != nil {
				t.Error(err)
			}
		})
	}
}

// repoRoot is the module root of tracegen (two levels above this package's testdata).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

var (
	snapshotOnce      sync.Once
	snapshotBuildOnce sync.Once
	snapshotDir       string
)

func buildsRuntime(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "runtime", "go.mod")); err != nil {
		return false // a tree from before the runtime was a module of its own
	}
	cmd := exec.Command("go", "build", "./trace")
	cmd.Dir = filepath.Join(dir, "runtime")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	return cmd.Run() == nil
}

// runtimeModule returns the directory of tracegen's runtime module to build
// instrumented code against: runtime/ in a snapshot of the committed tree
// (git archive of HEAD, cached by commit) so that work in progress elsewhere
// in the checkout does not break these tests, or in the checkout itself when
// git is unavailable.
func runtimeModule(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	snapshotOnce.Do(func() {
		snapshotDir = root
		head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err != nil {
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			return
		}
		dir := filepath.Join(cache, "tracegen-test", "module-"+strings.TrimSpace(string(head)))
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			snapshotDir = dir
			return
		}
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return
		}
		archive := exec.Command("sh", "-c", "git -C \"$1\" archive HEAD | tar -x -C \"$2\"", "sh", root, tmp)
		if out, err := archive.CombinedOutput(); err != nil {
			t.Logf("git archive failed, building against the checkout: %v %s", err, out)
			return
		}
		if err := os.Rename(tmp, dir); err == nil {
			snapshotDir = dir
		}
	})
	snapshotBuildOnce.Do(func() {
		// A commit elsewhere may leave the runtime unbuildable for a while;
		// then fall back to the checkout if that one builds.
		if snapshotDir != root && !buildsRuntime(snapshotDir) && buildsRuntime(root) {
			t.Logf("runtime/trace does not build at HEAD; building against the checkout")
			snapshotDir = root
		}
	})
	return filepath.Join(snapshotDir, "runtime")
}

// tempModule creates a module that requires tracegen's runtime module
// through a replace directive (see runtimeModule), so instrumented code can
// be built.
func tempModule(t *testing.T, files map[string]string) string {
	t.Helper()
	rt := runtimeModule(t)
	gomod := "module example.com/golden\n\ngo 1.26.0\n\nrequire github.com/tracegen-dev/tracegen/runtime v0.0.0\n\n" +
		"replace github.com/tracegen-dev/tracegen/runtime => " + rt + "\n"
	all := map[string]string{"go.mod": gomod}
	if sum, err := os.ReadFile(filepath.Join(rt, "go.sum")); err == nil {
		all["go.sum"] = string(sum)
	}
	for k, v := range files {
		all[k] = v
	}
	return writeTree(t, all)
}

// goCmd runs the go command in dir, letting it complete go.sum from the module cache.
func goCmd(t *testing.T, dir string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd.CombinedOutput()
}

// TestGoldenBuild compiles every golden output (in-place and overlay) against
// the real runtime, with go vet's default checks on the in-place form.
func TestGoldenBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds with the go command; skipped in -short mode")
	}
	files := map[string]string{}
	for _, c := range goldenCases(t) {
		for _, g := range []string{"want.go.golden", "overlay.go.golden"} {
			b, err := os.ReadFile(filepath.Join(c.dir, g))
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			sub := c.name
			if g == "overlay.go.golden" {
				sub += "_overlay"
			}
			files[sub+"/x.go"] = string(b)
		}
		files[c.name+"_input/x.go"] = string(c.input)
	}
	dir := tempModule(t, files)
	if out, err := goCmd(t, dir, "build", "./..."); err != nil {
		t.Fatalf("go build of the golden outputs failed:\n%s", out)
	}
	if out, err := goCmd(t, dir, "vet", "./..."); err != nil {
		// vet findings in the inputs are the inputs' business; report only
		// findings that are new in the instrumented forms.
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, ".go:") && !strings.Contains(line, "_input/") && !strings.HasPrefix(line, "#") {
				inInput := false
				for _, l2 := range strings.Split(string(out), "\n") {
					if strings.Contains(l2, "_input/") && vetMsg(l2) == vetMsg(line) {
						inInput = true
					}
				}
				if !inInput {
					t.Errorf("vet: %s", line)
				}
			}
		}
	}
}

func vetMsg(line string) string {
	parts := strings.SplitN(line, ": ", 2)
	if len(parts) < 2 {
		return line
	}
	return parts[1]
}

// TestStripOlderOutput strips what earlier tracegen releases generated
// (v0.1.go.txt: the in-place output of v0.1, whose deferred call was
// span.Finish(err, recover())): users upgrading get their exact source back.
func TestStripOlderOutput(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join(c.dir, "v0.1.go.txt"))
			if err != nil {
				t.Fatal(err)
			}
			back, err := StripSource(old)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, c.input) {
				t.Errorf("strip of the v0.1 output differs from input.go:\n%s", back)
			}
		})
	}
}

// TestGeneratedLinesAreShort: users commit and review the generated code, so
// no line tracegen adds to a golden is wider than 100 columns (tabs count 4).
func TestGeneratedLinesAreShort(t *testing.T) {
	for _, c := range goldenCases(t) {
		want, err := os.ReadFile(filepath.Join(c.dir, "want.go.golden"))
		if err != nil {
			t.Fatal(err)
		}
		orig := map[string]bool{}
		for _, l := range strings.Split(string(c.input), "\n") {
			orig[l] = true
		}
		for i, l := range strings.Split(string(want), "\n") {
			if w := len(l) + 3*strings.Count(l, "\t"); !orig[l] && w > 100 {
				t.Errorf("%s/want.go.golden:%d: generated line is %d columns wide", c.name, i+1, w)
			}
		}
	}
}

// TestReadmeShowsGolden: the README's example of generated code is the
// readme golden, as tracegen writes it.
func TestReadmeShowsGolden(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "readme", "want.go.golden"))
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	for _, part := range []string{g[strings.Index(g, "//tracegen:generated\nimport"):strings.Index(g, "\n\n// Step")],
		g[strings.Index(g, "func Plan"):]} {
		if !strings.Contains(string(readme), part) {
			t.Errorf("README.md lacks this part of testdata/golden/readme/want.go.golden:\n%s", part)
		}
	}
}
