package instrument

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strconv"
	"strings"
)

// Markers left in in-place output so that StripSource can restore the exact
// original bytes. Overlay output carries no markers: it is never stripped.
const (
	// importMarker is the doc comment of the import declarations tracegen adds.
	importMarker = "//tracegen:generated"
	// wasMarker trails the first generated line of a function whose signature or
	// body layout had to change; it holds the original text of those parts.
	wasMarker = "//tracegen:was"
)

// fileJob is everything the rewrite of one file needs. The file is already
// stripped of earlier instrumentation.
type fileJob struct {
	fset  *token.FileSet
	file  *ast.File
	src   []byte
	mode  Mode
	all   bool   // trace every function with a body (except init and //trace:ignore)
	alias string // name under which the runtime is imported
	stop  bool   // add defer Stop() to func main and turn os.Exit into Exit
	// otelBridge: with stop, also import OTelBridgePath (blank).
	otelBridge bool
	generic    map[string]bool
	// Names of the package that definitions must not take: identifiers
	// starting with tracegen, and the top-level functions.
	taken, funcs map[string]bool
	// noGenerics: the module's language version predates generics (no Fork).
	noGenerics bool
	// Call rewriting (nil when no rule applies to the package).
	calls    CallRewriter
	info     *types.Info
	pkg      *types.Package
	aliasFor func(path string) string // collision-free alias for a wrapper import path
	// callsOnly: rewrite call sites only; directives are not read.
	callsOnly bool
}

// fileResult is the plan for one file.
type fileResult struct {
	edits   []edit
	funcs   []string
	errs    []*Error
	imports []importReq // imports the edits need, in first-use order
	osBlank *ast.ImportSpec
	osOrig  string
}

type importReq struct{ alias, path string }

type rewriter struct {
	fileJob
	res        fileResult
	usedImport map[string]bool
	osName     string          // name of the "os" import ("" if none)
	importName map[string]bool // names of the file's imports
	lits       []*litInfo      // every function literal in source order
	litTrace   map[*ast.FuncLit]*Directive
	callDone   map[*ast.CallExpr]bool // calls rewritten by the call hook
	defs       []*definition          // the traced functions' definitions, in order
}

type litInfo struct {
	lit    *ast.FuncLit
	name   string // default span name
	goName string // unique in the package: Func_funcN, Type_Method_funcN, or var_funcN at package level
	line   int
}

// rewriteFile plans the instrumentation of one file.
func rewriteFile(job fileJob) fileResult {
	r := &rewriter{fileJob: job, usedImport: map[string]bool{}, importName: map[string]bool{},
		litTrace: map[*ast.FuncLit]*Directive{}, callDone: map[*ast.CallExpr]bool{}}
	r.scanImports()
	r.collectLits()
	pkgName := r.file.Name.Name
	docs := map[*ast.CommentGroup]bool{}
	type tracedDecl struct {
		fd *ast.FuncDecl
		d  *Directive
	}
	var decls []tracedDecl
	var mainDecl *ast.FuncDecl
	for _, decl := range r.file.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if fd.Recv == nil && fd.Name.Name == "main" && pkgName == "main" && fd.Type.TypeParams == nil {
			mainDecl = fd
		}
		var d *Directive
		if fd.Doc != nil {
			docs[fd.Doc] = true
			d = r.directiveIn(fd.Doc)
			if d != nil && fd.Body == nil {
				r.errorf(d.Pos, "//trace:%s on function %s without a body", d.Verb, fd.Name.Name)
				continue
			}
		}
		if d == nil && r.all && fd.Body != nil && !(fd.Recv == nil && fd.Name.Name == "init") && !lowLevel(fd.Doc) && !isFormattingMethod(fd) {
			d = &Directive{Verb: VerbSpan, Pos: r.fset.PositionFor(fd.Pos(), false)}
		}
		if d != nil && d.Verb != VerbIgnore {
			decls = append(decls, tracedDecl{fd, d})
		}
	}
	// Directives on function literals: the comment must be on the line above.
	for _, cg := range r.file.Comments {
		if docs[cg] {
			continue
		}
		d := r.directiveIn(cg)
		if d == nil {
			continue
		}
		target := r.fset.PositionFor(cg.End(), false).Line + 1
		var found *litInfo
		for _, li := range r.lits {
			if li.line == target {
				found = li
				break
			}
		}
		if found == nil {
			r.errorf(d.Pos, "//trace:%s must be in the doc comment of a function or on the line above a function literal", d.Verb)
			continue
		}
		if d.Verb != VerbIgnore {
			r.litTrace[found.lit] = d
		}
	}
	if len(r.res.errs) > 0 {
		return r.res
	}
	// Call rewrites first: go statements must know which calls they wrap.
	if r.calls != nil && r.info != nil {
		r.rewriteCalls()
	}
	for _, td := range decls {
		r.traceFunc(td.fd, td.fd.Type, td.fd.Body, r.declName(td.fd), declGoName(td.fd), td.d, td.fd == mainDecl && r.stop)
	}
	if mainDecl != nil && r.stop {
		traced := false
		for _, td := range decls {
			traced = traced || td.fd == mainDecl
		}
		if !traced && mainDecl.Body != nil {
			r.traceFunc(mainDecl, mainDecl.Type, mainDecl.Body, "", "", nil, true)
		}
		if mainDecl.Body != nil {
			r.rewriteExits(mainDecl.Body)
			if r.otelBridge {
				r.useImport("_", OTelBridgePath)
			}
		}
	}
	for _, li := range r.lits {
		if d := r.litTrace[li.lit]; d != nil {
			r.traceFunc(li.lit, li.lit.Type, li.lit.Body, li.name, li.goName, d, false)
		}
	}
	r.emitDefinitions()
	return r.res
}

