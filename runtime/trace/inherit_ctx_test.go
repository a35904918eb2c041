package trace

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

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

// TestContextWithInherited and TestContextWithEndObserver, which use the
// exported API only, are in inherit_ctx_external_test.go.

func TestContextScopeRedacted(t *testing.T) {
	mem, _ := withPII(t, map[string]string{"TRACEGEN_PII": "redact"})
	ctx := ContextWithInherited(context.Background(), record.String("user.id", "jane@example.com"))
	_, s := Start(ctx, "a")
	s.End()
	if got := attrOf(t, mem, "a", "user.id"); got != "[REDACTED:email]" {
		t.Errorf("scope attribute exported as %q", got)
	}
}
