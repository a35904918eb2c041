package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/instrument"
)

func TestParseGoArgs(t *testing.T) {
	tests := []struct {
		args    []string
		sub     string
		chdir   string
		tags    []string
		cmdline []string // with overlay "O"
		err     string
	}{
		{args: []string{"build", "./..."}, sub: "build", cmdline: []string{"build", "-overlay=O", "./..."}},
		{args: []string{"test", "-tags", "a,b", "-run", "X", "./p"}, sub: "test", tags: []string{"a,b"},
			cmdline: []string{"test", "-overlay=O", "-tags", "a,b", "-run", "X", "./p"}},
		{args: []string{"vet", "--tags=x", "."}, sub: "vet", tags: []string{"x"}, cmdline: []string{"vet", "-overlay=O", "--tags=x", "."}},
		{args: []string{"run", ".", "-tags", "prog-arg"}, sub: "run", cmdline: []string{"run", "-overlay=O", ".", "-tags", "prog-arg"}},
		{args: []string{"test", ".", "-args", "-tags=z"}, sub: "test", cmdline: []string{"test", "-overlay=O", ".", "-args", "-tags=z"}},
		{args: []string{"-C", "sub", "build"}, sub: "build", chdir: "sub", cmdline: []string{"-C", "sub", "build", "-overlay=O"}},
		{args: []string{"-C=sub", "run", "."}, sub: "run", chdir: "sub", cmdline: []string{"-C", "sub", "run", "-overlay=O", "."}},
		{args: nil, err: "missing command"},
		{args: []string{"install"}, err: "go install: unsupported command"},
		{args: []string{"-C"}, err: "flag -C needs a directory"},
		{args: []string{"build", "-overlay", "x.json"}, err: "-overlay cannot be combined"},
		{args: []string{"build", "-tags"}, err: "flag -tags needs a value"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			inv, err := parseGoArgs(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inv.sub != tt.sub || inv.chdir != tt.chdir || !reflect.DeepEqual(inv.tags, tt.tags) {
				t.Errorf("got sub=%q chdir=%q tags=%q, want %q %q %q", inv.sub, inv.chdir, inv.tags, tt.sub, tt.chdir, tt.tags)
			}
			if got := inv.commandLine("O"); !reflect.DeepEqual(got, tt.cmdline) {
				t.Errorf("commandLine = %q, want %q", got, tt.cmdline)
			}
			if got := inv.commandLine(""); reflect.DeepEqual(got, tt.cmdline) {
				t.Errorf("commandLine without overlay still has it: %q", got)
			}
		})
	}
}

func TestTracegenConfigured(t *testing.T) {
	tests := []struct {
		env  []string
		want bool
	}{
		{nil, false},
		{[]string{"PATH=/bin", "TRACEGEN_CACHE=/c", "TRACEGEN_PII=mask"}, false},
		{[]string{"TRACEGEN_EXPORTER=jsonl"}, true},
		{[]string{"TRACEGEN_EXPORTER="}, false},
		{[]string{"XTRACEGEN_EXPORTER=jsonl"}, false},
	}
	for _, tt := range tests {
		if got := tracegenConfigured(tt.env); got != tt.want {
			t.Errorf("tracegenConfigured(%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.go")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %v, want \"new\" mode -rw-r-----", got, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// Through a symbolic link: the target changes, the link stays a link.
	link := filepath.Join(dir, "link.go")
	if err := os.Symlink("x.go", link); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(link, []byte("via link")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a regular file (%v, %v)", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(path); string(got) != "via link" {
		t.Errorf("target holds %q, want \"via link\"", got)
	}
	os.Remove(link)
	if err := writeFileAtomic(filepath.Join(dir, "missing.go"), []byte("x")); err == nil {
		t.Error("writing a file that does not exist: want an error")
	}
	// A directory that cannot be written: the error names the file and nothing changes.
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		err := writeFileAtomic(path, []byte("newer"))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want one naming %s", err, path)
		}
		if got, _ := os.ReadFile(path); string(got) != "via link" {
			t.Errorf("file changed to %q after a failed write", got)
		}
	}
}