// isFormattingMethod reports whether fd is a String, Error, GoString or Format
// method. -all skips them: exporters and fmt call them while spans are being
// recorded, and tracing them would make spans about spans.
func isFormattingMethod(fd *ast.FuncDecl) bool {
	if fd.Recv == nil {
		return false
	}
	switch fd.Name.Name {
	case "String", "Error", "GoString", "Format":
		return true
	}
	return false
}

// lowLevel reports whether a doc comment holds a compiler directive under which
// added calls could break the build or the runtime (-all skips such functions).
func lowLevel(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		for _, d := range []string{"//go:nosplit", "//go:systemstack", "//go:nowritebarrier", "//go:linkname", "//go:uintptrescapes", "//go:norace"} {
			if strings.HasPrefix(c.Text, d) {
				return true
			}
		}
	}
	return false
}

func (r *rewriter) errorf(pos token.Position, format string, args ...any) {
	r.res.errs = append(r.res.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// directiveIn parses the directive lines of a comment group; nil if none.
func (r *rewriter) directiveIn(cg *ast.CommentGroup) *Directive {
	if r.callsOnly {
		return nil
	}
	var found *Directive
	for _, c := range cg.List {
		if !IsDirective(c.Text) {
			continue
		}
		pos := r.fset.PositionFor(c.Slash, false)
		d, err := ParseDirective(c.Text, pos)
		if err != nil {
			if e, ok := err.(*Error); ok {
				r.res.errs = append(r.res.errs, e)
			} else {
				r.errorf(pos, "%v", err)
			}
			return nil
		}
		if found != nil {
			r.errorf(pos, "more than one //trace: directive for the same function (first at line %d)", found.Pos.Line)
			return nil
		}
		found = d
	}
	return found
}

func (r *rewriter) scanImports() {
	for _, imp := range r.file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		r.importName[name] = true
		if path == "os" && name != "_" && name != "." && r.osName == "" {
			r.osName = name
		}
	}
}

// contextName is the file's name for the context package ("" if not imported).
func (r *rewriter) contextName() string {
	for _, imp := range r.file.Imports {
		if imp.Path.Value == `"context"` {
			if imp.Name == nil {
				return "context"
			}
			if imp.Name.Name != "_" && imp.Name.Name != "." {
				return imp.Name.Name
			}
		}
	}
	return ""
}

func (r *rewriter) collectLits() {
	pkg := r.file.Name.Name
	for _, decl := range r.file.Decls {
		prefix := pkg
		goPrefix := ""
		switch d := decl.(type) {
		case *ast.FuncDecl:
			prefix = r.declName(d)
			goPrefix = strings.ReplaceAll(strings.TrimPrefix(prefix, pkg+"."), ".", "_") + "_"
		case *ast.GenDecl:
			// Package-level literals keep the span name pkg.funcN; their
			// definitions are named after the first variable of the
			// declaration, which is unique in the package.
			if len(d.Specs) > 0 {
				if vs, ok := d.Specs[0].(*ast.ValueSpec); ok && len(vs.Names) > 0 {
					goPrefix = vs.Names[0].Name + "_"
				}
			}
		}
		n := 0
		ast.Inspect(decl, func(node ast.Node) bool {
			if lit, ok := node.(*ast.FuncLit); ok {
				n++
				fn := "func" + strconv.Itoa(n)
				r.lits = append(r.lits, &litInfo{lit: lit, name: prefix + "." + fn, goName: goPrefix + fn,
					line: r.fset.PositionFor(lit.Pos(), false).Line})
			}
			return true
		})
	}
}

// declGoName is Func or Type_Method: unique among the package's functions.
func declGoName(fd *ast.FuncDecl) string {
	if fd.Recv != nil && len(fd.Recv.List) > 0 {
		if t := recvTypeName(fd.Recv.List[0].Type); t != "" {
			return t + "_" + fd.Name.Name
		}
	}
	return fd.Name.Name
}

// declName is the default span name: pkg.Func or pkg.Type.Method.
func (r *rewriter) declName(fd *ast.FuncDecl) string {
	name := r.file.Name.Name + "."
	if fd.Recv != nil && len(fd.Recv.List) > 0 {
		if t := recvTypeName(fd.Recv.List[0].Type); t != "" {
			name += t + "."
		}
	}
	return name + fd.Name.Name
}

func recvTypeName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

func (r *rewriter) off(p token.Pos) int { return r.fset.PositionFor(p, false).Offset }

func (r *rewriter) add(pos, end int, text string) {
	r.res.edits = append(r.res.edits, edit{pos, end, text})
}

func (r *rewriter) useImport(alias, path string) {
	if !r.usedImport[path] {
		r.usedImport[path] = true
		r.res.imports = append(r.res.imports, importReq{alias, path})
	}
}

// isContextType reports whether e spells context.Context under the file's import name.
func isContextType(e ast.Expr, ctxPkg string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || ctxPkg == "" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == ctxPkg && sel.Sel.Name == "Context"
}

func isErrorType(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "error"
}

// traceFunc plans the instrumentation of one function: name is its default
// span name, goName a name unique in the package for its definition. d is
// nil when only the main-function additions (stop) are wanted.
func (r *rewriter) traceFunc(node ast.Node, typ *ast.FuncType, body *ast.BlockStmt, name, goName string, d *Directive, stop bool) {
	used := map[string]bool{r.alias: true}
	identNames(node, used)
	A := r.alias
	var results *string // original text when changed
	var sigEdits []edit
	var def *definition

	var lines []string // generated statements, in order
	if stop {
		lines = append(lines, "defer "+A+".Stop()")
	}
	if d != nil {
		spanName := name
		if d.Name != "" {
			spanName = d.Name
		}
		span := fresh("span", used)
		ctxName, ctxPkg := r.ctxParam(typ)
		res := r.nameResults(typ, body, d.Output, used)
		results, sigEdits = res.was, res.edits
		from, handler := r.startFrom(typ, ctxName)
		if handler && d.Kind == "" {
			server := *d
			server.Kind = "server"
			d = &server
		}
		def = r.define(goName, spanName, d)
		switch {
		case ctxName != "" && d.Rebind:
			lines = append(lines, fmt.Sprintf("%s, %s := %s.StartContext(%s)", ctxName, span, def.varName, from))
		case from != "":
			// The context the function passes on stays the one it was given:
			// callees nest through the goroutine's current span.
			lines = append(lines, fmt.Sprintf("%s := %s.Start(%s)", span, def.varName, from))
		default:
			lines = append(lines, fmt.Sprintf("%s := %s.Begin()", span, def.varName))
		}
		if d.Input {
			if kv := inputPairs(typ, ctxPkg); len(kv) > 0 {
				lines = append(lines, fmt.Sprintf("%s.RecordInput(%s)", span, strings.Join(kv, ", ")))
			}
		}
		lines = append(lines, "defer "+returnCall(span, res.errName, res.outNames))
		r.rewriteGos(body, span)
		r.res.funcs = append(r.res.funcs, spanName)
	}
	if len(lines) == 0 {
		return
	}
	r.useImport(A, RuntimePath)
	if r.mode == InPlace && !r.simpleBody(body) {
		// A one-line function aligned with its neighbours has padding before
		// the brace; once the body spans lines gofmt wants a single space.
		lb := r.off(body.Lbrace)
		ws := lb
		for ws > 0 && (r.src[ws-1] == ' ' || r.src[ws-1] == '\t') {
			ws--
		}
		if lb-ws > 1 && typ.Params != nil {
			if results == nil {
				s := string(r.src[r.off(typ.Params.Closing)+1 : lb])
				results = &s
			}
			sigEdits = append(sigEdits, edit{ws, lb, " "})
		}
	}
	r.res.edits = append(r.res.edits, sigEdits...)
	r.insertLines(body, lines, results, def)
}

// startFrom returns the context expression a traced function starts its
// span from: its context parameter, joined to the trace in the headers of
// its first *http.Request parameter when it has one (through
// runtime/propagation), or "" for Begin. handler reports the signature of
// an http.HandlerFunc, whose spans are of kind server.
func (r *rewriter) startFrom(typ *ast.FuncType, ctxName string) (from string, handler bool) {
	httpName := r.importedAs("net/http")
	if httpName == "" || typ.Params == nil {
		return ctxName, false
	}
	var req string
	var types []string
	for _, f := range typ.Params.List {
		t := httpType(f.Type, httpName)
		for range max(len(f.Names), 1) {
			types = append(types, t)
		}
		if t == "*Request" && req == "" && len(f.Names) > 0 && f.Names[0].Name != "_" {
			req = f.Names[0].Name
		}
	}
	handler = len(types) == 2 && types[0] == "ResponseWriter" && types[1] == "*Request"
	if req == "" {
		return ctxName, handler
	}
	alias := r.aliasFor(PropagationPath)
	r.useImport(alias, PropagationPath)
	if ctxName == "" {
		return alias + ".Context(" + req + ")", handler
	}
	return alias + ".Join(" + ctxName + ", " + req + ")", handler
}

// httpType names the net/http type e spells ("*Request", "ResponseWriter")
// under the file's import name for net/http, or "".
func httpType(e ast.Expr, httpName string) string {
	star := ""
	if s, ok := e.(*ast.StarExpr); ok {
		star, e = "*", s.X
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); ok && id.Name == httpName {
		return star + sel.Sel.Name
	}
	return ""
}

// importedAs is the file's name for the package at path ("" if not
// imported, or imported blank or with a dot).
func (r *rewriter) importedAs(path string) string {
	for _, imp := range r.file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name == nil {
				return path[strings.LastIndex(path, "/")+1:]
			}
			if imp.Name.Name != "_" && imp.Name.Name != "." {
				return imp.Name.Name
			}
		}
	}
	return ""
}

