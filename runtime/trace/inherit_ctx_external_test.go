package trace_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// These tests use the exported API only, so they record with
// tracetest.Recorder; TestContextScopeRedacted (inherit_ctx_test.go) needs
// the package's own PII setup and stays inside.

func TestContextWithInherited(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	ctx, root := trace.Start(context.Background(), "before")
	sctx := trace.ContextWithInherited(ctx, record.String("session.id", "s1"), record.String("user.id", "u1"))
	inner := trace.ContextWithInherited(sctx, record.String("session.id", "s2"))
	c1, a := trace.Start(sctx, "a")
	_, b := trace.Start(c1, "b") // beneath a, through a's context
	var wg sync.WaitGroup
	wg.Add(1)
	go trace.Bind(b, func() { // beneath b, through the goroutine's current span
		defer wg.Done()
		g := trace.Begin("g")
		g.End()
	})()
	wg.Wait()
	b.End()
	a.End()
	_, n := trace.Start(inner, "nested")
	n.End()
	root.End()
	for _, tt := range []struct{ span, key, want string }{
		{"a", "session.id", "s1"}, {"a", "user.id", "u1"},
		{"b", "session.id", "s1"}, {"g", "session.id", "s1"},
		{"nested", "session.id", "s2"}, {"nested", "user.id", "u1"},
		{"before", "user.id", ""}, // begun before the scope (session.id has a process default)
	} {
		v, _ := rec.Span(tt.span).Lookup(tt.key)
		if got := v.Str(); got != tt.want {
			t.Errorf("span %s %s = %q, want %q", tt.span, tt.key, got, tt.want)
		}
	}
	if got := trace.InheritedFromContext(inner); len(got) != 3 || got[2].Value.Str() != "s2" {
		t.Errorf("InheritedFromContext = %v", got)
	}
}

func TestContextWithEndObserver(t *testing.T) {
	tracetest.NewRecorder(t)
	var names []string
	ctx := trace.ContextWithEndObserver(context.Background(), func(r *record.Record) { names = append(names, r.Name) })
	ctx = trace.ContextWithEndObserver(ctx, func(*record.Record) { panic("observer bug") })
	c, a := trace.Start(ctx, "a")
	_, b := trace.Start(c, "b")
	b.End()
	a.End()
	_, x := trace.Start(context.Background(), "outside")
	x.End()
	if len(names) != 2 || names[0] != "b" || names[1] != "a" {
		t.Errorf("observed %v, want [b a]", names)
	}
}
