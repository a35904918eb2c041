package instrument

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (path -> content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRun(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"go.mod":      "module example.com/m\n\ngo 1.26\n",
		"a/a.go":      "package a\n\n//trace:span\nfunc F() error { return nil }\n",
		"a/b.go":      "package a\n\nfunc G() {}\n",
		"a/linux.go":  "//go:build linux && !linux\n\npackage a\n\n//trace:span\nfunc H() {}\n",
		"a/a_test.go": "package a\n\nimport \"testing\"\n\n//trace:span\nfunc helper() {}\n\nfunc TestX(t *testing.T) { helper() }\n",
		"b/b.go":      "package b\n\n// nothing here\nfunc B() {}\n",
	})
	res, err := Run(Config{Dir: dir, Tests: true}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	changed := map[string]*File{}
	var all []string
	for _, f := range res.Files {
		rel, _ := filepath.Rel(dir, f.Path)
		all = append(all, filepath.ToSlash(rel))
		if f.Changed {
			changed[filepath.ToSlash(rel)] = f
		}
	}
	want := []string{"a/a.go", "a/a_test.go", "a/b.go", "a/linux.go", "b/b.go"}
	if strings.Join(all, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v (sorted, build-tag-excluded files included)", all, want)
	}
	for _, name := range []string{"a/a.go", "a/a_test.go", "a/linux.go"} {
		if changed[name] == nil {
			t.Errorf("%s not changed", name)
		}
	}
	if len(changed) != 3 {
		t.Errorf("changed %d files, want 3", len(changed))
	}
	if f := changed["a/a.go"]; f != nil && strings.Join(f.Funcs, ",") != "a.F" {
		t.Errorf("Funcs = %v", f.Funcs)
	}
	// Writing the result and running again changes nothing; -strip gives the input back.
	for _, f := range changed {
		if err := os.WriteFile(f.Path, f.New, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again, err := Run(Config{Dir: dir, Tests: true}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Files {
		if f.Changed {
			t.Errorf("second run changes %s", f.Path)
		}
	}
	stripped, err := Run(Config{Dir: dir, Tests: true, Strip: true}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stripped.Files {
		if orig := changed[relTo(dir, f.Path)]; orig != nil && string(f.New) != string(orig.Orig) {
			t.Errorf("strip of %s:\n%s", f.Path, f.New)
		}
	}
}

func relTo(dir, p string) string {
	r, _ := filepath.Rel(dir, p)
	return filepath.ToSlash(r)
}

func TestRunErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"a.go":   "package m\n\n//trace:span kind=sideways\nfunc F() {}\n",
		"b.go":   "package m\n\n//trace:span\nfunc G() {}\n",
	})
	res, err := Run(Config{Dir: dir}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || !strings.HasSuffix(res.Errors[0].Error(), "a.go:3:19: bad kind \"sideways\" (want internal, server, client, producer or consumer)") {
		t.Fatalf("errors %v", res.Errors)
	}
	for _, f := range res.Files {
		if f.Changed {
			t.Errorf("%s changed although the package has an error", f.Path)
		}
	}
}