// ctxParam returns the name of the function's first context.Context
// parameter ("" when there is none, or it is blank or unnamed: then the
// span starts from the goroutine's current span) and the file's name for
// the context package.
func (r *rewriter) ctxParam(typ *ast.FuncType) (name, ctxPkg string) {
	ctxPkg = r.contextName()
	if typ.Params == nil {
		return "", ctxPkg
	}
	for _, f := range typ.Params.List {
		if !isContextType(f.Type, ctxPkg) {
			continue
		}
		if len(f.Names) == 0 || f.Names[0].Name == "_" {
			return "", ctxPkg
		}
		return f.Names[0].Name, ctxPkg
	}
	return "", ctxPkg
}

// namedResults is how a function's results are named for its deferred
// Return: the error result's name ("nil" without one), the results to
// record as output, and the signature edits with the original text.
type namedResults struct {
	errName  string
	outNames []string
	edits    []edit
	was      *string
}

// nameResults names the error result (and, for output, every result) when
// the signature leaves them unnamed or blank, so the deferred call can read
// what the function returns.
func (r *rewriter) nameResults(typ *ast.FuncType, body *ast.BlockStmt, output bool, used map[string]bool) namedResults {
	nr := namedResults{errName: "nil"}
	res := typ.Results
	if res == nil || len(res.List) == 0 {
		return nr
	}
	last := res.List[len(res.List)-1]
	hasErr := isErrorType(last.Type)
	if len(res.List[0].Names) > 0 {
		if hasErr {
			id := last.Names[len(last.Names)-1]
			if id.Name == "_" {
				nr.errName = fresh("err", used)
				nr.edits = append(nr.edits, edit{r.off(id.Pos()), r.off(id.End()), nr.errName})
			} else {
				nr.errName = id.Name
			}
		}
		if output {
			for _, f := range res.List {
				if f == last && hasErr {
					continue
				}
				for _, id := range f.Names {
					if id.Name != "_" {
						nr.outNames = append(nr.outNames, id.Name)
					}
				}
			}
		}
	} else if hasErr || output {
		names := make([]string, len(res.List))
		for i, f := range res.List {
			switch {
			case hasErr && f == last:
				nr.errName = fresh("err", used)
				names[i] = nr.errName
			case output:
				names[i] = fresh("result", used)
				nr.outNames = append(nr.outNames, names[i])
			default:
				names[i] = "_"
			}
		}
		if !res.Opening.IsValid() {
			f := res.List[0]
			nr.edits = append(nr.edits, edit{r.off(f.Type.Pos()), r.off(f.Type.Pos()), "(" + names[0] + " "},
				edit{r.off(f.Type.End()), r.off(f.Type.End()), ")"})
		} else {
			for i, f := range res.List {
				p := r.off(f.Type.Pos())
				nr.edits = append(nr.edits, edit{p, p, names[i] + " "})
			}
		}
	}
	if len(nr.edits) > 0 {
		s := string(r.src[r.off(typ.Params.Closing)+1 : r.off(body.Lbrace)])
		nr.was = &s
	}
	return nr
}

