package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	goversion "go/version"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tracegen-dev/tracegen/instrument"
	"github.com/tracegen-dev/tracegen/rules"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Dependencies that call an SDK.
//
// A framework (langchaingo's chains, an agent library, a team's wrapper
// module) makes the SDK call itself, so a rule applied to the main module
// alone never sees it. In an overlay build, the packages of other modules
// that import a package the rules name are rewritten too, call sites only
// (no directive is read), into the same overlay: the module cache is never
// written, and //line directives keep their positions. They are found from
// the import graph of the main module's packages (go list -deps), not from a
// list. The runtime they then import resolves through the main module's
// build list, which requires the runtime module.

// depPackage is one package of another module that imports an SDK package.
type depPackage struct {
	ImportPath string
	Dir        string
	Name       string
	Standard   bool
	GoFiles    []string
	Imports    []string
	Module     *struct {
		Path      string
		Dir       string
		GoVersion string
		Main      bool
	}
	key string // hash of everything its rewrite depends on
}

// listDeps returns the packages of other modules in the import graph of the
// main module's packages (with their tests for go test and go vet) that
// import a package a rule names, or are one (for their calls of other rule
// functions), and whether some were left out because they come from a
// vendor directory that lacks the wrappers' package.
func (ov *overlayBuild) listDeps() (pkgs []*depPackage, vendored bool, err error) {
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Dir,Name,Standard,GoFiles,Imports,Module"}
	if ov.tests {
		args = append(args, "-test")
	}
	args = append(append(args, ov.flags...), "./...")
	cmd := exec.Command("go", args...)
	cmd.Dir = ov.mod.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, false, fmt.Errorf("listing the dependencies of %s: %v\n%s", ov.mod.root, err, stderr.Bytes())
	}
	sdk := map[string]bool{}
	for _, q := range ov.callImports {
		sdk[strings.Trim(string(q), `"`)] = true
	}
	delete(sdk, "net/http") // the HTTP rules are for the program's own code (depCalls)
	// An SDK package is rewritten itself only for its calls of rule
	// functions (not of stream methods: a stream package's own Next).
	callPkgs := map[string]bool{}
	if m, ok := ov.calls.(*rules.Matcher); ok {
		for _, r := range m.Rules() {
			for _, f := range r.Funcs {
				callPkgs[pkgOfFunc(f)] = true
			}
		}
	}
	vendorDir := filepath.Join(ov.mod.root, "vendor") + string(filepath.Separator)
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(depPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, false, fmt.Errorf("reading go list output: %v", err)
		}
		if p.Standard || p.Module == nil || p.Module.Main || seen[p.Dir] || len(p.GoFiles) == 0 {
			continue
		}
		// tracegen's own modules (the runtime and its nested exporter
		// modules, whose requests must not trace themselves) are left alone.
		if mp := p.Module.Path; mp == runtimeModule || strings.HasPrefix(mp, runtimeModule+"/") || mp == tracegenModule ||
			strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		if !callPkgs[p.ImportPath] && !slices.ContainsFunc(p.Imports, func(imp string) bool { return sdk[imp] }) {
			continue
		}
		seen[p.Dir] = true
		if strings.HasPrefix(p.Dir, vendorDir) {
			// Vendored files are overlaid where they are, as long as the
			// wrappers' packages are vendored too (only what the main
			// module's own source imports is).
			if !fileExists(filepath.Join(vendorDir, filepath.FromSlash(rules.GenaiPath))) ||
				!fileExists(filepath.Join(vendorDir, filepath.FromSlash(rules.LLMHTTPPath))) {
				vendored = true
				continue
			}
			p.Module.Dir = "" // not in the module cache: no shadow
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, vendored, nil
}

