package trace

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/syncbuf"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// leakCheck runs the tests, then fails the binary if goroutines leaked.
type leakCheck struct{ m *testing.M }

func (l leakCheck) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

func TestMain(m *testing.M) {
	testscript.Main(leakCheck{m}, map[string]func(){"tgprog": tgprog})
}

// setup installs a pipeline with a memory exporter (plus extra exporters)
// and no environment; it stops the pipeline when the test ends.
func setup(t *testing.T, cfg Config, extra ...export.Exporter) *export.Memory {
	t.Helper()
	mem := export.NewMemory(100000)
	cfg.IgnoreEnv = true
	cfg.Exporters = append([]export.Exporter{mem}, extra...)
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = &syncBuffer{}
	}
	Configure(cfg)
	t.Cleanup(func() {
		Stop()
		// A goroutine the test waited for may still be returning from a
		// Bind wrapper (its wg.Done ran first), which restores its
		// current span: give such goroutines a moment.
		n := currentCount()
		for deadline := time.Now().Add(time.Second); n != 0 && time.Now().Before(deadline); n = currentCount() {
			time.Sleep(time.Millisecond)
		}
		if n != 0 {
			t.Errorf("%d goroutines still have a current span after the test", n)
		}
	})
	return mem
}

// finish flushes the pipeline and returns the spans by name.
// setupEnabled is setup when enabled is true, and otherwise turns tracing
// off for the test (returning nil).
func setupEnabled(t *testing.T, enabled bool) *export.Memory {
	t.Helper()
	if enabled {
		return setup(t, Config{})
	}
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	t.Cleanup(Stop)
	return nil
}

func finish(t *testing.T, mem *export.Memory) map[string]*record.Record {
	t.Helper()
	if err := Flush(context.Background()); err != nil {
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
