package energy_test

import (
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/internal/syncbuf"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// setup installs a recorder whose pipeline runs as a program's does, in
// the background, so that the energy sampler runs (tracetest's default
// sync mode samples no energy), with cfg's other settings, no environment
// and a quiet error log unless cfg names one.
func setup(tb testing.TB, cfg trace.Config) *tracetest.Recorder {
	tb.Helper()
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = &syncBuffer{}
	}
	return tracetest.NewRecorder(tb, tracetest.WithBackground(), tracetest.WithConfig(cfg), tracetest.WithCapacity(100000))
}

// finish returns the recorded spans by name (each name once).
func finish(t *testing.T, rec *tracetest.Recorder) map[string]*record.Record {
	t.Helper()
	out := map[string]*record.Record{}
	for _, r := range rec.Spans() {
		if _, dup := out[r.Name]; dup {
			t.Fatalf("span name %q exported twice", r.Name)
		}
		out[r.Name] = r
	}
	return out
}

// syncBuffer is a log the pipeline writes while the test reads it.
type syncBuffer = syncbuf.Buffer
