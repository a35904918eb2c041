package trace

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestNestingThroughContext(t *testing.T) {
	mem := setup(t, Config{})
	ctx, root := Start(context.Background(), "root")
	cctx, child := Start(ctx, "child")
	_, grand := Start(cctx, "grand")
	grand.End()
	child.End()
	_, sibling := Start(ctx, "sibling")
	sibling.End()
	root.End()

	got := finish(t, mem)
	wantParent := map[string]string{"child": "root", "grand": "child", "sibling": "root"}
	for name, parent := range wantParent {
		if got[name].ParentSpanID != got[parent].SpanID {
			t.Errorf("%s: parent %s, want %s (%s)", name, got[name].ParentSpanID, parent, got[parent].SpanID)
		}
		if got[name].TraceID != got["root"].TraceID {
			t.Errorf("%s: trace %s, want the root's %s", name, got[name].TraceID, got["root"].TraceID)
		}
	}
	if got["root"].ParentSpanID.IsValid() || !got["root"].IsLocalRoot() {
		t.Errorf("root has parent %s", got["root"].ParentSpanID)
	}
}

func TestNestingWithoutContext(t *testing.T) {
	mem := setup(t, Config{})
	ctx, root := Start(context.Background(), "root")
	_ = ctx
	func() {
		s := Begin("noctx")
		defer s.End()
		if Current() != s {
			t.Errorf("Current() = %v, want noctx", Current())
		}
		// A traced function given a bare context still nests under the
		// goroutine's current span.
		_, bg := Start(context.Background(), "bgctx")
		bg.End()
		inner := Begin("inner")
		inner.End()
	}()
	if Current() != root {
		t.Errorf("after noctx ended, Current() = %v, want root", Current())
	}
	// A saved context of an ancestor: the deeper current span wins.
	deeper := Begin("deeper")
	_, saved := Start(ctx, "savedctx")
	saved.End()
	deeper.End()
	root.End()
	if Current() != nil {
		t.Errorf("after root ended, Current() = %v, want nil", Current())
	}

	got := finish(t, mem)
	for name, parent := range map[string]string{"noctx": "root", "bgctx": "noctx", "inner": "noctx", "deeper": "root", "savedctx": "deeper"} {
		if got[name].ParentSpanID != got[parent].SpanID {
			t.Errorf("%s: parent %s, want %s", name, got[name].ParentSpanID, parent)
		}
	}
}

func TestOutOfOrderEnd(t *testing.T) {
	setup(t, Config{})
	a := Begin("a")
	b := Begin("b") // never ended before a
	a.End()
	if Current() != nil {
		t.Errorf("ending a should pop the leaked child too; Current() = %v", Current())
	}
	b.End() // no longer current: no effect on the stack
	if Current() != nil {
		t.Errorf("Current() = %v after ending b", Current())
	}
}

func TestBindGoroutines(t *testing.T) {
	mem := setup(t, Config{})
	ctx, root := Start(context.Background(), "root")
	_ = ctx
	var wg sync.WaitGroup
	wg.Add(4)
	go Bind(root, func() {
		defer wg.Done()
		s := Begin("func()")
		s.End()
	})()
	go Bind(root, func(n int, names ...string) {
		defer wg.Done()
		if n != 2 || len(names) != 2 || names[1] != "y" {
			t.Errorf("args not passed through: %d %v", n, names)
		}
		s := Begin("variadic")
		s.End()
	})(2, "x", "y")
	go Bind(root, func(ctx context.Context) error {
		defer wg.Done()
		s := Begin("ctxfunc")
		s.End()
		return nil
	})(context.Background())
	type handler func(string) int
	var h handler = func(s string) int {
		defer wg.Done()
		sp := Begin("named-" + s)
		sp.End()
		return len(s)
	}
	go Bind(root, h)("type")
	wg.Wait()
	root.End()

	got := finish(t, mem)
	for _, name := range []string{"func()", "variadic", "ctxfunc", "named-type"} {
		if got[name] == nil || got[name].ParentSpanID != got["root"].SpanID {
			t.Errorf("%s: not a child of root: %+v", name, got[name])
		}
	}
	// Without Bind a goroutine starts a new trace.
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := Begin("unbound")
		s.End()
	}()
	<-done
	got = finish(t, mem)
	if got["unbound"].ParentSpanID.IsValid() {
		t.Errorf("unbound goroutine span has parent %s", got["unbound"].ParentSpanID)
	}
}

func TestBindNilAndNonFunc(t *testing.T) {
	f := func() {}
	if got := Bind(nil, f); got == nil {
		t.Fatal("Bind(nil, f) returned nil")
	}
	setup(t, Config{})
	s := Begin("s")
	defer s.End()
	var nilf func()
	if Bind(s, nilf) != nil {
		t.Error("Bind(s, nil func) should stay nil")
	}
	if Bind(s, 42) != 42 {
		t.Error("Bind(s, 42) should return 42")
	}
}

