package llmproof

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkDepsRebuild measures a warm `tracegen go build` of
// testdata/llm/langchainchains (tracegen's cache and the go build cache
// filled, nothing changed) with the dependencies' SDK calls rewritten
// (deps=true, the default) and without (-deps=false): what finding and
// reusing the rewritten dependencies costs per build.
//
//	go test -run '^$' -bench DepsRebuild ./internal/llmproof
func BenchmarkDepsRebuild(b *testing.B) {
	tool := tracegenTool(b)
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(b), "testdata", "llm", "langchainchains"))); err != nil {
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
			cmd := exec.Command(tool, "-deps="+deps, "go", "build", "-o", filepath.Join(dir, "prog"), ".")
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
