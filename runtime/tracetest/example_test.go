package tracetest_test

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// plan stands for instrumented code: a traced function that calls a traced
// tool.
func plan(ctx context.Context, goal string) {
	ctx, span := trace.Start(ctx, "planner", trace.TypeAgent, trace.WithAttr("goal", goal))
	defer span.End()
	_, tool := trace.Start(ctx, "search", trace.TypeTool)
	tool.End()
}

// A test of plan: the recorder is active until the test ends, and every
// span can be read as soon as it has ended.
func Example() {
	var t *testing.T // the *testing.T (or *testing.B) of your test

	rec := tracetest.NewRecorder(t)
	plan(context.Background(), "weather in Paris")

	planner := rec.Span("planner") // fails the test unless exactly one span is called planner
	if got := rec.Attr(planner, "goal").Str(); got != "weather in Paris" {
		t.Errorf("goal = %q", got)
	}
	if kids := rec.Children(planner); len(kids) != 1 || kids[0].Name != "search" {
		t.Errorf("children of planner: %v", kids)
	}
}