func TestInheritedAttributes(t *testing.T) {
	mem := setup(t, Config{})
	ctx, root := Start(context.Background(), "root", WithInherited("user", "alice"), WithInherited("tenant", "t1"))
	cctx, child := Start(ctx, "child", WithInherited("tenant", "t2"), WithAttr("own", true))
	_, grand := Start(cctx, "grand")
	grand.End()
	child.End()
	_, other := Start(ctx, "other")
	other.End()
	root.End()

	got := finish(t, mem)
	tests := []struct {
		span, key string
		want      any
	}{
		{"root", "user", "alice"},
		{"child", "user", "alice"},
		{"child", "tenant", "t2"},
		{"grand", "tenant", "t2"},
		{"grand", "user", "alice"},
		{"other", "tenant", "t1"},
	}
	for _, tc := range tests {
		v, ok := got[tc.span].Lookup(tc.key)
		if !ok || !v.Equal(record.AnyValue(tc.want)) {
			t.Errorf("%s.%s = %v (found %t), want %v", tc.span, tc.key, v, ok, tc.want)
		}
	}
	if _, ok := got["grand"].Lookup("own"); ok {
		t.Error("plain attribute leaked to a child")
	}
	// Memory filters match inherited attributes.
	if n := len(mem.Spans(export.AttrIs("user", "alice"))); n != 4 {
		t.Errorf("AttrIs(user, alice) matched %d spans, want 4", n)
	}
	if n := len(mem.Spans(export.AttrIs("tenant", "t2"))); n != 2 {
		t.Errorf("AttrIs(tenant, t2) matched %d spans, want 2", n)
	}
}

func TestSpanIsContext(t *testing.T) {
	setup(t, Config{})
	type key struct{}
	base, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx, s := Start(base, "s")
	defer s.End()
	if ctx.Value(key{}) != "v" {
		t.Error("parent context values are not visible")
	}
	if SpanFromContext(ctx) != s {
		t.Error("SpanFromContext did not return the span")
	}
	derived, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	if SpanFromContext(derived) != s {
		t.Error("SpanFromContext through a derived context failed")
	}
	cancel()
	<-derived.Done()
	if ctx.Err() != context.Canceled {
		t.Errorf("ctx.Err() = %v after cancel", ctx.Err())
	}
	if got := SpanFromContext(ContextWithSpan(context.Background(), s)); got != s {
		t.Error("ContextWithSpan round trip failed")
	}
}

func TestGoroutineIDs(t *testing.T) {
	initGoid()
	if goroutine.HaveG && goroutine.IDOffset() == 0 {
		t.Fatal("goid offset discovery failed on an architecture with getg")
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if fast, slow := curGoid(), goroutine.StackID(); fast != slow || fast <= 0 {
				t.Errorf("curGoid() = %d, runtime.Stack says %d", fast, slow)
			}
		}()
	}
	wg.Wait()
}

func TestRootInherited(t *testing.T) {
	old := rootInherited.Load()
	t.Cleanup(func() { rootInherited.Store(old) })
	setRootInherited([]record.Attr{record.String("run.id", "r1"), record.String("tenant", "default")})
	mem := setup(t, Config{})
	ctx, root := Start(context.Background(), "root", WithInherited("tenant", "t9"))
	_, child := Start(ctx, "child")
	child.End()
	root.End()
	other := Begin("other")
	other.End()
	got := finish(t, mem)
	for _, tc := range []struct{ span, key, want string }{
		{"root", "run.id", "r1"}, {"child", "run.id", "r1"}, {"child", "tenant", "t9"}, {"other", "tenant", "default"},
	} {
		if v, _ := got[tc.span].Lookup(tc.key); v.Str() != tc.want {
			t.Errorf("%s.%s = %q, want %q", tc.span, tc.key, v.Str(), tc.want)
		}
	}
}

func init() {
	// For TestChildStartsWhileParentEnds: an end hook that replaces the
	// record's inherited attributes, as the scope and energy hooks do.
	onSpanEnd(func(s *Span, r *record.Record) {
		if r.Name == "race-parent" {
			r.Inherited = append(slices.Clip(r.Inherited), record.String("late", "x"))
		}
	})
}

func TestChildStartsWhileParentEnds(t *testing.T) {
	mem := setup(t, Config{})
	for i := 0; i < 50; i++ {
		parent := Begin("race-parent", WithInherited("user", "u"))
		var wg sync.WaitGroup
		wg.Add(1)
		go Bind(parent, func() {
			defer wg.Done()
			c := Begin("race-child")
			c.End()
		})()
		parent.End()
		wg.Wait()
	}
	for _, r := range finish2(t, mem) {
		if v, _ := r.Lookup("user"); v.Str() != "u" {
			t.Fatalf("%s lost the inherited attribute", r.Name)
		}
	}
}

func TestContentRequested(t *testing.T) {
	setup(t, Config{})
	ctx, root := Start(context.Background(), "root", WithContentCapture())
	ctx, mid := Start(ctx, "mid")
	_, leaf := Start(ctx, "leaf")
	other := Begin("other") // child of leaf through the goroutine-local span
	for _, s := range []*Span{root, mid, leaf, other} {
		if !s.ContentRequested() {
			t.Errorf("%s: ContentRequested = false, want true (an ancestor asked)", s.Name())
		}
	}
	other.End()
	leaf.End()
	mid.End()
	root.End()
	_, plain := Start(context.Background(), "plain")
	if plain.ContentRequested() {
		t.Error("plain: ContentRequested = true without WithContentCapture")
	}
	plain.End()
	var nilSpan *Span
	if nilSpan.ContentRequested() {
		t.Error("nil span: ContentRequested = true")
	}
}
