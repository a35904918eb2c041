package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"insert in middle", "a\nb\nc\n", "a\nb\nx\nc\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n b\n+x\n c\n"},
		{"delete only line", "a\n", "", "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n"},
		{"into empty", "", "a\n", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\n"},
		{"no newline at end", "a\nb", "a\nc", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{
			"two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n",
			"--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n",
		},
		{
			"close changes share a hunk",
			"1\n2\n3\n4\n5\n6\n7\n8\n",
			"1\nX\n3\n4\n5\n6\nY\n8\n",
			"--- a/f\n+++ b/f\n@@ -1,8 +1,8 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n-7\n+Y\n 8\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(unifiedDiff("a/f", "b/f", []byte(tt.old), []byte(tt.new)))
			if got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// applyUnified applies a diff made by unifiedDiff to old (test helper).
func applyUnified(t testing.TB, old []byte, diff []byte) []byte {
	t.Helper()
	a := splitLines(old)
	var out [][]byte
	lines := splitLines(diff)
	next := 0 // next line of a to copy
	for i := 2; i < len(lines); {
		f := strings.Fields(string(lines[i])) // @@ -start[,count] +start[,count] @@
		startText, countText, hasCount := strings.Cut(strings.TrimPrefix(f[1], "-"), ",")
		start, err := strconv.Atoi(startText)
		if err != nil {
			t.Fatalf("bad hunk header %q", lines[i])
		}
		if !(hasCount && countText == "0") {
			start-- // 1-based first line; an empty range names the line before
		}
		for next < start {
			out = append(out, a[next])
			next++
		}
		i++
		for i < len(lines) && !bytes.HasPrefix(lines[i], []byte("@@")) {
			l := lines[i]
			switch l[0] {
			case ' ':
				out = append(out, a[next])
				next++
			case '-':
				next++
			case '+':
				out = append(out, l[1:])
			case '\\':
				// The line before has no newline: in the new text only if it was kept or added.
				if lines[i-1][0] != '-' {
					out[len(out)-1] = bytes.TrimSuffix(out[len(out)-1], []byte("\n"))
				}
			}
			i++
		}
	}
	out = append(out, a[next:]...)
	return bytes.Join(out, nil)
}

// TestUnifiedDiffRoundTrip checks, on random edits, that applying the diff
// gives the new text back and that patch(1), when installed, agrees.
func TestUnifiedDiffRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a\n", "b\n", "c\n", "func f() {\n", "}\n", "\n", "x := 1\n"}
	gen := func(n int) []byte {
		var b bytes.Buffer
		for range n {
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.Bytes()
	}
	patch, _ := exec.LookPath("patch")
	for i := range 300 {
		old := gen(r.IntN(40))
		var nw []byte
		if i%3 == 0 {
			nw = gen(r.IntN(40))
		} else {
			// small edits of old, like an instrumentation
			for _, l := range splitLines(old) {
				switch r.IntN(8) {
				case 0:
				case 1:
					nw = append(nw, words[r.IntN(len(words))]...)
					nw = append(nw, l...)
				default:
					nw = append(nw, l...)
				}
			}
		}
		d := unifiedDiff("a/f", "b/f", old, nw)
		if got := applyUnified(t, old, d); !bytes.Equal(got, nw) {
			t.Fatalf("case %d: applying the diff\n%s\nto %q gives %q, want %q", i, d, old, got, nw)
		}
		if patch != "" && i < 40 && len(d) > 0 {
			dir := t.TempDir()
			f := filepath.Join(dir, "f")
			if err := os.WriteFile(f, old, 0o666); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(patch, "-s", "-p1", "--no-backup-if-mismatch")
			cmd.Dir = dir
			cmd.Stdin = bytes.NewReader(d)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("case %d: patch: %v\n%s\ndiff:\n%s", i, err, out, d)
			}
			if got, _ := os.ReadFile(f); !bytes.Equal(got, nw) {
				t.Fatalf("case %d: patch gives %q, want %q", i, got, nw)
			}
		}
	}
}

func TestMyersIsMinimal(t *testing.T) {
	// The edit script's insert+delete count equals len(a)+len(b)-2*LCS.
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		a, b := randLines(r, r.IntN(15)), randLines(r, r.IntN(15))
		changes := 0
		for _, e := range myers(a, b) {
			if e.kind != opEqual {
				changes++
			}
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("myers(%q, %q): %d changes, want %d", a, b, changes, want)
		}
	}
}

func randLines(r *rand.Rand, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte{byte('a' + r.IntN(3)), '\n'}
	}
	return out
}

func lcs(a, b [][]byte) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if bytes.Equal(a[i], b[j]) {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// FuzzUnifiedDiff: for any two texts, applying the diff of a to b gives b.
//
//	go test -run '^$' -fuzz FuzzUnifiedDiff ./cmd/tracegen
func FuzzUnifiedDiff(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nx\nc\n"))
	f.Add([]byte("a\nb"), []byte("a\nb\n"))
	f.Add([]byte(""), []byte("\n\n"))
	f.Add([]byte("package p\n\nfunc F() {}\n"), []byte("package p\n\nfunc F() {\n\tspan := tracegen.Begin(\"p.F\")\n}\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		d := unifiedDiff("a/f", "b/f", a, b)
		if bytes.Equal(a, b) != (d == nil) {
			t.Fatalf("equal=%v but diff %q", bytes.Equal(a, b), d)
		}
		if got := applyUnified(t, a, d); !bytes.Equal(got, b) {
			t.Fatalf("applying\n%s\nto %q gives %q, want %q", d, a, got, b)
		}
	})
}