// depKey hashes what the rewrite of a dependency package depends on: the
// tool, the rules, the build flags, the main module's go.mod (it selects
// the versions the package is type-checked against) and the package's files
// (a module in the cache never changes, a replaced directory may).
func (ov *overlayBuild) depKey(p *depPackage) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "tracegen deps v1\x00%s\x00%s\x00flags=%q rules=%s\x00", toolKey(), p.Dir, ov.flags, ov.rulesKey)
	h.Write(ov.mod.gomod)
	for _, name := range p.GoFiles {
		data, err := os.ReadFile(filepath.Join(p.Dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// rewriteDeps adds to replace the rewritten files of pkgs, taken from the
// cache or rewritten in one instrument.Run. A package the rewriter cannot
// handle is built as it is; skipped says which and why.
func (ov *overlayBuild) rewriteDeps(pkgs []*depPackage, replace map[string]string, fresh map[string]bool) (skipped []string, err error) {
	var misses []*depPackage
	for _, p := range pkgs {
		if !genericsOK(p.Module.GoVersion) {
			skipped = append(skipped, fmt.Sprintf("%s: its module's go line (%q) predates generics, which the call wrappers need", p.ImportPath, p.Module.GoVersion))
			continue
		}
		if p.key, err = ov.depKey(p); err != nil {
			return nil, err
		}
		if m, ok := ov.cache.manifest(p.key); ok {
			for orig, cp := range m {
				replace[orig] = cp
			}
			continue
		}
		misses = append(misses, p)
	}
	if len(misses) == 0 {
		return skipped, nil
	}
	patterns := make([]string, len(misses))
	for i, p := range misses {
		patterns[i] = p.ImportPath
	}
	res, err := instrument.Run(instrument.Config{
		Dir:        ov.mod.root,
		BuildFlags: ov.flags,
		Mode:       instrument.Overlay,
		Calls:      ov.depCalls(),
		CallsOnly:  true,
	}, patterns...)
	if err != nil {
		return nil, &loadError{err}
	}
	bad := map[string]string{}
	byFile := map[string]string{}
	for _, f := range res.Files {
		byFile[f.Path] = f.Package
	}
	for _, e := range res.Errors {
		if pkg, ok := byFile[e.Pos.Filename]; ok && bad[pkg] == "" {
			bad[pkg] = e.Error()
		}
	}
	perPkg := map[string]map[string]string{}
	for _, f := range res.Files {
		if !f.Changed || bad[f.Package] != "" {
			continue
		}
		cp, err := ov.cache.putCopy(f.Path, f.New)
		if err != nil {
			return nil, err
		}
		if perPkg[f.Package] == nil {
			perPkg[f.Package] = map[string]string{}
		}
		perPkg[f.Package][f.Path] = cp
		replace[f.Path] = cp
		fresh[f.Path] = true
	}
	for _, p := range misses {
		if msg := bad[p.ImportPath]; msg != "" {
			skipped = append(skipped, fmt.Sprintf("%s: not instrumented: %s", p.ImportPath, msg))
			continue // not cached: the next build says so again
		}
		if err := ov.cache.putManifest(p.key, perPkg[p.ImportPath]); err != nil {
			return nil, err
		}
	}
	return skipped, nil
}

// genericsOK reports whether a module's go line allows calling generic
// functions (go 1.18 or later; a module without one is go 1.16).
func genericsOK(goVersion string) bool {
	return goVersion != "" && goversion.Compare("go"+goVersion, "go1.18") >= 0
}

// The go command refuses an overlay of a file beneath GOMODCACHE, and that
// is where the dependencies' files are. So each module of the cache with a
// rewritten file is built from a shadow: a tree of hard links to its files
// (copies where links fail) under the tracegen cache, named by the module's
// directory, which the build uses through a `replace` in an alternate go.mod
// (-modfile, a copy of the main module's with its go.sum). The overlay then
// replaces the shadow's files, and their //line directives still name the
// files in the module cache. Modules outside the cache (a replace to a local
// directory) are overlaid where they are.

// shadowDeps moves the replacements of files beneath gomodcache onto
// shadows of their modules and returns the alternate go.mod to build with
// ("" when no file needed a shadow).
func (ov *overlayBuild) shadowDeps(pkgs []*depPackage, replace map[string]string, fresh map[string]bool, gomodcache string) (string, error) {
	if gomodcache == "" {
		return "", nil
	}
	prefix := filepath.Clean(gomodcache) + string(filepath.Separator)
	mods := map[string]string{} // module dir -> module path
	for _, p := range pkgs {
		if strings.HasPrefix(p.Module.Dir, prefix) {
			mods[filepath.Clean(p.Module.Dir)] = p.Module.Path
		}
	}
	moved := map[string]string{} // module dir -> shadow dir
	for orig, cp := range replace {
		for dir := range mods {
			if !strings.HasPrefix(orig, dir+string(filepath.Separator)) {
				continue
			}
			sh, ok := moved[dir]
			if !ok {
				var err error
				if sh, err = ov.cache.shadow(dir); err != nil {
					return "", err
				}
				moved[dir] = sh
			}
			delete(replace, orig)
			to := filepath.Join(sh, strings.TrimPrefix(orig, dir))
			replace[to] = cp
			if fresh[orig] {
				delete(fresh, orig)
				fresh[to] = true
			}
		}
	}
	if len(moved) == 0 {
		return "", nil
	}
	return ov.altModfile(moved, mods)
}

// shadow returns the shadow of a module directory, making it when missing.
func (c *cache) shadow(dir string) (string, error) {
	sum := sha256.Sum256([]byte("tracegen shadow v1\x00" + dir))
	sh := filepath.Join(c.dir, "mods", hex.EncodeToString(sum[:12]))
	if _, err := os.Stat(filepath.Join(sh, ".complete")); err == nil {
		c.touch(filepath.Join(sh, ".complete"))
		return sh, nil
	}
	tmp := sh + ".tmp-" + strconv.Itoa(os.Getpid())
	os.RemoveAll(tmp)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, strings.TrimPrefix(path, dir))
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o777)
		case !d.Type().IsRegular():
			return nil
		}
		if os.Link(path, dst) == nil {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o444)
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, ".complete"), []byte(dir+"\n"), 0o666)
	}
	if err == nil {
		os.RemoveAll(sh) // an incomplete one left by a crash
		if err = os.Rename(tmp, sh); err != nil && fileExists(filepath.Join(sh, ".complete")) {
			err = nil // a concurrent build made it first
		}
	}
	if err != nil {
		makeWritable(tmp)
		os.RemoveAll(tmp)
		return "", fmt.Errorf("cache: shadow of %s: %v", dir, err)
	}
	return sh, nil
}

