package instrument

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// StripSource removes tracegen instrumentation from one file's source, returning
// the exact bytes the file had before it was instrumented.
//
// It recognises only what the in-place rewrite produces: import declarations
// documented with //tracegen:generated, the statements at the top of a body
// that call the runtime through that import, the //tracegen:was markers that
// record replaced signature and layout text, Fork/Bind/Exit calls and wrapper calls.
// Imports that goimports merged into the import block are recognised by their
// tracegen alias when nothing but generated code uses them. A file without
// the import marker is returned unchanged.
func StripSource(src []byte) ([]byte, error) {
	return stripFile("", src)
}

func stripFile(filename string, src []byte) ([]byte, error) {
	if !bytes.Contains(src, []byte(importMarker)) {
		return src, nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("strip: %w", err)
	}
	exclude := map[string]bool{}
	for {
		s := &stripper{fset: fset, file: f, src: src, wrappers: map[string]bool{}, exclude: exclude}
		if err := s.run(); err != nil {
			return nil, err
		}
		out, err := applyEdits(src, s.edits)
		if err != nil {
			return nil, fmt.Errorf("strip %s: %w", filename, err)
		}
		// An unmarked import taken for ours must have had no other use.
		retry := false
		for _, alias := range s.fallback {
			used := map[string]bool{}
			scanIdents(out, alias, used)
			if used[alias] {
				exclude[alias] = true
				retry = true
			}
		}
		if !retry {
			return out, nil
		}
	}
}

// generatedAlias matches the names tracegen gives its imports.
var generatedAlias = regexp.MustCompile(`^tracegen(\d*|[A-Z][A-Za-z0-9]*\d*)$`)

// findMergedImports handles files where a tool such as goimports merged the
// generated import declarations into the file's import block, leaving the
// //tracegen:generated comments behind: imports of the runtime (or of a
// wrapper) under a tracegen alias count as generated, and the marker
// comments are dropped.
func (s *stripper) findMergedImports(marked map[*ast.CommentGroup]bool) error {
	var cut []edit // deletions, merged before use (they may overlap)
	for _, cg := range s.file.Comments {
		if marked[cg] {
			continue
		}
		for _, c := range cg.List {
			if !strings.HasPrefix(c.Text, importMarker) {
				continue
			}
			if err := s.markerInfo(c); err != nil {
				return err
			}
			start, end := s.off(c.Slash), s.off(c.End())
			ls := lineStart(s.src, start)
			if strings.TrimSpace(string(s.src[ls:start])) == "" && end < len(s.src) && s.src[end] == '\n' {
				cut = append(cut, edit{ls, end + 1, ""})
			} else {
				cut = append(cut, edit{start, end, ""})
			}
		}
	}
	for _, decl := range s.file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT || !gd.Lparen.IsValid() {
			continue
		}
		for _, spec := range gd.Specs {
			imp := spec.(*ast.ImportSpec)
			path, _ := strconv.Unquote(imp.Path.Value)
			bridge := imp.Name != nil && imp.Name.Name == "_" && path == OTelBridgePath
			if !bridge && (imp.Name == nil || !generatedAlias.MatchString(imp.Name.Name) || s.exclude[imp.Name.Name]) {
				continue
			}
			name := imp.Name.Name
			switch {
			case bridge:
				// the generated blank import of package main, merged too
			case path == RuntimePath && s.runtime == "":
				s.runtime = name
			case path != RuntimePath && name != "tracegen" && !s.wrappers[name]:
				s.wrappers[name] = true
			default:
				continue
			}
			if !bridge {
				s.fallback = append(s.fallback, name)
			}
			// Remove the spec's line and the blank or marker lines above it.
			end := lineEnd(s.src, s.off(imp.End()))
			if end < len(s.src) {
				end++
			}
			start := lineStart(s.src, s.off(imp.Pos()))
			for start > 0 {
				prev := lineStart(s.src, start-1)
				text := strings.TrimSpace(string(s.src[prev : start-1]))
				if text != "" && !strings.HasPrefix(text, importMarker) {
					break
				}
				start = prev
			}
			cut = append(cut, edit{start, end, ""})
		}
	}
	sort.Slice(cut, func(i, j int) bool { return cut[i].pos < cut[j].pos })
	for i := 0; i < len(cut); i++ {
		e := cut[i]
		for i+1 < len(cut) && cut[i+1].pos <= e.end {
			e.end = max(e.end, cut[i+1].end)
			i++
		}
		s.edits = append(s.edits, e)
	}
	return nil
}

// markerInfo reads the optional os= part of an import marker.
func (s *stripper) markerInfo(c *ast.Comment) error {
	rest := strings.TrimPrefix(c.Text, importMarker)
	if rest == "" {
		return nil
	}
	v, ok := strings.CutPrefix(rest, " os=")
	if !ok {
		return s.errorf(c.Pos(), "bad marker %q", c.Text)
	}
	name, err := strconv.Unquote(v)
	if err != nil {
		return s.errorf(c.Pos(), "bad marker %q", c.Text)
	}
	s.osOrig = &name
	return nil
}