// inputPairs lists the named non-context parameters as "name", name pairs.
func inputPairs(typ *ast.FuncType, ctxPkg string) []string {
	var kv []string
	for _, f := range typ.Params.List {
		if isContextType(f.Type, ctxPkg) {
			continue
		}
		for _, id := range f.Names {
			if id.Name != "_" {
				kv = append(kv, strconv.Quote(id.Name), id.Name)
			}
		}
	}
	return kv
}

// returnCall is the deferred call that ends the span. Return never
// recovers: a panic unwinds the function as without tracing.
func returnCall(span, errName string, outNames []string) string {
	errArg := "nil"
	if errName != "nil" {
		errArg = "&" + errName
	}
	if len(outNames) == 0 {
		return fmt.Sprintf("%s.Return(%s)", span, errArg)
	}
	kv := []string{errArg}
	for _, n := range outNames {
		kv = append(kv, strconv.Quote(n), "&"+n)
	}
	return fmt.Sprintf("%s.ReturnOutput(%s)", span, strings.Join(kv, ", "))
}

// insertLines places the generated statements at the top of body.
//
// The //tracegen:was marker (the original results text and, for a body
// written on its line, the original separators) goes with def when there is
// one, else on the first generated line.
func (r *rewriter) insertLines(body *ast.BlockStmt, lines []string, results *string, def *definition) {
	src := r.src
	lb := r.off(body.Lbrace)
	rb := r.off(body.Rbrace)
	if r.mode == Overlay {
		// Positions as the compiler would have reported them, so that the
		// user's own //line directives keep working.
		pos := r.fset.Position(body.Lbrace)
		if !filepath.IsAbs(pos.Filename) || strings.ContainsAny(pos.Filename, "\n\r") || pos.Column == 0 {
			// No usable file name for //line: same line as the brace.
			r.add(lb+1, lb+1, " "+strings.Join(lines, "; ")+";")
			return
		}
		// Generated statements on a line of their own that claims to be the
		// brace's line, then a //line directive that puts the rest of the
		// brace's line back at its original line and column. Original lines
		// keep their numbers and lines stay short (the compiler stops
		// counting columns at 255).
		r.add(lb+1, lb+1, fmt.Sprintf("\n//line %s:%d\n\t%s\n//line %s:%d:%d\n",
			pos.Filename, pos.Line, strings.Join(lines, "; "), pos.Filename, pos.Line, pos.Column+1))
		return
	}
	ind := lineIndent(src, rb)
	eol := lineEnd(src, lb+1)
	simple := r.simpleBody(body)
	var gaps []string
	if !simple {
		// Body on the brace's line: give every statement its own line and keep
		// the original separators in the marker.
		stmts := body.List
		if len(stmts) == 0 {
			gaps = []string{string(src[lb+1 : rb])}
		} else {
			gaps = append(gaps, string(src[lb+1:r.off(stmts[0].Pos())]))
			for i := 1; i < len(stmts); i++ {
				gaps = append(gaps, string(src[r.off(stmtEnd(stmts[i-1])):r.off(stmts[i].Pos())]))
			}
			gaps = append(gaps, string(src[r.off(stmtEnd(stmts[len(stmts)-1])):rb]))
		}
	}
	first := lines[0]
	if results != nil || gaps != nil {
		m := wasMarker
		if results != nil {
			m += " results=" + strconv.Quote(*results)
		}
		if gaps != nil {
			q := make([]string, len(gaps))
			for i, g := range gaps {
				q[i] = strconv.Quote(g)
			}
			m += " gaps=" + strings.Join(q, ",")
		}
		if def != nil {
			def.marker = m
		} else {
			first += " " + m
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			l = first
		}
		b.WriteString("\n" + ind + "\t" + l)
	}
	if simple {
		r.add(eol, eol, b.String())
		return
	}
	// Comments in the gaps move along: before the first statement on a line of
	// their own, otherwise after the statement they followed.
	stmts := body.List
	if len(stmts) == 0 {
		r.add(lb+1, rb, b.String()+r.gapComments(lb+1, rb, "\n"+ind+"\t")+"\n"+ind)
		return
	}
	r.add(lb+1, r.off(stmts[0].Pos()), b.String()+r.gapComments(lb+1, r.off(stmts[0].Pos()), "\n"+ind+"\t")+"\n"+ind+"\t")
	for i := 1; i < len(stmts); i++ {
		p, e := r.off(stmtEnd(stmts[i-1])), r.off(stmts[i].Pos())
		r.add(p, e, r.gapComments(p, e, " ")+"\n"+ind+"\t")
	}
	p := r.off(stmtEnd(stmts[len(stmts)-1]))
	r.add(p, rb, r.gapComments(p, rb, " ")+"\n"+ind)
}

