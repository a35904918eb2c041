package llmhttp

import (
	"encoding/json"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/genai"
)

// maxOutputText caps the generated text kept for content capture.
const maxOutputText = 64 << 10

// accumulator collects what the response body says about the call.
type accumulator struct {
	format  format
	invoke  bool // Bedrock InvokeModel bodies (the vendor's format)
	resp    genai.Response
	reasons []string
	text    strings.Builder
	events  int    // JSON objects seen
	errType string // an error reported inside a 2xx body or stream
	errMsg  string
	done    bool // the stream's final event was seen
}

func (a *accumulator) addText(s string) {
	if s == "" || a.text.Len() >= maxOutputText {
		return
	}
	if room := maxOutputText - a.text.Len(); len(s) > room {
		s = s[:room]
	}
	a.text.WriteString(s)
}

func (a *accumulator) addReason(r string) {
	if r == "" || r == "null" {
		return
	}
	for _, x := range a.reasons {
		if x == r {
			return
		}
	}
	a.reasons = append(a.reasons, r)
}

// response returns the merged response.
func (a *accumulator) response() genai.Response {
	r := a.resp
	r.FinishReasons = append([]string(nil), a.reasons...)
	if a.text.Len() > 0 {
		r.Output = outputMessages(a.text.String(), r.FinishReasons)
	}
	return r
}

// event handles one JSON object: a whole body, an SSE data payload, an
// NDJSON line or an event-stream payload. name is the SSE event or
// event-stream :event-type, when the wire has one.
func (a *accumulator) event(name string, data []byte) {
	if len(data) == 0 || data[0] != '{' {
		return // "[DONE]", keep-alives, non-JSON
	}
	a.events++
	switch a.format {
	case fmtOpenAI:
		a.openAI(data)
	case fmtAnthropic:
		a.anthropic(name, data)
	case fmtGemini:
		a.gemini(data)
	case fmtBedrock:
		if a.invoke {
			a.bedrockInvoke(name, data)
		} else {
			a.bedrock(name, data)
		}
	case fmtOllama:
		a.ollama(data)
	}
}

