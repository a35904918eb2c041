package trace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// tgprog is a tiny instrumented program run by the testscript scripts in
// testdata/script. Its first argument picks the behaviour.
func tgprog() {
	defer Stop()
	mode := "hello"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	ctx, span := Start(context.Background(), "main", KindServer, WithInherited("session", "s-1"))
	defer func() { span.Finish(nil, recover()) }()
	switch mode {
	case "hello":
		work(ctx)
		fmt.Println("hello")
	case "goroutines":
		// Report goroutines while the span is still open: with tracing
		// off there must be none besides main.
		work(ctx)
		fmt.Println("goroutines:", runtime.NumGoroutine())
	case "exit":
		work(ctx)
		span.End()
		Exit(3)
	case "panic":
		work(ctx)
		panic("boom")
	case "signal":
		// Opt-in flush on SIGTERM: the process must still die of the
		// signal, after the spans ended so far are exported.
		FlushOnSignal()
		work(ctx)
		span.End()
		fmt.Println("signalling")
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			_ = self.Signal(syscall.SIGTERM)
		}
		time.Sleep(5 * time.Second)
		fmt.Println("survived the signal")
	case "snapshot":
		// A long-running span, snapshotted twice while it runs.
		_, long := Start(ctx, "long", TypeAgent, WithAttr("step", 0))
		long.Snapshot()
		long.SetAttr("step", 1)
		long.AddEvent("tool.called")
		time.Sleep(2 * time.Millisecond)
		long.Snapshot()
		long.SetAttr("step", 2)
		long.End()
		long.Snapshot() // ended: nothing
		fmt.Println("snapshotted")
	case "error":
		err := failing(ctx)
		fmt.Println("error:", err)
	}
}

func work(ctx context.Context) {
	_, span := Start(ctx, "work", TypeTool, WithAttr("n", 42), WithTags("t1"))
	defer func() { span.Finish(nil, recover()) }()
	span.RecordInput("query", "what is 6*7?")
	span.RecordOutput("answer", 42)
	helper()
}

func helper() {
	span := Begin("helper")
	defer func() { span.Finish(nil, recover()) }()
}

func failing(ctx context.Context) (err error) {
	_, span := Start(ctx, "failing")
	defer func() { span.Finish(err, recover()) }()
	return errors.New("it failed")
}