// gapComments returns the comments lying in src[from:to], joined by spaces and
// preceded by lead ("" if there are none).
func (r *rewriter) gapComments(from, to int, lead string) string {
	var texts []string
	for _, cg := range r.file.Comments {
		for _, c := range cg.List {
			if o := r.off(c.Slash); o >= from && o < to {
				texts = append(texts, c.Text)
			}
		}
	}
	if len(texts) == 0 {
		return ""
	}
	return lead + strings.Join(texts, " ")
}

// simpleBody reports whether the rest of the body's opening line is empty (or
// only a // comment), so generated lines can simply follow it.
func (r *rewriter) simpleBody(body *ast.BlockStmt) bool {
	lb, rb := r.off(body.Lbrace), r.off(body.Rbrace)
	eol := lineEnd(r.src, lb+1)
	rest := strings.TrimLeft(string(r.src[lb+1:eol]), " \t")
	return (rest == "" || strings.HasPrefix(rest, "//")) && eol < len(r.src) && eol < rb
}

// builtins that may appear in go statements and cannot be passed as values.
var builtinFuncs = map[string]bool{
	"append": true, "cap": true, "clear": true, "close": true, "complex": true, "copy": true,
	"delete": true, "imag": true, "len": true, "make": true, "max": true, "min": true, "new": true,
	"panic": true, "print": true, "println": true, "real": true, "recover": true,
}

