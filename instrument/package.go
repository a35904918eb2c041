package instrument

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"go/version"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// srcFile is one file of a package as read from disk.
type srcFile struct {
	path      string
	orig      []byte
	test      bool // _test.go
	generated bool // has a "Code generated ... DO NOT EDIT." header
}

// typeCheckFunc type-checks a package from the given (stripped) sources.
// It returns the syntax trees it checked, keyed by path, with their file set.
type typeCheckFunc func(srcs map[string][]byte) (*token.FileSet, map[string]*ast.File, *types.Package, *types.Info, error)

var (
	generatedRE = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)
)

// isGenerated reports whether src carries the standard generated-code header
// before its package clause.
func isGenerated(src []byte) bool {
	if !bytes.Contains(src, []byte("// Code generated ")) {
		return false
	}
	loc := generatedRE.FindIndex(src)
	if loc == nil {
		return false
	}
	pkg := regexp.MustCompile(`(?m)^package\s`).FindIndex(src)
	return pkg == nil || loc[0] < pkg[0]
}

// genericFuncs adds the names of top-level generic functions declared in src
// ("func Name[" at the start of a line) to into. It scans bytes, not syntax.
func genericFuncs(src []byte, into map[string]bool) {
	for i := 0; ; {
		j := bytes.Index(src[i:], []byte("func "))
		if j < 0 {
			return
		}
		j += i
		i = j + 5
		if j > 0 && src[j-1] != '\n' {
			continue
		}
		k := i
		for k < len(src) && (src[k] == '_' || src[k] >= 'a' && src[k] <= 'z' || src[k] >= 'A' && src[k] <= 'Z' || src[k] >= '0' && src[k] <= '9' || src[k] >= 0x80) {
			k++
		}
		if k > i && k < len(src) && src[k] == '[' {
			into[string(src[i:k])] = true
		}
	}
}

// topFuncRe matches the name of a top-level function without receiver.
var topFuncRe = regexp.MustCompile(`(?m)^func\s+([\p{L}_][\p{L}\p{N}_]*)`)

// topFuncs adds the names of src's top-level functions to into. It scans
// bytes, not syntax.
func topFuncs(src []byte, into map[string]bool) {
	for _, m := range topFuncRe.FindAllSubmatch(src, -1) {
		into[string(m[1])] = true
	}
}

func importsAny(src []byte, paths []string) bool {
	for _, p := range paths {
		if bytes.Contains(src, []byte(strconv.Quote(p))) {
			return true
		}
	}
	return false
}

