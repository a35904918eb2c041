package instrument

import (
	"fmt"
	"go/format"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Definitions: the fixed part of a traced function's spans.
//
// Each traced function gets one package-level variable, built once when the
// package initialises, that holds its span name and start options:
//
//	//tracegen:generated
//	var (
//		tracegenPlan = tracegen.Define("planner", tracegen.TypeAgent)
//	)
//
// so the function's body starts with one short line, span :=
// tracegenPlan.Start(ctx). In place, the block goes at the end of the file,
// formatted as gofmt would; the //tracegen:was marker that lets -strip give
// back a changed signature or layout sits on a comment line above the
// variable, not in the function. In an overlay the block is one line at the
// end of the file, after every original line.

// maxDefLine is the width generated definitions are wrapped to.
const maxDefLine = 100

// definition is one traced function's variable.
type definition struct {
	varName string
	call    string // Define(...) expression
	marker  string // //tracegen:was ... for -strip, or ""
}

// define plans the definition of a traced function; goName is unique in
// the package (Func, Type_Method, Func_func2).
func (r *rewriter) define(goName, spanName string, d *Directive) *definition {
	args := []string{strconv.Quote(spanName)}
	args = append(args, d.options(r.alias)...)
	def := &definition{varName: r.defVarName(goName), call: r.alias + ".Define(" + strings.Join(args, ", ") + ")"}
	r.defs = append(r.defs, def)
	return def
}

// defVarName returns tracegen<GoName>, or tracegen_<goName> where the first
// could be another function's (Plan and plan, a method T.M and a function
// T_M), or where the program already uses the name. It depends only on the
// package's own names, so every file of a package agrees without talking.
func (r *rewriter) defVarName(goName string) string {
	up := upperFirst(goName)
	name := "tracegen" + up
	if r.taken[name] || up != goName && r.funcs[up] || strings.Contains(goName, "_") && r.funcs[goName] {
		name = "tracegen_" + goName
	}
	for r.taken[name] {
		name += "_"
	}
	return name
}

func upperFirst(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	if !unicode.IsLower(c) {
		return s
	}
	return string(unicode.ToUpper(c)) + s[n:]
}

// emitDefinitions appends the file's definitions block.
func (r *rewriter) emitDefinitions() {
	if len(r.defs) == 0 {
		return
	}
	end := len(r.src)
	if r.mode == Overlay {
		var b strings.Builder
		b.WriteString("\nvar (")
		for _, d := range r.defs {
			fmt.Fprintf(&b, "%s = %s; ", d.varName, d.call)
		}
		b.WriteString(")\n")
		r.add(end, end, b.String())
		return
	}
	var b strings.Builder
	b.WriteString("package p\n\n" + importMarker + "\nvar (\n")
	for _, d := range r.defs {
		if d.marker != "" {
			b.WriteString("\t" + d.marker + "\n")
		}
		b.WriteString(wrapDef("\t"+d.varName+" = ", d.call) + "\n")
	}
	b.WriteString(")\n")
	out, err := format.Source([]byte(b.String()))
	if err != nil {
		r.errorf(r.fset.PositionFor(r.file.Package, false), "internal error: generated definitions do not format: %v", err)
		return
	}
	block := strings.TrimPrefix(strings.TrimPrefix(string(out), "package p\n"), "\n")
	if end > 0 && r.src[end-1] != '\n' {
		// A file without a final newline keeps none: -strip tells the two
		// cases apart by the block's end.
		block = "\n\n" + strings.TrimSuffix(block, "\n")
	} else {
		block = "\n" + block
	}
	r.add(end, end, block)
}

// wrapDef writes prefix+call, breaking the call's argument list after
// commas so that no line is wider than maxDefLine (tabs count 4).
func wrapDef(prefix, call string) string {
	if width(prefix+call) <= maxDefLine {
		return prefix + call
	}
	open := strings.IndexByte(call, '(')
	args := splitArgs(call[open+1 : len(call)-1])
	var b strings.Builder
	line := prefix + call[:open+1]
	for i, a := range args {
		piece := a
		if i < len(args)-1 {
			piece += ","
		} else {
			piece += ")"
		}
		if i > 0 && width(line+" "+piece) > maxDefLine {
			b.WriteString(line + "\n")
			line = "\t\t" + piece
			continue
		}
		if i > 0 {
			line += " "
		}
		line += piece
	}
	b.WriteString(line)
	return b.String()
}

func width(s string) int { return len(s) + 3*strings.Count(s, "\t") }

// splitArgs splits a Go argument list at its top-level commas.
func splitArgs(s string) []string {
	var args []string
	depth, start := 0, 0
	inStr := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr != 0:
			if c == '\\' && inStr == '"' {
				i++
			} else if c == inStr {
				inStr = 0
			}
		case c == '"' || c == '`':
			inStr = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			args = append(args, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(args, strings.TrimSpace(s[start:]))
}
