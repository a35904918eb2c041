package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/instrument"
)

// overlayBuild computes the -overlay of one `tracegen go ...` run.
//
// Which packages are instrumented: every package directory of the main
// module (the module holding the working directory) that has a //trace:
// directive in one of its .go files, or, with -all, every package directory
// of the main module. Dependencies outside the main module are never
// instrumented, and neither is tracegen's own runtime.
type overlayBuild struct {
	mod   *moduleInfo
	cache *cache
	all   bool
	tests bool     // include _test.go files (go test, go vet)
	flags []string // build flags for loading (-tags)

	// calls routes LLM SDK calls through runtime/genai; callImports are the
	// quoted SDK import paths that make a file a candidate; rulesKey hashes
	// the -rules file (see setOverlayRules in rules.go).
	calls       instrument.CallRewriter
	callImports [][]byte
	rulesKey    string

	// flushTests asks scan to collect testMains (go test only).
	flushTests bool
	// deps: also rewrite the SDK calls of dependency packages (see deps.go).
	deps bool
	// mains are the package main directories with nothing to trace
	// themselves; scan returns them only when another directory is traced,
	// and prepareOverlay adds them when only dependencies are.
	mains []*srcDir

	// testMains lists the package directories whose tests get a generated
	// TestMain that flushes spans when the test binary ends (see addTestMains).
	testMains []testMainDir
}

// testMainDir is a package directory with tests and no TestMain of its own.
type testMainDir struct {
	abs string
	pkg string // package name of its in-package test files
}

// srcDir is one candidate package directory and the cache key of its rewrite.
type srcDir struct {
	abs string // absolute directory
	rel string // relative to the module root, "." for the root
	key string // hash of everything the rewrite of this directory depends on
	// mainOnly marks a package main with nothing to trace itself: it only
	// gets a flushing main (addStop), and only when another package is traced.
	mainOnly bool
}

// directiveMarker is the text whose presence makes a file a candidate.
var directiveMarker = []byte("//trace:")

// scan walks the main module and returns the candidate directories with their
// cache keys. Directories the go command ignores (testdata, vendor, names
// starting with . or _) and nested modules are skipped.
func (ov *overlayBuild) scan() ([]*srcDir, error) {
	var dirs, mains []*srcDir
	root := ov.mod.root
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != root {
			name := d.Name()
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		rel, _ := filepath.Rel(root, path)
		if ov.mod.path == runtimeModule || ov.mod.path == tracegenModule && (rel == "runtime" || strings.HasPrefix(rel, "runtime"+string(filepath.Separator))) {
			return filepath.SkipDir // never trace the tracer (its own module, or runtime/ in a tree from before it was one)
		}
		sd, tm, err := ov.examine(path, rel)
		if tm != nil {
			ov.testMains = append(ov.testMains, *tm)
		}
		if err != nil {
			return err
		}
		switch {
		case sd == nil:
		case sd.mainOnly:
			mains = append(mains, sd)
		default:
			dirs = append(dirs, sd)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning module %s: %v", root, err)
	}
	ov.mains = mains
	if len(dirs) > 0 {
		dirs = append(dirs, mains...)
	}
	return dirs, nil
}

// examine reads the .go files of one directory. It returns a nil *srcDir when
// the directory has nothing to instrument, and a non-nil *testMainDir when
// flushTests is set and the directory has tests but no TestMain.
func (ov *overlayBuild) examine(abs, rel string) (*srcDir, *testMainDir, error) {
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, nil, err
	}
	var hasTests, hasTestMain, hasMainFunc bool
	pkgName := ""
	h := sha256.New()
	fmt.Fprintf(h, "tracegen overlay v1\x00%s\x00%s\x00all=%v tests=%v flags=%q rules=%s\x00", toolKey(), abs, ov.all, ov.tests, ov.flags, ov.rulesKey)
	h.Write(ov.mod.gomod)
	candidate := false
	nfiles := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		if !ov.tests && strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(abs, name))
		if err != nil {
			return nil, nil, err
		}
		if strings.HasSuffix(name, "_test.go") {
			hasTests = true
			hasTestMain = hasTestMain || bytes.Contains(data, []byte("func TestMain("))
		} else {
			if pkgName == "" {
				pkgName = packageClause(data)
			}
			hasMainFunc = hasMainFunc || bytes.Contains(data, []byte("func main("))
		}
		nfiles++
		fmt.Fprintf(h, "\x00%s\x00%d\x00", name, len(data))
		h.Write(data)
		if ov.all || bytes.Contains(data, directiveMarker) || ov.importsSDK(data) {
			candidate = true
		}
	}
	var tm *testMainDir
	if ov.flushTests && hasTests && !hasTestMain && pkgName != "" {
		tm = &testMainDir{abs: abs, pkg: pkgName}
	}
	if nfiles == 0 {
		return nil, tm, nil
	}
	mainOnly := !candidate && pkgName == "main" && hasMainFunc
	if !candidate && !mainOnly {
		return nil, tm, nil
	}
	if mainOnly {
		h.Write([]byte("\x00main-only"))
	}
	return &srcDir{abs: abs, rel: rel, key: hex.EncodeToString(h.Sum(nil)), mainOnly: mainOnly}, tm, nil
}

// packageClause returns the package name of a Go file ("" when unreadable;
// build constraints are not evaluated, so a file excluded from the build may
// answer, which only matters for directories mixing package names).
func packageClause(src []byte) string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.PackageClauseOnly)
	if err != nil || f.Name.Name == "documentation" {
		return ""
	}
	return f.Name.Name
}

