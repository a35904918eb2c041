package llmhttp

import (
	"encoding/json"
	"testing"
)

func TestInputMessages(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"openai", `[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"x"}}]}]`,
			`[{"role":"system","parts":[{"type":"text","content":"be brief"}]},{"role":"user","parts":[{"type":"text","content":"hi"},{"type":"image_url"}]}]`},
		{"gemini", `[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"yo"}]}]`,
			`[{"role":"user","parts":[{"type":"text","content":"hi"}]},{"role":"assistant","parts":[{"type":"text","content":"yo"}]}]`},
		{"bedrock", `[{"role":"user","content":[{"text":"hi"}]}]`, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`},
		{"prompt", `"tell me"`, `[{"role":"user","parts":[{"type":"text","content":"tell me"}]}]`},
		{"not messages", `{"a":1}`, `null`},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(inputMessages(json.RawMessage(tt.raw)))
		if string(b) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, b, tt.want)
		}
	}
}
