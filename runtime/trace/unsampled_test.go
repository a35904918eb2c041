package trace

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Beneath an unsampled span, spans cost no allocation and take no place
// in the goroutine's current-span stack, yet behave as unsampled spans
// did: nothing is recorded, contexts are the caller's, ids are the
// trace's, and goroutines and later spans nest as before.
func TestBeneathUnsampled(t *testing.T) {
	mem := setup(t, Config{SampleRatio: 1e-18}) // no trace is sampled
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	rctx, root := Start(ctx, "root")
	if root.IsRecording() || root == &unsampledBelow {
		t.Fatalf("root: recording %v, shared %v", root.IsRecording(), root == &unsampledBelow)
	}
	cctx, child := Start(rctx, "child")
	if cctx != rctx {
		t.Error("Start beneath an unsampled span returned another context than the caller's")
	}
	if child.TraceID() != root.TraceID() || child.SpanID() != root.SpanID() {
		t.Errorf("child ids %s/%s, want the unsampled root's %s/%s", child.TraceID(), child.SpanID(), root.TraceID(), root.SpanID())
	}
	if Current() != root {
		t.Error("the unsampled root is not current beneath its child")
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, c := Start(rctx, "c", WithAttr("k", 1))
		c.SetAttr("x", 2)
		b := Begin("b")
		b.End()
		c.End()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per child pair beneath an unsampled span, want 0", allocs)
	}
	var wg sync.WaitGroup
	var inner *Span
	wg.Add(1)
	go Fork(child, func() {
		defer wg.Done()
		inner = Begin("in goroutine")
		inner.End()
	})()
	wg.Wait()
	if inner != &unsampledBelow {
		t.Error("a goroutine forked beneath an unsampled span started a trace of its own, not a span beneath the root")
	}
	child.End()
	if Current() != root {
		t.Error("ending the child changed the current span")
	}
	root.End()
	if Current() != nil {
		t.Errorf("current span after the root ended: %v", Current())
	}
	if n := len(finish(t, mem)); n != 0 {
		t.Errorf("%d spans exported from an unsampled trace", n)
	}
}

// The shortcuts for spans beneath an unsampled one (its context given to
// Start, or it current for Begin) apply only while its pipeline is the
// active one: after tracing was configured off, Start and Begin beneath it
// give nil, as they do anywhere.
func TestBeneathUnsampledReconfigured(t *testing.T) {
	setup(t, Config{SampleRatio: 1e-18})
	rctx, root := Start(context.Background(), "root")
	defer root.End()
	if _, s := Start(rctx, "child"); s != &unsampledBelow {
		t.Fatalf("child beneath the unsampled root: %p, want the shared unsampled span", s)
	}
	if s := Begin("begun"); s != &unsampledBelow {
		t.Fatalf("Begin beneath the unsampled root: %p, want the shared unsampled span", s)
	}
	Configure(Config{IgnoreEnv: true, Exporters: nil}) // off
	if _, s := Start(rctx, "child"); s != nil {
		t.Errorf("Start with tracing off beneath an old unsampled span: %p, want nil", s)
	}
	if s := Begin("begun"); s != nil {
		t.Errorf("Begin with tracing off: %p, want nil", s)
	}
}
