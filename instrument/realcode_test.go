package instrument

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// realModules is code nobody here wrote, fetched from the module proxy at a pinned version.
// skip names tests that fail without instrumentation on some machines (cobra's
// TestFailGen*CompletionFile expect a permission error that root does not get).
var realModules = []struct{ mod, skip string }{
	{"github.com/spf13/cobra@v1.10.2", "^TestFailGen"},
	{"github.com/go-chi/chi/v5@v5.5.0", ""},
}

// copyModule downloads mod@version with the go command and copies it to a
// writable directory, returning that directory and its files' bytes.
func copyModule(t *testing.T, modVersion string) (string, map[string][]byte) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", modVersion).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", modVersion, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: %s %v", modVersion, info.Error, err)
	}
	dst := t.TempDir()
	orig := map[string][]byte{}
	err = filepath.WalkDir(info.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(info.Dir, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		orig[rel] = b
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst, orig
}

// requireTracegen makes the copied module require tracegen's runtime module
// (replaced by this checkout's, see runtimeModule).
func requireTracegen(t *testing.T, dir string) {
	t.Helper()
	rt := runtimeModule(t)
	f, err := os.OpenFile(filepath.Join(dir, "go.mod"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\nrequire github.com/tracegen-dev/tracegen/runtime v0.0.0\n\nreplace github.com/tracegen-dev/tracegen/runtime => " + rt + "\n"); err != nil {
		t.Fatal(err)
	}
	if sum, err := os.ReadFile(filepath.Join(rt, "go.sum")); err == nil {
		g, err := os.OpenFile(filepath.Join(dir, "go.sum"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			g.Write(sum)
			g.Close()
		}
	}
}

// TestRealModules instruments real modules with -all, in place and as an
// overlay, runs their own test suites, and strips them back byte for byte.
func TestRealModules(t *testing.T) {
	// cmd/tracegen's TestRealCode runs the same modules through the command in
	// CI; this library-level variant (about 100 s on 2 cores) runs on request.
	if os.Getenv("TRACEGEN_REALCODE") == "" {
		t.Skip("set TRACEGEN_REALCODE=1 to instrument cobra and chi and run their test suites")
	}
	for _, rm := range realModules {
		t.Run(strings.ReplaceAll(rm.mod, "/", "_"), func(t *testing.T) {
			// Record spans (in memory): with tracing off, Start hands back the
			// caller's context and the test would prove less.
			t.Setenv("TRACEGEN_EXPORTER", "memory")
			dir, orig := copyModule(t, rm.mod)
			testArgs := []string{"test", "-count=1", "-vet=off"}
			if rm.skip != "" && os.Geteuid() == 0 {
				testArgs = append(testArgs, "-skip="+rm.skip)
			}
			requireTracegen(t, dir)
			cfg := Config{Dir: dir, All: true, BuildFlags: []string{"-mod=mod"}}

			// Overlay: the tree stays untouched, the tests run against instrumented copies.
			ocfg := cfg
			ocfg.Mode = Overlay
			start := time.Now()
			res, err := Run(ocfg, "./...")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("overlay rewrite of %d files: %v", len(res.Files), time.Since(start))
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			odir := t.TempDir()
			replace := map[string]string{}
			for i, f := range res.Files {
				if f.Changed {
					p := filepath.Join(odir, strings.ReplaceAll(filepath.Base(f.Path), ".go", "")+"_"+strconv.Itoa(i)+".go")
					if err := os.WriteFile(p, f.New, 0o644); err != nil {
						t.Fatal(err)
					}
					replace[f.Path] = p
				}
			}
			if len(replace) == 0 {
				t.Fatal("nothing instrumented")
			}
			b, _ := json.Marshal(map[string]any{"Replace": replace})
			ov := filepath.Join(odir, "overlay.json")
			os.WriteFile(ov, b, 0o644)
			if out, err := goCmd(t, dir, append(testArgs, "-overlay="+ov, "./...")...); err != nil {
				t.Fatalf("go test with the overlay failed:\n%s", out)
			}

			// In place.
			res, err = Run(cfg, "./...")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			n := 0
			for _, f := range res.Files {
				if f.Changed {
					n++
					if err := os.WriteFile(f.Path, f.New, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Logf("instrumented %d of %d files in place", n, len(res.Files))
			if out, err := goCmd(t, dir, append(testArgs, "./...")...); err != nil {
				t.Fatalf("go test of the instrumented module failed:\n%s", out)
			}
			again, err := Run(cfg, "./...")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range again.Files {
				if f.Changed {
					t.Errorf("second run changes %s", f.Path)
				}
			}

			// Strip restores every byte.
			scfg := cfg
			scfg.Strip = true
			res, err = Run(scfg, "./...")
			if err != nil || len(res.Errors) > 0 {
				t.Fatalf("strip: %v %v", err, res.Errors)
			}
			for _, f := range res.Files {
				rel, _ := filepath.Rel(dir, f.Path)
				if want, ok := orig[rel]; ok && !bytes.Equal(f.New, want) {
					t.Errorf("strip of %s does not restore the original", rel)
				}
			}
		})
	}
}
