package instrument

import (
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// edit replaces src[pos:end] with text. Edits of one file never overlap;
// insertions (pos == end) at the same offset keep the order they were made in.
type edit struct {
	pos, end int
	text     string
}

// applyEdits returns src with edits applied. It reports an internal error when
// two edits overlap, which would mean the rewriter planned the same bytes twice.
func applyEdits(src []byte, edits []edit) ([]byte, error) {
	if len(edits) == 0 {
		return src, nil
	}
	sorted := make([]edit, len(edits))
	copy(sorted, edits)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].pos != sorted[j].pos {
			return sorted[i].pos < sorted[j].pos
		}
		// Insertions go before a replacement that starts at the same offset.
		return sorted[i].end == sorted[i].pos && sorted[j].end != sorted[j].pos
	})
	var b strings.Builder
	b.Grow(len(src) + 256)
	last := 0
	for _, e := range sorted {
		if e.pos < last || e.end < e.pos || e.end > len(src) {
			return nil, fmt.Errorf("internal error: overlapping edits at offset %d", e.pos)
		}
		b.Write(src[last:e.pos])
		b.WriteString(e.text)
		last = e.end
	}
	b.Write(src[last:])
	return []byte(b.String()), nil
}

// lineEnd returns the offset of the first '\n' or '\r' at or after off (len(src) if none).
func lineEnd(src []byte, off int) int {
	for i := off; i < len(src); i++ {
		if src[i] == '\n' || src[i] == '\r' {
			return i
		}
	}
	return len(src)
}

// lineIndent returns the leading blanks of the line containing off.
func lineIndent(src []byte, off int) string {
	start := off
	for start > 0 && src[start-1] != '\n' && src[start-1] != '\r' {
		start--
	}
	end := start
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	return string(src[start:end])
}

// identNames collects every identifier spelled inside n.
func identNames(n ast.Node, into map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			into[id.Name] = true
		}
		return true
	})
}

// fresh returns base, or base2, base3, ... : the first not in used, and marks it used.
func fresh(base string, used map[string]bool) string {
	name := base
	for i := 2; used[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// scanIdents adds to into every identifier token of src that starts with prefix.
// It is cheaper than parsing and works on files that do not parse.
func scanIdents(src []byte, prefix string, into map[string]bool) {
	if !strings.Contains(string(src), prefix) {
		return
	}
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return
		}
		if tok == token.IDENT && strings.HasPrefix(lit, prefix) {
			into[lit] = true
		}
	}
}

// stmtEnd is where a statement's own text ends. A label at the end of a block
// ("L: }") holds an implicit empty statement positioned at the closing brace;
// its text ends after the colon.
func stmtEnd(s ast.Stmt) token.Pos {
	if l, ok := s.(*ast.LabeledStmt); ok {
		if e, ok := l.Stmt.(*ast.EmptyStmt); ok && e.Implicit {
			return l.Colon + 1
		}
		return stmtEnd(l.Stmt)
	}
	return s.End()
}
