// Command quickstart is a small agent in the shape tracegen's users write: a
// loop that asks a (simulated) model what to do next, calls tools, retries a
// flaky one and fans work out to goroutines. Nothing in it imports tracegen:
// the //trace: directives are all it takes.
//
// Run it instrumented, with the span tree printed on the terminal:
//
//	go run ./cmd/tracegen go run ./examples/quickstart
//
// or plain, without any tracing:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := runAgent(ctx, "how warm will it be in Lisbon tomorrow, and what should I pack?")
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	fmt.Println("answer:", answer)
}

// runAgent plans with the model, runs the tools the plan asks for, and
// writes the answer.
//
//trace:agent name=quickstart.agent agent=trip-helper tags=quickstart,demo
func runAgent(ctx context.Context, question string) (string, error) {
	var notes []string
	for step := 1; step <= 3; step++ {
		action, err := callModel(ctx, plannerPrompt(question, notes))
		if err != nil {
			return "", fmt.Errorf("step %d: %w", step, err)
		}
		switch {
		case strings.HasPrefix(action, "weather "):
			forecast, err := retry(ctx, 3, func(ctx context.Context) (string, error) {
				return fetchForecast(ctx, strings.TrimPrefix(action, "weather "))
			})
			if err != nil {
				return "", err
			}
			notes = append(notes, forecast)
		case strings.HasPrefix(action, "search "):
			notes = append(notes, searchDocs(ctx, strings.TrimPrefix(action, "search "))...)
		case action == "answer":
			return callModel(ctx, "write the answer from: "+strings.Join(notes, "; "))
		}
	}
	return "", errors.New("no answer after 3 steps")
}

// plannerPrompt builds the planner's prompt; it is too small to trace.
func plannerPrompt(question string, notes []string) string {
	return fmt.Sprintf("question: %s\nnotes: %d\nnext action?", question, len(notes))
}

// callModel stands in for a chat completion: it waits like a remote model
// would and answers from a script, with no network.
//
//trace:llm name=quickstart.chat model="gpt-4o-mini" kind=client attr.gen_ai.provider.name=openai attr.gen_ai.operation.name=chat
func callModel(ctx context.Context, prompt string) (string, error) {
	select {
	case <-time.After(40 * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	switch {
	case strings.Contains(prompt, "notes: 0"):
		return "weather Lisbon", nil
	case strings.Contains(prompt, "notes: 1"):
		return "search packing list", nil
	case strings.HasPrefix(prompt, "write the answer"):
		return "about 21°C and sunny: pack light layers and sunscreen", nil
	}
	return "answer", nil
}

// retry calls fn until it succeeds, at most attempts times.
//
//trace:chain name=quickstart.retry
func retry(ctx context.Context, attempts int, fn func(context.Context) (string, error)) (string, error) {
	var err error
	for i := 0; i < attempts; i++ {
		var s string
		if s, err = fn(ctx); err == nil {
			return s, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("after %d attempts: %w", attempts, err)
}

var forecastCalls int

// fetchForecast is a flaky weather tool: its first call times out.
//
//trace:tool name=quickstart.forecast
func fetchForecast(ctx context.Context, city string) (string, error) {
	forecastCalls++
	time.Sleep(15 * time.Millisecond)
	if forecastCalls == 1 {
		return "", fmt.Errorf("forecast for %s: upstream timeout", city)
	}
	return city + ": 21°C, sunny", nil
}

// searchDocs looks a query up in three document stores at once and ranks
// what they return.
//
//trace:tool name=quickstart.search
func searchDocs(ctx context.Context, query string) []string {
	stores := []string{"guides", "forum", "faq"}
	hits := make([][]string, len(stores))
	var wg sync.WaitGroup
	for i, store := range stores {
		wg.Add(1)
		go func(i int, store string) {
			defer wg.Done()
			hits[i] = lookup(store, query)
		}(i, store)
	}
	wg.Wait()
	var all []string
	for _, h := range hits {
		all = append(all, h...)
	}
	return rank(query, all)
}

// lookup queries one document store. It has no context parameter: its span
// nests under the goroutine's current span, which tracegen carries over the
// go statement in searchDocs.
//
//trace:span name=quickstart.lookup
func lookup(store, query string) []string {
	time.Sleep(20 * time.Millisecond)
	return []string{store + ": " + query + " (1)", store + ": " + query + " (2)"}
}