// apiError reads {"error": {...}} or {"error": "..."}.
func (a *accumulator) apiError(e json.RawMessage) {
	if len(e) == 0 || string(e) == "null" {
		return
	}
	var obj struct {
		Type, Code, Message string
		Status              string
	}
	if json.Unmarshal(e, &obj) == nil {
		a.errType = firstNonEmpty(obj.Type, obj.Code, obj.Status, "_OTHER")
		a.errMsg = obj.Message
		return
	}
	var s string
	if json.Unmarshal(e, &s) == nil {
		a.errType, a.errMsg = "_OTHER", s
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

type openAIUsage struct {
	PromptTokens        *int64 `json:"prompt_tokens"`
	CompletionTokens    *int64 `json:"completion_tokens"`
	InputTokens         *int64 `json:"input_tokens"`
	OutputTokens        *int64 `json:"output_tokens"`
	PromptTokensDetails *struct {
		CachedTokens     int64 `json:"cached_tokens"`
		CacheWriteTokens int64 `json:"cache_write_tokens"`
	} `json:"prompt_tokens_details"`
	InputTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	OutputTokensDetails *struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (a *accumulator) openAIUsage(u *openAIUsage) {
	if u == nil {
		return
	}
	r := &a.resp
	switch {
	case u.PromptTokens != nil: // chat completions, embeddings
		r.InputTokens = *u.PromptTokens
		if u.CompletionTokens != nil {
			r.OutputTokens = *u.CompletionTokens
		}
	case u.InputTokens != nil: // Responses API
		r.InputTokens = *u.InputTokens
		if u.OutputTokens != nil {
			r.OutputTokens = *u.OutputTokens
		}
	default:
		return
	}
	r.UsageKnown = true
	if d := u.PromptTokensDetails; d != nil {
		r.CacheReadTokens, r.CacheWriteTokens = d.CachedTokens, d.CacheWriteTokens
	}
	if d := u.InputTokensDetails; d != nil {
		r.CacheReadTokens = d.CachedTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		r.ReasoningTokens = d.ReasoningTokens
	}
	if d := u.OutputTokensDetails; d != nil {
		r.ReasoningTokens = d.ReasoningTokens
	}
}

func (a *accumulator) openAI(data []byte) {
	var b struct {
		ID      string          `json:"id"`
		Object  string          `json:"object"`
		Type    string          `json:"type"`
		Model   string          `json:"model"`
		Status  string          `json:"status"`
		Error   json.RawMessage `json:"error"`
		Usage   *openAIUsage    `json:"usage"`
		Choices []struct {
			FinishReason *string `json:"finish_reason"`
			Text         string  `json:"text"`
			Message      *struct {
				Content string `json:"content"`
			} `json:"message"`
			Delta *struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
		Response          json.RawMessage `json:"response"`
		Delta             json.RawMessage `json:"delta"`
		IncompleteDetails *struct {
			Reason string `json:"reason"`
		} `json:"incomplete_details"`
		Output []struct {
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	a.apiError(b.Error)
	// Responses API stream events wrap the response object.
	if len(b.Response) > 0 && b.Response[0] == '{' {
		if b.Type == "response.completed" || b.Type == "response.incomplete" || b.Type == "response.failed" {
			a.done = true
		}
		a.openAI(b.Response)
		return
	}
	if b.Type == "response.output_text.delta" {
		var s string
		if json.Unmarshal(b.Delta, &s) == nil {
			a.addText(s)
		}
		return
	}
	if b.ID != "" {
		a.resp.ID = b.ID
	}
	if b.Model != "" {
		a.resp.Model = b.Model
	}
	a.openAIUsage(b.Usage)
	for _, c := range b.Choices {
		if c.FinishReason != nil {
			a.addReason(*c.FinishReason)
		}
		switch {
		case c.Delta != nil:
			a.addText(c.Delta.Content)
		case c.Message != nil:
			a.addText(c.Message.Content)
		default:
			a.addText(c.Text)
		}
	}
	if b.Object == "response" {
		switch {
		case b.IncompleteDetails != nil && b.IncompleteDetails.Reason != "":
			a.addReason(b.IncompleteDetails.Reason)
		case b.Status != "" && b.Status != "in_progress" && b.Status != "queued":
			a.addReason(b.Status)
		}
		if a.text.Len() == 0 {
			for _, o := range b.Output {
				for _, c := range o.Content {
					if c.Type == "output_text" {
						a.addText(c.Text)
					}
				}
			}
		}
	}
}

type anthropicUsage struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
}

// anthropicState keeps the parts of Anthropic usage that arrive in
// different events, since input_tokens excludes the cache counts.
func (a *accumulator) anthropicUsage(u *anthropicUsage) {
	if u == nil {
		return
	}
	r := &a.resp
	if u.CacheReadInputTokens != nil {
		r.InputTokens += *u.CacheReadInputTokens - r.CacheReadTokens
		r.CacheReadTokens = *u.CacheReadInputTokens
	}
	if u.CacheCreationInputTokens != nil {
		r.InputTokens += *u.CacheCreationInputTokens - r.CacheWriteTokens
		r.CacheWriteTokens = *u.CacheCreationInputTokens
	}
	if u.InputTokens != nil {
		r.InputTokens = *u.InputTokens + r.CacheReadTokens + r.CacheWriteTokens
		r.UsageKnown = true
	}
	if u.OutputTokens != nil {
		r.OutputTokens = *u.OutputTokens // cumulative in message_delta
		r.UsageKnown = true
	}
}

type anthropicMessage struct {
	ID         string          `json:"id"`
	Model      string          `json:"model"`
	StopReason *string         `json:"stop_reason"`
	Usage      *anthropicUsage `json:"usage"`
	Content    []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
}

func (a *accumulator) anthropic(name string, data []byte) {
	var b struct {
		Type    string            `json:"type"`
		Message *anthropicMessage `json:"message"`
		Delta   *struct {
			Type       string  `json:"type"`
			Text       string  `json:"text"`
			StopReason *string `json:"stop_reason"`
		} `json:"delta"`
		Usage *anthropicUsage `json:"usage"`
		Error json.RawMessage `json:"error"`
		anthropicMessage
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	a.apiError(b.Error)
	switch b.Type {
	case "message_start":
		if m := b.Message; m != nil {
			a.anthropicMsg(m)
		}
	case "content_block_delta":
		if b.Delta != nil && b.Delta.Type == "text_delta" {
			a.addText(b.Delta.Text)
		}
	case "message_delta":
		if b.Delta != nil && b.Delta.StopReason != nil {
			a.addReason(*b.Delta.StopReason)
		}
		a.anthropicUsage(b.Usage)
	case "message_stop":
		a.done = true
	case "message":
		a.anthropicMsg(&b.anthropicMessage)
		a.anthropicUsage(b.Usage) // the top-level usage field shadows the embedded one
		a.done = true
	}
}

func (a *accumulator) anthropicMsg(m *anthropicMessage) {
	if m.ID != "" {
		a.resp.ID = m.ID
	}
	if m.Model != "" {
		a.resp.Model = m.Model
	}
	if m.StopReason != nil {
		a.addReason(*m.StopReason)
	}
	a.anthropicUsage(m.Usage)
	for _, c := range m.Content {
		if c.Type == "text" {
			a.addText(c.Text)
		}
	}
}

func (a *accumulator) gemini(data []byte) {
	var b struct {
		ResponseID   string `json:"responseId"`
		ModelVersion string `json:"modelVersion"`
		Candidates   []struct {
			FinishReason string `json:"finishReason"`
			Content      *struct {
				Parts []struct {
					Text    string `json:"text"`
					Thought bool   `json:"thought"`
				} `json:"parts"`
			} `json:"content"`
		} `json:"candidates"`
		UsageMetadata *struct {
			PromptTokenCount        int64 `json:"promptTokenCount"`
			CandidatesTokenCount    int64 `json:"candidatesTokenCount"`
			CachedContentTokenCount int64 `json:"cachedContentTokenCount"`
			ThoughtsTokenCount      int64 `json:"thoughtsTokenCount"`
			ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount"`
		} `json:"usageMetadata"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	a.apiError(b.Error)
	if b.ResponseID != "" {
		a.resp.ID = b.ResponseID
	}
	if b.ModelVersion != "" {
		a.resp.Model = b.ModelVersion
	}
	for _, c := range b.Candidates {
		a.addReason(c.FinishReason)
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				if !p.Thought {
					a.addText(p.Text)
				}
			}
		}
	}
	// Usage is a running total on every chunk; the last one is final.
	if u := b.UsageMetadata; u != nil {
		a.resp.UsageKnown = true
		a.resp.InputTokens = u.PromptTokenCount + u.ToolUsePromptTokenCount // includes cached tokens
		a.resp.OutputTokens = u.CandidatesTokenCount + u.ThoughtsTokenCount
		a.resp.CacheReadTokens = u.CachedContentTokenCount
		a.resp.ReasoningTokens = u.ThoughtsTokenCount
	}
}

// bedrockInvoke handles InvokeModel bodies, which are the model vendor's
// own format (Anthropic messages for Claude, others for Titan, Llama, ...),
// and InvokeModelWithResponseStream "chunk" events, whose payload wraps such
// a body in base64 under "bytes". The final chunk carries
// amazon-bedrock-invocationMetrics with the token counts of any model.
func (a *accumulator) bedrockInvoke(name string, data []byte) {
	if name == "chunk" {
		var c struct {
			Bytes []byte `json:"bytes"` // base64 in JSON
		}
		if json.Unmarshal(data, &c) != nil || len(c.Bytes) == 0 {
			return
		}
		data = c.Bytes
	}
	var m struct {
		Type    string `json:"type"`
		Metrics *struct {
			InputTokenCount  int64 `json:"inputTokenCount"`
			OutputTokenCount int64 `json:"outputTokenCount"`
		} `json:"amazon-bedrock-invocationMetrics"`
		// Titan text and embeddings.
		InputTextTokenCount *int64 `json:"inputTextTokenCount"`
		Results             []struct {
			TokenCount       int64  `json:"tokenCount"`
			OutputText       string `json:"outputText"`
			CompletionReason string `json:"completionReason"`
		} `json:"results"`
		// Llama, Mistral.
		PromptTokenCount     *int64 `json:"prompt_token_count"`
		GenerationTokenCount *int64 `json:"generation_token_count"`
		Generation           string `json:"generation"`
		StopReason           string `json:"stop_reason"`
	}
	if json.Unmarshal(data, &m) != nil {
		return
	}
	switch {
	case m.Type != "": // Anthropic messages API on Bedrock
		a.anthropic(m.Type, data)
	case m.InputTextTokenCount != nil:
		a.resp.UsageKnown = true
		a.resp.InputTokens = *m.InputTextTokenCount
		for _, r := range m.Results {
			a.resp.OutputTokens += r.TokenCount
			a.addText(r.OutputText)
			a.addReason(r.CompletionReason)
		}
	case m.PromptTokenCount != nil || m.GenerationTokenCount != nil:
		a.resp.UsageKnown = true
		if m.PromptTokenCount != nil {
			a.resp.InputTokens = *m.PromptTokenCount
		}
		if m.GenerationTokenCount != nil {
			a.resp.OutputTokens = *m.GenerationTokenCount
		}
		a.addText(m.Generation)
		a.addReason(m.StopReason)
	}
	if mt := m.Metrics; mt != nil {
		a.resp.UsageKnown = true
		a.resp.InputTokens, a.resp.OutputTokens = mt.InputTokenCount, mt.OutputTokenCount
		a.done = true
	}
}

func (a *accumulator) bedrock(name string, data []byte) {
	var b struct {
		StopReason string `json:"stopReason"`
		Usage      *struct {
			InputTokens           int64 `json:"inputTokens"`
			OutputTokens          int64 `json:"outputTokens"`
			CacheReadInputTokens  int64 `json:"cacheReadInputTokens"`
			CacheWriteInputTokens int64 `json:"cacheWriteInputTokens"`
		} `json:"usage"`
		Output *struct {
			Message *struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"message"`
		} `json:"output"`
		Delta *struct {
			Text string `json:"text"`
		} `json:"delta"`
		Message string `json:"message"` // exception payloads
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	a.addReason(b.StopReason)
	if u := b.Usage; u != nil {
		a.resp.UsageKnown = true
		// Bedrock's inputTokens excludes cache reads and writes; the
		// convention's input_tokens includes them.
		a.resp.InputTokens = u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
		a.resp.OutputTokens = u.OutputTokens
		a.resp.CacheReadTokens, a.resp.CacheWriteTokens = u.CacheReadInputTokens, u.CacheWriteInputTokens
	}
	if b.Delta != nil {
		a.addText(b.Delta.Text)
	}
	if b.Output != nil && b.Output.Message != nil {
		for _, c := range b.Output.Message.Content {
			a.addText(c.Text)
		}
		a.done = true
	}
	if name == "metadata" {
		a.done = true
	}
}

func (a *accumulator) ollama(data []byte) {
	var b struct {
		Model           string `json:"model"`
		Done            bool   `json:"done"`
		DoneReason      string `json:"done_reason"`
		PromptEvalCount *int64 `json:"prompt_eval_count"`
		EvalCount       *int64 `json:"eval_count"`
		Response        string `json:"response"`
		Message         *struct {
			Content string `json:"content"`
		} `json:"message"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	a.apiError(b.Error)
	if b.Model != "" {
		a.resp.Model = b.Model
	}
	if b.Message != nil {
		a.addText(b.Message.Content)
	}
	a.addText(b.Response)
	if b.Done {
		a.done = true
		a.addReason(b.DoneReason)
	}
	if b.PromptEvalCount != nil || b.EvalCount != nil {
		a.resp.UsageKnown = true
		if b.PromptEvalCount != nil {
			a.resp.InputTokens = *b.PromptEvalCount
		}
		if b.EvalCount != nil {
			a.resp.OutputTokens = *b.EvalCount
		}
	}
}