// makeWritable lets RemoveAll delete a tree whose directories were copied
// read-only from the module cache.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o777)
		}
		return nil
	})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// altModfile writes the main module's go.mod with every shadowed module
// replaced by its shadow, and its go.sum next to it, and returns its path.
func (ov *overlayBuild) altModfile(moved, mods map[string]string) (string, error) {
	gomod := filepath.Join(ov.mod.root, "go.mod")
	f, err := modfile.Parse(gomod, ov.mod.gomod, nil)
	if err != nil {
		return "", fmt.Errorf("reading %s: %v", gomod, err)
	}
	// Relative replacements are relative to the main module, not to the
	// copy: they become absolute. Replacements of shadowed modules go.
	type repl struct{ path, version, dir string }
	var add []repl
	shadowed := map[string]bool{}
	for _, dir := range sortedKeys(moved) {
		shadowed[mods[dir]] = true
		add = append(add, repl{mods[dir], "", moved[dir]})
	}
	var drop []module.Version
	for _, r := range f.Replace {
		switch {
		case shadowed[r.Old.Path]:
			drop = append(drop, r.Old)
		case modfile.IsDirectoryPath(r.New.Path) && !filepath.IsAbs(r.New.Path):
			drop = append(drop, r.Old)
			add = append(add, repl{r.Old.Path, r.Old.Version, filepath.Join(ov.mod.root, filepath.FromSlash(r.New.Path))})
		}
	}
	for _, m := range drop {
		if err := f.DropReplace(m.Path, m.Version); err != nil {
			return "", err
		}
	}
	f.Cleanup()
	for _, r := range add {
		if err := f.AddReplace(r.path, r.version, r.dir, ""); err != nil {
			return "", err
		}
	}
	f.Cleanup()
	data, err := f.Format()
	if err != nil {
		return "", err
	}
	sum, _ := os.ReadFile(filepath.Join(ov.mod.root, "go.sum"))
	h := sha256.New()
	h.Write(data)
	h.Write(sum)
	dir := filepath.Join(ov.cache.dir, "modfile", hex.EncodeToString(h.Sum(nil))[:24])
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("cache: %v", err)
	}
	if err := ov.cache.put(filepath.Join(dir, "go.sum"), sum); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "go.mod")
	return path, ov.cache.put(path, data)
}

// depsEnv is what the dependency rewrite needs from go env.
type depsEnv struct {
	GOMODCACHE, GOWORK, GOFLAGS string
}

func readGoEnv(dir string) (depsEnv, error) {
	cmd := exec.Command("go", "env", "-json", "GOMODCACHE", "GOWORK", "GOFLAGS")
	cmd.Dir = dir
	out, err := cmd.Output()
	var env depsEnv
	if err == nil {
		err = json.Unmarshal(out, &env)
	}
	if err != nil {
		return env, fmt.Errorf("go env: %v", err)
	}
	return env, nil
}

// noDeps says why the dependencies cannot be rewritten for this build, or "".
func (env depsEnv) noDeps(inv *goInvocation) string {
	switch {
	case inv.userModfile || strings.Contains(env.GOFLAGS, "-modfile"):
		return "-modfile is set (tracegen builds rewritten dependencies with a go.mod of its own)"
	case env.GOWORK != "" && env.GOWORK != "off":
		return "a go.work workspace is in use (" + env.GOWORK + ")"
	}
	return ""
}

// depCalls is the call rewriter for dependencies: the LLM rules without the
// net/http ones (rules.Matcher.WithoutHTTP), so that a library's own HTTP
// requests stay as written.
func (ov *overlayBuild) depCalls() instrument.CallRewriter {
	if m, ok := ov.calls.(*rules.Matcher); ok {
		return m.WithoutHTTP()
	}
	return ov.calls
}

// pkgOfFunc is the package of a rule function's full name (see rules.Rule.Funcs).
func pkgOfFunc(full string) string {
	r := rules.Rule{Funcs: []string{full}}
	if p := r.ImportPaths(); len(p) > 0 {
		return p[0]
	}
	return ""
}
