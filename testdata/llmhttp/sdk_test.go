package llmhttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	ollama "github.com/ollama/ollama/api"
	openaigo "github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	goopenai "github.com/sashabaranov/go-openai"
	"github.com/tmc/langchaingo/llms"
	lcanthropic "github.com/tmc/langchaingo/llms/anthropic"
	lcopenai "github.com/tmc/langchaingo/llms/openai"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/genai"

	tgenai "github.com/tracegen-dev/tracegen/runtime/genai"

	"github.com/tracegen-dev/tracegen/runtime/llmhttp"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
	tgtest "github.com/tracegen-dev/tracegen/runtime/tracetest"
)

// serve answers every request with ct and body, written in small flushed
// pieces, and fails the test if the path is not want.
func serve(t *testing.T, wantPath, ct string, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != wantPath {
			t.Errorf("request path %s, want %s", r.URL.Path, wantPath)
		}
		w.Header().Set("Content-Type", ct)
		b := body
		for len(b) > 0 {
			n := min(64, len(b))
			w.Write(b[:n])
			w.(http.Flusher).Flush()
			b = b[n:]
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

type want struct {
	name, provider    string
	in, out           int64
	respModel, respID string
	reasons           string
	stream            bool
}

// check finds the one LLM span and checks it against w, under parent.
func check(t *testing.T, rec *tgtest.Recorder, parent *record.Record, w want) {
	t.Helper()
	var llm []*record.Record
	for _, r := range rec.Spans() {
		if r.Type == record.TypeLLM {
			llm = append(llm, r)
		}
	}
	if len(llm) != 1 {
		t.Fatalf("%d LLM spans, want exactly 1: %v", len(llm), names(rec.Spans()))
	}
	r := llm[0]
	if r.Name != w.name || r.Kind != record.KindClient {
		t.Errorf("span %q kind %v, want %q client", r.Name, r.Kind, w.name)
	}
	if parent != nil && (r.ParentSpanID != parent.SpanID || r.TraceID != parent.TraceID) {
		t.Errorf("LLM span is not a child of %q", parent.Name)
	}
	str := func(k string) string {
		if v, ok := r.Lookup(k); ok {
			return v.String()
		}
		return ""
	}
	num := func(k string) int64 { v, _ := r.Lookup(k); return v.Int64() }
	if got := str("gen_ai.provider.name"); got != w.provider {
		t.Errorf("provider %q, want %q", got, w.provider)
	}
	if num("gen_ai.usage.input_tokens") != w.in || num("gen_ai.usage.output_tokens") != w.out {
		t.Errorf("tokens in=%d out=%d, want %d %d", num("gen_ai.usage.input_tokens"), num("gen_ai.usage.output_tokens"), w.in, w.out)
	}
	if got := str("gen_ai.response.model"); got != w.respModel {
		t.Errorf("response model %q, want %q", got, w.respModel)
	}
	if got := str("gen_ai.response.id"); got != w.respID {
		t.Errorf("response id %q, want %q", got, w.respID)
	}
	if got := str("gen_ai.response.finish_reasons"); !strings.Contains(got, w.reasons) {
		t.Errorf("finish reasons %q, want %q", got, w.reasons)
	}
	if v, ok := r.Lookup("gen_ai.request.stream"); !ok || v.Bool() != w.stream {
		t.Errorf("gen_ai.request.stream %v (set %v), want %v", v, ok, w.stream)
	}
	if w.stream {
		if v, ok := r.Lookup("gen_ai.response.time_to_first_chunk"); !ok || v.Float64() <= 0 {
			t.Errorf("time to first chunk %v (set %v), want > 0", v, ok)
		}
	}
	if r.Impact.Joules[record.EnergyLLM] <= 0 || r.Impact.CO2eG <= 0 || r.Impact.WaterL <= 0 {
		t.Errorf("impact %+v: want the remote call's estimate (llm energy, CO2e, water)", r.Impact)
	}
}

func names(rs []*record.Record) []string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	return n
}

// parentSpan runs f under a span named "agent" and returns its record.
func parentSpan(t *testing.T, rec *tgtest.Recorder, f func(ctx context.Context)) *record.Record {
	t.Helper()
	ctx, s := trace.Start(context.Background(), "agent", trace.TypeAgent)
	f(ctx)
	s.End()
	return rec.Span("agent")
}

const openAIChat = `{"id":"chatcmpl-123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":4}}}`

var openAIStream = "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
	"data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n" +
	"data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}\n\n" +
	"data: [DONE]\n\n"

func TestGoOpenAI(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	srv := serve(t, "/v1/chat/completions", "application/json", []byte(openAIChat))
	cfg := goopenai.DefaultConfig("key")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = llmhttp.Wrap(srv.Client())
	client := goopenai.NewClientWithConfig(cfg)
	parent := parentSpan(t, rec, func(ctx context.Context) {
		resp, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "gpt-4o-mini",
			Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
		if err != nil || resp.Choices[0].Message.Content != "Hello!" {
			t.Fatalf("SDK result %+v, %v", resp, err)
		}
	})
	check(t, rec, parent, want{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12,
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", reasons: "stop"})
}

func TestGoOpenAIStream(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	srv := serve(t, "/v1/chat/completions", "text/event-stream", []byte(openAIStream))
	cfg := goopenai.DefaultConfig("key")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = llmhttp.Wrap(nil)
	client := goopenai.NewClientWithConfig(cfg)
	parent := parentSpan(t, rec, func(ctx context.Context) {
		st, err := client.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{Model: "gpt-4o-mini", Stream: true,
			StreamOptions: &goopenai.StreamOptions{IncludeUsage: true}, Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
		if err != nil {
			t.Fatal(err)
		}
		var text string
		for {
			c, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Choices) > 0 {
				text += c.Choices[0].Delta.Content
			}
		}
		st.Close()
		if text != "Hello" {
			t.Errorf("SDK text %q", text)
		}
	})
	check(t, rec, parent, want{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12,
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", reasons: "stop", stream: true})
}

func TestOpenAIGo(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	srv := serve(t, "/v1/chat/completions", "text/event-stream", []byte(openAIStream))
	client := openaigo.NewClient(openaiopt.WithBaseURL(srv.URL+"/v1/"), openaiopt.WithAPIKey("key"),
		openaiopt.WithHTTPClient(llmhttp.Wrap(nil)), openaiopt.WithMaxRetries(0))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		st := client.Chat.Completions.NewStreaming(ctx, openaigo.ChatCompletionNewParams{
			Model:         openaigo.ChatModelGPT4oMini,
			Messages:      []openaigo.ChatCompletionMessageParamUnion{openaigo.UserMessage("hi")},
			StreamOptions: openaigo.ChatCompletionStreamOptionsParam{IncludeUsage: openaigo.Bool(true)},
		})
		acc := openaigo.ChatCompletionAccumulator{}
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		if acc.Usage.CompletionTokens != 12 {
			t.Errorf("SDK usage %+v", acc.Usage)
		}
		// Not closed: the span must end at EOF.
	})
	check(t, rec, parent, want{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12,
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", reasons: "stop", stream: true})
}

func TestAnthropicStream(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	ev := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
	body := ev("message_start", `{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":3,"cache_creation_input_tokens":2}}}`) +
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) +
		ev("ping", `{"type":"ping"}`) +
		ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}`) +
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}`) +
		ev("message_stop", `{"type":"message_stop"}`)
	srv := serve(t, "/v1/messages", "text/event-stream", []byte(body))
	client := anthropic.NewClient(anthropicopt.WithBaseURL(srv.URL), anthropicopt.WithAPIKey("key"),
		anthropicopt.WithHTTPClient(llmhttp.Wrap(nil)), anthropicopt.WithMaxRetries(0))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		st := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: anthropic.ModelClaudeSonnet4_5, MaxTokens: 100,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
		msg := anthropic.Message{}
		for st.Next() {
			if err := msg.Accumulate(st.Current()); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if msg.Usage.OutputTokens != 5 {
			t.Errorf("SDK usage %+v", msg.Usage)
		}
	})
	// Input includes the cache reads and writes, as the convention says: 10+3+2.
	check(t, rec, parent, want{name: "chat claude-sonnet-4-5", provider: "anthropic", in: 15, out: 5,
		respModel: "claude-sonnet-4-5-20250929", respID: "msg_01", reasons: "end_turn", stream: true})
}

func TestGemini(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello!"}]},"finishReason":"STOP","index":0}],
 "usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":4,"totalTokenCount":14,"cachedContentTokenCount":2,"thoughtsTokenCount":2},
 "modelVersion":"gemini-2.5-flash","responseId":"resp-abc"}`
	srv := serve(t, "/v1beta/models/gemini-2.5-flash:generateContent", "application/json", []byte(body))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		client, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "key", Backend: genai.BackendGeminiAPI,
			HTTPClient: llmhttp.Wrap(nil), HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Models.GenerateContent(ctx, "gemini-2.5-flash", genai.Text("hi"), nil)
		if err != nil || res.Text() != "Hello!" {
			t.Fatalf("SDK result %v, %v", res, err)
		}
	})
	// Output includes the thoughts tokens: 4+2.
	check(t, rec, parent, want{name: "generate_content gemini-2.5-flash", provider: "gcp.gemini", in: 8, out: 6,
		respModel: "gemini-2.5-flash", respID: "resp-abc", reasons: "STOP"})
}

func TestGeminiStream(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	body := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":1},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\n\n" +
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":4,\"totalTokenCount\":12},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\n\n"
	srv := serve(t, "/v1beta/models/gemini-2.5-flash:streamGenerateContent", "text/event-stream", []byte(body))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		client, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "key", Backend: genai.BackendGeminiAPI,
			HTTPClient: llmhttp.Wrap(nil), HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
		if err != nil {
			t.Fatal(err)
		}
		text := ""
		for res, err := range client.Models.GenerateContentStream(ctx, "gemini-2.5-flash", genai.Text("hi"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			text += res.Text()
		}
		if text != "Hello" {
			t.Errorf("SDK text %q", text)
		}
	})
	check(t, rec, parent, want{name: "generate_content gemini-2.5-flash", provider: "gcp.gemini", in: 8, out: 4,
		respModel: "gemini-2.5-flash", respID: "r1", reasons: "STOP", stream: true})
}

func bedrockClient(url string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"}, nil
		}),
		HTTPClient:       llmhttp.Wrap(nil),
		RetryMaxAttempts: 1,
	})
}

func TestBedrockConverseStream(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, e := range []struct{ name, payload string }{
		{"messageStart", `{"role":"assistant"}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hel"}}`},
		{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"lo"}}`},
		{"contentBlockStop", `{"contentBlockIndex":0}`},
		{"messageStop", `{"stopReason":"end_turn"}`},
		{"metadata", `{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":42}}`},
	} {
		var h eventstream.Headers
		h.Set(":message-type", eventstream.StringValue("event"))
		h.Set(":event-type", eventstream.StringValue(e.name))
		h.Set(":content-type", eventstream.StringValue("application/json"))
		if err := enc.Encode(&buf, eventstream.Message{Headers: h, Payload: []byte(e.payload)}); err != nil {
			t.Fatal(err)
		}
	}
	model := "anthropic.claude-3-5-haiku-20241022-v1:0"
	srv := serve(t, "/model/"+model+"/converse-stream", "application/vnd.amazon.eventstream", buf.Bytes())
	parent := parentSpan(t, rec, func(ctx context.Context) {
		out, err := bedrockClient(srv.URL).ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(model),
			Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "hi"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		st := out.GetStream()
		n := 0
		for range st.Events() {
			n++
		}
		if err := st.Err(); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if n != 6 {
			t.Errorf("SDK saw %d events, want 6", n)
		}
	})
	check(t, rec, parent, want{name: "chat " + model, provider: "aws.bedrock", in: 10, out: 5, reasons: "end_turn", stream: true})
}

