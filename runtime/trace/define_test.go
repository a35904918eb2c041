package trace

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestDefinition(t *testing.T) {
	mem := setup(t, Config{})
	outer := Define("outer", TypeAgent, WithAttr("k", "v"))
	inner := Define("inner", KindClient)
	rebound := Define("rebound")
	ctx := context.Background()
	func() {
		span := outer.Start(ctx)
		defer span.Return(nil)
		func() {
			span := inner.Begin()
			defer span.End()
		}()
		rctx, span2 := rebound.StartContext(ctx)
		if SpanFromContext(rctx) != span2 || span2 == nil {
			t.Error("StartContext's context does not carry the span")
		}
		span2.End()
	}()
	spans := finish(t, mem)
	o, i, r := spans["outer"], spans["inner"], spans["rebound"]
	if o.Type != record.Type(TypeAgent) || o.Attrs[0].Key != "k" {
		t.Errorf("outer: type %v attrs %v", o.Type, o.Attrs)
	}
	if i.ParentSpanID != o.SpanID || r.ParentSpanID != o.SpanID {
		t.Errorf("inner and rebound are not children of outer")
	}
	if outer.Name() != "outer" {
		t.Errorf("Name() = %q", outer.Name())
	}
}

func TestDefinitionDisabled(t *testing.T) {
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	t.Cleanup(Stop)
	d := Define("off")
	ctx := context.Background()
	if d.Start(ctx) != nil || d.Begin() != nil {
		t.Error("a disabled definition started a span")
	}
	if c, s := d.StartContext(ctx); c != ctx || s != nil {
		t.Error("StartContext changed the context while disabled")
	}
}
