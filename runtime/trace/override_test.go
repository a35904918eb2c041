package trace

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
)

// TestOverrideBeforeEnvironment: overriding before the environment was read
// puts that state back, so the next span reads the environment as at
// program start. (runtime/tracetest tests the other previous states.)
func TestOverrideBeforeEnvironment(t *testing.T) {
	old := envLookup
	envLookup = func(k string) (string, bool) {
		if k == "TRACEGEN_EXPORTER" {
			return "memory", true
		}
		return "", false
	}
	t.Cleanup(func() { envLookup = old })
	Stop()
	setActive(nil) // as at program start: environment not read yet
	t.Cleanup(Stop)

	before := MemoryExporter() // an earlier test's: it stays readable after Stop
	mem := export.NewMemory(10)
	restore := Override(Config{IgnoreEnv: true, Sync: true, Exporters: []export.Exporter{mem}})
	Begin("inside").End()
	if MemoryExporter() != mem {
		t.Error("MemoryExporter is not the override's")
	}
	restore()
	restore() // a second call does nothing
	if active.Load() != nil || MemoryExporter() != before {
		t.Fatal("restore did not put back the unread state")
	}
	if n := len(mem.Spans()); n != 1 {
		t.Errorf("override pipeline got %d spans, want 1", n)
	}
	Begin("after").End()
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := MemoryExporter()
	if env == nil || env == mem || len(env.Spans()) != 1 || env.Spans()[0].Name != "after" {
		t.Errorf("the span after restore did not go to the environment's memory exporter (%v)", env)
	}
}
