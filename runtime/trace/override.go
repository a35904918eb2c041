package trace

import "sync"

// Override installs cfg like Configure, but keeps the configuration it
// replaces instead of shutting it down, and returns restore, which puts
// that configuration back. It is meant for tests (runtime/tracetest builds
// its Recorder on it) and for any code that needs tracing configured
// differently for a while.
//
// "The configuration it replaces" is whatever is active when Override is
// called: nothing yet (the environment has not been read; after restore
// the next span or Enabled call reads it, as at program start), tracing
// disabled, or a running pipeline (from the environment or from
// Configure), together with the exporter MemoryExporter returns. A running
// pipeline keeps its exporters, queue and batcher while overridden: spans
// that started on it before Override still end into it and are exported
// as usual, and spans started afterwards go to cfg's pipeline.
//
// restore reinstalls the previous configuration, then flushes and shuts
// down whatever is active at that moment if it is not the previous one
// (cfg's pipeline, or one that a Configure call installed in the meantime),
// within that pipeline's shutdown timeout. Calling restore again does
// nothing. When Override calls nest, their restores must run in reverse
// order, as t.Cleanup runs them.
//
// Like Configure, Override changes process-wide state: code running
// concurrently on other goroutines starts its spans on cfg's pipeline too.
func Override(cfg Config) (restore func()) {
	initMu.Lock()
	prevMem := lastMemory.Load()
	prev := setActive(build(cfg))
	initMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			initMu.Lock()
			cur := setActive(prev)
			lastMemory.Store(prevMem)
			initMu.Unlock()
			// The previous pipeline is active again before the stop hooks
			// run, so they see it (the energy sampler keeps sampling for it).
			if cur != nil && cur != disabledP && cur != prev {
				shutdownWithTimeout(cur)
			}
		})
	}
}
