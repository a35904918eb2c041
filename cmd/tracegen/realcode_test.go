package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	goversion "go/version"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// realModules are third-party modules nobody here wrote, pinned. Their own
// test suites must pass with every function traced, in place and in an
// overlay build, and -strip must give back every byte.
var realModules = []struct {
	path, version string
	// skipAsRoot names tests that fail on the pristine module when run as
	// root, instrumented or not (they expect writing a read-only file to fail).
	skipAsRoot string
	// skipFlaky names tests that fail on the pristine module on a loaded
	// machine, instrumented or not.
	skipFlaky string
	// skipTiming names tests that assert a wall-clock budget which the
	// instrumented suite, exporting every span of every call on these
	// 2-core machines, can exceed: what they measure is tracing's cost
	// (the speed targets live in bench/), not a change in behaviour.
	skipTiming string
	// skipHeapOrder names tests whose expected output depends on the order
	// of two heap addresses: the instrumented program allocates spans (and
	// the energy sampler allocates on its own goroutine), so the order can
	// differ from run to run; no instrumentation can keep heap addresses.
	skipHeapOrder string
	// skipScheduling names tests that assert, with no synchronization, that
	// a goroutine already ran: they depend on how long the code around it
	// takes, which instrumentation changes (so does the machine's load).
	skipScheduling string
	// skipFinalizer names tests that leave an *os.File open for the garbage
	// collector to close, in packages that end with goleak.VerifyTestMain:
	// the instrumented binary allocates more, so a collection can run that
	// finalizer while goleak looks, and goleak v1.3.0 counts the finalizer
	// goroutine running it as a leak.
	skipFinalizer string
	// env is added to the environment of the module's test runs.
	env []string
}{
	{path: "github.com/spf13/cobra", version: "v1.10.2", skipAsRoot: "^TestFailGenFishCompletionFile$"},
	// TestWrapWriterHTTP2 serves on the fixed port 7072 and gives its server
	// a fixed 100 ms to start before dialling it.
	{path: "github.com/go-chi/chi/v5", version: "v5.5.0", skipFlaky: "^TestWrapWriterHTTP2$"},
	// go-cmp's cycle detection panics through deep recursion and recovers
	// at the top (TestDiff/Transformer/CyclicString): with recover and
	// re-panic in every traced frame its suite never finished.
	// TestDiff/Reporter/LargeMapKey sorts two *[]byte map keys by address.
	{path: "github.com/google/go-cmp", version: "v0.7.0", skipHeapOrder: "^TestDiff$/^Reporter$/^LargeMapKey$"},
	// logrus's Logger.WithContext hands ctx to Entry.WithContext, which
	// keeps it; TestEntryWithContext compares it with the ctx it passed.
	// TestCallerReportingOverhead wants 5000 log calls with caller
	// reporting within 1 s; with -all every call makes a dozen spans.
	{path: "github.com/sirupsen/logrus", version: "v1.10.2", skipTiming: "^TestCallerReportingOverhead$"},
	// zap's root and zapcore packages end their test binaries with
	// goleak.VerifyTestMain: tracegen's goroutines must be gone by then.
	// TestStacktraceFiltersVendorZap symlinks every module that go mod
	// download lists into vendor/<module path> and runs go test there in
	// GOPATH mode. The runtime's go.opentelemetry.io/otel/trace nests inside
	// go.opentelemetry.io/otel, so its symlink lands inside the otel
	// module's directory in the module cache: read-only, so it fails; as
	// root it is written into the shared cache and the next run fails with
	// "file exists". runtime/trace no longer imports OpenTelemetry (the
	// bridge package does, linked only where the module requires OTel), and
	// the runtime comes from a proxy, so go mod download lists it for the
	// vendored, instrumented zap.
	// ztest's TestMockClock_NewTicker starts a receiving goroutine and at
	// once sends two ticks on a channel of capacity 1, dropping the second
	// when the first is still buffered, then asserts both were received: it
	// passes only if the new goroutine got to its select before the first
	// send. Traced, both sides take other times; it failed once in a CI run
	// (the pristine test passed 300 of 300 runs beside three CPU hogs).
	// zapcore's TestIOCore never closes the temp file it logs to. Once in
	// CI, under load, the finalizer goroutine was still closing it
	// (syscall.Close from runtime.runFinalizers) through all of goleak's
	// retries, and zapcore's goleak.VerifyTestMain failed the package.
	{
		path: "go.uber.org/zap", version: "v1.28.0", skipScheduling: "^TestMockClock_NewTicker$",
		skipFinalizer: "^TestIOCore$",
	},
}