func TestBedrockConverse(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	model := "anthropic.claude-3-5-haiku-20241022-v1:0"
	srv := serve(t, "/model/"+model+"/converse", "application/json",
		[]byte(`{"output":{"message":{"role":"assistant","content":[{"text":"Hello!"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15},"metrics":{"latencyMs":42}}`))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		out, err := bedrockClient(srv.URL).Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(model),
			Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "hi"}}}}})
		if err != nil || *out.Usage.OutputTokens != 5 {
			t.Fatalf("SDK result %+v, %v", out, err)
		}
	})
	check(t, rec, parent, want{name: "chat " + model, provider: "aws.bedrock", in: 10, out: 5, reasons: "end_turn"})
}

func TestOllamaChatStream(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	body := `{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}
{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"lo"},"done":false}
{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":11,"eval_count":7}
`
	srv := serve(t, "/api/chat", "application/x-ndjson", []byte(body))
	u, _ := url.Parse(srv.URL)
	client := ollama.NewClient(u, llmhttp.Wrap(nil))
	parent := parentSpan(t, rec, func(ctx context.Context) {
		text := ""
		err := client.Chat(ctx, &ollama.ChatRequest{Model: "llama3.2", Messages: []ollama.Message{{Role: "user", Content: "hi"}}},
			func(r ollama.ChatResponse) error { text += r.Message.Content; return nil })
		if err != nil || text != "Hello" {
			t.Fatalf("SDK text %q, %v", text, err)
		}
	})
	check(t, rec, parent, want{name: "chat llama3.2", provider: "ollama", in: 11, out: 7, respModel: "llama3.2", reasons: "stop", stream: true})
}

