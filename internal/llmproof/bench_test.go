package llmproof

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkDepsRebuild measures a warm `tracegen go build` (tracegen's
// cache and the go build cache filled, nothing changed) with the
// dependencies' SDK calls rewritten (deps=true, the default) and without
// (-deps=false): what finding and reusing the rewritten dependencies costs
// per build, for langchaingo chains and for eino's compose/chain example
// (whose rules name eino's own types, so most of eino and eino-ext is
// rewritten).
//
//	go test -run '^$' -bench DepsRebuild ./internal/llmproof
func BenchmarkDepsRebuild(b *testing.B) {
	for _, c := range []struct{ prog, pkg string }{
		{"langchainchains", "."},
		{filepath.Join("authors", "eino-compose-chain"), "./compose/chain"},
	} {
		b.Run(filepath.Base(c.prog), func(b *testing.B) { benchRebuild(b, c.prog, c.pkg) })
	}
}

// benchRebuild times warm builds of package pkg of the program prog.
func benchRebuild(b *testing.B, prog, pkg string) {
	tool := tracegenTool(b)
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(b), "testdata", "llm", prog))); err != nil {
		b.Fatal(err)
	}
	b.Setenv("GOFLAGS", "-mod=mod")
	b.Setenv("TRACEGEN_CACHE", filepath.Join(b.TempDir(), "cache"))
	edit := exec.Command("go", "mod", "edit", "-require=github.com/tracegen-dev/tracegen/runtime@v0.0.0",
		"-replace=github.com/tracegen-dev/tracegen/runtime="+filepath.Join(repoRoot(b), "runtime"))
	edit.Dir = dir
	if out, err := edit.CombinedOutput(); err != nil {
		b.Fatalf("go mod edit: %v\n%s", err, out)
	}
	for _, deps := range []string{"true", "false"} {
		build := func() {
			cmd := exec.Command(tool, "-deps="+deps, "go", "build", "-o", filepath.Join(dir, "prog"), pkg)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("tracegen go build: %v\n%s", err, out)
			}
		}
		build() // fill the caches
		b.Run("deps="+deps, func(b *testing.B) {
			for b.Loop() {
				build()
			}
		})
	}
}