func TestScanAndCache(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n\nrequire github.com/tracegen-dev/tracegen/runtime v0.1.0\n")
	write("a/a.go", "package a\n\n//trace:span\nfunc F() {}\n")
	write("a/a_test.go", "package a\n")
	write("b/b.go", "package b\n\nfunc G() {}\n")
	write("testdata/t/t.go", "package t\n\n//trace:span\nfunc F() {}\n")
	write("_skip/s.go", "package s\n\n//trace:span\nfunc F() {}\n")
	write("nested/go.mod", "module example.com/n\n")
	write("nested/n.go", "package n\n\n//trace:span\nfunc F() {}\n")

	mi, err := readModule(root)
	if err != nil {
		t.Fatal(err)
	}
	if mi.path != "example.com/m" || !mi.requires {
		t.Fatalf("readModule = %+v", mi)
	}
	rels := func(ov *overlayBuild) ([]string, map[string]string) {
		dirs, err := ov.scan()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		keys := map[string]string{}
		for _, d := range dirs {
			out = append(out, d.rel)
			keys[d.rel] = d.key
		}
		return out, keys
	}
	got, keys := rels(&overlayBuild{mod: mi})
	if want := []string{"a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("candidates = %q, want %q", got, want)
	}
	gotAll, keysAll := rels(&overlayBuild{mod: mi, all: true})
	if want := []string{"a", "b"}; !reflect.DeepEqual(gotAll, want) {
		t.Errorf("candidates with -all = %q, want %q", gotAll, want)
	}
	if keys["a"] == keysAll["a"] {
		t.Error("-all does not change the cache key")
	}
	_, keysTests := rels(&overlayBuild{mod: mi, tests: true})
	if keys["a"] == keysTests["a"] {
		t.Error("including tests does not change the cache key")
	}
	write("a/a_test.go", "package a // edited\n")
	if _, k := rels(&overlayBuild{mod: mi}); k["a"] != keys["a"] {
		t.Error("editing a test file changes the key of a build without tests")
	}
	if _, k := rels(&overlayBuild{mod: mi, tests: true}); k["a"] == keysTests["a"] {
		t.Error("editing a test file does not change the key of a test build")
	}
	write("a/a.go", "package a\n\n//trace:span\nfunc F() { _ = 1 }\n")
	if _, k := rels(&overlayBuild{mod: mi}); k["a"] == keys["a"] {
		t.Error("editing a file does not change its directory's key")
	}

	t.Setenv("TRACEGEN_CACHE", filepath.Join(t.TempDir(), "cache"))
	c, err := openCache()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.manifest("k1"); ok {
		t.Fatal("manifest found in an empty cache")
	}
	orig := filepath.Join(root, "a", "a.go")
	cp, err := c.putCopy(orig, []byte("package a // instrumented\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cp, "-a.go") {
		t.Errorf("copy %s does not keep the base name", cp)
	}
	if err := c.putManifest("k1", map[string]string{orig: cp}); err != nil {
		t.Fatal(err)
	}
	m, ok := c.manifest("k1")
	if !ok || m[orig] != cp {
		t.Fatalf("manifest = %v, %v", m, ok)
	}
	os.Remove(cp)
	if _, ok := c.manifest("k1"); ok {
		t.Error("manifest whose copy was deleted is still used")
	}
	ov1, err := c.writeOverlay(map[string]string{orig: cp})
	if err != nil {
		t.Fatal(err)
	}
	ov2, _ := c.writeOverlay(map[string]string{orig: cp})
	data, _ := os.ReadFile(ov1)
	if ov1 != ov2 || !strings.Contains(string(data), `"Replace"`) {
		t.Errorf("overlay files %s, %s: %s", ov1, ov2, data)
	}
}

func TestMissingRequire(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/m\n\ngo 1.26\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "p", "q")
	if err := os.MkdirAll(sub, 0o777); err != nil {
		t.Fatal(err)
	}
	if got := findModuleRoot(sub); got != root {
		t.Fatalf("findModuleRoot = %q, want %q", got, root)
	}
	mi, err := readModule(root)
	if err != nil {
		t.Fatal(err)
	}
	if mi.requires {
		t.Fatal("module without require reported as requiring tracegen")
	}
	msg := missingRequire(mi)
	for _, want := range []string{"example.com/m", "does not require github.com/tracegen-dev/tracegen/runtime,", root,
		// A development build names no version of its own.
		"\n\t\tgo get github.com/tracegen-dev/tracegen/runtime@latest\n",
		"\n\t\tgo get -tool github.com/tracegen-dev/tracegen/cmd/tracegen@latest"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	for _, c := range []struct {
		gomod    string
		requires bool
	}{
		{"module github.com/tracegen-dev/tracegen\n", true},
		{"module github.com/tracegen-dev/tracegen/runtime\n", true},
		// go get -tool of the command requires the runtime indirectly.
		{"module example.com/m\n\nrequire github.com/tracegen-dev/tracegen/runtime v0.2.0 // indirect\n", true},
		// tracegen before the runtime was a module of its own: the
		// generated code needs the runtime module.
		{"module example.com/m\n\nrequire github.com/tracegen-dev/tracegen v0.1.0\n", false},
	} {
		if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte(c.gomod), 0o666); err != nil {
			t.Fatal(err)
		}
		mi, err := readModule(root)
		if err != nil {
			t.Fatal(err)
		}
		if mi.requires != c.requires {
			t.Errorf("%q: requires = %v, want %v", c.gomod, mi.requires, c.requires)
		}
	}
}