// TestRealCode fetches the modules through the module proxy (GOPROXY), so it
// needs network access to it; -short skips it.
func TestRealCode(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the third-party module test (it downloads modules and runs their test suites)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tracegen")
	goRun(t, ".", nil, "go", "build", "-o", bin, ".")
	rtDir := filepath.Join(root, "runtime")
	rtGo := goLine(t, rtDir)
	// The runtime reaches the modules as a user's module gets it, from a
	// proxy (a file:// one, serving this checkout's runtime under a version
	// named after its content), not through a replace directive: then go
	// mod download lists it, as suites that build vendor trees expect.
	rtProxy, rtVersion := runtimeProxy(t, rtDir)
	proxyEnv := "GOPROXY=file://" + filepath.ToSlash(rtProxy) + "," + goEnvValue(t, "GOPROXY")
	for _, m := range realModules {
		t.Run(strings.ReplaceAll(m.path, "/", "_"), func(t *testing.T) {
			t.Parallel()
			dir := fetchModule(t, m.path, m.version)
			env := []string{
				"GOFLAGS=-mod=readonly",    // only the setup below may change go.mod
				"TRACEGEN_EXPORTER=memory", // record spans, print nothing
				"TRACEGEN_CACHE=" + filepath.Join(t.TempDir(), "cache"),
			}
			env = append(env, m.env...)
			// What a user does once: require tracegen's runtime module (here,
			// this checkout's). The checksum database may be unreachable
			// where the proxy is not (CI); modules still come from the proxy
			// and go.sum records them.
			setup := []string{"GOFLAGS=-mod=mod", "GOSUMDB=off", proxyEnv}
			ownGo := goLine(t, dir)
			if goversion.Compare("go"+ownGo, "go"+rtGo) < 0 {
				// A module older than the runtime's go line is raised to it
				// (go get would); raising it first and tidying gives the
				// module graph that go get would otherwise leave half done.
				goRun(t, dir, setup, "go", "mod", "edit", "-go="+rtGo)
				goRun(t, dir, setup, "go", "mod", "tidy")
			}
			goRun(t, dir, setup, "go", "get", runtimeModule+"@"+rtVersion)
			// Import the runtime from a throwaway package and tidy: that
			// records every requirement and sum the instrumented code needs,
			// versions neither go.mod named before included.
			req := filepath.Join(dir, "tracegen_require")
			if err := os.MkdirAll(req, 0o755); err != nil {
				t.Fatal(err)
			}
			src := "package tracegenrequire\n\nimport _ \"github.com/tracegen-dev/tracegen/runtime/trace\"\n"
			if err := os.WriteFile(filepath.Join(req, "require.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			goRun(t, dir, setup, "go", "mod", "tidy")
			if err := os.RemoveAll(req); err != nil {
				t.Fatal(err)
			}
			// go get may raise a shared dependency; record the sums every
			// package of the module now needs (go.mod stays as it is).
			goRun(t, dir, setup, "go", "get", "./...")
			// The runtime leaves the module's go line alone (only one older
			// than the runtime's is raised to it), so the language version
			// and what vet reports stay the module's own.
			want := ownGo
			if goversion.Compare("go"+ownGo, "go"+rtGo) < 0 {
				want = rtGo
			}
			if got := goLine(t, dir); got != want {
				t.Fatalf("go line %s after requiring the runtime, want %s (the module's own: %s)", got, want, ownGo)
			}
			// The suites run with vet, as go test runs it by default.
			goTest := []string{"test", "-count=1"}
			var skip []string
			if m.skipAsRoot != "" && os.Geteuid() == 0 {
				skip = append(skip, m.skipAsRoot)
			}
			for _, re := range []string{m.skipFlaky, m.skipTiming, m.skipHeapOrder, m.skipScheduling, m.skipFinalizer} {
				if re != "" {
					skip = append(skip, re)
				}
			}
			if len(skip) > 0 {
				goTest = append(goTest, "-skip", strings.Join(skip, "|"))
			}
			goTest = append(goTest, "./...")
			pristine := snapshot(t, dir)
			// The two checks run one after the other, on two copies: test
			// suites that bind fixed ports must not meet themselves.
			inPlaceDir := filepath.Join(t.TempDir(), filepath.Base(dir))
			copyTree(t, dir, inPlaceDir)

			t.Run("overlay", func(t *testing.T) {
				// The module's tests pass and the tree is untouched.
				goRun(t, dir, env, bin, append([]string{"-all", "go"}, goTest...)...)
				if diff := compareTrees(pristine, snapshot(t, dir)); diff != "" {
					t.Fatalf("tracegen -all go test changed the source tree:\n%s", diff)
				}
			})
			t.Run("inplace", func(t *testing.T) {
				dir := inPlaceDir
				// Every function traced, tests still pass.
				goRun(t, dir, env, bin, "-all", "./...")
				changed := 0
				for name, data := range snapshot(t, dir) {
					if !bytes.Equal(data, pristine[name]) {
						changed++
						if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
							t.Errorf("tracegen -all rewrote %s", name)
						}
					}
				}
				if changed < 5 {
					t.Fatalf("tracegen -all rewrote only %d files", changed)
				}
				goRun(t, dir, env, bin, "-check", "-all", "./...")
				goRun(t, dir, env, "go", goTest...)

				// -strip gives back every byte.
				goRun(t, dir, env, bin, "-strip", "./...")
				if diff := compareTrees(pristine, snapshot(t, dir)); diff != "" {
					t.Fatalf("tracegen -strip did not restore the tree:\n%s", diff)
				}
			})
		})
	}
}

// goLine returns the go line of dir/go.mod ("1.16" when it has none, as the
// go command assumes).
func goLine(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Go == nil {
		return "1.16"
	}
	return f.Go.Version
}

// goRun runs a command in dir with extra environment, failing the test with
// its output if it fails.
func goRun(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 8000 {
			out = append(out[:4000], append([]byte("\n...\n"), out[len(out)-4000:]...)...)
		}
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return out
}

// fetchModule downloads path@version and returns a writable copy of it.
func fetchModule(t *testing.T, path, version string) string {
	t.Helper()
	out := goRun(t, ".", nil, "go", "mod", "download", "-json", path+"@"+version)
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", path, version, err, info.Error)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	copyTree(t, info.Dir, dst)
	// Fetch the module's own dependencies while the proxy is allowed.
	goRun(t, dst, []string{"GOFLAGS=-mod=mod"}, "go", "mod", "download")
	return dst
}

// copyTree copies the regular files under src to dst, writable.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot reads every regular file under dir (mode bits included).
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = append([]byte(info.Mode().String()+"\n"), data...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// compareTrees describes how two snapshots differ ("" when identical).
func compareTrees(want, got map[string][]byte) string {
	var diffs []string
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing: "+name)
		case !bytes.Equal(w, g):
			diffs = append(diffs, fmt.Sprintf("changed: %s\n%s", name, unifiedDiff("a/"+name, "b/"+name, w, g)))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "added: "+name)
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "\n")
}

