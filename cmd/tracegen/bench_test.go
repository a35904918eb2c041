package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkOverlayPrepare measures what `tracegen go build` adds before the
// go command runs, on a two-package module with one traced function in each:
// "cached" with nothing changed (scan, hash, cache hits), "edited" after an
// edit of one package (that package is rewritten again).
//
//	go test -run '^$' -bench OverlayPrepare ./cmd/tracegen
func BenchmarkOverlayPrepare(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/two\n\ngo 1.26.0\n\nrequire github.com/tracegen-dev/tracegen v0.0.0\n\nreplace github.com/tracegen-dev/tracegen => " + root + "\n",
		"main.go": "package main\n\nimport (\n\t\"context\"\n\n\t\"example.com/two/lib\"\n)\n\n" +
			"//trace:span\nfunc handle(ctx context.Context, n int) int { return lib.Double(ctx, n) }\n\nfunc main() { println(handle(context.Background(), 21)) }\n",
		"lib/lib.go": "package lib\n\nimport \"context\"\n\n//trace:tool\nfunc Double(ctx context.Context, n int) int { return 2 * n }\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			b.Fatal(err)
		}
	}
	b.Setenv("TRACEGEN_CACHE", filepath.Join(b.TempDir(), "cache"))
	a := &app{dir: dir, stdout: io.Discard, stderr: io.Discard}
	inv := &goInvocation{sub: "build"}
	prepare := func(b *testing.B) {
		overlay, err := a.prepareOverlay(inv, time.Now())
		if err != nil || overlay == "" {
			b.Fatalf("prepareOverlay = %q, %v (exit %d)", overlay, err, a.code)
		}
	}
	prepare(b) // fill the cache
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			prepare(b)
		}
	})
	b.Run("edited", func(b *testing.B) {
		lib := filepath.Join(dir, "lib", "lib.go")
		for b.Loop() {
			b.StopTimer()
			// A new text every time, also across -count runs: never a cache hit.
			edit := fmt.Sprintf("\n// edit %d\n", time.Now().UnixNano())
			if err := os.WriteFile(lib, []byte(files["lib/lib.go"]+edit), 0o666); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			prepare(b)
		}
	})
}
