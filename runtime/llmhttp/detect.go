package llmhttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Provider values (OpenTelemetry gen_ai.provider.name; ollama is custom).
const (
	ProviderOpenAI      = "openai"
	ProviderAzureOpenAI = "azure.ai.openai"
	ProviderAnthropic   = "anthropic"
	ProviderGemini      = "gcp.gemini"
	ProviderVertex      = "gcp.vertex_ai"
	ProviderBedrock     = "aws.bedrock"
	ProviderOllama      = "ollama"
)

// format is the wire family of a provider's bodies.
type format int

const (
	fmtOpenAI format = iota
	fmtAnthropic
	fmtGemini
	fmtBedrock
	fmtOllama
)

// target is what the transport learned from a request.
type target struct {
	format    format
	provider  string
	operation string
	model     string
	stream    bool
	// includeUsage is OpenAI's stream_options.include_usage.
	includeUsage bool
	input        json.RawMessage
	attrs        map[string]any
	knownHost    bool // the host is a known provider API
	invoke       bool // Bedrock InvokeModel: the body is the model vendor's own format
}

// openAICompatibleHosts maps hosts of OpenAI-compatible APIs to provider names.
var openAICompatibleHosts = map[string]string{
	"api.openai.com":                    ProviderOpenAI,
	"api.mistral.ai":                    "mistral_ai",
	"api.groq.com":                      "groq",
	"api.deepseek.com":                  "deepseek",
	"api.x.ai":                          "x_ai",
	"api.perplexity.ai":                 "perplexity",
	"api.together.xyz":                  "together_ai",
	"openrouter.ai":                     "openrouter",
	"api.fireworks.ai":                  "fireworks_ai",
	"api.moonshot.ai":                   "moonshot_ai",
	"generativelanguage.googleapis.com": ProviderGemini, // Gemini's OpenAI-compatible endpoint
}