// runtimeProxy writes a file:// module proxy that serves the runtime module
// in rtDir at a pseudo-version named after its content (a changed runtime
// is a new version, so the module cache never serves a stale copy), and
// returns the proxy's directory and the version.
func runtimeProxy(t *testing.T, rtDir string) (dir, version string) {
	t.Helper()
	var zipped bytes.Buffer
	// The version goes into the zip's paths: zip once to hash the content,
	// then again under the version the hash names.
	tmp := module.Version{Path: runtimeModule, Version: "v0.0.0-20000101000000-000000000000"}
	if err := modzip.CreateFromDir(&zipped, tmp, rtDir); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zipped.Bytes())
	mv := module.Version{Path: runtimeModule, Version: "v0.0.0-20000101000000-" + hex.EncodeToString(sum[:6])}
	zipped.Reset()
	if err := modzip.CreateFromDir(&zipped, mv, rtDir); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(rtDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	at := filepath.Join(dir, filepath.FromSlash(runtimeModule), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"list":               []byte(mv.Version + "\n"),
		mv.Version + ".info": []byte(`{"Version":"` + mv.Version + `","Time":"2000-01-01T00:00:00Z"}`),
		mv.Version + ".mod":  gomod,
		mv.Version + ".zip":  zipped.Bytes(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, mv.Version
}

// goEnvValue returns go env NAME.
func goEnvValue(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(string(goRun(t, ".", nil, "go", "env", name)))
}
