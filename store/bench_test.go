package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkIngest ingests a JSONL file of 100k spans into a fresh store.
func BenchmarkIngest(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "spans.jsonl")
	writeGen(b, path, 0, n)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for b.Loop() {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "traces.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := s.IngestFiles(context.Background(), []string{path}, nil)
		if err != nil || res.Added != n {
			b.Fatalf("%v %+v", err, res)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "spans/s")
}