func TestCacheTrim(t *testing.T) {
	t.Setenv("TRACEGEN_CACHE", filepath.Join(t.TempDir(), "cache"))
	c, err := openCache()
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.putCopy("/src/old.go", []byte("package old"))
	if err != nil {
		t.Fatal(err)
	}
	used, err := c.putCopy("/src/used.go", []byte("package used"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.putManifest("k", map[string]string{"/src/used.go": used}); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-2 * trimAge)
	for _, p := range []string{old, used, filepath.Join(c.dir, "dirs", "k.json")} {
		if err := os.Chtimes(p, long, long); err != nil {
			t.Fatal(err)
		}
	}
	// A cache hit marks the manifest and its copy as used.
	if _, ok := c.manifest("k"); !ok {
		t.Fatal("manifest missing")
	}
	// openCache trimmed already: no second trim within the interval.
	c.trim(time.Now())
	if _, err := os.Stat(old); err != nil {
		t.Error("trimmed twice within one interval")
	}
	c.trim(time.Now().Add(trimInterval + time.Minute))
	if _, err := os.Stat(old); err == nil {
		t.Error("entry unused for twice trimAge survived the trim")
	}
	if _, ok := c.manifest("k"); !ok {
		t.Error("entry used just now was trimmed")
	}
}

// TestWritePackagesAllOrNothing makes the second write of a package fail and
// checks that the first file of that package is put back, that another
// package is still written, and that the failure is reported with exit 1.
func TestWritePackagesAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a1, a2, b1 := mk("a1.go", "a1 old"), mk("a2.go", "a2 old"), mk("b1.go", "b1 old")
	res := &instrument.Result{Files: []*instrument.File{
		{Path: a1, Package: "p/a", Orig: []byte("a1 old"), New: []byte("a1 new"), Changed: true},
		{Path: a2, Package: "p/a", Orig: []byte("a2 old"), New: []byte("a2 new"), Changed: true},
		{Path: b1, Package: "p/b", Orig: []byte("b1 old"), New: []byte("b1 new"), Changed: true},
	}}
	defer func(w func(string, []byte) error) { writeFile = w }(writeFile)
	writeFile = func(path string, data []byte) error {
		if path == a2 {
			return errors.New("disk full")
		}
		return writeFileAtomic(path, data)
	}
	var stderr strings.Builder
	a := &app{stdout: io.Discard, stderr: &stderr}
	a.writePackages(res, map[string]bool{})
	for path, want := range map[string]string{a1: "a1 old", a2: "a2 old", b1: "b1 new"} {
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s = %q, want %q", filepath.Base(path), got, want)
		}
	}
	if a.code != exitError || !strings.Contains(stderr.String(), "disk full; package p/a left unchanged") {
		t.Errorf("exit %d, stderr %q", a.code, stderr.String())
	}
	// A package marked bad is not written at all.
	writeFile = writeFileAtomic
	a = &app{stdout: io.Discard, stderr: io.Discard}
	a.writePackages(res, map[string]bool{"p/a": true})
	if got, _ := os.ReadFile(a1); string(got) != "a1 old" {
		t.Errorf("package with errors written: a1 = %q", got)
	}
}
