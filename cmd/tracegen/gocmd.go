package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tracegen-dev/tracegen/instrument"
	"github.com/tracegen-dev/tracegen/rules"
)

// goSubcommands are the go commands `tracegen go` wraps.
var goSubcommands = map[string]bool{"build": true, "test": true, "run": true, "vet": true}

// goInvocation is a parsed `tracegen go ...` command line.
type goInvocation struct {
	chdir string   // -C dir given before the subcommand, or ""
	sub   string   // build, test, run or vet
	args  []string // everything after the subcommand
	tags  []string // values of -tags found among the go flags
	// modfile is the alternate go.mod that builds the dependencies tracegen
	// rewrote (see deps.go), or ""; userModfile: the arguments give -modfile.
	modfile     string
	userModfile bool
}

// parseGoArgs splits the arguments following `tracegen go`.
func parseGoArgs(args []string) (*goInvocation, error) {
	inv := &goInvocation{}
	if len(args) > 0 && (args[0] == "-C" || args[0] == "--C") {
		if len(args) < 2 {
			return nil, fmt.Errorf("go: flag -C needs a directory")
		}
		inv.chdir, args = args[1], args[2:]
	} else if len(args) > 0 && (strings.HasPrefix(args[0], "-C=") || strings.HasPrefix(args[0], "--C=")) {
		inv.chdir, args = args[0][strings.Index(args[0], "=")+1:], args[1:]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("go: missing command; want one of build, test, run, vet")
	}
	inv.sub, inv.args = args[0], args[1:]
	if !goSubcommands[inv.sub] {
		return nil, fmt.Errorf("go %s: unsupported command; want one of build, test, run, vet", inv.sub)
	}
	for i := 0; i < len(inv.args); i++ {
		arg := inv.args[i]
		if arg == "--" || arg == "-args" || arg == "--args" {
			break
		}
		if !strings.HasPrefix(arg, "-") {
			if inv.sub == "run" {
				break // the package; what follows belongs to the program
			}
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		switch name {
		case "overlay":
			return nil, fmt.Errorf("go %s: -overlay cannot be combined with tracegen's own overlay", inv.sub)
		case "modfile":
			inv.userModfile = true
		case "tags":
			if !hasValue {
				if i+1 >= len(inv.args) {
					return nil, fmt.Errorf("go %s: flag -tags needs a value", inv.sub)
				}
				i++
				value = inv.args[i]
			}
			if value != "" {
				inv.tags = append(inv.tags, value)
			}
		}
	}
	return inv, nil
}

// commandLine returns the arguments for the real go command, with -overlay
// inserted right after the subcommand when overlay is not "".
func (inv *goInvocation) commandLine(overlay string) []string {
	var out []string
	if inv.chdir != "" {
		out = append(out, "-C", inv.chdir)
	}
	out = append(out, inv.sub)
	if overlay != "" {
		out = append(out, "-overlay="+overlay)
		if inv.modfile != "" {
			out = append(out, "-modfile="+inv.modfile)
		}
	}
	return append(out, inv.args...)
}

// goCommand implements `tracegen [flags] go build|test|run|vet ...`.
func (a *app) goCommand(args []string) error {
	start := time.Now()
	inv, err := parseGoArgs(args)
	if err != nil {
		a.logf("%v", err)
		return errUsage
	}
	if a.opts.tags != "" {
		if len(inv.tags) > 0 {
			a.logf("go %s: -tags given twice (to tracegen and to go %s); give it once", inv.sub, inv.sub)
			return errUsage
		}
		// The go command builds with the tags the files were selected with.
		inv.args = append([]string{"-tags=" + a.opts.tags}, inv.args...)
	}
	overlay, err := a.prepareOverlay(inv, start)
	if err != nil {
		return err
	}
	return a.runGo(inv, overlay)
}

// prepareOverlay finds the main module, rewrites (or takes from the cache)
// what it must instrument and returns the overlay file ("" for none).
func (a *app) prepareOverlay(inv *goInvocation, start time.Time) (string, error) {
	var err error
	wd := a.dir
	if wd == "" {
		if wd, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	if inv.chdir != "" {
		wd = inv.chdir
		if !filepath.IsAbs(wd) {
			wd = filepath.Join(a.dir, wd)
		}
	}
	if wd, err = filepath.Abs(wd); err != nil {
		return "", err
	}
	root := findModuleRoot(wd)
	if root == "" {
		a.logf("go %s: no go.mod in %s or any parent directory; tracegen instruments the packages of the main module", inv.sub, wd)
		a.exitAtLeast(exitError)
		return "", errSilent
	}
	mi, err := readModule(root)
	if err != nil {
		a.logf("go %s: reading go.mod: %v", inv.sub, err)
		a.exitAtLeast(exitError)
		return "", errSilent
	}
	cache, err := openCache()
	if err != nil {
		return "", err
	}
	ov := &overlayBuild{
		mod:   mi,
		cache: cache,
		all:   a.opts.all,
		tests: inv.sub == "test" || inv.sub == "vet",
		flags: a.buildFlags(inv.tags),

		flushTests: inv.sub == "test",
		deps:       a.opts.deps && inv.sub != "vet",
	}
	a.setOverlayRules(ov)
	dirs, err := ov.scan()
	if err != nil {
		return "", err
	}
	// The go command's environment, the dependency list and the rewrite of
	// the scanned directories are independent, and each mostly waits on a
	// go command: run them at once. The list is thrown away when the
	// environment says dependencies cannot be rewritten.
	var (
		env      depsEnv
		envErr   error
		deps     []*depPackage
		vendored bool
		listErr  error
		wg       sync.WaitGroup
	)
	if ov.deps {
		wg.Add(2)
		go func() { defer wg.Done(); env, envErr = readGoEnv(root) }()
		go func() { defer wg.Done(); deps, vendored, listErr = ov.listDeps() }()
	}
	var (
		replace map[string]string
		fresh   map[string]bool
		errs    []*instrument.Error
	)
	early := len(dirs) > 0 && mi.requires
	if early {
		replace, fresh, errs, err = ov.rewrite(dirs)
	}
	wg.Wait()
	if envErr != nil {
		return "", envErr
	}
	if ov.deps {
		if why := env.noDeps(inv); why != "" {
			a.logf("go %s: %s: the LLM SDK calls of dependencies are not instrumented (only the main module's are); pass tracegen -deps=false to silence this", inv.sub, why)
			ov.deps = false
			deps, vendored, listErr = nil, false, nil
		}
	}
	if ov.deps {
		if listErr != nil {
			// The go command cannot list the build (usually a broken
			// go.mod or import): build as it is and let it say why.
			deps, vendored = nil, false
			if a.opts.verb {
				a.logf("warning: not instrumenting dependencies: %v", listErr)
			}
		}
		if vendored {
			a.logf("go %s: dependencies come from vendor/, which lacks %s or %s: their LLM SDK calls are not instrumented (only the main module's are); import both blank in the main module and run go mod vendor, build with -mod=mod, or pass tracegen -deps=false to silence this", inv.sub, rules.GenaiPath, rules.LLMHTTPPath)
		}
		if len(deps) > 0 && len(dirs) == 0 {
			dirs = ov.mains // func main must flush the dependencies' spans
		}
	}
	if (len(dirs) > 0 || len(deps) > 0) && !mi.requires {
		a.logf("%s", missingRequire(mi))
		a.exitAtLeast(exitError)
		return "", errSilent
	}
	if !early {
		replace, fresh, errs, err = ov.rewrite(dirs)
	}
	if err == nil && len(errs) == 0 && len(deps) > 0 {
		var skipped []string
		skipped, err = ov.rewriteDeps(deps, replace, fresh)
		if err == nil {
			inv.modfile, err = ov.shadowDeps(deps, replace, fresh, env.GOMODCACHE)
		}
		if a.opts.verb {
			for _, s := range skipped {
				a.logf("dependency %s", s)
			}
		}
	}
	var loadErr *loadError
	if errors.As(err, &loadErr) {
		// The loader could not make sense of the code (usually a compile
		// error): build without instrumentation so the go command reports
		// the problem at the user's own positions.
		a.logf("warning: not instrumenting: %v", loadErr.err)
		replace = nil
	} else if err != nil {
		return "", err
	}
	for _, e := range errs {
		a.errorf(exitError, "%s", a.relError(e))
	}
	if len(errs) > 0 {
		return "", errSilent
	}
	if len(replace) > 0 {
		if err := ov.addTestMains(replace); err != nil {
			return "", err
		}
		if err := ov.addTestSpans(replace); err != nil {
			return "", err
		}
	}
	if a.opts.verb {
		for _, orig := range sortedKeys(replace) {
			switch {
			case filepath.Base(orig) == testMainName:
				a.logf("%s: added TestMain that flushes spans (%s)", a.rel(orig), replace[orig])
			case fresh[orig]:
				a.logf("%s: instrumented copy %s (rewritten)", a.rel(orig), replace[orig])
			default:
				a.logf("%s: instrumented copy %s (cached)", a.rel(orig), replace[orig])
			}
		}
	}
	overlay := ""
	if len(replace) > 0 {
		if overlay, err = cache.writeOverlay(replace); err != nil {
			return "", err
		}
	}
	if a.opts.verb {
		depNote := ""
		if len(deps) > 0 {
			depNote = fmt.Sprintf(", %d dependency package(s) calling an SDK", len(deps))
		}
		a.logf("overlay of %d file(s) ready in %v (%d package dir(s) scanned as candidates%s, %d rewritten)",
			len(replace), time.Since(start).Round(time.Millisecond), len(dirs), depNote, countDirs(fresh))
	}
	return overlay, nil
}

// runGo runs the real go command and takes over its exit status.
func (a *app) runGo(inv *goInvocation, overlay string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		a.logf("go %s: cannot find the go command on PATH: %v", inv.sub, err)
		a.exitAtLeast(exitError)
		return errSilent
	}
	cmd := exec.Command(gobin, inv.commandLine(overlay)...)
	cmd.Dir = a.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	cmd.Env = os.Environ()
	if (inv.sub == "run" || inv.sub == "test") && !tracegenConfigured(cmd.Env) {
		cmd.Env = append(cmd.Env, "TRACEGEN_EXPORTER=stdout")
	}
	// The terminal sends ^C to the whole process group: let the go command
	// (and the program) handle it, and report its status.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code := exitErr.ExitCode()
		if code < 0 {
			code = exitError // killed by a signal
		}
		a.exitAtLeast(code)
		return nil
	case err != nil:
		a.logf("go %s: %v", inv.sub, err)
		a.exitAtLeast(exitError)
		return errSilent
	}
	return nil
}