// processPackage computes the rewrite of every file of one package. pkgName is
// the package clause name. typeCheck may be nil (no call rewriting).
//
// goVersion is the go directive of the package's module ("" if unknown): code
// for modules older than go1.18 cannot call generic functions, so go
// statements are not passed through Fork there.
func processPackage(cfg Config, pkgPath, pkgName string, files []*srcFile, typeCheck typeCheckFunc, goVersion string) ([]*File, []*Error) {
	var errs []*Error
	if cfg.Mode == Overlay && !cfg.Strip {
		// Files instrumented in place are built as they are, but only when they
		// are up to date: otherwise the build would silently miss annotations.
		var marked []int
		for i, f := range files {
			if bytes.Contains(f.orig, []byte(importMarker)) {
				marked = append(marked, i)
			}
		}
		if len(marked) > 0 {
			icfg := cfg
			icfg.Mode = InPlace
			inPlace, ierrs := processPackage(icfg, pkgPath, pkgName, files, typeCheck, goVersion)
			errs = append(errs, ierrs...)
			for _, i := range marked {
				if len(ierrs) == 0 && inPlace[i].Changed {
					errs = append(errs, &Error{Pos: token.Position{Filename: files[i].path, Line: 1, Column: 1},
						Msg: "instrumented in place but out of date; run tracegen (go generate) or tracegen -strip first"})
				}
			}
			if len(errs) > 0 {
				out := make([]*File, len(files))
				for i, f := range files {
					out[i] = &File{Path: f.path, Package: pkgPath, Orig: f.orig, New: f.orig}
				}
				return finish(out), errs
			}
		}
	}
	out := make([]*File, len(files))
	base := make([][]byte, len(files))
	for i, f := range files {
		out[i] = &File{Path: f.path, Package: pkgPath, Orig: f.orig, New: f.orig}
		if cfg.Mode == Overlay && bytes.Contains(f.orig, []byte(importMarker)) {
			// Already instrumented in place: the overlay would move lines. Build it as it is.
			base[i] = nil
			continue
		}
		b, err := stripFile(f.path, f.orig)
		if err != nil {
			errs = append(errs, asError(err, f.path))
			continue
		}
		base[i] = b
	}
	if len(errs) > 0 || cfg.Strip {
		if len(errs) == 0 {
			for i := range files {
				out[i].New = base[i]
			}
		}
		return finish(out), errs
	}
	var callImports []string
	if cfg.Calls != nil {
		callImports = cfg.Calls.Imports()
	}
	used := map[string]bool{}
	generic := map[string]bool{}
	cand := make([]bool, len(files))
	needTypes := false
	for i, f := range files {
		if base[i] == nil {
			continue
		}
		scanIdents(base[i], "tracegen", used)
		genericFuncs(base[i], generic)
		calls := len(callImports) > 0 && importsAny(base[i], callImports)
		needTypes = needTypes || calls
		cand[i] = bytes.Contains(base[i], []byte(DirectivePrefix)) || cfg.All && !f.test && !f.generated || calls
	}
	taken, funcs := map[string]bool{}, map[string]bool{}
	for i, f := range files {
		src := base[i]
		if src == nil {
			src = f.orig // instrumented in place: its definitions are taken too
		}
		scanIdents(src, "tracegen", taken)
		topFuncs(src, funcs)
	}
	alias := fresh("tracegen", used)
	wrapperAlias := map[string]string{}
	aliasFor := func(path string) string {
		a, ok := wrapperAlias[path]
		if !ok {
			a = fresh(wrapperAliasBase(path), used)
			wrapperAlias[path] = a
		}
		return a
	}

	fset := token.NewFileSet()
	asts := make([]*ast.File, len(files))
	var info *types.Info
	var tpkg *types.Package
	if needTypes && typeCheck != nil {
		srcs := map[string][]byte{}
		for i, f := range files {
			if base[i] != nil && !f.test {
				srcs[f.path] = base[i]
			}
		}
		tfset, tfiles, p, inf, err := typeCheck(srcs)
		if err != nil {
			errs = append(errs, &Error{Pos: token.Position{Filename: files[0].path}, Msg: fmt.Sprintf("type-checking %s for LLM call rules: %v", pkgPath, err)})
			return finish(out), errs
		}
		fset, tpkg, info = tfset, p, inf
		for i, f := range files {
			asts[i] = tfiles[f.path]
		}
	}
	parse := func(i int) *ast.File {
		if asts[i] == nil && base[i] != nil {
			af, err := parser.ParseFile(fset, files[i].path, base[i], parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				errs = append(errs, asError(err, files[i].path))
				return nil
			}
			asts[i] = af
		}
		return asts[i]
	}
	results := make([]*fileResult, len(files))
	job := func(i int, stop bool) {
		af := parse(i)
		if af == nil {
			return
		}
		j := fileJob{fset: fset, file: af, src: base[i], mode: cfg.Mode, alias: alias, stop: stop, otelBridge: stop && cfg.otelBridge, generic: generic, taken: taken, funcs: funcs,
			all: cfg.All && !files[i].test && !files[i].generated, aliasFor: aliasFor,
			noGenerics: goVersion != "" && version.Compare("go"+goVersion, "go1.18") < 0}
		if cfg.Calls != nil && info != nil && !files[i].test {
			j.calls, j.info, j.pkg = cfg.Calls, info, tpkg
		}
		res := rewriteFile(j)
		results[i] = &res
		errs = append(errs, res.errs...)
	}
	any := false
	for i := range files {
		if cand[i] {
			job(i, false)
			if results[i] != nil && len(results[i].edits) > 0 {
				any = true
			}
		}
	}
	if any && pkgName == "main" {
		for i, f := range files {
			if f.test || base[i] == nil || !bytes.Contains(base[i], []byte("func main(")) {
				continue
			}
			job(i, true)
		}
	}
	if len(errs) > 0 {
		return finish(out), errs
	}
	for i, res := range results {
		if res == nil || len(res.edits) == 0 {
			out[i].New = base[i]
			continue
		}
		newSrc, err := render(cfg.Mode, fset, asts[i], base[i], res)
		if err != nil {
			errs = append(errs, asError(err, files[i].path))
			continue
		}
		out[i].New = newSrc
		out[i].Funcs = res.funcs
	}
	if len(errs) > 0 {
		for _, f := range out {
			f.New, f.Funcs = f.Orig, nil
		}
	}
	return finish(out), errs
}

