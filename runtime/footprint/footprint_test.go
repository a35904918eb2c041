package footprint

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pinMix replaces the electricity mixes with EcoLogits 0.9.1's values for the
// zones used below (electricity_mixes.csv: gwp kgCO2e/kWh, wue L/kWh), so that
// these tests check the LLM formulas alone.
func pinMix(t *testing.T) {
	t.Helper()
	old := electricityMix
	electricityMix = func(z string) (float64, float64, bool) {
		switch z {
		case "USA":
			return 0.38355, 3.1321, true
		case "SWE":
			return 0.03582, 6.0315, true
		case "WOR":
			return 0.47301, 3.908, true
		}
		return 0, 0, false
	}
	t.Cleanup(func() { electricityMix = old })
}

func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// TestEcologitsFigures reproduces EcoLogits 0.9.1's own outputs. The expected
// values are derived by hand from the published formula and constants
// (ecologits/impacts/llm.py), not by calling this package, and agree with the
// "computed" rows of reference_per_prompt.csv. Common factor:
// exp(-0.011205921·64) = 0.488121.
func TestEcologitsFigures(t *testing.T) {
	pinMix(t)
	tests := []struct {
		provider, model string
		tokens          int64
		tps             float64 // calculator throughput, latency = tokens/tps
		// energy Wh at both ends of the range, total gCO2e (usage+embodied) at the high end, water mL at the low end
		eMin, eMax, gMax, wMin float64
	}{
		// gpt-4o: MoE 440B total, 44-132B active. Memory 1.2·440·2 = 1056 GB
		// -> ceil(13.2) = 14 -> 16 GPUs. Latency 400/68.4 = 5.848 s (the
		// modelled 400·(0.00067851·44+0.00031193·64+0.019474) = 27.7 s is capped).
		// f_E(44) = 1.16653e-6·0.488121·44 + 4.05293e-5 = 6.5583e-5 Wh.
		// E_server = 5.848/3600·1.2·16/8/64 = 6.0917e-5 kWh.
		// E_min = 1.2·(6.0917e-5 + 16·400·6.5583e-5/1000) = 5.768e-4 kWh = 0.577 Wh.
		// f_E(132) = 1.15691e-4 -> E_max = 1.2·(6.0917e-5 + 7.4042e-4) = 0.962 Wh.
		// CO2e max = 9.616e-4·0.38355 kg + embodied 5.848·(2·5700+16·164)/(94608000·64) kg
		//          = 0.3688 g + 0.01354 g = 0.382 g.
		// Water min = 5.768e-4·(0.569 + 1.2·3.1321) L = 2.50 mL.
		{"openai", "gpt-4o", 400, 68.4, 0.577, 0.962, 0.382, 2.50},
		// gpt-4o-mini: dense 8-28B, 1 GPU either end. Latency 400/59.5 = 6.723 s.
		// E_server = 6.723/3600·1.2·1/8/64 = 4.3768e-6 kWh.
		// f_E(8) = 4.5084e-5 -> E_min = 1.2·(4.3768e-6 + 400·4.5084e-5/1000) = 0.0269 Wh.
		// f_E(28) = 7.8399e-5 -> E_max = 1.2·(4.3768e-6 + 3.13596e-5) = 0.0429 Wh?
		// No: 28B at 1 GPU gives 1.16653e-6·0.488121·28+4.05293e-5 = 5.6473e-5 Wh,
		// E_max = 1.2·(4.3768e-6 + 2.25892e-5) = 0.0324 Wh.
		// CO2e max = 3.2359e-5·0.38355 kg + 6.723·(5700/8+164)/(94608000·64) kg = 0.01241 + 0.00097 = 0.0134 g.
		// Water min = 2.6893e-5·(0.569+1.2·3.1321) = 0.116 mL.
		{"openai", "gpt-4o-mini", 400, 59.5, 0.0269, 0.0324, 0.0134, 0.116},
		// claude-sonnet-4-0 (alias of claude-sonnet-4-20250514): MoE 440B, 44-132B
		// active, 16 GPUs, PUE 1.09-1.14, WUE 0.13-0.999. Latency 400/60.2 = 6.645 s.
		// E_server = 6.645/3600·1.2·2/64 = 6.9217e-5 kWh.
		// E_min = 1.09·(6.9217e-5 + 4.1973e-4) = 0.533 Wh; E_max = 1.14·(6.9217e-5 + 7.4042e-4) = 0.923 Wh.
		// CO2e max = 9.2299e-4·0.38355 kg + 6.645·14024/(94608000·64) kg = 0.3540 + 0.0154 = 0.369 g.
		// Water min = 5.3295e-4·(0.13 + 1.09·3.1321) = 1.89 mL.
		{"anthropic", "claude-sonnet-4-0", 400, 60.2, 0.533, 0.923, 0.369, 1.89},
		// mistral-large-latest: dense 123B, memory 295.2 GB -> 4 GPUs, SWE mix,
		// PUE 1.16, WUE 0.09. Latency 400/48.6 = 8.230 s.
		// f_E(123) = 1.10566e-4 Wh; E_server = 8.230/3600·1.2·4/8/64 = 2.1434e-5 kWh.
		// E = 1.16·(2.1434e-5 + 4·400·1.10566e-4/1000) = 0.230 Wh.
		// CO2e = 2.3007e-4·0.03582 kg + 8.230·(2850+656)/(94608000·64) kg = 0.00824 + 0.00477 = 0.0130 g.
		// Water = 2.3007e-4·(0.09 + 1.16·6.0315) = 1.63 mL.
		{"mistral_ai", "mistral-large-latest", 400, 48.6, 0.230, 0.230, 0.0130, 1.63},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			lat := time.Duration(float64(tt.tokens) / tt.tps * float64(time.Second))
			e := EstimateCall(tt.provider, tt.model, tt.tokens, lat)
			if !e.ModelKnown || e.Method != "ecologits" {
				t.Fatalf("ModelKnown=%v Method=%q, want a known model estimated by ecologits", e.ModelKnown, e.Method)
			}
			checks := []struct {
				name      string
				got, want float64
			}{
				{"energy min Wh", e.EnergyKWhMin * 1000, tt.eMin},
				{"energy max Wh", e.EnergyKWhMax * 1000, tt.eMax},
				{"gCO2e max (usage+embodied)", e.CO2eGMax + e.EmbodiedCO2eGMax, tt.gMax},
				{"water min mL", e.WaterLMin * 1000, tt.wMin},
			}
			for _, c := range checks {
				if !within(c.got, c.want, 0.10) {
					t.Errorf("%s = %.4g, want %.4g ±10%%", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestConstantsMatchData(t *testing.T) {
	b, err := dataFS.ReadFile("data/ecologits_llm_constants.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		E      struct{ Alpha, Beta, Gamma float64 } `json:"gpu_energy_per_output_token_wh"`
		L      struct{ Alpha, Beta, Gamma float64 } `json:"latency_per_output_token_s"`
		Batch  float64                              `json:"batch_size"`
		Bits   float64                              `json:"model_quantization_bits"`
		GPUMem float64                              `json:"gpu_memory_gb"`
		Server struct {
			GPUs  float64 `json:"gpus_installed"`
			Power float64 `json:"power_kw_excluding_gpus"`
			GWP   float64 `json:"embodied_gwp_kgco2e"`
		}
		GPU struct {
			GWP float64 `json:"gwp_kgco2e"`
		} `json:"gpu_embodied"`
		Life float64 `json:"hardware_lifespan_s"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	pairs := []struct {
		name      string
		code, dat float64
	}{
		{"energy alpha", gpuEnergyAlpha, c.E.Alpha}, {"energy beta", gpuEnergyBeta, c.E.Beta}, {"energy gamma", gpuEnergyGamma, c.E.Gamma},
		{"latency alpha", latencyAlpha, c.L.Alpha}, {"latency beta", latencyBeta, c.L.Beta}, {"latency gamma", latencyGamma, c.L.Gamma},
		{"batch", batchSize, c.Batch}, {"bits", quantizationBits, c.Bits}, {"gpu memory", gpuMemoryGB, c.GPUMem},
		{"server gpus", serverGPUs, c.Server.GPUs}, {"server power", serverPowerKW, c.Server.Power},
		{"server embodied", serverEmbodiedKg, c.Server.GWP}, {"gpu embodied", gpuEmbodiedKg, c.GPU.GWP},
		{"lifespan", hardwareLifespanS, c.Life},
	}
	for _, p := range pairs {
		if p.code != p.dat {
			t.Errorf("%s: code %v, data file %v", p.name, p.code, p.dat)
		}
	}
}

func TestModelLookup(t *testing.T) {
	pinMix(t)
	tests := []struct {
		provider, model string
		match, matched  string
		known           bool
		sizeClass       string
		activeB, totalB float64
		zone            string
	}{
		{"openai", "gpt-4o-mini-2024-07-18", MatchExact, "gpt-4o-mini-2024-07-18", true, "", 18, 18, "USA"},
		{"openai", "gpt-3.5-turbo", MatchExact, "gpt-3.5-turbo", true, "", 0, 0, "USA"},
		{"azure.ai.openai", "gpt-35-turbo", MatchAlias, "gpt-3.5-turbo", true, "", 0, 0, "USA"},
		{"anthropic", "claude-sonnet-4-5", MatchAlias, "claude-sonnet-4-5-20250929", true, "", 0, 0, "USA"},
		{"anthropic", "claude-3-5-haiku-latest", MatchExact, "claude-3-5-haiku-latest", true, "", 0, 0, "USA"},
		{"aws.bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0", MatchAlias, "claude-3-5-haiku-20241022", true, "", 0, 0, "USA"},
		{"gcp.gemini", "models/gemini-2.5-flash", MatchExact, "gemini-2.5-flash", true, "", 88, 440, "USA"},
		{"mistral_ai", "mistral-large-2407", MatchExact, "mistral-large-2407", true, "", 0, 0, "SWE"},
		{"openai", "gpt-5.1", MatchPrefix, "gpt-5", false, "", 60, 300, "USA"},
		{"openai", "gpt-5.1-mini", MatchSizeClass, "", false, "small", 18, 18, "USA"},
		{"ollama", "llama3.1:70b", MatchSizeClass, "", false, "named-70b", 70, 70, "WOR"},
		{"openai", "my-fine-tune", MatchSizeClass, "", false, "medium", 70, 70, "USA"},
		{"somecloud", "claude-opus-9", MatchSizeClass, "", false, "large", 88, 440, "WOR"},
		{"somecloud", "gpt-4o", MatchExact, "gpt-4o", true, "", 88, 440, "USA"},
		{"gcp.vertex_ai", "claude-sonnet-4-5@20250929", MatchAlias, "claude-sonnet-4-5-20250929", true, "", 0, 0, "USA"},
		{"gcp.vertex_ai", "claude-sonnet-4-5", MatchAlias, "claude-sonnet-4-5-20250929", true, "", 0, 0, "USA"},
		{"aws.bedrock", "mistral.mistral-large-2407-v1:0", MatchAlias, "mistral-large-2407", true, "", 123, 123, "USA"},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			e := EstimateCall(tt.provider, tt.model, 100, 0)
			if e.Match != tt.match || e.MatchedModel != tt.matched || e.ModelKnown != tt.known || e.SizeClass != tt.sizeClass || e.Zone != tt.zone {
				t.Errorf("got match=%q matched=%q known=%v class=%q zone=%q, want %q %q %v %q %q",
					e.Match, e.MatchedModel, e.ModelKnown, e.SizeClass, e.Zone, tt.match, tt.matched, tt.known, tt.sizeClass, tt.zone)
			}
			if tt.activeB != 0 && (e.ParamsActiveB != tt.activeB || e.ParamsTotalB != tt.totalB) {
				t.Errorf("params active %v total %v, want %v %v", e.ParamsActiveB, e.ParamsTotalB, tt.activeB, tt.totalB)
			}
			if e.EnergyKWh <= 0 || e.CO2eG <= 0 || e.WaterL <= 0 {
				t.Errorf("non-positive estimate %+v", e)
			}
			if !(e.EnergyKWhMin <= e.EnergyKWh && e.EnergyKWh <= e.EnergyKWhMax) {
				t.Errorf("energy %v outside [%v, %v]", e.EnergyKWh, e.EnergyKWhMin, e.EnergyKWhMax)
			}
		})
	}
}

func TestEdgeCases(t *testing.T) {
	pinMix(t)
	e := EstimateCall("openai", "text-embedding-3-small", 0, time.Second)
	if e.EnergyKWh != 0 || !strings.Contains(e.Note, "no output tokens") {
		t.Errorf("zero output tokens: energy %v note %q", e.EnergyKWh, e.Note)
	}
	// A measured latency shorter than the model's caps the server share.
	long := EstimateCall("openai", "gpt-4o", 400, 0)
	short := EstimateCall("openai", "gpt-4o", 400, time.Second)
	if !(short.EnergyKWh < long.EnergyKWh) || short.Latency != time.Second {
		t.Errorf("latency cap: short %v (%v) long %v (%v)", short.EnergyKWh, short.Latency, long.EnergyKWh, long.Latency)
	}
	// Energy grows with output tokens.
	if a, b := EstimateCall("anthropic", "claude-sonnet-4-0", 100, 0), EstimateCall("anthropic", "claude-sonnet-4-0", 1000, 0); !(b.EnergyKWh > 5*a.EnergyKWh) {
		t.Errorf("energy 100 tokens %v, 1000 tokens %v", a.EnergyKWh, b.EnergyKWh)
	}
	electricityMix = func(string) (float64, float64, bool) { return 0, 0, false }
	e = EstimateCall("openai", "gpt-4o", 10, 0)
	if e.CO2eG != 0 || e.EnergyKWh <= 0 || !strings.Contains(e.Note, "unavailable") {
		t.Errorf("without mixes: %+v", e)
	}
}

func TestGPUCount(t *testing.T) {
	for _, tt := range []struct {
		totalB float64
		want   int
	}{{1, 1}, {33, 1}, {34, 2}, {70, 4}, {123, 4}, {440, 16}, {2000, 64}} {
		if got := gpuCount(tt.totalB); got != tt.want {
			t.Errorf("gpuCount(%v) = %d, want %d", tt.totalB, got, tt.want)
		}
	}
}

// referenceRows reads testdata/reference_per_prompt.csv: its rows, the
// header first, and the column of each header name.
func referenceRows(t *testing.T) ([][]string, map[string]int) {
	t.Helper()
	f, err := os.Open("testdata/reference_per_prompt.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	return rows, col
}

// TestReferencePerPrompt compares estimates for typical prompts with the
// published per-prompt figures in testdata/reference_per_prompt.csv (copied
// from shared/data/llm). Same order of magnitude means within a factor of 10.
// Rows whose system boundary EcoLogits does not model are logged, not
// asserted; each skip names its reason.
func TestReferencePerPrompt(t *testing.T) {
	rows, col := referenceRows(t)
	// Which of our (provider, model) stands for each published row.
	models := map[string][2]string{
		"Gemini Apps (median text prompt May 2025)": {"gcp.gemini", "gemini-2.5-flash"},
		"ChatGPT (average query)":                   {"openai", "gpt-4o"},
		"GPT-4o (typical query)":                    {"openai", "gpt-4o"},
		"GPT-4o (Mar 2025)":                         {"openai", "gpt-4o"},
		"GPT-4o":                                    {"openai", "gpt-4o"},
		"GPT-4.1":                                   {"openai", "gpt-4.1"},
		"Claude 3.7 Sonnet":                         {"anthropic", "claude-3-7-sonnet-latest"},
		"Claude 3.5 Sonnet":                         {"anthropic", "claude-3-5-sonnet-latest"},
		"Claude 3.5 Haiku":                          {"anthropic", "claude-3-5-haiku-latest"},
		"Mistral Large 2 (Le Chat)":                 {"mistral_ai", "mistral-large-2407"},
	}
	// Boundaries EcoLogits does not model (see each row's boundary_notes).
	// Keyed by source_id, or source_id/model for one row.
	outOfBoundary := map[string]string{
		"mistral_2025": "full LCA incl. manufacturing and training share, not per-request inference",
		"jegham_v2":    "v2 preprint figures superseded by v6",
		// Jegham et al. multiply API latency by a whole node's power, so a
		// small model served slowly costs as much as a large one (Haiku ≈
		// Sonnet there); EcoLogits sizes Haiku at 8-28B. A real disagreement
		// between the two methods, reported in docs/llm-footprint.md.
		"jegham_v6/Claude 3.5 Haiku": "method disagreement on small models (latency x node power vs parameter count)",
	}
	asserted := 0
	for _, r := range rows[1:] {
		src, model := r[col["source_id"]], r[col["model"]]
		if strings.HasPrefix(src, "ecologits") {
			continue // EcoLogits' own outputs: TestEcologitsFigures
		}
		pm, ok := models[model]
		if !ok {
			t.Logf("%s %q: no model mapping, not compared", src, model)
			continue
		}
		tokens := int64(400) // a typical chat answer when the source gives no count
		if s := r[col["output_tokens"]]; s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("%s: output_tokens %q: %v", src, s, err)
			}
			tokens = n
		}
		e := EstimateCall(pm[0], pm[1], tokens, 0)
		for _, m := range []struct {
			col string
			got float64
		}{{"energy_wh", e.EnergyKWh * 1000}, {"gco2e", e.CO2eG + e.EmbodiedCO2eG}, {"water_ml", e.WaterL * 1000}} {
			// Google and OpenAI report on-site (cooling) water only.
			if m.col == "water_ml" && (src == "google_2025" || src == "openai_2025") {
				m.got = e.WaterOnSiteL * 1000
			}
			s := r[col[m.col]]
			if s == "" {
				continue
			}
			want, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s %s: %v", src, m.col, err)
			}
			ratio := m.got / want
			why, skip := outOfBoundary[src]
			if !skip {
				why, skip = outOfBoundary[src+"/"+model]
			}
			if skip || (m.col == "gco2e" && src == "google_2025") {
				if why == "" {
					why = "Google reports market-based CO2e (after clean-energy purchases); EcoLogits is location-based"
				}
				t.Logf("%-12s %-28s %-9s ours %.3g published %.3g ratio %.2f (not asserted: %s)", src, model, m.col, m.got, want, ratio, why)
				continue
			}
			t.Logf("%-12s %-28s %-9s ours %.3g published %.3g ratio %.2f", src, model, m.col, m.got, want, ratio)
			if ratio < 0.1 || ratio > 10 {
				t.Errorf("%s %s %s: ours %.3g, published %.3g: not the same order of magnitude", src, model, m.col, m.got, want)
			}
			asserted++
		}
	}
	if asserted < 5 {
		t.Errorf("only %d published figures compared, want at least 5", asserted)
	}
}

// TestRealMixes runs with runtime/impact's embedded EcoLogits mixes: USA is
// 0.38355 kgCO2e/kWh and 3.1321 L/kWh there, the values pinned elsewhere.
func TestRealMixes(t *testing.T) {
	e := EstimateCall("openai", "gpt-4o", 400, 5848*time.Millisecond)
	if e.Zone != "USA" || !within(e.GridGCO2ePerKWh, 383.55, 0.001) || !within(e.GridWaterLPerKWh, 3.1321, 0.001) {
		t.Fatalf("zone %s grid %v g/kWh %v L/kWh, want USA 383.55 3.1321", e.Zone, e.GridGCO2ePerKWh, e.GridWaterLPerKWh)
	}
	if !within(e.CO2eGMin+e.EmbodiedCO2eGMin, 0.235, 0.10) {
		t.Errorf("gpt-4o gCO2e min %v, want 0.235 (EcoLogits 0.9.1)", e.CO2eGMin+e.EmbodiedCO2eGMin)
	}
}

// TestEcologitsComputedRows checks every "computed" row of
// reference_per_prompt.csv (EcoLogits 0.9.1 run by the data's compiler at
// the calculator presets, latency = output tokens / the throughput in the
// row's notes) within 10 %, at both ends of each range.
func TestEcologitsComputedRows(t *testing.T) {
	rows, col := referenceRows(t)
	tps := regexp.MustCompile(`TPS (\d+(?:\.\d+)?)`)
	providers := map[string]string{"openai": "openai", "anthropic": "anthropic", "google_genai": "gcp.gemini",
		"mistralai": "mistral_ai", "huggingface_hub": "huggingface_hub"}
	n := 0
	for _, r := range rows[1:] {
		if !strings.HasPrefix(r[col["source_id"]], "ecologits") {
			continue
		}
		prov, model, _ := strings.Cut(r[col["model"]], "/")
		tokens, _ := strconv.ParseInt(r[col["output_tokens"]], 10, 64)
		var lat time.Duration
		if m := tps.FindStringSubmatch(r[col["boundary_notes"]]); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			lat = time.Duration(float64(tokens) / v * float64(time.Second))
		}
		e := EstimateCall(providers[prov], model, tokens, lat)
		num := func(c string) (float64, bool) {
			v, err := strconv.ParseFloat(r[col[c]], 64)
			return v, err == nil
		}
		for _, c := range []struct {
			col string
			got float64
		}{
			{"energy_wh", e.EnergyKWhMin * 1000}, {"energy_wh_max", e.EnergyKWhMax * 1000},
			{"gco2e", e.CO2eGMin + e.EmbodiedCO2eGMin}, {"gco2e_max", e.CO2eGMax + e.EmbodiedCO2eGMax},
			{"water_ml", e.WaterLMin * 1000}, {"water_ml_max", e.WaterLMax * 1000},
		} {
			want, ok := num(c.col)
			if !ok {
				continue
			}
			n++
			if !within(c.got, want, 0.10) {
				t.Errorf("%s %s: %s ours %.4g, EcoLogits %.4g", prov, model, c.col, c.got, want)
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d figures compared", n)
	}
	t.Logf("%d EcoLogits figures reproduced within 10%%", n)
}

// BenchmarkEstimateCall is the cost added to each LLM span's end.
func BenchmarkEstimateCall(b *testing.B) {
	for _, m := range []struct{ provider, model string }{{"openai", "gpt-4o-mini"}, {"anthropic", "claude-sonnet-4-5"}, {"openai", "my-fine-tune"}} {
		b.Run(m.model, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_ = EstimateCall(m.provider, m.model, 400, 5*time.Second)
			}
		})
	}
}
