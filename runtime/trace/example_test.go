package trace_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	tracegen "github.com/tracegen-dev/tracegen/runtime/trace"
)

// Spans nest through the context, through the goroutine's current span
// (Begin) and into goroutines (Bind). The memory exporter lets a test or a
// program query what was recorded.
func Example() {
	mem := export.NewMemory(100)
	tracegen.Configure(tracegen.Config{IgnoreEnv: true, Exporters: []export.Exporter{mem}})

	ctx, root := tracegen.Start(context.Background(), "handle", tracegen.KindServer,
		tracegen.WithInherited("user.id", "u-7"))
	_ = ask(ctx, "what is 6*7?")
	done := make(chan struct{})
	go tracegen.Bind(root, func() {
		defer close(done)
		span := tracegen.Begin("background") // child of root, no context needed
		defer span.End()
	})()
	<-done
	root.End()
	tracegen.Stop()

	for _, r := range mem.Spans(export.AttrIs("user.id", "u-7")) {
		parent := "-"
		for _, p := range mem.Spans(export.TraceIs(r.TraceID)) {
			if p.SpanID == r.ParentSpanID {
				parent = p.Name
			}
		}
		fmt.Printf("%s (parent %s) %s %q\n", r.Name, parent, r.Status, r.StatusMsg)
	}
	// Output:
	// ask (parent handle) error "model unavailable"
	// background (parent handle) unset ""
	// handle (parent -) unset ""
}

func ask(ctx context.Context, prompt string) (err error) {
	_, span := tracegen.Start(ctx, "ask", tracegen.TypeLLM, tracegen.KindClient)
	defer func() { span.Finish(err, recover()) }()
	span.RecordInput("prompt", prompt)
	return errors.New("model unavailable")
}

// counter is a complete exporter.
type counter struct{ spans int }

func (c *counter) Export(_ context.Context, recs []*record.Record) error {
	c.spans += len(recs)
	return nil
}

func (c *counter) Shutdown(context.Context) error { return nil }

// An exporter is two methods; Configure installs it (overriding
// TRACEGEN_EXPORTER).
func ExampleConfigure() {
	c := &counter{}
	tracegen.Configure(tracegen.Config{IgnoreEnv: true, Exporters: []export.Exporter{c}})
	for i := 0; i < 3; i++ {
		span := tracegen.Begin("work")
		span.End()
	}
	tracegen.Stop()
	fmt.Println(c.spans, "spans exported")
	// Output: 3 spans exported
}