// TestOneSpanUnderRuleCall: when the SDK call already has a span (what the
// rewriter's wrapper opens with genai.Start), the transport enriches it and
// opens no second one.
func TestOneSpanUnderRuleCall(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	srv := serve(t, "/v1/chat/completions", "application/json", []byte(openAIChat))
	cfg := goopenai.DefaultConfig("key")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = llmhttp.Wrap(nil)
	client := goopenai.NewClientWithConfig(cfg)
	parent := parentSpan(t, rec, func(ctx context.Context) {
		ctx, call := tgenai.Start(ctx, tgenai.Request{Provider: "openai", Operation: "chat", Model: "gpt-4o-mini"})
		_, err := client.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{Model: "gpt-4o-mini",
			Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: "hi"}}})
		call.End(err)
	})
	check(t, rec, parent, want{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12,
		respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", reasons: "stop"})
}

// TestStreamClosedEarly: a stream closed before its end still ends its span.
func TestStreamClosedEarly(t *testing.T) {
	rec := tgtest.NewRecorder(t)
	srv := serve(t, "/v1/chat/completions", "text/event-stream", []byte(openAIStream))
	cfg := goopenai.DefaultConfig("key")
	cfg.BaseURL = srv.URL + "/v1"
	cfg.HTTPClient = llmhttp.Wrap(nil)
	client := goopenai.NewClientWithConfig(cfg)
	parentSpan(t, rec, func(ctx context.Context) {
		st, err := client.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{Model: "gpt-4o-mini", Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
		st.Close()
	})
	n := 0
	for _, r := range rec.Spans() {
		if r.Type == record.TypeLLM {
			n++
			if v, ok := r.Lookup("gen_ai.response.id"); !ok || v.String() != "chatcmpl-123" {
				t.Errorf("early-closed stream span lacks what was read: %v", v)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d LLM spans after an early Close, want 1", n)
	}
}

// TestAnthropicOwnSpanOff: anthropic-sdk-go makes an OpenTelemetry span per
// call through the global TracerProvider; with the transport in place that
// would be a second span for the call, so the transport turns it off
// (ANTHROPIC_OPEN_TELEMETRY=false unless the user set it). The control
// request forces the SDK's span on to show the recorder would see it.
func TestAnthropicOwnSpanOff(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	body := `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5}}`
	for _, tc := range []struct {
		name     string
		opts     []anthropicopt.RequestOption
		sdkSpans int
	}{
		{"default", nil, 0},
		{"forced on (control)", []anthropicopt.RequestOption{anthropicopt.WithOpenTelemetryTraces(true)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tgtest.NewRecorder(t)
			before := len(sr.Ended())
			srv := serve(t, "/v1/messages", "application/json", []byte(body))
			client := anthropic.NewClient(anthropicopt.WithBaseURL(srv.URL), anthropicopt.WithAPIKey("key"),
				anthropicopt.WithHTTPClient(llmhttp.Wrap(nil)), anthropicopt.WithMaxRetries(0))
			parent := parentSpan(t, rec, func(ctx context.Context) {
				_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.ModelClaudeSonnet4_5, MaxTokens: 100,
					Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}}, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
			})
			if got := len(sr.Ended()) - before; got != tc.sdkSpans {
				t.Errorf("SDK made %d OpenTelemetry spans, want %d", got, tc.sdkSpans)
			}
			check(t, rec, parent, want{name: "chat claude-sonnet-4-5", provider: "anthropic", in: 10, out: 5,
				respModel: "claude-sonnet-4-5-20250929", respID: "msg_01", reasons: "end_turn"})
		})
	}
}

// TestLangChainGo: LangChainGo's backends use their own HTTP clients, not
// the vendor SDKs; through the transport they are traced the same way.
func TestLangChainGo(t *testing.T) {
	t.Run("openai stream", func(t *testing.T) {
		rec := tgtest.NewRecorder(t)
		srv := serve(t, "/v1/chat/completions", "text/event-stream", []byte(openAIStream))
		llm, err := lcopenai.New(lcopenai.WithToken("key"), lcopenai.WithBaseURL(srv.URL+"/v1"),
			lcopenai.WithHTTPClient(llmhttp.Wrap(nil)), lcopenai.WithModel("gpt-4o-mini"))
		if err != nil {
			t.Fatal(err)
		}
		parent := parentSpan(t, rec, func(ctx context.Context) {
			_, err := llm.GenerateContent(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")},
				llms.WithStreamingFunc(func(context.Context, []byte) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
		})
		check(t, rec, parent, want{name: "chat gpt-4o-mini", provider: "openai", in: 9, out: 12,
			respModel: "gpt-4o-mini-2024-07-18", respID: "chatcmpl-123", reasons: "stop", stream: true})
	})
	t.Run("anthropic", func(t *testing.T) {
		rec := tgtest.NewRecorder(t)
		srv := serve(t, "/v1/messages", "application/json", []byte(`{"id":"msg_lc","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello!"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5}}`))
		llm, err := lcanthropic.New(lcanthropic.WithToken("key"), lcanthropic.WithBaseURL(srv.URL+"/v1"),
			lcanthropic.WithHTTPClient(llmhttp.Wrap(nil)), lcanthropic.WithModel("claude-sonnet-4-5"))
		if err != nil {
			t.Fatal(err)
		}
		parent := parentSpan(t, rec, func(ctx context.Context) {
			resp, err := llm.GenerateContent(ctx, []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "hi")})
			if err != nil || resp.Choices[0].Content != "Hello!" {
				t.Fatalf("LangChainGo result %+v, %v", resp, err)
			}
		})
		check(t, rec, parent, want{name: "chat claude-sonnet-4-5", provider: "anthropic", in: 10, out: 5,
			respModel: "claude-sonnet-4-5-20250929", respID: "msg_lc", reasons: "end_turn"})
	})
}

func TestOpenAIGoResponsesAndEmbeddings(t *testing.T) {
	t.Run("responses stream", func(t *testing.T) {
		rec := tgtest.NewRecorder(t)
		body := "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_9\",\"object\":\"response\",\"status\":\"in_progress\",\"model\":\"gpt-4o-2024-08-06\",\"output\":[]}}\n\n" +
			"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\"}\n\n" +
			"event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":{\"id\":\"resp_9\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-4o-2024-08-06\",\"output\":[],\"usage\":{\"input_tokens\":7,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":3,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":10}}}\n\n"
		srv := serve(t, "/v1/responses", "text/event-stream", []byte(body))
		client := openaigo.NewClient(openaiopt.WithBaseURL(srv.URL+"/v1/"), openaiopt.WithAPIKey("key"),
			openaiopt.WithHTTPClient(llmhttp.Wrap(nil)), openaiopt.WithMaxRetries(0))
		parent := parentSpan(t, rec, func(ctx context.Context) {
			st := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4o",
				Input: responses.ResponseNewParamsInputUnion{OfString: openaigo.String("hi")}})
			n := 0
			for st.Next() {
				n++
			}
			if err := st.Err(); err != nil || n != 3 {
				t.Fatalf("SDK saw %d events, %v", n, err)
			}
		})
		check(t, rec, parent, want{name: "chat gpt-4o", provider: "openai", in: 7, out: 3,
			respModel: "gpt-4o-2024-08-06", respID: "resp_9", reasons: "completed", stream: true})
	})
	t.Run("embeddings", func(t *testing.T) {
		rec := tgtest.NewRecorder(t)
		srv := serve(t, "/v1/embeddings", "application/json",
			[]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}`))
		client := openaigo.NewClient(openaiopt.WithBaseURL(srv.URL+"/v1/"), openaiopt.WithAPIKey("key"),
			openaiopt.WithHTTPClient(llmhttp.Wrap(nil)), openaiopt.WithMaxRetries(0))
		parentSpan(t, rec, func(ctx context.Context) {
			res, err := client.Embeddings.New(ctx, openaigo.EmbeddingNewParams{Model: openaigo.EmbeddingModelTextEmbedding3Small,
				Input: openaigo.EmbeddingNewParamsInputUnion{OfString: openaigo.String("hello")}})
			if err != nil || len(res.Data) != 1 {
				t.Fatalf("SDK result %+v, %v", res, err)
			}
		})
		var r *record.Record
		for _, x := range rec.Spans() {
			if x.Type == record.TypeLLM {
				r = x
			}
		}
		if r == nil || r.Name != "embeddings text-embedding-3-small" {
			t.Fatalf("embeddings span: %v", names(rec.Spans()))
		}
		if v, _ := r.Lookup("gen_ai.usage.input_tokens"); v.Int64() != 5 {
			t.Errorf("input tokens %v", v)
		}
	})
}