// rewriteGos passes the function of each go statement directly in body (not
// in nested function literals) through Fork, which records span and returns
// the function itself, so the new goroutine's spans nest under span.
func (r *rewriter) rewriteGos(body *ast.BlockStmt, span string) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.GoStmt:
			if r.canFork(x.Call) {
				p, e := r.off(x.Call.Fun.Pos()), r.off(x.Call.Fun.End())
				r.add(p, p, r.alias+".Fork("+span+", ")
				r.add(e, e, ")")
			}
		}
		return true
	})
}

// canFork reports whether `go f(args)` may become `go Fork(span, f)(args)`:
// f must be a function value, not a builtin or an uninstantiated generic function.
func (r *rewriter) canFork(call *ast.CallExpr) bool {
	if r.callDone[call] || r.noGenerics {
		return false
	}
	fun := ast.Unparen(call.Fun)
	if r.info != nil {
		if tv, ok := r.info.Types[fun]; ok {
			if tv.IsBuiltin() || tv.IsType() {
				return false
			}
			sig, ok := tv.Type.(*types.Signature)
			if !ok {
				return false
			}
			if sig.TypeParams().Len() > 0 {
				return false
			}
			if id := calleeIdent(fun); id != nil {
				if inst, ok := r.info.Instances[id]; ok && inst.TypeArgs.Len() > 0 && !isExplicitInstance(fun) {
					return false
				}
			}
			return true
		}
	}
	switch f := fun.(type) {
	case *ast.FuncLit:
		return true
	case *ast.Ident:
		return !builtinFuncs[f.Name] && !r.generic[f.Name]
	case *ast.SelectorExpr:
		// pkg.F may be a generic function: without type information leave it alone.
		if id, ok := f.X.(*ast.Ident); ok && r.importName[id.Name] {
			return false
		}
		return true
	case *ast.IndexExpr, *ast.IndexListExpr:
		return true // explicit instantiation or a function from a slice/map
	case *ast.CallExpr:
		return true // go makeHandler()(x)
	}
	return false
}

