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
	"slices"
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
	if cfg.Mode == Overlay && !cfg.Strip {
		if out, errs := checkInPlaceFiles(cfg, pkgPath, pkgName, files, typeCheck, goVersion); len(errs) > 0 {
			return out, errs
		}
	}
	out, base, errs := stripFiles(cfg, pkgPath, files)
	if len(errs) > 0 || cfg.Strip {
		return finish(out), errs
	}
	pkg := &pkgRewrite{cfg: cfg, pkgPath: pkgPath, files: files, base: base, fset: token.NewFileSet(), asts: make([]*ast.File, len(files)),
		noGenerics: goVersion != "" && version.Compare("go"+goVersion, "go1.18") < 0}
	needTypes := pkg.scanNames()
	if needTypes && typeCheck != nil {
		if err := pkg.typeCheck(typeCheck); err != nil {
			return finish(out), []*Error{{Pos: token.Position{Filename: files[0].path},
				Msg: fmt.Sprintf("type-checking %s for LLM call rules: %v", pkgPath, err)}}
		}
	}
	results := make([]*fileResult, len(files))
	changed := false
	for i := range files {
		if pkg.cand[i] {
			results[i] = pkg.rewrite(i, false)
			changed = changed || results[i] != nil && len(results[i].edits) > 0
		}
	}
	if changed && pkgName == "main" && !cfg.CallsOnly {
		// func main flushes the spans: defer Stop, os.Exit becomes Exit.
		for i, f := range files {
			if f.test {
				continue
			}
			if af := pkg.parse(i); af != nil && declaresMain(af) {
				results[i] = pkg.rewrite(i, true)
			}
		}
	}
	if len(pkg.errs) > 0 {
		return finish(out), pkg.errs
	}
	for i, res := range results {
		if res == nil || len(res.edits) == 0 {
			out[i].New = base[i]
			continue
		}
		newSrc, err := render(cfg.Mode, pkg.fset, pkg.asts[i], base[i], res)
		if err != nil {
			pkg.errs = append(pkg.errs, asError(err, files[i].path))
			continue
		}
		out[i].New = newSrc
		out[i].Funcs = res.funcs
	}
	if len(pkg.errs) > 0 {
		for _, f := range out {
			f.New, f.Funcs = f.Orig, nil
		}
	}
	return finish(out), pkg.errs
}

// checkInPlaceFiles refuses an overlay build of a package whose files were
// instrumented in place but are out of date: the build would silently miss
// annotations. Up-to-date files are built as they are.
func checkInPlaceFiles(cfg Config, pkgPath, pkgName string, files []*srcFile, typeCheck typeCheckFunc, goVersion string) ([]*File, []*Error) {
	var marked []int
	for i, f := range files {
		if bytes.Contains(f.orig, []byte(importMarker)) {
			marked = append(marked, i)
		}
	}
	if len(marked) == 0 {
		return nil, nil
	}
	icfg := cfg
	icfg.Mode = InPlace
	inPlace, errs := processPackage(icfg, pkgPath, pkgName, files, typeCheck, goVersion)
	for _, i := range marked {
		if len(errs) == 0 && inPlace[i].Changed {
			errs = append(errs, &Error{Pos: token.Position{Filename: files[i].path, Line: 1, Column: 1},
				Msg: "instrumented in place but out of date; run tracegen (go generate) or tracegen -strip first"})
		}
	}
	if len(errs) == 0 {
		return nil, nil
	}
	out := make([]*File, len(files))
	for i, f := range files {
		out[i] = &File{Path: f.path, Package: pkgPath, Orig: f.orig, New: f.orig}
	}
	return finish(out), errs
}

// stripFiles returns the files' outcomes (unchanged so far) and their
// sources with earlier instrumentation stripped; base[i] is nil for a file
// an overlay builds as it is (instrumented in place: the overlay would move
// lines). With cfg.Strip the outcomes are final.
func stripFiles(cfg Config, pkgPath string, files []*srcFile) ([]*File, [][]byte, []*Error) {
	var errs []*Error
	out := make([]*File, len(files))
	base := make([][]byte, len(files))
	for i, f := range files {
		out[i] = &File{Path: f.path, Package: pkgPath, Orig: f.orig, New: f.orig}
		if cfg.Mode == Overlay && bytes.Contains(f.orig, []byte(importMarker)) {
			continue
		}
		b, err := stripFile(f.path, f.orig)
		if err != nil {
			errs = append(errs, asError(err, f.path))
			continue
		}
		base[i] = b
	}
	if len(errs) == 0 && cfg.Strip {
		for i := range files {
			out[i].New = base[i]
		}
	}
	return out, base, errs
}

