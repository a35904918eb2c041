package genai

import (
	"context"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// BenchmarkCall1V measures what a rule wrapper adds to an SDK call (the
// fake SDK call itself costs nothing): reading the request and the result by
// reflection, the span, and the footprint estimate.
func BenchmarkCall1V(b *testing.B) {
	svc := &chatService{resp: &completion{
		ID: "chatcmpl-123", Model: "gpt-4o-mini-2024-07-18",
		Choices: []choice{{FinishReason: "stop"}},
		Usage:   usage{PromptTokens: 9, CompletionTokens: 12},
	}}
	p := chatParams{Model: "gpt-4o-mini"}
	b.Run("disabled", func(b *testing.B) {
		trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			Call1V("openai.chat", svc.New, context.Background(), p)
		}
	})
	b.Run("enabled", func(b *testing.B) {
		trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{export.NewMemory(64)}})
		defer trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			Call1V("openai.chat", svc.New, context.Background(), p)
		}
	})
}

// BenchmarkStreamNext measures the per-chunk cost of a followed stream.
func BenchmarkStreamNext(b *testing.B) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{export.NewMemory(64)}})
	defer trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	items := make([]completion, b.N+1)
	for i := range items {
		items[i] = completion{ID: "c", Choices: []choice{{}}}
	}
	st := Stream1V("openai.chat.stream", func(context.Context, chatParams, ...option) *sseStream[completion] {
		return &sseStream[completion]{items: items}
	}, context.Background(), chatParams{Model: "m"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		StreamNext(st.Next)
	}
	b.StopTimer()
	StreamClose(st.Close)
}
