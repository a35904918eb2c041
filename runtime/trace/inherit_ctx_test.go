package trace

import (
	"context"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func memPipeline(t *testing.T) *export.Memory {
	t.Helper()
	mem := export.NewMemory(100)
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{mem}, Sync: true})
	t.Cleanup(func() { Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{}}) })
	return mem
}

func attrOf(t *testing.T, mem *export.Memory, span, key string) string {
	t.Helper()
	for _, r := range mem.Spans() {
		if r.Name == span {
			v, _ := r.Lookup(key)
			return v.Str()
		}
	}
	t.Fatalf("no span %q", span)
	return ""
}

func TestContextWithInherited(t *testing.T) {
	mem := memPipeline(t)
	ctx, root := Start(context.Background(), "before")
	sctx := ContextWithInherited(ctx, record.String("session.id", "s1"), record.String("user.id", "u1"))
	inner := ContextWithInherited(sctx, record.String("session.id", "s2"))
	c1, a := Start(sctx, "a")
	_, b := Start(c1, "b") // beneath a, through a's context
	var wg sync.WaitGroup
	wg.Add(1)
	go Bind(b, func() { // beneath b, through the goroutine's current span
		defer wg.Done()
		g := Begin("g")
		g.End()
	})()
	wg.Wait()
	b.End()
	a.End()
	_, n := Start(inner, "nested")
	n.End()
	root.End()
	for _, tt := range []struct{ span, key, want string }{
		{"a", "session.id", "s1"}, {"a", "user.id", "u1"},
		{"b", "session.id", "s1"}, {"g", "session.id", "s1"},
		{"nested", "session.id", "s2"}, {"nested", "user.id", "u1"},
		{"before", "user.id", ""}, // begun before the scope (session.id has a process default)
	} {
		if got := attrOf(t, mem, tt.span, tt.key); got != tt.want {
			t.Errorf("span %s %s = %q, want %q", tt.span, tt.key, got, tt.want)
		}
	}
	if got := InheritedFromContext(inner); len(got) != 3 || got[2].Value.Str() != "s2" {
		t.Errorf("InheritedFromContext = %v", got)
	}
}

func TestContextWithEndObserver(t *testing.T) {
	memPipeline(t)
	var names []string
	ctx := ContextWithEndObserver(context.Background(), func(r *record.Record) { names = append(names, r.Name) })
	ctx = ContextWithEndObserver(ctx, func(*record.Record) { panic("observer bug") })
	c, a := Start(ctx, "a")
	_, b := Start(c, "b")
	b.End()
	a.End()
	_, x := Start(context.Background(), "outside")
	x.End()
	if len(names) != 2 || names[0] != "b" || names[1] != "a" {
		t.Errorf("observed %v, want [b a]", names)
	}
}

func TestContextScopeRedacted(t *testing.T) {
	mem, _ := withPII(t, map[string]string{"TRACEGEN_PII": "redact"})
	ctx := ContextWithInherited(context.Background(), record.String("user.id", "jane@example.com"))
	_, s := Start(ctx, "a")
	s.End()
	if got := attrOf(t, mem, "a", "user.id"); got != "[REDACTED:email]" {
		t.Errorf("scope attribute exported as %q", got)
	}
}