// lineStart returns the offset of the first byte of the line containing off.
func lineStart(src []byte, off int) int {
	for off > 0 && src[off-1] != '\n' {
		off--
	}
	return off
}

type stripper struct {
	fset     *token.FileSet
	file     *ast.File
	src      []byte
	edits    []edit
	runtime  string            // alias of the runtime import ("" if none)
	wrappers map[string]bool   // aliases of wrapper imports
	osOrig   *string           // original name of a blanked os import
	regions  [][2]int          // restored byte ranges; other edits inside are dropped
	fallback []string          // aliases of unmarked imports taken for generated ones
	exclude  map[string]bool   // aliases known to be the user's own
	defs     map[string]string // definition variable -> its //tracegen:was marker ("" if none)
}

func (s *stripper) off(p token.Pos) int { return s.fset.PositionFor(p, false).Offset }

func (s *stripper) errorf(p token.Pos, format string, args ...any) error {
	return &Error{Pos: s.fset.PositionFor(p, false), Msg: "strip: " + fmt.Sprintf(format, args...)}
}

func (s *stripper) run() error {
	marked := map[*ast.CommentGroup]bool{}
	for _, decl := range s.file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT || gd.Doc == nil || gd.Lparen.IsValid() || len(gd.Specs) != 1 {
			continue
		}
		last := gd.Doc.List[len(gd.Doc.List)-1].Text
		if len(gd.Doc.List) != 1 || !strings.HasPrefix(last, importMarker) {
			continue
		}
		spec := gd.Specs[0].(*ast.ImportSpec)
		if spec.Name == nil {
			return s.errorf(gd.Pos(), "generated import has no name")
		}
		path, _ := strconv.Unquote(spec.Path.Value)
		if path == RuntimePath {
			s.runtime = spec.Name.Name
		} else {
			s.wrappers[spec.Name.Name] = true
		}
		if err := s.markerInfo(gd.Doc.List[0]); err != nil {
			return err
		}
		marked[gd.Doc] = true
		start := s.off(gd.Doc.Pos())
		if start < 2 || string(s.src[start-2:start]) != "\n\n" {
			return s.errorf(gd.Pos(), "generated import not preceded by a blank line")
		}
		s.edits = append(s.edits, edit{start - 2, s.off(gd.End()), ""})
	}
	for _, decl := range s.file.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && isDefinitions(gd) {
			marked[gd.Doc] = true // not a merged import's leftover
		}
	}
	if err := s.findMergedImports(marked); err != nil {
		return err
	}
	if s.runtime == "" && len(s.wrappers) == 0 {
		return nil
	}
	s.findDefinitions()
	osName := "os"
	if s.osOrig != nil {
		if err := s.unblankOS(); err != nil {
			return err
		}
		if *s.osOrig != "" {
			osName = *s.osOrig
		}
	} else {
		for _, imp := range s.file.Imports {
			if imp.Path.Value == `"os"` && imp.Name != nil && imp.Name.Name != "_" && imp.Name.Name != "." {
				osName = imp.Name.Name
				break
			}
		}
	}
	var err error
	ast.Inspect(s.file, func(n ast.Node) bool {
		if err != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.FuncDecl:
			if x.Body != nil {
				err = s.stripFunc(x.Type, x.Body)
			}
		case *ast.FuncLit:
			err = s.stripFunc(x.Type, x.Body)
		case *ast.GoStmt:
			s.stripFork(x.Call)
		case *ast.CallExpr:
			err = s.stripCall(x, osName)
		}
		return true
	})
	if err != nil {
		return err
	}
	// Drop edits that fall inside a restored region.
	var kept []edit
	for _, e := range s.edits {
		inside := false
		for _, rg := range s.regions {
			if e.pos >= rg[0] && e.end <= rg[1] && !(e.pos == rg[0] && e.end == rg[1]) {
				inside = true
			}
		}
		if !inside {
			kept = append(kept, e)
		}
	}
	s.edits = kept
	return nil
}

func (s *stripper) unblankOS() error {
	for _, imp := range s.file.Imports {
		if imp.Path.Value == `"os"` && imp.Name != nil && imp.Name.Name == "_" {
			p := s.off(imp.Name.Pos())
			if *s.osOrig == "" {
				s.edits = append(s.edits, edit{p, p + 2, ""})
			} else {
				s.edits = append(s.edits, edit{p, p + 1, *s.osOrig})
			}
			return nil
		}
	}
	return s.errorf(s.file.Package, "marker names a blank os import but there is none")
}

