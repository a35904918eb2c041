package energy_test

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/internal/syncbuf"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// setup installs a pipeline that runs as a program's does (in the
// background, so the energy sampler runs; runtime/tracetest's recorders are
// synchronous and sample no energy) with a memory exporter, plus extra
// exporters, and no environment; it stops the pipeline when the test ends.
func setup(tb testing.TB, cfg trace.Config, extra ...export.Exporter) *export.Memory {
	tb.Helper()
	mem := export.NewMemory(100000)
	cfg.IgnoreEnv = true
	cfg.Exporters = append([]export.Exporter{mem}, extra...)
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = &syncBuffer{}
	}
	trace.Configure(cfg)
	tb.Cleanup(trace.Stop)
	return mem
}

// finish flushes the pipeline and returns the spans by name.
func finish(t *testing.T, mem *export.Memory) map[string]*record.Record {
	t.Helper()
	if err := trace.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]*record.Record{}
	for _, r := range mem.Spans() {
		if _, dup := out[r.Name]; dup {
			t.Fatalf("span name %q exported twice", r.Name)
		}
		out[r.Name] = r
	}
	return out
}

// syncBuffer is a log the pipeline writes while the test reads it.
type syncBuffer = syncbuf.Buffer
