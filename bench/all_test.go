package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracegen-dev/tracegen/bench/allwork"
	"github.com/tracegen-dev/tracegen/bench/allwork/traced"
	"github.com/tracegen-dev/tracegen/instrument"
	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// allItems is the items per Run of the workload: 1 + allItems*allwork.Calls
// traced calls.
const allItems = 100

// BenchmarkAllOverhead runs a call-heavy workload as written (plain) and
// instrumented with -all: with tracing off, on with 1% of traces sampled,
// and on with every span exported to a JSONL file (blocking mode, so none
// is dropped). ns/call is the time per traced function call.
func BenchmarkAllOverhead(b *testing.B) {
	ctx := context.Background()
	calls := float64(1 + allItems*allwork.Calls)
	run := func(b *testing.B, f func(context.Context, int) uint64) {
		b.ReportAllocs()
		var d uint64
		for b.Loop() {
			d ^= f(ctx, allItems)
		}
		sinkU64 = d
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/calls, "ns/call")
	}
	b.Run("plain", func(b *testing.B) { run(b, allwork.Run) })
	b.Run("off", func(b *testing.B) {
		trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
		defer trace.Stop()
		run(b, traced.Run)
	})
	jsonl := func(b *testing.B, ratio float64) {
		path := filepath.Join(b.TempDir(), "spans.jsonl")
		trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, SampleRatio: ratio,
			Exporters: []export.Exporter{export.NewJSONL(path)}})
		before := trace.ReadStats()
		run(b, traced.Run)
		trace.Stop()
		after := trace.ReadStats()
		b.ReportMetric(float64(after.Exported-before.Exported)/float64(b.N)/calls, "exported/call")
		b.ReportMetric(float64(after.Dropped-before.Dropped)/float64(b.N), "dropped/op")
	}
	b.Run("sampled", func(b *testing.B) { jsonl(b, 0.01) })
	b.Run("exported", func(b *testing.B) { jsonl(b, 1) })
}

var sinkU64 uint64

// TestTracedIsCurrent: package allwork/traced is allwork's file with the
// package clause renamed, instrumented by tracegen -all as the rewriter
// does it today (regenerate with `go run ./cmd/tracegen -all ./bench/allwork/traced`
// after copying work.go there when either changes).
func TestTracedIsCurrent(t *testing.T) {
	plain, err := os.ReadFile("allwork/work.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("allwork/traced/work.go")
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := instrument.StripSource(got)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(bytes.Replace(plain, []byte("package allwork\n"), []byte("package traced\n"), 1),
		[]byte("// Package allwork is"), []byte("// Package traced is"), 1)
	if !bytes.Equal(stripped, want) {
		t.Errorf("allwork/traced/work.go without its instrumentation is not allwork/work.go with the package renamed:\n%s", stripped)
	}
	res, err := instrument.Run(instrument.Config{All: true}, "./allwork/traced")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("tracegen -all: %v", res.Errors[0])
	}
	for _, f := range res.Files {
		if f.Changed {
			t.Errorf("%s is not what tracegen -all makes of it today; run go run ./cmd/tracegen -all ./bench/allwork/traced", f.Path)
		}
	}
}

// TestAllOverheadAllocs pins what -all adds in allocations: nothing with
// tracing off, and one span (the unsampled root) for a trace that is not
// sampled, whatever the number of traced calls beneath it.
func TestAllOverheadAllocs(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off") // the sampler's own bookkeeping is not the spans'
	ctx := context.Background()
	plain := testing.AllocsPerRun(20, func() { allwork.Run(ctx, allItems) })
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	off := testing.AllocsPerRun(20, func() { traced.Run(ctx, allItems) })
	trace.Stop()
	if off != plain {
		t.Errorf("tracing off: %v allocations per run, plain %v", off, plain)
	}
	trace.Configure(trace.Config{IgnoreEnv: true, SampleRatio: 1e-18, Exporters: []export.Exporter{export.NewMemory(1)}})
	defer trace.Stop()
	unsampled := testing.AllocsPerRun(20, func() { traced.Run(ctx, allItems) })
	if unsampled != plain+1 {
		t.Errorf("unsampled trace: %v allocations per run, want plain's %v + 1 (its root)", unsampled, plain)
	}
}
