package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tracegen-dev/tracegen/instrument"
)

// rewrite implements `tracegen [flags] [packages]`: in place by default,
// -check and -diff write nothing.
func (a *app) rewrite(patterns []string) error {
	cfg := instrument.Config{
		Dir:        a.dir,
		BuildFlags: a.buildFlags(nil),
		Tests:      true,
		All:        a.opts.all,
		Strip:      a.opts.strip,
		Mode:       instrument.InPlace,
	}
	if !a.opts.strip {
		cfg.Calls = a.callRewriter() // LLM SDK calls become spans (rules package)
	}
	res, err := instrument.Run(cfg, patterns...)
	if err != nil {
		return fmt.Errorf("loading %s: %v", strings.Join(patterns, " "), err)
	}
	for _, e := range res.Errors {
		a.errorf(exitError, "%s", a.relError(e))
	}
	bad := packagesWithErrors(res)
	writing := !a.opts.check && !a.opts.diff
	if writing && !a.opts.strip {
		if err := a.requireRuntime(res, bad); err != nil {
			return err
		}
	}
	var stale []string
	for _, f := range res.Files {
		if bad[f.Package] {
			continue
		}
		if f.Changed {
			stale = append(stale, f.Path)
		}
		if a.opts.diff && f.Changed {
			rel := a.rel(f.Path)
			if _, err := a.stdout.Write(unifiedDiff("a/"+filepath.ToSlash(rel), "b/"+filepath.ToSlash(rel), f.Orig, f.New)); err != nil {
				return fmt.Errorf("writing diff: %v", err)
			}
			a.exitAtLeast(exitChanged)
		}
	}
	if a.opts.check {
		for _, p := range stale {
			fmt.Fprintln(a.stdout, a.rel(p))
		}
		if len(stale) > 0 {
			a.errorf(exitChanged, "%d file(s) not up to date; run tracegen%s to update them", len(stale), a.flagEcho())
		}
	}
	if writing {
		a.writePackages(res, bad)
	}
	if a.opts.verb {
		a.report(res, bad, writing)
	}
	return nil
}

// flagEcho repeats the flags that change what a rewrite produces, for messages.
func (a *app) flagEcho() string {
	var b strings.Builder
	if a.opts.all {
		b.WriteString(" -all")
	}
	if a.opts.strip {
		b.WriteString(" -strip")
	}
	if a.opts.tags != "" {
		b.WriteString(" -tags=" + a.opts.tags)
	}
	return b.String()
}

// buildFlags returns the go command flags used to load packages: -tags from
// the command line, then extra (from the go command's own arguments).
func (a *app) buildFlags(extraTags []string) []string {
	var tags []string
	if a.opts.tags != "" {
		tags = append(tags, a.opts.tags)
	}
	tags = append(tags, extraTags...)
	if len(tags) == 0 {
		return nil
	}
	return []string{"-tags=" + strings.Join(tags, ",")}
}

// packagesWithErrors returns the import paths of packages one of whose files has an error.
func packagesWithErrors(res *instrument.Result) map[string]bool {
	byFile := make(map[string]string, len(res.Files))
	for _, f := range res.Files {
		byFile[filepath.Clean(f.Path)] = f.Package
	}
	bad := make(map[string]bool)
	for _, e := range res.Errors {
		name := e.Pos.Filename
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
		if pkg, ok := byFile[filepath.Clean(name)]; ok {
			bad[pkg] = true
		}
	}
	return bad
}

// writePackages writes the changed files package by package. A package is
// written all or nothing: if a write fails, the files of that package already
// written are put back.
func (a *app) writePackages(res *instrument.Result, bad map[string]bool) {
	var order []string
	byPkg := make(map[string][]*instrument.File)
	for _, f := range res.Files {
		if !f.Changed || bad[f.Package] {
			continue
		}
		if _, ok := byPkg[f.Package]; !ok {
			order = append(order, f.Package)
		}
		byPkg[f.Package] = append(byPkg[f.Package], f)
	}
	for _, pkg := range order {
		files := byPkg[pkg]
		for i, f := range files {
			if err := writeFile(f.Path, f.New); err != nil {
				a.errorf(exitError, "%v; package %s left unchanged", err, pkg)
				for _, done := range files[:i] {
					if err := writeFile(done.Path, done.Orig); err != nil {
						a.errorf(exitError, "restoring %s: %v", done.Path, err)
					}
				}
				break
			}
		}
	}
}

// report prints, for -v, one line per file: what was (or would be) done.
func (a *app) report(res *instrument.Result, bad map[string]bool, writing bool) {
	for _, f := range res.Files {
		rel := a.rel(f.Path)
		var what string
		switch {
		case bad[f.Package]:
			what = "not written: errors in package " + f.Package
		case !f.Changed && len(f.Funcs) > 0:
			what = fmt.Sprintf("up to date (%s)", funcList(f.Funcs))
		case !f.Changed:
			what = "unchanged"
		case a.opts.strip && writing:
			what = "stripped"
		case a.opts.strip:
			what = "would strip"
		case writing:
			what = fmt.Sprintf("instrumented %s", funcList(f.Funcs))
		default:
			what = fmt.Sprintf("would instrument %s", funcList(f.Funcs))
		}
		a.logf("%s: %s", rel, what)
	}
}

// funcList renders span names for -v.
func funcList(names []string) string {
	if len(names) == 0 {
		return "0 functions"
	}
	s := append([]string(nil), names...)
	sort.Strings(s)
	noun := "functions"
	if len(s) == 1 {
		noun = "function"
	}
	return fmt.Sprintf("%d %s: %s", len(s), noun, strings.Join(s, ", "))
}

// rel shortens path relative to the working directory when it is below it.
func (a *app) rel(path string) string {
	wd := a.dir
	if wd == "" {
		wd, _ = os.Getwd()
	}
	if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// relError formats e as file:line:col: message with a short file name.
func (a *app) relError(e *instrument.Error) string {
	pos := e.Pos
	if pos.Filename != "" {
		pos.Filename = a.rel(pos.Filename)
	}
	return fmt.Sprintf("%s: %s", pos, e.Msg)
}

// writeFile is how in-place mode writes a file; tests replace it to make
// writes fail.
var writeFile = writeFileAtomic

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, with the original's permission bits, renamed over it. Readers see
// either the old or the new bytes, never a half-written file. A symbolic link
// is written through: its target changes, the link stays.
func writeFileAtomic(path string, data []byte) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tracegen-*")
	if err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err = tmp.Chmod(fi.Mode().Perm()); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %v", path, err)
	}
	return nil
}