// declaresMain reports whether f declares func main.
func declaresMain(f *ast.File) bool {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" && fd.Type.TypeParams == nil {
			return true
		}
	}
	return false
}

// pkgRewrite is the state shared by the files of one package while they
// are rewritten: the names no file may take, the parsed or type-checked
// files, and the errors.
type pkgRewrite struct {
	cfg        Config
	pkgPath    string
	files      []*srcFile
	base       [][]byte
	noGenerics bool

	used, generic, taken, funcs map[string]bool
	cand                        []bool // files worth rewriting
	alias                       string
	wrapperAlias                map[string]string

	fset *token.FileSet
	asts []*ast.File
	info *types.Info
	tpkg *types.Package
	errs []*Error
}

// scanNames reads the names of the package that generated code must not
// take, picks the runtime's alias and the candidate files, and reports
// whether type information is needed (a file imports an LLM SDK).
func (p *pkgRewrite) scanNames() (needTypes bool) {
	var callImports []string
	if p.cfg.Calls != nil {
		callImports = p.cfg.Calls.Imports()
	}
	// A dependency that is itself an SDK package a rule names is rewritten
	// for its calls of other rule functions (langchaingo's
	// GenerateFromSinglePrompt calls Model.GenerateContent).
	self := p.cfg.CallsOnly && slices.Contains(callImports, p.pkgPath)
	p.used, p.generic, p.taken, p.funcs = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	p.cand = make([]bool, len(p.files))
	for i, f := range p.files {
		src := p.base[i]
		if src == nil {
			src = f.orig // instrumented in place: its definitions are taken too
		} else {
			scanIdents(src, "tracegen", p.used)
			genericFuncs(src, p.generic)
			calls := len(callImports) > 0 && (self && !f.test || importsAny(src, callImports))
			needTypes = needTypes || calls
			p.cand[i] = !p.cfg.CallsOnly && (bytes.Contains(src, []byte(DirectivePrefix)) || p.cfg.All && !f.test && !f.generated) || calls
		}
		scanIdents(src, "tracegen", p.taken)
		topFuncs(src, p.funcs)
	}
	p.alias = fresh("tracegen", p.used)
	p.wrapperAlias = map[string]string{}
	return needTypes
}

// aliasFor returns the collision-free alias of a wrapper import path.
func (p *pkgRewrite) aliasFor(path string) string {
	a, ok := p.wrapperAlias[path]
	if !ok {
		a = fresh(wrapperAliasBase(path), p.used)
		p.wrapperAlias[path] = a
	}
	return a
}

// typeCheck type-checks the package's non-test files for the call rules.
func (p *pkgRewrite) typeCheck(typeCheck typeCheckFunc) error {
	srcs := map[string][]byte{}
	for i, f := range p.files {
		if p.base[i] != nil && !f.test {
			srcs[f.path] = p.base[i]
		}
	}
	tfset, tfiles, tpkg, info, err := typeCheck(srcs)
	if err != nil {
		return err
	}
	p.fset, p.tpkg, p.info = tfset, tpkg, info
	for i, f := range p.files {
		p.asts[i] = tfiles[f.path]
	}
	return nil
}

// parse returns file i's syntax (nil, with the error recorded, when it
// does not parse, or when the file is built as it is).
func (p *pkgRewrite) parse(i int) *ast.File {
	if p.asts[i] == nil && p.base[i] != nil {
		af, err := parser.ParseFile(p.fset, p.files[i].path, p.base[i], parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			p.errs = append(p.errs, asError(err, p.files[i].path))
			return nil
		}
		p.asts[i] = af
	}
	return p.asts[i]
}

// rewrite plans the instrumentation of file i; stop adds main's flushing.
func (p *pkgRewrite) rewrite(i int, stop bool) *fileResult {
	af := p.parse(i)
	if af == nil {
		return nil
	}
	f := p.files[i]
	j := fileJob{fset: p.fset, file: af, src: p.base[i], mode: p.cfg.Mode, alias: p.alias, stop: stop,
		otelBridge: stop && p.cfg.otelBridge, generic: p.generic, taken: p.taken, funcs: p.funcs,
		all: p.cfg.All && !p.cfg.CallsOnly && !f.test && !f.generated, aliasFor: p.aliasFor, noGenerics: p.noGenerics,
		callsOnly: p.cfg.CallsOnly}
	if p.cfg.Calls != nil && p.info != nil && !f.test {
		j.calls, j.info, j.pkg = p.cfg.Calls, p.info, p.tpkg
	}
	res := rewriteFile(j)
	p.errs = append(p.errs, res.errs...)
	return &res
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