// flushMain gives the main function of a package main that traces nothing
// itself a deferred Stop (see addStop), and caches the result.
func (ov *overlayBuild) flushMain(d *srcDir) (map[string]string, error) {
	m := make(map[string]string)
	entries, err := os.ReadDir(d.abs)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(d.abs, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(src, []byte("func main(")) {
			continue
		}
		out, ok, err := addStop(path, src)
		if err != nil || !ok {
			continue // not this file; the go command reports syntax errors itself
		}
		cp, err := ov.cache.putCopy(path, out)
		if err != nil {
			return nil, err
		}
		m[path] = cp
	}
	return m, ov.cache.putManifest(d.key, m)
}

// countDirs counts the distinct directories of the files in set.
func countDirs(set map[string]bool) int {
	dirs := make(map[string]bool)
	for f := range set {
		dirs[filepath.Dir(f)] = true
	}
	return len(dirs)
}

// tracegenConfigured reports whether env chooses an exporter (a non-empty TRACEGEN_EXPORTER).
// Other TRACEGEN_* variables (PII masking, grid intensity, the command's own
// cache) keep the embedded default, so they can be tried with spans still printed.
func tracegenConfigured(env []string) bool {
	for _, kv := range env {
		if name, value, _ := strings.Cut(kv, "="); name == "TRACEGEN_EXPORTER" {
			return value != ""
		}
	}
	return false
}

