package llmhttp

import "encoding/json"

// Captured content follows the GenAI conventions' message schema
// (gen_ai.input.messages / gen_ai.output.messages): a list of
// {role, parts: [{type: "text", content}], finish_reason}. Only text parts
// are carried over; other parts keep their type without content.

type message struct {
	Role         string `json:"role"`
	Parts        []part `json:"parts"`
	FinishReason string `json:"finish_reason,omitempty"`
}

type part struct {
	Type    string `json:"type"`
	Content string `json:"content,omitempty"`
}

// inputMessages converts a request's messages (OpenAI messages or input,
// Anthropic messages, Gemini contents, Bedrock messages, Ollama messages or
// prompt) to the convention's schema. It returns nil when raw is not one of
// those shapes.
func inputMessages(raw json.RawMessage) []message {
	var s string
	if json.Unmarshal(raw, &s) == nil { // a prompt or Responses input string
		return []message{{Role: "user", Parts: []part{{Type: "text", Content: s}}}}
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]message, 0, len(items))
	for _, it := range items {
		m := message{Role: "user"}
		if r, ok := it["role"]; ok {
			json.Unmarshal(r, &m.Role)
		}
		if m.Role == "model" {
			m.Role = "assistant" // Gemini
		}
		for _, key := range []string{"content", "parts"} {
			if c, ok := it[key]; ok {
				m.Parts = append(m.Parts, parts(c)...)
			}
		}
		out = append(out, m)
	}
	return out
}

// parts reads a content value: a string, or a list of strings and blocks
// ({"type":"text","text":...}, {"text":...}, {"type":"image_url",...}).
func parts(raw json.RawMessage) []part {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []part{{Type: "text", Content: s}}
	}
	var blocks []json.RawMessage
	if json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []part
	for _, b := range blocks {
		if json.Unmarshal(b, &s) == nil {
			out = append(out, part{Type: "text", Content: s})
			continue
		}
		var blk struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if json.Unmarshal(b, &blk) != nil {
			continue
		}
		switch {
		case blk.Text != nil:
			out = append(out, part{Type: "text", Content: *blk.Text})
		case blk.Type != "":
			out = append(out, part{Type: blk.Type})
		default:
			out = append(out, part{Type: "other"})
		}
	}
	return out
}

// outputMessages is the generated text as one assistant message.
func outputMessages(text string, reasons []string) []message {
	m := message{Role: "assistant", Parts: []part{{Type: "text", Content: text}}}
	if len(reasons) > 0 {
		m.FinishReason = reasons[0]
	}
	return []message{m}
}
