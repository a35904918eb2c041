package session_test

import (
	"context"
	"fmt"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/session"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

func Example() {
	mem := export.NewMemory(100)
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{mem}, Sync: true})
	defer trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})

	ctx := session.WithSession(context.Background(), "chat-17", "alice", map[string]any{"plan": "pro"})
	ctx = session.WithConversation(ctx, "thread-3")

	// An LLM call under the session (normally made by a rule or llmhttp).
	_, s := trace.Start(ctx, "chat gpt-4o", trace.TypeLLM, trace.KindClient,
		trace.WithAttr("gen_ai.operation.name", "chat"),
		trace.WithAttr("gen_ai.usage.input_tokens", int64(12)), trace.WithAttr("gen_ai.usage.output_tokens", int64(30)))
	s.End()

	if err := session.Feedback(ctx, session.ThumbsUp(), "helpful"); err != nil {
		fmt.Println(err)
	}
	for _, r := range mem.Spans() {
		user, _ := r.Lookup(session.AttrUserID)
		conv, _ := r.Lookup(session.AttrConversationID)
		fmt.Println(r.Name, user, conv)
	}
	t := session.ByUser(mem.Spans())["alice"]
	fmt.Printf("alice: %d call, %d in, %d out, %d errors\n", t.Calls, t.InputTokens, t.OutputTokens, t.Errors)
	// Output:
	// chat gpt-4o alice thread-3
	// feedback alice thread-3
	// alice: 1 call, 12 in, 30 out, 0 errors
}
