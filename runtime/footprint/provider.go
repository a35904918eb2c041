package footprint

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// datacenter is where a provider runs a model: the electricity-mix zone, the
// power usage effectiveness and the on-site water usage effectiveness.
// Min/Max carry EcoLogits' ranges (equal when the value is a point).
type datacenter struct {
	Zone             string  // ISO 3166-1 alpha-3 electricity-mix zone, "WOR" for the world average
	PUEMin, PUEMax   float64 // dimensionless, >= 1
	WUEMin, WUEMax   float64 // litres per kWh of IT energy, on site
	EcologitsDefault string  // the EcoLogits provider whose defaults these are
}

var (
	dcOnce sync.Once
	dcs    map[string]datacenter
	dcErr  error
)

func loadDatacenters() (map[string]datacenter, error) {
	dcOnce.Do(func() {
		const name = "data/ecologits_provider_defaults.json"
		b, err := dataFS.ReadFile(name)
		if err != nil {
			dcErr = err
			return
		}
		var raw struct {
			Providers map[string]struct {
				Location string        `json:"datacenter_location"`
				PUE      rangeOrNumber `json:"datacenter_pue"`
				WUE      rangeOrNumber `json:"datacenter_wue"`
			}
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			dcErr = fmt.Errorf("%s: %w", name, err)
			return
		}
		dcs = map[string]datacenter{}
		for p, v := range raw.Providers {
			dcs[p] = datacenter{Zone: v.Location, PUEMin: v.PUE.min, PUEMax: v.PUE.max,
				WUEMin: v.WUE.min, WUEMax: v.WUE.max, EcologitsDefault: p}
		}
	})
	return dcs, dcErr
}

// localDatacenter is used for self-hosted servers (Ollama) and providers
// EcoLogits has no defaults for: world-average grid, no cooling overhead
// known, no on-site water known.
var localDatacenter = datacenter{Zone: "WOR", PUEMin: 1, PUEMax: 1}

// ecologitsProvider maps an OpenTelemetry gen_ai.provider.name (or a common
// spelling of it) to the EcoLogits provider whose model table and datacenter
// defaults apply, and normalises the model name where the provider wraps it
// (Bedrock model ids). Bedrock models are looked up under their vendor's
// table (anthropic, mistralai, cohere; others in every table) and run in AWS
// datacenters: EcoLogits' anthropic defaults for Claude (AWS and Google),
// its huggingface_hub defaults (AWS and Google) for the rest.
func ecologitsProvider(provider, model string) (table, dc, name string) {
	p := strings.ToLower(strings.TrimSpace(provider))
	switch p {
	case "openai", "azure.ai.openai", "azure_openai", "azure":
		return "openai", "openai", model
	case "anthropic", "gcp.anthropic":
		return "anthropic", "anthropic", model
	case "gcp.gemini", "gcp.vertex_ai", "gcp.gen_ai", "gemini", "vertex_ai", "google", "google_genai":
		return "google_genai", "google_genai", model
	case "mistral_ai", "mistralai", "mistral":
		return "mistralai", "mistralai", model
	case "cohere":
		return "cohere", "cohere", model
	case "huggingface", "huggingface_hub", "hf":
		return "huggingface_hub", "huggingface_hub", model
	case "aws.bedrock", "bedrock":
		m := strings.ToLower(model)
		if sub := bedrockPrefix.FindStringSubmatch(m); sub != nil {
			switch sub[1] {
			case "anthropic":
				return "anthropic", "anthropic", sub[2]
			case "mistral":
				return "mistralai", "huggingface_hub", sub[2]
			case "cohere":
				return "cohere", "huggingface_hub", sub[2]
			}
			return "", "huggingface_hub", sub[2]
		}
		return "", "huggingface_hub", model
	case "ollama":
		return "", "", model
	}
	// Unknown provider: the model table of any provider may still know the name.
	return "*", "", model
}
