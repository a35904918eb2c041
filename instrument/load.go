package instrument

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// loadedPkg groups the files of one package (test variants merged).
type loadedPkg struct {
	path  string
	name  string
	files []*srcFile
	// goVersion is the go directive of the package's module.
	goVersion string
	// otel: the package's module requires go.opentelemetry.io/otel/trace.
	otel bool
}

func run(cfg Config, patterns []string) (*Result, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	lcfg := &packages.Config{
		Mode:       packages.NeedName | packages.NeedFiles | packages.NeedModule,
		Dir:        cfg.Dir,
		BuildFlags: cfg.BuildFlags,
		Tests:      cfg.Tests,
	}
	pkgs, err := packages.Load(lcfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	res := &Result{}
	byPath := map[string]*loadedPkg{}
	seen := map[string]bool{}
	goroot := filepath.Clean(runtime.GOROOT()) + string(filepath.Separator)
	var order []*loadedPkg
	for _, p := range pkgs {
		for _, e := range p.Errors {
			res.Errors = append(res.Errors, listError(e))
		}
		if strings.HasSuffix(p.ID, ".test") || len(p.GoFiles) == 0 {
			continue // the generated test main, or nothing to do
		}
		lp := byPath[p.PkgPath]
		if lp == nil {
			lp = &loadedPkg{path: p.PkgPath, name: p.Name}
			if p.Module != nil {
				lp.goVersion = p.Module.GoVersion
				lp.otel = requiresOTel(p.Module.GoMod)
			}
			byPath[p.PkgPath] = lp
			order = append(order, lp)
		}
		paths := append([]string(nil), p.GoFiles...)
		if cfg.Mode == InPlace {
			// Files excluded by build constraints are instrumented too, so the
			// committed result does not depend on the machine that ran tracegen.
			for _, f := range p.IgnoredFiles {
				if strings.HasSuffix(f, ".go") && packageName(f) == p.Name {
					paths = append(paths, f)
				}
			}
		}
		for _, path := range paths {
			if seen[path] || strings.HasPrefix(path, goroot) {
				continue
			}
			seen[path] = true
			src, err := os.ReadFile(path)
			if err != nil {
				res.Errors = append(res.Errors, &Error{Pos: token.Position{Filename: path}, Msg: err.Error()})
				continue
			}
			lp.files = append(lp.files, &srcFile{path: path, orig: src,
				test: strings.HasSuffix(path, "_test.go"), generated: isGenerated(src)})
		}
	}
	if len(res.Errors) > 0 && len(order) == 0 {
		return res, nil
	}
	typed, terr := typeCheckAll(cfg, order)
	if terr != nil {
		return nil, terr
	}
	// Packages are independent: process them in parallel, report in order.
	outs := make([][]*File, len(order))
	errs := make([][]*Error, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, lp := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			sort.Slice(lp.files, func(a, b int) bool { return lp.files[a].path < lp.files[b].path })
			var tc typeCheckFunc
			if t := typed[lp.path]; t != nil {
				tc = t.check
			}
			pcfg := cfg
			pcfg.otelBridge = lp.otel
			outs[i], errs[i] = processPackage(pcfg, lp.path, lp.name, lp.files, tc, lp.goVersion)
		}()
	}
	wg.Wait()
	idx := make([]int, len(order))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return order[idx[a]].path < order[idx[b]].path })
	for _, i := range idx {
		res.Files = append(res.Files, outs[i]...)
		res.Errors = append(res.Errors, errs[i]...)
	}
	return res, nil
}

// packageName reads only the package clause of a file ("" on error).
func packageName(path string) string {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
	if err != nil {
		return ""
	}
	return f.Name.Name
}

// listError converts a go/packages error ("file:line:col: msg" or a bare message).
func listError(e packages.Error) *Error {
	pos := token.Position{}
	if e.Pos != "" && e.Pos != "-" {
		parts := strings.Split(e.Pos, ":")
		pos.Filename = parts[0]
		if len(parts) > 1 {
			pos.Line, _ = strconv.Atoi(parts[1])
		}
		if len(parts) > 2 {
			pos.Column, _ = strconv.Atoi(parts[2])
		}
	}
	return &Error{Pos: pos, Msg: e.Msg}
}

// typedPkg is the result of type-checking one package for call rules.
type typedPkg struct {
	fset  *token.FileSet
	files map[string]*ast.File
	pkg   *types.Package
	info  *types.Info
	err   error
}

func (t *typedPkg) check(map[string][]byte) (*token.FileSet, map[string]*ast.File, *types.Package, *types.Info, error) {
	return t.fset, t.files, t.pkg, t.info, t.err
}

// typeCheckAll type-checks, in one go/packages call, the packages whose files
// import an SDK path of cfg.Calls. Sources are the stripped versions (through
// an overlay) so that positions match what the rewriter sees.
func typeCheckAll(cfg Config, pkgs []*loadedPkg) (map[string]*typedPkg, error) {
	if cfg.Calls == nil || cfg.Strip {
		return nil, nil
	}
	imports := cfg.Calls.Imports()
	overlay := map[string][]byte{}
	var want []string
	for _, lp := range pkgs {
		need := cfg.CallsOnly && slices.Contains(imports, lp.path)
		for _, f := range lp.files {
			if f.test {
				continue
			}
			if importsAny(f.orig, imports) {
				need = true
			}
		}
		if !need {
			continue
		}
		want = append(want, lp.path)
		for _, f := range lp.files {
			if bytes.Contains(f.orig, []byte(importMarker)) {
				if b, err := stripFile(f.path, f.orig); err == nil {
					overlay[f.path] = b
				}
			}
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	lcfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedTypes |
			packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedImports,
		Dir:        cfg.Dir,
		BuildFlags: cfg.BuildFlags,
		Overlay:    overlay,
		Fset:       token.NewFileSet(),
	}
	loaded, err := packages.Load(lcfg, want...)
	if err != nil {
		return nil, fmt.Errorf("type-checking packages for LLM call rules: %w", err)
	}
	out := map[string]*typedPkg{}
	for _, p := range loaded {
		t := &typedPkg{fset: lcfg.Fset, files: map[string]*ast.File{}, pkg: p.Types, info: p.TypesInfo}
		for i, f := range p.Syntax {
			if i < len(p.CompiledGoFiles) {
				t.files[p.CompiledGoFiles[i]] = f
			}
		}
		if p.Types == nil || p.TypesInfo == nil {
			msg := "no type information"
			if len(p.Errors) > 0 {
				msg = p.Errors[0].Error()
			}
			t.err = fmt.Errorf("%s", msg)
		}
		out[p.PkgPath] = t
	}
	return out, nil
}

// otelModules caches requiresOTel by go.mod path.
var otelModules sync.Map // string -> bool

// requiresOTel reports whether the go.mod at path requires
// go.opentelemetry.io/otel/trace (directly or as indirect).
func requiresOTel(path string) bool {
	if path == "" {
		return false
	}
	if v, ok := otelModules.Load(path); ok {
		return v.(bool)
	}
	data, err := os.ReadFile(path)
	found := false
	if err == nil {
		if f, err := modfile.ParseLax(path, data, nil); err == nil {
			for _, r := range f.Require {
				found = found || r.Mod.Path == "go.opentelemetry.io/otel/trace"
			}
		}
	}
	otelModules.Store(path, found)
	return found
}
