package instrument

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRewriteFile measures the in-place rewrite of a typical traced file
// (strip, parse, plan, render) without package loading.
func BenchmarkRewriteFile(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "golden", "closures", "input.go"))
	if err != nil {
		b.Fatal(err)
	}
	files := []*srcFile{{path: "/src/p.go", orig: src}}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := processPackage(Config{}, "p", "closures", files, nil, ""); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkSkipFile measures a file with no directive: it must not be parsed.
func BenchmarkSkipFile(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "golden", "closures", "input.go"))
	if err != nil {
		b.Fatal(err)
	}
	plain := bytes.ReplaceAll(src, []byte("//trace:"), []byte("// trace "))
	files := []*srcFile{{path: "/src/p.go", orig: plain}}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		res, errs := processPackage(Config{}, "p", "p", files, nil, "")
		if len(errs) > 0 || res[0].Changed {
			b.Fatal("unexpected change", errs)
		}
	}
}

// BenchmarkStripSource measures undoing the instrumentation of a file.
func BenchmarkStripSource(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "golden", "closures", "want.go.golden"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := StripSource(src); err != nil {
			b.Fatal(err)
		}
	}
}