// isRuntimeCall reports whether e is a call alias.<one of names>(...).
func (s *stripper) isRuntimeCall(e ast.Expr, names ...string) (*ast.CallExpr, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || s.runtime == "" {
		return nil, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil, false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Name != s.runtime {
		return nil, false
	}
	for _, n := range names {
		if sel.Sel.Name == n {
			return call, true
		}
	}
	return nil, false
}

// generatedPrefix counts the generated statements at the top of body.
func (s *stripper) generatedPrefix(body *ast.BlockStmt) int {
	k := 0
	list := body.List
	if k < len(list) {
		if d, ok := list[k].(*ast.DeferStmt); ok {
			if _, ok := s.isRuntimeCall(d.Call, "Stop"); ok {
				k++
			}
		}
	}
	if k >= len(list) {
		return k
	}
	as, ok := list[k].(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Rhs) != 1 {
		return k
	}
	if _, ok := s.isRuntimeCall(as.Rhs[0], "Start", "Begin"); !ok && s.definitionOf(as) == "" {
		return k
	}
	k++
	for k < len(list) {
		switch x := list[k].(type) {
		case *ast.ExprStmt:
			if !isSpanMethod(x.X, "RecordInput") {
				return k
			}
			k++
		case *ast.DeferStmt:
			if isSpanMethod(x.Call, "Return") || isSpanMethod(x.Call, "ReturnOutput") {
				return k + 1 // defer span.Return(&err)
			}
			// defer func() { span.Finish(err, recover()) }(), as tracegen
			// generated before Return.
			lit, ok := x.Call.Fun.(*ast.FuncLit)
			if !ok || len(lit.Body.List) == 0 {
				return k
			}
			es, ok := lit.Body.List[len(lit.Body.List)-1].(*ast.ExprStmt)
			if !ok || !isSpanMethod(es.X, "Finish") {
				return k
			}
			return k + 1
		default:
			return k
		}
	}
	return k
}

func isSpanMethod(e ast.Expr, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}

func (s *stripper) stripFunc(typ *ast.FuncType, body *ast.BlockStmt) error {
	k := s.generatedPrefix(body)
	if k == 0 {
		return nil
	}
	gen := body.List[:k]
	firstLineEnd := lineEnd(s.src, s.off(gen[0].End()))
	var marker string
	for _, st := range gen {
		if as, ok := st.(*ast.AssignStmt); ok {
			if v := s.definitionOf(as); v != "" {
				marker = s.defs[v]
			}
		}
	}
	for _, cg := range s.file.Comments {
		for _, c := range cg.List {
			o := s.off(c.Slash)
			if o >= s.off(gen[0].End()) && o < firstLineEnd && strings.HasPrefix(c.Text, wasMarker) {
				marker = c.Text
			}
		}
	}
	m, err := parseWas(marker)
	if err != nil {
		return s.errorf(gen[0].Pos(), "%v", err)
	}
	lb, rb := s.off(body.Lbrace), s.off(body.Rbrace)
	if m.params != nil {
		p, e := s.off(typ.Params.Opening), s.off(typ.Params.Closing)+1
		s.edits = append(s.edits, edit{p, e, *m.params})
		s.regions = append(s.regions, [2]int{p, e})
	}
	if m.results != nil {
		p := s.off(typ.Params.Closing) + 1
		s.edits = append(s.edits, edit{p, lb, *m.results})
		s.regions = append(s.regions, [2]int{p, lb})
	}
	if m.gaps == nil {
		// A region: calls inside the generated lines (the propagation
		// wrapper of a handler's Start) go with them.
		p, e := lineEnd(s.src, lb+1), lineEnd(s.src, s.off(gen[k-1].End()))
		s.edits = append(s.edits, edit{p, e, ""})
		s.regions = append(s.regions, [2]int{p, e})
		return nil
	}
	user := body.List[k:]
	if len(m.gaps) != len(user)+1 || len(user) == 0 && len(m.gaps) != 1 {
		return s.errorf(gen[0].Pos(), "marker has %d gaps for %d statements", len(m.gaps), len(user))
	}
	if len(user) == 0 {
		s.edits = append(s.edits, edit{lb + 1, rb, m.gaps[0]})
		s.regions = append(s.regions, [2]int{lb + 1, rb})
		return nil
	}
	add := func(p, e int, text string) {
		s.edits = append(s.edits, edit{p, e, text})
		s.regions = append(s.regions, [2]int{p, e})
	}
	add(lb+1, s.off(user[0].Pos()), m.gaps[0])
	for i := 1; i < len(user); i++ {
		add(s.off(stmtEnd(user[i-1])), s.off(user[i].Pos()), m.gaps[i])
	}
	add(s.off(stmtEnd(user[len(user)-1])), rb, m.gaps[len(user)])
	return nil
}

type wasInfo struct {
	params, results *string
	gaps            []string
}

// parseWas reads a //tracegen:was marker ("" gives an empty wasInfo).
func parseWas(text string) (wasInfo, error) {
	var w wasInfo
	if text == "" {
		return w, nil
	}
	rest := strings.TrimPrefix(text, wasMarker)
	for rest != "" {
		rest = strings.TrimPrefix(rest, " ")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return w, fmt.Errorf("bad marker %q", text)
		}
		rest = after
		var vals []string
		for {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return w, fmt.Errorf("bad marker %q", text)
			}
			v, _ := strconv.Unquote(q)
			vals = append(vals, v)
			rest = rest[len(q):]
			if !strings.HasPrefix(rest, ",") {
				break
			}
			rest = rest[1:]
		}
		switch key {
		case "params":
			w.params = &vals[0]
		case "results":
			w.results = &vals[0]
		case "gaps":
			w.gaps = vals
		default:
			return w, fmt.Errorf("bad marker %q", text)
		}
	}
	return w, nil
}