func finish(files []*File) []*File {
	for _, f := range files {
		if f.New == nil {
			f.New = f.Orig
		}
		f.Changed = !bytes.Equal(f.New, f.Orig)
	}
	return files
}

// asError turns err into an *Error positioned in path (parse errors keep their position).
func asError(err error, path string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return &Error{Pos: list[0].Pos, Msg: list[0].Msg}
	}
	return &Error{Pos: token.Position{Filename: path, Line: 1, Column: 1}, Msg: err.Error()}
}

// render applies a file's edits and adds its imports.
func render(mode Mode, fset *token.FileSet, af *ast.File, src []byte, res *fileResult) ([]byte, error) {
	edits := append([]edit(nil), res.edits...)
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	if mode == Overlay {
		var b strings.Builder
		for _, imp := range res.imports {
			fmt.Fprintf(&b, "; import %s %s", imp.alias, strconv.Quote(imp.path))
		}
		p := off(af.Name.End())
		edits = append(edits, edit{p, p, b.String()})
		// The go command hands the compiler the overlay copy: name the
		// original file so compiler errors and stack traces point at it, and
		// after code added in the middle of a line restore the column too.
		if name := fset.PositionFor(af.Package, false).Filename; filepath.IsAbs(name) && !strings.Contains(name, "*/") {
			tf := fset.File(af.Package)
			for i, e := range edits {
				if len(e.text) == e.end-e.pos || e.pos == 0 || strings.HasSuffix(e.text, "\n") {
					continue
				}
				rest := strings.TrimLeft(string(src[e.end:lineEnd(src, e.end)]), " \t")
				if rest == "" {
					continue
				}
				p := tf.PositionFor(tf.Pos(e.end), true)
				if p.Column > 0 {
					edits[i].text += fmt.Sprintf("/*line :%d:%d*/", p.Line, p.Column)
				}
			}
			edits = append(edits, edit{0, 0, "//line " + name + ":1:1\n"})
		}
	} else {
		var b strings.Builder
		for i, imp := range res.imports {
			b.WriteString("\n\n" + importMarker)
			if i == 0 && res.osBlank != nil {
				b.WriteString(" os=" + strconv.Quote(res.osOrig))
			}
			fmt.Fprintf(&b, "\nimport %s %s", imp.alias, strconv.Quote(imp.path))
		}
		var p int
		var lastImport *ast.GenDecl
		var next ast.Decl
		for i, d := range af.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
				lastImport = gd
				next = nil
				if i+1 < len(af.Decls) {
					next = af.Decls[i+1]
				}
			}
		}
		if lastImport != nil {
			p = lineEnd(src, off(lastImport.End()))
			if next != nil && off(next.Pos()) < p {
				p = off(lastImport.End())
			}
		} else {
			p = lineEnd(src, off(af.Name.End()))
			if len(af.Decls) > 0 && off(af.Decls[0].Pos()) < p {
				p = off(af.Name.End())
			}
		}
		// A comment on the same line after the anchor must stay there.
		for _, cg := range af.Comments {
			if o := off(cg.Pos()); o < p && off(cg.End()) > p {
				p = off(cg.End())
			}
		}
		edits = append(edits, edit{p, p, b.String()})
	}
	out, err := applyEdits(src, edits)
	if err != nil {
		return nil, err
	}
	// Safety net: never hand back text that does not parse.
	if _, perr := parser.ParseFile(token.NewFileSet(), fset.PositionFor(af.Package, false).Filename, out, parser.SkipObjectResolution); perr != nil {
		return nil, fmt.Errorf("internal error: instrumented file does not parse: %v", perr)
	}
	return out, nil
}
