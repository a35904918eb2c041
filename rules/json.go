package rules

import (
	"encoding/json"

	"github.com/tracegen-dev/tracegen/runtime/llmspec"
)

// RuntimeJSON renders the run-time specs of rules as the JSON that
// runtime/genai embeds (builtin.json) for the built-in rules.
func RuntimeJSON(rules []*Rule) ([]byte, error) {
	specs := make([]llmspec.Spec, len(rules))
	for i, r := range rules {
		specs[i] = r.Spec
	}
	b, err := json.MarshalIndent(specs, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