// findDefinitions reads the block of definitions (a var declaration
// documented //tracegen:generated), records each variable's marker and
// removes the block with what was added before it.
func (s *stripper) findDefinitions() {
	s.defs = map[string]string{}
	for _, decl := range s.file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || !isDefinitions(gd) {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			marker := ""
			if vs.Doc != nil {
				for _, c := range vs.Doc.List {
					if strings.HasPrefix(c.Text, wasMarker) {
						marker = c.Text
					}
				}
			}
			for _, n := range vs.Names {
				s.defs[n.Name] = marker
			}
		}
		// The block and the newlines added before it: one blank line, or,
		// in a file that had no final newline, a newline too.
		start, end := s.off(gd.Doc.Pos())-1, s.off(gd.End())
		if end < len(s.src) && s.src[end] == '\n' {
			end++
		} else {
			start--
		}
		s.edits = append(s.edits, edit{max(start, 0), end, ""})
	}
}

// isDefinitions reports whether gd is a block of definitions: a var
// declaration documented //tracegen:generated.
func isDefinitions(gd *ast.GenDecl) bool {
	return gd.Tok == token.VAR && gd.Doc != nil && len(gd.Doc.List) == 1 && gd.Doc.List[0].Text == importMarker
}

// definitionOf returns the definition variable that as starts its span
// from (span := v.Begin(), v.Start(ctx), ctx, span := v.StartContext(ctx)),
// or "".
func (s *stripper) definitionOf(as *ast.AssignStmt) string {
	if len(as.Rhs) != 1 {
		return ""
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	if _, def := s.defs[id.Name]; !def {
		return ""
	}
	switch sel.Sel.Name {
	case "Begin", "Start", "StartContext":
		return id.Name
	}
	return ""
}

// stripFork turns go alias.Fork(span, f)(args) back into go f(args), and
// go alias.Bind(span, f)(args), which earlier versions generated.
func (s *stripper) stripFork(call *ast.CallExpr) {
	inner, ok := s.isRuntimeCall(call.Fun, "Fork", "Bind")
	if !ok || len(inner.Args) != 2 {
		return
	}
	f := inner.Args[1]
	s.edits = append(s.edits, edit{s.off(inner.Pos()), s.off(f.Pos()), ""}, edit{s.off(f.End()), s.off(inner.End()), ""})
}

// stripCall undoes Exit and wrapper-call rewrites.
func (s *stripper) stripCall(call *ast.CallExpr, osName string) error {
	if _, ok := s.isRuntimeCall(call, "Exit"); ok {
		sel := call.Fun.(*ast.SelectorExpr)
		s.edits = append(s.edits, edit{s.off(sel.Pos()), s.off(sel.End()), osName + ".Exit"})
		return nil
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || !s.wrappers[id.Name] {
		return nil
	}
	i := 0
	for i < len(call.Args) {
		if _, lit := call.Args[i].(*ast.BasicLit); !lit {
			break
		}
		i++
	}
	if strings.HasPrefix(sel.Sel.Name, "Method") {
		i++ // the receiver, before the method value
	}
	if i >= len(call.Args) {
		return s.errorf(call.Pos(), "wrapper call without the wrapped function")
	}
	fun := call.Args[i]
	fe := s.off(fun.End())
	s.edits = append(s.edits, edit{s.off(call.Pos()), s.off(fun.Pos()), ""})
	switch {
	case i == len(call.Args)-1 && fe == s.off(call.Rparen):
		s.edits = append(s.edits, edit{fe, fe, "("})
	case fe < len(s.src) && s.src[fe] == ',':
		n := 1
		if fe+1 < len(s.src) && s.src[fe+1] == ' ' {
			n = 2
		}
		s.edits = append(s.edits, edit{fe, fe + n, "("})
	default:
		return s.errorf(fun.End(), "unexpected text after the wrapped function")
	}
	return nil
}
