package prometheus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/genai"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// childEnv makes the test binary run child instead of the tests: a traced
// program whose exporters come from the environment.
const childEnv = "TRACEGEN_PROM_TEST_CHILD"

// childRounds is how many requests the child serves.
const childRounds = 3

// child makes known spans (an agent span per request with CPU work, an LLM
// call with tokens and a failing tool beneath it), flushes, prints "ready",
// and stays alive until its stdin is closed, so that it can be scraped;
// then it stops tracing and exits 0.
func child() int {
	ctx := context.Background()
	for i := 0; i < childRounds; i++ {
		rctx, root := trace.Start(ctx, "handle", trace.TypeAgent)
		_, work := trace.Start(rctx, "compute")
		burn(20 * time.Millisecond)
		work.End()
		genai.RecordLLMCall(rctx, genai.LLMCall{
			Model: "gpt-4o-mini", Provider: "openai",
			InputTokens: int64(120 + i), OutputTokens: 30, Latency: 5 * time.Millisecond,
		})
		_, tool := trace.Start(rctx, "lookup", trace.TypeTool)
		tool.RecordError(errors.New("not found"))
		tool.End()
		root.End()
	}
	if err := trace.Flush(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	trace.Stop()
	return 0
}

// burn keeps a CPU busy for d.
func burn(d time.Duration) {
	x := 1.0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
	sink = x
}

var sink float64