// loadError is a failure of instrument.Run to load the packages at all.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }

// rewrite returns the overlay replacements for dirs: cached ones as they are,
// the others computed with one instrument.Run and then cached. fresh holds
// the files rewritten by this call.
func (ov *overlayBuild) rewrite(dirs []*srcDir) (replace map[string]string, fresh map[string]bool, errs []*instrument.Error, err error) {
	replace = make(map[string]string)
	fresh = make(map[string]bool)
	var misses []*srcDir
	for _, d := range dirs {
		if m, ok := ov.cache.manifest(d.key); ok {
			for orig, cp := range m {
				replace[orig] = cp
			}
			continue
		}
		if d.mainOnly {
			m, err := ov.flushMain(d)
			if err != nil {
				return nil, nil, nil, err
			}
			for orig, cp := range m {
				replace[orig] = cp
				fresh[orig] = true
			}
			continue
		}
		misses = append(misses, d)
	}
	if len(misses) == 0 {
		return replace, fresh, nil, nil
	}
	patterns := make([]string, len(misses))
	for i, d := range misses {
		patterns[i] = "./" + filepath.ToSlash(d.rel)
	}
	res, err := instrument.Run(instrument.Config{
		Dir:        ov.mod.root,
		BuildFlags: ov.flags,
		Tests:      ov.tests,
		All:        ov.all,
		Mode:       instrument.Overlay,
		Calls:      ov.calls,
	}, patterns...)
	if err != nil {
		return nil, nil, nil, &loadError{err}
	}
	if len(res.Errors) > 0 {
		return nil, nil, res.Errors, nil
	}
	perDir := make(map[string]map[string]string)
	for _, f := range res.Files {
		if !f.Changed {
			continue
		}
		cp, err := ov.cache.putCopy(f.Path, f.New)
		if err != nil {
			return nil, nil, nil, err
		}
		dir := filepath.Dir(f.Path)
		if perDir[dir] == nil {
			perDir[dir] = make(map[string]string)
		}
		perDir[dir][f.Path] = cp
		replace[f.Path] = cp
		fresh[f.Path] = true
	}
	for _, d := range misses {
		if err := ov.cache.putManifest(d.key, perDir[d.abs]); err != nil {
			return nil, nil, nil, err
		}
	}
	return replace, fresh, nil, nil
}
