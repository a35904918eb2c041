package genai

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// A directive with input or output on an enclosing function
// (trace.WithContentCapture) turns message capture on for the LLM calls
// beneath it; TRACEGEN_CAPTURE_CONTENT=false (DisableContent) still wins.
func TestCaptureContentByDirective(t *testing.T) {
	tests := []struct {
		name        string
		disable     bool
		withCapture bool
		want        bool
	}{
		{"directive asks", false, true, true},
		{"no directive, no variable", false, false, false},
		{"directive asks but content is off", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TRACEGEN_CAPTURE_CONTENT", "")
			os.Unsetenv("TRACEGEN_CAPTURE_CONTENT")
			rec := tracetest.NewRecorder(t, tracetest.WithConfig(trace.Config{DisableContent: tt.disable}))

			var opts []trace.StartOption
			if tt.withCapture {
				opts = append(opts, trace.WithContentCapture())
			}
			ctx, outer := trace.Start(context.Background(), "agent.step", opts...)
			// A plain span in between: the request is inherited from any ancestor.
			ctx, mid := trace.Start(ctx, "helper")
			svc := &chatService{resp: &completion{Choices: []choice{{Message: struct{ Content string }{"Hello!"}}}}}
			Call1V("openai.chat", svc.New, ctx, chatParams{Model: "m", Messages: []string{"hi"}})
			mid.End()
			outer.End()

			var found bool
			for _, r := range rec.Spans() {
				if r.Name != "chat m" {
					continue
				}
				found = true
				v, ok := r.Lookup(AttrInputMessages)
				if ok != tt.want {
					t.Fatalf("input messages recorded = %v, want %v", ok, tt.want)
				}
				if ok && !strings.Contains(v.String(), "hi") {
					t.Errorf("input messages = %q", v.String())
				}
			}
			if !found {
				t.Fatalf("no LLM span among %d spans", len(rec.Spans()))
			}
		})
	}
}
