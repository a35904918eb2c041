package main

import (
	"bytes"
	"fmt"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// opKind is one step of an edit script.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// edit is one line of an edit script: the line, and its index in a (delete,
// equal) or b (insert).
type edit struct {
	kind opKind
	a, b int // line indexes in the old and new text (the one not moved is the next line)
}

// splitLines splits text into lines, each keeping its "\n" (the last may lack it).
func splitLines(text []byte) [][]byte {
	var lines [][]byte
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			lines = append(lines, text)
			break
		}
		lines = append(lines, text[:i+1])
		text = text[i+1:]
	}
	return lines
}

// myers returns a shortest edit script turning a into b (Myers' O(ND) algorithm).
func myers(a, b [][]byte) []edit {
	n, m := len(a), len(b)
	max := n + m
	off := max + 1
	v := make([]int, 2*max+3)
	var trace [][]int // trace[d] holds v[k] for k in [-d, d] before step d
	found := -1
	for d := 0; d <= max && found < 0; d++ {
		snap := make([]int, 2*d+1)
		copy(snap, v[off-d:off+d+1])
		trace = append(trace, snap)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && bytes.Equal(a[x], b[y]) {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	// Walk back from (n, m), collecting the script in reverse.
	var rev []edit
	x, y := n, m
	for d := found; d > 0; d-- {
		snap := trace[d]
		at := func(k int) int { return snap[k+d] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{opEqual, x, y})
		}
		if x == prevX {
			rev = append(rev, edit{opInsert, x, prevY})
		} else {
			rev = append(rev, edit{opDelete, prevX, y})
		}
		x, y = prevX, prevY
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, edit{opEqual, x, y})
	}
	script := make([]edit, len(rev))
	for i, e := range rev {
		script[len(rev)-1-i] = e
	}
	return script
}

// unifiedDiff returns a unified diff (as diff -u and patch understand it)
// turning old into new, or nil when they are equal.
func unifiedDiff(oldName, newName string, old, new []byte) []byte {
	if bytes.Equal(old, new) {
		return nil
	}
	a, b := splitLines(old), splitLines(new)
	script := myers(a, b)
	var out bytes.Buffer
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for i := 0; i < len(script); {
		// Find the next change.
		for i < len(script) && script[i].kind == opEqual {
			i++
		}
		if i == len(script) {
			break
		}
		start := max(i-diffContext, 0)
		// Extend the hunk while the gap to the next change is small.
		end := i
		for j := i; j < len(script); j++ {
			if script[j].kind != opEqual {
				end = j + 1
				continue
			}
			if j-end >= 2*diffContext {
				break
			}
		}
		end = min(end+diffContext, len(script))
		writeHunk(&out, a, b, script[start:end])
		i = end
	}
	return out.Bytes()
}

// writeHunk writes one @@ hunk covering the edits in h.
func writeHunk(out *bytes.Buffer, a, b [][]byte, h []edit) {
	var na, nb int
	for _, e := range h {
		switch e.kind {
		case opEqual:
			na++
			nb++
		case opDelete:
			na++
		case opInsert:
			nb++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(h[0].a, na), hunkRange(h[0].b, nb))
	for _, e := range h {
		var line []byte
		if e.kind == opInsert {
			line = b[e.b]
		} else {
			line = a[e.a]
		}
		out.WriteByte(byte(e.kind))
		out.Write(line)
		if len(line) == 0 || line[len(line)-1] != '\n' {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats a hunk's line range: 1-based start, count omitted when 1,
// and the line before the hunk when the range is empty.
func hunkRange(start0, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start0)
	case 1:
		return fmt.Sprintf("%d", start0+1)
	}
	return fmt.Sprintf("%d,%d", start0+1, count)
}