func calleeIdent(e ast.Expr) *ast.Ident {
	switch x := e.(type) {
	case *ast.Ident:
		return x
	case *ast.SelectorExpr:
		return x.Sel
	}
	return nil
}

func isExplicitInstance(e ast.Expr) bool {
	switch e.(type) {
	case *ast.IndexExpr, *ast.IndexListExpr:
		return true
	}
	return false
}

// rewriteExits turns os.Exit(x) directly in main's body into Exit(x).
func (r *rewriter) rewriteExits(body *ast.BlockStmt) {
	if r.osName == "" {
		return
	}
	replaced := map[*ast.Ident]bool{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Exit" {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || id.Name != r.osName {
				return true
			}
			replaced[id] = true
			r.add(r.off(sel.Pos()), r.off(sel.End()), r.alias+".Exit")
		}
		return true
	})
	if len(replaced) == 0 {
		return
	}
	r.useImport(r.alias, RuntimePath)
	// If os is now unused, keep the import valid by making it blank.
	stillUsed := false
	ast.Inspect(r.file, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == r.osName && !replaced[id] {
			for _, imp := range r.file.Imports {
				if imp.Name == id {
					return true
				}
			}
			stillUsed = true
		}
		return !stillUsed
	})
	if stillUsed {
		return
	}
	for _, imp := range r.file.Imports {
		if imp.Path.Value != `"os"` {
			continue
		}
		if imp.Name == nil {
			p := r.off(imp.Path.Pos())
			r.add(p, p, "_ ")
			r.res.osOrig = ""
		} else {
			if imp.Name.Name != r.osName {
				continue
			}
			r.add(r.off(imp.Name.Pos()), r.off(imp.Name.End()), "_")
			r.res.osOrig = imp.Name.Name
		}
		r.res.osBlank = imp
		return
	}
}