// recognise classifies a request by method, URL and headers. It does not
// read the body.
func recognise(r *http.Request) (target, bool) {
	if r.Method != http.MethodPost || r.URL == nil {
		return target{}, false
	}
	p := r.URL.Path
	host := strings.ToLower(r.URL.Hostname())
	switch {
	case strings.Contains(p, "/model/") && (strings.HasSuffix(p, "/converse") || strings.HasSuffix(p, "/converse-stream") ||
		strings.HasSuffix(p, "/invoke") || strings.HasSuffix(p, "/invoke-with-response-stream")):
		model := unescape(between(p, "/model/", "/"))
		t := target{format: fmtBedrock, provider: ProviderBedrock, operation: "chat", model: model,
			stream: strings.HasSuffix(p, "-stream"), invoke: strings.Contains(p, "/invoke")}
		if t.invoke && strings.Contains(strings.ToLower(model), "embed") {
			t.operation = "embeddings"
		}
		return t, true
	case strings.Contains(p, "/models/") && strings.Contains(p, ":"):
		model := p[strings.LastIndex(p, "/models/")+len("/models/"):]
		method := ""
		if i := strings.LastIndexByte(model, ':'); i >= 0 {
			model, method = model[:i], model[i+1:]
		}
		t := target{format: fmtGemini, provider: ProviderGemini, model: unescape(model)}
		if strings.Contains(p, "/publishers/") || strings.HasSuffix(host, "aiplatform.googleapis.com") {
			t.provider = ProviderVertex
		}
		switch method {
		case "rawPredict", "streamRawPredict": // Claude on Vertex AI: Anthropic's wire format
			if !strings.Contains(p, "/publishers/anthropic/") {
				return target{}, false
			}
			t.format, t.operation = fmtAnthropic, "chat"
			t.stream = method == "streamRawPredict"
		case "generateContent":
			t.operation = "generate_content"
		case "streamGenerateContent":
			t.operation, t.stream = "generate_content", true
		case "embedContent", "batchEmbedContents":
			t.operation = "embeddings"
		default:
			return target{}, false
		}
		return t, true
	case strings.HasSuffix(p, "/messages") && (r.Header.Get("anthropic-version") != "" || strings.HasSuffix(host, "anthropic.com")):
		return target{format: fmtAnthropic, provider: ProviderAnthropic, operation: "chat"}, true
	case p == "/api/chat" || p == "/api/generate" || p == "/api/embed" || p == "/api/embeddings":
		t := target{format: fmtOllama, provider: ProviderOllama, operation: "chat"}
		switch p {
		case "/api/generate":
			t.operation = "text_completion"
		case "/api/embed", "/api/embeddings":
			t.operation = "embeddings"
		}
		return t, true
	case strings.HasSuffix(p, "/chat/completions"), strings.HasSuffix(p, "/embeddings"),
		strings.HasSuffix(p, "/responses"), strings.HasSuffix(p, "/completions"):
		t := target{format: fmtOpenAI, provider: ProviderOpenAI, operation: "chat"}
		switch {
		case strings.HasSuffix(p, "/embeddings"):
			t.operation = "embeddings"
		case strings.HasSuffix(p, "/completions") && !strings.HasSuffix(p, "/chat/completions"):
			t.operation = "text_completion"
		}
		if strings.Contains(p, "/openai/deployments/") { // Azure OpenAI: the deployment names the model
			t.model = unescape(between(p, "/openai/deployments/", "/"))
			if i := strings.IndexByte(t.model, '/'); i >= 0 {
				t.model = t.model[:i]
			}
			t.provider, t.knownHost = ProviderAzureOpenAI, true
		}
		if prov, ok := openAICompatibleHosts[host]; ok {
			t.provider, t.knownHost = prov, true
		} else if strings.HasSuffix(host, ".openai.azure.com") {
			t.provider, t.knownHost = ProviderAzureOpenAI, true
		}
		return t, true
	}
	return target{}, false
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.LastIndex(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// requestBody is the union of the request fields read from any provider.
type requestBody struct {
	Model         string `json:"model"`
	Stream        *bool  `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	MaxOutputTokens     *int64          `json:"max_output_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Messages            json.RawMessage `json:"messages"`
	Input               json.RawMessage `json:"input"`
	Prompt              json.RawMessage `json:"prompt"`
	Contents            json.RawMessage `json:"contents"`
	GenerationConfig    *struct {
		MaxOutputTokens *int64   `json:"maxOutputTokens"`
		Temperature     *float64 `json:"temperature"`
		TopP            *float64 `json:"topP"`
	} `json:"generationConfig"`
	InferenceConfig *struct {
		MaxTokens   *int64   `json:"maxTokens"`
		Temperature *float64 `json:"temperature"`
		TopP        *float64 `json:"topP"`
	} `json:"inferenceConfig"`
}

// readRequest fills the target from the JSON request body.
func (t *target) readRequest(body []byte) {
	var rb requestBody
	if len(body) == 0 || json.Unmarshal(body, &rb) != nil {
		if t.format == fmtOllama && t.operation != "embeddings" {
			t.stream = true
		}
		return
	}
	if rb.Model != "" && (t.model == "" || t.format == fmtOpenAI) { // a body model beats an Azure deployment name
		t.model = strings.TrimPrefix(rb.Model, "models/")
	}
	switch t.format {
	case fmtOllama:
		// Ollama streams unless told not to; embeddings never stream.
		t.stream = t.operation != "embeddings" && (rb.Stream == nil || *rb.Stream)
	case fmtOpenAI, fmtAnthropic:
		t.stream = rb.Stream != nil && *rb.Stream
	}
	if rb.StreamOptions != nil {
		t.includeUsage = rb.StreamOptions.IncludeUsage
	}
	t.attrs = map[string]any{}
	setPtr := func(key string, v *int64) {
		if v != nil {
			t.attrs[key] = *v
		}
	}
	setF := func(key string, v *float64) {
		if v != nil {
			t.attrs[key] = *v
		}
	}
	setPtr("gen_ai.request.max_tokens", rb.MaxTokens)
	setPtr("gen_ai.request.max_tokens", rb.MaxCompletionTokens)
	setPtr("gen_ai.request.max_tokens", rb.MaxOutputTokens)
	setF("gen_ai.request.temperature", rb.Temperature)
	setF("gen_ai.request.top_p", rb.TopP)
	if g := rb.GenerationConfig; g != nil {
		setPtr("gen_ai.request.max_tokens", g.MaxOutputTokens)
		setF("gen_ai.request.temperature", g.Temperature)
		setF("gen_ai.request.top_p", g.TopP)
	}
	if g := rb.InferenceConfig; g != nil {
		setPtr("gen_ai.request.max_tokens", g.MaxTokens)
		setF("gen_ai.request.temperature", g.Temperature)
		setF("gen_ai.request.top_p", g.TopP)
	}
	for _, in := range []json.RawMessage{rb.Messages, rb.Contents, rb.Input, rb.Prompt} {
		if len(in) > 0 {
			t.input = in
			break
		}
	}
}
