package main

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"

	"github.com/tracegen-dev/tracegen/instrument"
)

// tracegenModule is the module instrumented code must require: it holds the runtime.
const tracegenModule = "github.com/tracegen-dev/tracegen"

// fixRequire is the command that makes a module require tracegen (and run it as a tool).
const fixRequire = "go get -tool github.com/tracegen-dev/tracegen/cmd/tracegen@latest"

// findModuleRoot returns the directory holding the go.mod that governs dir, or "".
func findModuleRoot(dir string) string {
	dir = filepath.Clean(dir)
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// moduleInfo is what the command needs from a go.mod file.
type moduleInfo struct {
	root     string // directory of go.mod
	path     string // module path
	requires bool   // the module is tracegen itself or requires it
	gomod    []byte // bytes of go.mod, for cache keys
}

// readModule parses the go.mod in root.
func readModule(root string) (*moduleInfo, error) {
	name := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return nil, err
	}
	mi := &moduleInfo{root: root, gomod: data}
	if f.Module != nil {
		mi.path = f.Module.Mod.Path
	}
	mi.requires = mi.path == tracegenModule
	for _, r := range f.Require {
		if r.Mod.Path == tracegenModule {
			mi.requires = true
		}
	}
	return mi, nil
}

// missingRequire is the message for a module whose code would import the
// runtime without requiring its module.
func missingRequire(mi *moduleInfo) string {
	return fmt.Sprintf("module %s (%s) does not require %s, so instrumented code cannot import its runtime;\n"+
		"\tfix: run this in %s:\n\t\t%s",
		mi.path, filepath.Join(mi.root, "go.mod"), tracegenModule, mi.root, fixRequire)
}

// requireRuntime checks, before anything is written, that every module whose
// files are about to be instrumented requires tracegen's module.
func (a *app) requireRuntime(res *instrument.Result, bad map[string]bool) error {
	checked := make(map[string]bool)
	for _, f := range res.Files {
		if !f.Changed || bad[f.Package] {
			continue
		}
		root := findModuleRoot(filepath.Dir(f.Path))
		if root == "" || checked[root] {
			continue
		}
		checked[root] = true
		mi, err := readModule(root)
		if err != nil {
			return fmt.Errorf("reading go.mod: %v", err)
		}
		if !mi.requires {
			a.logf("%s", missingRequire(mi))
			a.exitAtLeast(exitError)
			return errSilent
		}
	}
	return nil
}
