package genai

import (
	"context"
	"errors"
	"io"
	"iter"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	"github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// Fake SDK types with the field names of the real ones (openai-go), so the
// built-in specs' paths are exercised without importing any SDK.

type chatParams struct {
	Model    string
	Messages []string
}

type option func(*struct{})

type usage struct {
	PromptTokens, CompletionTokens int64
	PromptTokensDetails            struct{ CachedTokens int64 }
	CompletionTokensDetails        struct{ ReasoningTokens int64 }
}

type choice struct {
	FinishReason string
	Message      struct{ Content string }
	Delta        struct{ Content string }
}

type completion struct {
	ID, Model string
	Choices   []choice
	Usage     usage
}

type chatService struct {
	resp *completion
	err  error
}

func (s *chatService) New(ctx context.Context, p chatParams, opts ...option) (*completion, error) {
	return s.resp, s.err
}

// sseStream mimics ssestream.Stream[T].
type sseStream[T any] struct {
	items []T
	i     int
	err   error
	cur   T
}

func (s *sseStream[T]) Next() bool {
	if s.i >= len(s.items) {
		return false
	}
	s.cur = s.items[s.i]
	s.i++
	return true
}
func (s *sseStream[T]) Current() T   { return s.cur }
func (s *sseStream[T]) Err() error   { return s.err }
func (s *sseStream[T]) Close() error { return nil }

func (s *chatService) NewStreaming(ctx context.Context, p chatParams, opts ...option) *sseStream[completion] {
	return &sseStream[completion]{items: []completion{
		{ID: "c1", Model: "gpt-4o-mini-2024-07-18", Choices: []choice{{}}},
		{ID: "c1", Model: "gpt-4o-mini-2024-07-18", Choices: []choice{{FinishReason: "stop"}}},
		{ID: "c1", Model: "gpt-4o-mini-2024-07-18", Usage: usage{PromptTokens: 9, CompletionTokens: 12}},
	}}
}

// recvStream mimics go-openai: Recv promoted from an embedded pointer.
type reader[T any] struct {
	items []T
	i     int
}

func (r *reader[T]) Recv() (T, error) {
	var zero T
	if r.i >= len(r.items) {
		return zero, io.EOF
	}
	r.i++
	return r.items[r.i-1], nil
}
func (r *reader[T]) Close() error { return nil }

type chatStream struct{ *reader[completion] }

func TestCall1VChat(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	svc := &chatService{resp: &completion{
		ID: "chatcmpl-123", Model: "gpt-4o-mini-2024-07-18",
		Choices: []choice{{FinishReason: "stop"}},
		Usage:   usage{PromptTokens: 9, CompletionTokens: 12},
	}}
	svc.resp.Usage.PromptTokensDetails.CachedTokens = 4
	svc.resp.Usage.CompletionTokensDetails.ReasoningTokens = 2
	ctx, parent := trace.Start(context.Background(), "agent")
	got, err := Call1V("openai.chat", svc.New, ctx, chatParams{Model: "gpt-4o-mini"})
	parent.End()
	if err != nil || got != svc.resp {
		t.Fatalf("Call1V returned %v, %v; want the function's own result", got, err)
	}
	var llm *record.Record
	for _, r := range rec.Spans() {
		if r.Name == "chat gpt-4o-mini" {
			llm = r
		}
	}
	if llm == nil {
		t.Fatalf("no span named %q", "chat gpt-4o-mini")
	}
	if llm.Kind != record.KindClient || llm.Type != record.TypeLLM {
		t.Errorf("kind/type = %v/%v, want client/llm", llm.Kind, llm.Type)
	}
	if llm.ParentSpanID != parent.SpanID() {
		t.Errorf("LLM span is not a child of the calling span")
	}
	want := map[string]any{
		AttrProviderName:    "openai",
		AttrOperationName:   "chat",
		AttrRequestModel:    "gpt-4o-mini",
		AttrResponseModel:   "gpt-4o-mini-2024-07-18",
		AttrResponseID:      "chatcmpl-123",
		AttrInputTokens:     int64(9),
		AttrOutputTokens:    int64(12),
		AttrCacheReadTokens: int64(4),
		AttrReasoningTokens: int64(2),
		AttrRequestStream:   false,
	}
	for k, w := range want {
		if g := rec.Attr(llm, k).Any(); g != w {
			t.Errorf("%s = %v (%T), want %v", k, g, g, w)
		}
	}
	if fr := rec.Attr(llm, AttrFinishReasons).String(); !strings.Contains(fr, "stop") {
		t.Errorf("finish reasons = %s", fr)
	}
	if llm.Impact.Joules[record.EnergyLLM] <= 0 || llm.Impact.CO2eG <= 0 {
		t.Errorf("impact = %+v, want an LLM energy estimate", llm.Impact)
	}
	if _, ok := llm.Lookup(AttrInputMessages); ok {
		t.Errorf("content captured although TRACEGEN_CAPTURE_CONTENT is unset")
	}
}

func TestCallError(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	boom := &apiError{"rate limited"}
	svc := &chatService{err: boom}
	_, err := Call1V("openai.chat", svc.New, context.Background(), chatParams{Model: "gpt-4o"})
	if err != boom {
		t.Fatalf("error = %v, want the function's own", err)
	}
	r := rec.Only()
	if r.Status != record.StatusError {
		t.Errorf("status = %v, want error", r.Status)
	}
	if g := rec.Attr(r, AttrErrorType).Str(); g != "*genai.apiError" {
		t.Errorf("error.type = %q", g)
	}
}

type apiError struct{ msg string }

func (e *apiError) Error() string { return e.msg }

func TestCaptureContent(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	t.Setenv("TRACEGEN_CAPTURE_CONTENT", "true")
	svc := &chatService{resp: &completion{Choices: []choice{{Message: struct{ Content string }{"Hello!"}}}}}
	Call1V("openai.chat", svc.New, context.Background(), chatParams{Model: "m", Messages: []string{"hi"}})
	r := rec.Only()
	if g := rec.Attr(r, AttrInputMessages).String(); !strings.Contains(g, "hi") {
		t.Errorf("input messages = %q", g)
	}
	if g := rec.Attr(r, AttrOutputMessages).String(); !strings.Contains(g, "Hello!") {
		t.Errorf("output messages = %q", g)
	}
}

func TestStreamSSE(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	svc := &chatService{}
	st := Stream1V("openai.chat.stream", svc.NewStreaming, context.Background(), chatParams{Model: "gpt-4o-mini"})
	if n := len(rec.Spans()); n != 0 {
		t.Fatalf("span ended when the call returned (%d spans), want at the end of the stream", n)
	}
	chunks := 0
	for StreamNext(st.Next) {
		chunks++
	}
	if chunks != 3 {
		t.Fatalf("got %d chunks through the wrapper, want 3", chunks)
	}
	r := rec.Only()
	if g := rec.Attr(r, AttrOutputTokens).Int64(); g != 12 {
		t.Errorf("output tokens = %d, want 12 from the last chunk", g)
	}
	if g := rec.Attr(r, AttrRequestStream).Bool(); !g {
		t.Errorf("gen_ai.request.stream = false")
	}
	ttfc := rec.Attr(r, AttrTimeToFirstChunk).Float64()
	if ttfc <= 0 || ttfc > r.Duration().Seconds() {
		t.Errorf("time to first chunk = %v, span %v", ttfc, r.Duration())
	}
	if _, ok := r.Lookup(AttrUsageMissing); ok {
		t.Errorf("usage reported missing although the last chunk had it")
	}
	// Close after the end changes nothing.
	StreamClose(st.Close)
	if n := len(rec.Spans()); n != 1 {
		t.Errorf("%d spans after Close, want 1", n)
	}
}

func TestStreamWithoutUsage(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	st := &sseStream[completion]{items: []completion{{ID: "x", Choices: []choice{{FinishReason: "stop"}}}}}
	svc := func(ctx context.Context, p chatParams, o ...option) *sseStream[completion] { return st }
	s := Stream1V("openai.chat.stream", svc, context.Background(), chatParams{Model: "m"})
	for StreamNext(s.Next) {
	}
	r := rec.Only()
	if g := rec.Attr(r, AttrUsageMissing).Str(); !strings.Contains(g, "IncludeUsage") {
		t.Errorf("%s = %q, want a hint about include_usage", AttrUsageMissing, g)
	}
	if _, ok := r.Lookup(AttrInputTokens); ok {
		t.Errorf("input tokens recorded although the stream had no usage")
	}
}

func TestStreamFailsAndCloseEarly(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	failing := &sseStream[completion]{err: errors.New("received error while streaming")}
	s := Stream1V("openai.chat.stream", func(context.Context, chatParams, ...option) *sseStream[completion] { return failing }, context.Background(), chatParams{Model: "m"})
	for StreamNext(s.Next) {
	}
	if r := rec.Only(); r.Status != record.StatusError {
		t.Errorf("failed stream: status %v, want error", r.Status)
	}
	rec.Reset()
	svc := &chatService{}
	s2 := Stream1V("openai.chat.stream", svc.NewStreaming, context.Background(), chatParams{Model: "m"})
	StreamNext(s2.Next)
	StreamClose(s2.Close)
	if r := rec.Only(); r.Status == record.StatusError {
		t.Errorf("early close marked the call failed")
	}
}

func TestStreamRecvPromoted(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	create := func(ctx context.Context, p chatParams) (*chatStream, error) {
		return &chatStream{&reader[completion]{items: []completion{
			{ID: "a", Model: "gpt-4o", Choices: []choice{{FinishReason: "stop"}}},
		}}}, nil
	}
	st, err := Call1("goopenai.chat.stream", create, context.Background(), chatParams{Model: "gpt-4o"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Spans()) != 0 {
		t.Fatal("stream span ended at the call")
	}
	for {
		_, err := StreamRecv(st.Recv)
		if err == io.EOF {
			break
		}
	}
	r := rec.Only()
	if g := rec.Attr(r, AttrResponseID).Str(); g != "a" {
		t.Errorf("response id = %q", g)
	}
	if _, ok := r.Lookup(AttrUsageMissing); !ok {
		t.Errorf("no %s on a stream without usage", AttrUsageMissing)
	}
}

// Gemini-shaped values for the seq and callback kinds.
type gUsage struct{ PromptTokenCount, CandidatesTokenCount, CachedContentTokenCount, ThoughtsTokenCount int32 }
type gCand struct{ FinishReason string }
type gResp struct {
	ResponseID, ModelVersion string
	Candidates               []*gCand
	UsageMetadata            *gUsage
}

func TestSeq3(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	gen := func(ctx context.Context, model string, contents []string, cfg *struct{}) iter.Seq2[*gResp, error] {
		return func(yield func(*gResp, error) bool) {
			if !yield(&gResp{ResponseID: "r1", ModelVersion: "gemini-2.5-flash", UsageMetadata: &gUsage{PromptTokenCount: 8, CandidatesTokenCount: 1}}, nil) {
				return
			}
			yield(&gResp{Candidates: []*gCand{{FinishReason: "STOP"}}, UsageMetadata: &gUsage{PromptTokenCount: 8, CandidatesTokenCount: 4, ThoughtsTokenCount: 2}}, nil)
		}
	}
	seq := Seq3("genai.generate.stream", gen, context.Background(), "gemini-2.5-flash", []string{"hi"}, (*struct{})(nil))
	if len(rec.Spans()) != 0 {
		t.Fatal("span started before iteration")
	}
	n := 0
	for range seq {
		n++
	}
	r := rec.Only()
	if n != 2 || r.Name != "generate_content gemini-2.5-flash" {
		t.Fatalf("n=%d name=%q", n, r.Name)
	}
	if g := rec.Attr(r, AttrOutputTokens).Int64(); g != 6 {
		t.Errorf("output tokens = %d, want candidates 4 + thoughts 2", g)
	}
	if g := rec.Attr(r, AttrFinishReasons).String(); !strings.Contains(g, "STOP") {
		t.Errorf("finish reasons = %s", g)
	}
}

type oResp struct {
	Model, DoneReason string
	Done              bool
	Metrics
}
type Metrics struct{ PromptEvalCount, EvalCount int }
type oReq struct {
	Model  string
	Stream *bool
}
type oFunc func(oResp) error

func TestCallback2(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	chat := func(ctx context.Context, req *oReq, fn oFunc) error {
		fn(oResp{Model: "llama3.2"})
		return fn(oResp{Model: "llama3.2", Done: true, DoneReason: "stop", Metrics: Metrics{11, 7}})
	}
	var seen int
	err := Callback2("ollama.chat", chat, context.Background(), &oReq{Model: "llama3.2"}, oFunc(func(oResp) error { seen++; return nil }))
	if err != nil || seen != 2 {
		t.Fatalf("err=%v seen=%d, want the user's callback called twice", err, seen)
	}
	r := rec.Only()
	if g := rec.Attr(r, AttrInputTokens).Int64(); g != 11 {
		t.Errorf("input tokens = %d (promoted Metrics field)", g)
	}
	if g := rec.Attr(r, AttrProviderName).Str(); g != "ollama" {
		t.Errorf("provider = %q", g)
	}
	if !rec.Attr(r, AttrRequestStream).Bool() {
		t.Errorf("Stream nil should mean streaming for Ollama")
	}
}

// Bedrock-shaped events.
type bUsage struct{ InputTokens, OutputTokens *int32 }
type bMeta struct{ Usage *bUsage }
type bStop struct{ StopReason string }
type bEvent interface{ isEvent() }
type memberMeta struct{ Value bMeta }
type memberStop struct{ Value bStop }

func (*memberMeta) isEvent() {}
func (*memberStop) isEvent() {}

type eventStream struct{ ch chan bEvent }

func (s *eventStream) Events() <-chan bEvent { return s.ch }
func (s *eventStream) Err() error            { return nil }
func (s *eventStream) Close() error          { return nil }

type converseOut struct{ s *eventStream }

func (o *converseOut) GetStream() *eventStream { return o.s }

type bInput struct{ ModelId *string }

func TestStreamEvents(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	in, out := int32(10), int32(5)
	es := &eventStream{ch: make(chan bEvent, 2)}
	es.ch <- &memberStop{bStop{"end_turn"}}
	es.ch <- &memberMeta{bMeta{&bUsage{&in, &out}}}
	close(es.ch)
	model := "anthropic.claude-3-haiku-20240307-v1:0"
	o, err := Call1V("bedrock.converse.stream", func(context.Context, *bInput, ...func(*struct{})) (*converseOut, error) {
		return &converseOut{es}, nil
	}, context.Background(), &bInput{&model})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range StreamEvents(o.GetStream().Events) {
		n++
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(rec.Spans()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r := rec.Only()
	if n != 2 || r.Name != "chat "+model {
		t.Fatalf("n=%d name=%q", n, r.Name)
	}
	if g := rec.Attr(r, AttrInputTokens).Int64(); g != 10 {
		t.Errorf("input tokens = %d", g)
	}
	if g := rec.Attr(r, AttrFinishReasons).String(); !strings.Contains(g, "end_turn") {
		t.Errorf("finish reasons = %s", g)
	}
}

func TestShutdownEndsAbandonedStreams(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	svc := &chatService{}
	st := Stream1V("openai.chat.stream", svc.NewStreaming, context.Background(), chatParams{Model: "m"})
	StreamNext(st.Next)
	Shutdown()
	r := rec.Only()
	if !rec.Attr(r, AttrStreamAbandoned).Bool() {
		t.Errorf("abandoned stream not marked")
	}
}

func TestNestedCallsMakeOneSpan(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	inner := &chatService{resp: &completion{Usage: usage{PromptTokens: 1, CompletionTokens: 1}}}
	outer := func(ctx context.Context, msgs []string, opts ...func(*struct{ Model string })) (*completion, error) {
		return Call1V("openai.chat", inner.New, ctx, chatParams{Model: "gpt-4o"})
	}
	Call1V("langchaingo.generate", outer, context.Background(), []string{"hi"}, func(o *struct{ Model string }) { o.Model = "gpt-4o" })
	r := rec.Only()
	if g := rec.Attr(r, AttrRule).Str(); g != "langchaingo.generate" {
		t.Errorf("span made by %q, want the outer rule", g)
	}
	if g := rec.Attr(r, AttrRequestModel).Str(); g != "gpt-4o" {
		t.Errorf("model from functional options = %q", g)
	}
}

func TestRecordLLMCall(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	RecordLLMCall(context.Background(), LLMCall{
		Model: "gpt-4o", Provider: "openai", InputTokens: 100, OutputTokens: 50,
		Latency: 2 * time.Second, Status: "error", Metadata: map[string]any{"team": "search"},
	})
	r := rec.Only()
	if r.Name != "chat gpt-4o" || r.Status != record.StatusError {
		t.Errorf("name=%q status=%v", r.Name, r.Status)
	}
	if d := r.Duration(); d < 2*time.Second {
		t.Errorf("duration %v, want the reported latency", d)
	}
	if g := rec.Attr(r, "llm.metadata.team").Str(); g != "search" {
		t.Errorf("metadata = %q", g)
	}
	if r.Impact.Joules[record.EnergyLLM] <= 0 {
		t.Errorf("no footprint estimate")
	}
}

func TestDisabledIsTransparent(t *testing.T) {
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	svc := &chatService{resp: &completion{ID: "x"}}
	got, err := Call1V("openai.chat", svc.New, context.Background(), chatParams{})
	if err != nil || got.ID != "x" {
		t.Fatalf("disabled tracing changed the result: %v %v", got, err)
	}
	st := Stream1V("openai.chat.stream", svc.NewStreaming, context.Background(), chatParams{})
	n := 0
	for StreamNext(st.Next) {
		n++
	}
	if n != 3 {
		t.Fatalf("stream through disabled wrappers gave %d chunks", n)
	}
}

func TestPanicPropagates(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	defer func() {
		if r := recover(); r != "sdk bug" {
			t.Fatalf("recovered %v, want the SDK's panic value", r)
		}
		if r := rec.Only(); r.Status != record.StatusError {
			t.Errorf("panicking call not marked failed")
		}
	}()
	Call1("ollama.embed", func(context.Context, *oReq) (*oResp, error) { panic("sdk bug") }, context.Background(), &oReq{Model: "m"})
}

func TestMain(m *testing.M) {
	os.Unsetenv("TRACEGEN_CAPTURE_CONTENT")
	os.Exit(m.Run())
}

type callOptions struct {
	Model         string
	StreamingFunc func(ctx context.Context, chunk []byte) error
}
type callOption func(*callOptions)

func TestStreamOptionTimesFirstChunk(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	rule := `{"name":"lc","provider":"openai","operation":"chat","model":["opts.Model"],"stream_option":"StreamingFunc"}`
	gen := func(ctx context.Context, msgs []string, opts ...callOption) (*completion, error) {
		var o callOptions
		for _, f := range opts {
			f(&o)
		}
		for _, c := range []string{"Hel", "lo"} {
			time.Sleep(5 * time.Millisecond)
			if o.StreamingFunc != nil {
				o.StreamingFunc(ctx, []byte(c))
			}
		}
		return &completion{}, nil
	}
	var got string
	_, err := Call1V(rule, gen, context.Background(), []string{"hi"},
		func(o *callOptions) { o.Model = "gpt-4o" },
		func(o *callOptions) {
			o.StreamingFunc = func(_ context.Context, b []byte) error { got += string(b); return nil }
		})
	if err != nil || got != "Hello" {
		t.Fatalf("err=%v got=%q: the caller's streaming func must still see every chunk", err, got)
	}
	r := rec.Only()
	if r.Name != "chat gpt-4o" || !rec.Attr(r, AttrRequestStream).Bool() {
		t.Errorf("name=%q stream=%v", r.Name, rec.Attr(r, AttrRequestStream))
	}
	if ttfc := rec.Attr(r, AttrTimeToFirstChunk).Float64(); ttfc <= 0 || ttfc >= r.Duration().Seconds() {
		t.Errorf("time to first chunk %v of %v", ttfc, r.Duration())
	}
	rec.Reset()
	Call1V(rule, gen, context.Background(), []string{"hi"}, func(o *callOptions) { o.Model = "gpt-4o" })
	r = rec.Only()
	if rec.Attr(r, AttrRequestStream).Bool() {
		t.Errorf("no streaming func, but stream=true")
	}
	if _, ok := r.Lookup(AttrTimeToFirstChunk); ok {
		t.Errorf("time to first chunk without streaming")
	}
}

func TestStreamEventsCloseEarly(t *testing.T) {
	rec := tracetest.NewRecorder(t)
	in := int32(1)
	es := &eventStream{ch: make(chan bEvent)}
	go func() {
		for i := 0; i < 3; i++ {
			es.ch <- &memberMeta{bMeta{&bUsage{&in, &in}}}
		}
		close(es.ch)
	}()
	model := "m"
	o, _ := Call1V("bedrock.converse.stream", func(context.Context, *bInput, ...func(*struct{})) (*converseOut, error) {
		return &converseOut{es}, nil
	}, context.Background(), &bInput{&model})
	events := StreamEvents(o.GetStream().Events)
	<-events // read one event, then stop reading and close
	StreamClose(o.GetStream().Close)
	r := rec.Only()
	if r.Status == record.StatusError {
		t.Errorf("early close marked the call failed")
	}
	// The forwarder must give up instead of blocking on the unread channel.
	deadline := time.After(5 * time.Second)
	for range events {
		select {
		case <-deadline:
			t.Fatal("forwarding goroutine still running after Close")
		default:
		}
	}
}

type lcChoice struct {
	StopReason     string
	GenerationInfo map[string]any
}
type lcResp struct{ Choices []*lcChoice }

func TestLangchainGenerationInfo(t *testing.T) {
	tests := []struct {
		name    string
		info    map[string]any
		in, out int64
	}{
		{"openai backend", map[string]any{"PromptTokens": 9, "CompletionTokens": 12, "PromptCachedTokens": 4}, 9, 12},
		{"anthropic backend adds cache to input", map[string]any{"InputTokens": 10, "OutputTokens": 5, "CacheReadInputTokens": 3, "CacheCreationInputTokens": 2}, 15, 5},
		{"ollama backend", map[string]any{"PromptTokens": 11, "CompletionTokens": 7, "ThinkingTokens": 0}, 11, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewRecorder(t)
			gen := func(ctx context.Context, msgs []string, opts ...callOption) (*lcResp, error) {
				return &lcResp{Choices: []*lcChoice{{StopReason: "stop", GenerationInfo: tt.info}}}, nil
			}
			Call1V("langchaingo.generate", gen, context.Background(), nil, func(o *callOptions) { o.Model = "m" })
			r := rec.Only()
			if g := rec.Attr(r, AttrInputTokens).Int64(); g != tt.in {
				t.Errorf("input tokens = %d, want %d", g, tt.in)
			}
			if g := rec.Attr(r, AttrOutputTokens).Int64(); g != tt.out {
				t.Errorf("output tokens = %d, want %d", g, tt.out)
			}
		})
	}
}