// testMainName is the file added (through the overlay only) to packages whose
// tests are run by `tracegen go test`.
const testMainName = "tracegen_testmain_test.go"

// testMainSource is that file: Go has no exit hook, so without it the spans
// of a test binary's last batch would be lost when it exits.
const testMainSource = `// Code generated by tracegen go test. DO NOT EDIT.

package %s

import (
	"os"
	"testing"

	tracegen "github.com/tracegen-dev/tracegen/runtime/trace"
)

// TestMain runs the tests, then flushes the spans they recorded.
func TestMain(m *testing.M) {
	code := m.Run()
	tracegen.Stop()
	os.Exit(code)
}
`

// addTestMains adds to replace a generated TestMain for every directory in
// ov.testMains, unless a file of that name exists.
func (ov *overlayBuild) addTestMains(replace map[string]string) error {
	for _, tm := range ov.testMains {
		path := filepath.Join(tm.abs, testMainName)
		if _, err := os.Lstat(path); err == nil {
			continue
		}
		cp, err := ov.cache.putCopy(path, []byte(fmt.Sprintf(testMainSource, tm.pkg)))
		if err != nil {
			return err
		}
		replace[path] = cp
	}
	return nil
}

// cache is the content-addressed store of instrumented copies, per-directory
// manifests and overlay files: $TRACEGEN_CACHE, or tracegen/ under the user
// cache directory. Every file is named by a hash of what determines it and
// written atomically, so concurrent builds can share it and stale entries are
// never read; deleting the directory at any time is safe.
type cache struct {
	dir string
}

// openCache returns the cache, creating its directories.
func openCache() (*cache, error) {
	dir := os.Getenv("TRACEGEN_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory (set TRACEGEN_CACHE): %v", err)
		}
		dir = filepath.Join(base, "tracegen")
	}
	for _, sub := range []string{"overlay", "dirs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o777); err != nil {
			return nil, fmt.Errorf("cache: %v", err)
		}
	}
	c := &cache{dir: dir}
	c.trim(time.Now())
	return c, nil
}

// manifest returns the replacements stored for a directory key; ok is false
// when there is none or one of its copies has gone.
func (c *cache) manifest(key string) (map[string]string, bool) {
	data, err := os.ReadFile(filepath.Join(c.dir, "dirs", key+".json"))
	if err != nil {
		return nil, false
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, false
	}
	for _, cp := range m {
		if _, err := os.Stat(cp); err != nil {
			return nil, false
		}
	}
	c.touch(filepath.Join(c.dir, "dirs", key+".json"))
	for _, cp := range m {
		c.touch(cp)
	}
	return m, true
}

// Cache trimming, in the spirit of the go command's build cache: entries
// used recently have a recent modification time (touch refreshes it at most
// once an hour), and once a day openCache removes entries unused for
// trimAge. A manifest whose copy was removed is a miss and is made again.
const (
	trimAge      = 5 * 24 * time.Hour
	trimInterval = 24 * time.Hour
	touchAfter   = time.Hour
)

// touch marks a cache file as used.
func (c *cache) touch(path string) {
	if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > touchAfter {
		now := time.Now()
		os.Chtimes(path, now, now)
	}
}

// trim removes the entries unused for trimAge, at most once per
// trimInterval. It is best effort: a failure only leaves files behind.
func (c *cache) trim(now time.Time) {
	stamp := filepath.Join(c.dir, "trim.txt")
	if fi, err := os.Stat(stamp); err == nil && now.Sub(fi.ModTime()) < trimInterval {
		return
	}
	if err := os.WriteFile(stamp, []byte(now.UTC().Format(time.RFC3339)+"\n"), 0o666); err != nil {
		return
	}
	for _, sub := range []string{"overlay", "dirs"} {
		entries, err := os.ReadDir(filepath.Join(c.dir, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > trimAge {
				os.Remove(filepath.Join(c.dir, sub, e.Name()))
			}
		}
	}
}

// putManifest records the replacements of a directory (possibly none).
func (c *cache) putManifest(key string, m map[string]string) error {
	if m == nil {
		m = map[string]string{}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.put(filepath.Join(c.dir, "dirs", key+".json"), data)
}

// putCopy stores an instrumented copy of orig and returns its path. The name
// keeps orig's base name, so _test.go files stay recognisable. The copy starts
// with a //line directive naming orig, so that every tool reading it (the
// compiler, but also vet, which otherwise names the copy) reports positions
// in the user's file; the instrumented text keeps orig's line numbers.
func (c *cache) putCopy(orig string, data []byte) (string, error) {
	data = append([]byte("//line "+orig+":1:1\n"), data...)
	sum := sha256.Sum256(data)
	path := filepath.Join(c.dir, "overlay", hex.EncodeToString(sum[:16])+"-"+filepath.Base(orig))
	if _, err := os.Stat(path); err == nil {
		c.touch(path)
		return path, nil
	}
	return path, c.put(path, data)
}

// writeOverlay writes the go command's -overlay JSON for replace and returns its path.
func (c *cache) writeOverlay(replace map[string]string) (string, error) {
	data, err := json.MarshalIndent(struct{ Replace map[string]string }{replace}, "", "\t")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	path := filepath.Join(c.dir, "overlay", hex.EncodeToString(sum[:16])+".json")
	if _, err := os.Stat(path); err == nil {
		c.touch(path)
		return path, nil
	}
	return path, c.put(path, data)
}

// put writes a cache file atomically.
func (c *cache) put(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %v", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %v", werr)
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
