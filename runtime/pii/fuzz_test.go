package pii

import (
	"strings"
	"testing"
)

// FuzzFind: on any text, findings are in bounds, ordered, non-overlapping,
// and every mode redacts without panicking; redact mode replaces every
// finding.
func FuzzFind(f *testing.F) {
	for _, c := range corpus {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := Find(s, AllTypes)
		last := 0
		for _, x := range fs {
			if x.Start < last || x.End <= x.Start || x.End > len(s) {
				t.Fatalf("bad finding %+v in %q (previous end %d)", x, s, last)
			}
			last = x.End
		}
		for _, m := range []Mode{ModeMask, ModeRedact, ModeHash} {
			out := New(m, nil, []byte("k")).Redact(s)
			if m == ModeRedact {
				for _, x := range fs {
					// Each finding is replaced: its text occurs fewer times
					// (it may also occur elsewhere, unflagged).
					if v := s[x.Start:x.End]; strings.Count(out, v) >= strings.Count(s, v) {
						t.Fatalf("redacted text %q still contains every %q", out, v)
					}
				}
			}
		}
	})
}
