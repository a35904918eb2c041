package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"golang.org/x/mod/modfile"

	"github.com/tracegen-dev/tracegen/instrument"
)

// runtimeModule is the module instrumented code must require: it holds the
// runtime packages generated code imports. It is a module of its own, with a
// go line as old as its features allow, so that requiring it leaves the
// user's go line alone.
const runtimeModule = "github.com/tracegen-dev/tracegen/runtime"

// tracegenModule is the tool's module (this command, the rewriter, the
// rules); it requires the runtime module.
const tracegenModule = "github.com/tracegen-dev/tracegen"

// releaseVersion returns the version of module path this binary was built
// from ("" for a development build, a replaced module or no build info).
func releaseVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
	for _, m := range mods {
		if m.Path != path {
			continue
		}
		if m.Replace != nil || m.Version == "" || m.Version == "(devel)" || m.Version == "v0.0.0" {
			return ""
		}
		return m.Version
	}
	return ""
}

// atVersion is "@v" of a released build, "@latest" otherwise.
func atVersion(path string) string {
	if v := releaseVersion(path); v != "" {
		return "@" + v
	}
	return "@latest"
}

// fixRequire is the command that makes a module require the runtime this
// tracegen generates code for.
func fixRequire() string {
	return "go get " + runtimeModule + atVersion(runtimeModule)
}

// fixTool is the command that also makes tracegen a tool of the module
// (go tool tracegen); it adds the tool's requirements, which need go 1.26.
func fixTool() string {
	return "go get -tool " + tracegenModule + "/cmd/tracegen" + atVersion(tracegenModule)
}

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
	requires bool   // the module is tracegen or its runtime, or requires the runtime
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
	mi.requires = mi.path == tracegenModule || mi.path == runtimeModule
	for _, r := range f.Require {
		if r.Mod.Path == runtimeModule {
			mi.requires = true
		}
	}
	return mi, nil
}

// missingRequire is the message for a module whose code would import the
// runtime without requiring its module.
func missingRequire(mi *moduleInfo) string {
	return fmt.Sprintf("module %s (%s) does not require %s, so instrumented code cannot import it;\n"+
		"\tfix: run this in %s:\n\t\t%s\n"+
		"\tto also run tracegen as the module's tool (go tool tracegen; this adds the tool's requirements, which need go 1.26):\n\t\t%s",
		mi.path, filepath.Join(mi.root, "go.mod"), runtimeModule, mi.root, fixRequire(), fixTool())
}

// requireRuntime checks, before anything is written, that every module whose
// files are about to be instrumented requires the runtime module.
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
