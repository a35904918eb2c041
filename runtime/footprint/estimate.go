package footprint

import (
	"math"
	"sync"
	"time"
)

// Method is the value of Estimate.Method (and of a span's energy_source) for
// estimates made by this package.
const Method = "ecologits"

// Estimate is the footprint of one remote LLM call. Headline values are the
// midpoint of EcoLogits' range; Min/Max are the two ends (smallest active
// parameter count, PUE and WUE, then the largest). Energy includes the
// datacenter's PUE. CO2eG is the operational (usage) emission of that energy;
// the hardware's embodied emission amortised over the call is reported apart
// in EmbodiedCO2eG, as EcoLogits does, so that it is never mixed into the
// operational figures of locally measured energy.
type Estimate struct {
	EnergyKWh, EnergyKWhMin, EnergyKWhMax             float64 // kWh at the datacenter meter
	CO2eG, CO2eGMin, CO2eGMax                         float64 // g CO2e, usage only
	EmbodiedCO2eG, EmbodiedCO2eGMin, EmbodiedCO2eGMax float64 // g CO2e, hardware manufacturing share
	WaterL, WaterLMin, WaterLMax                      float64 // litres, on-site cooling + off-site generation
	WaterOnSiteL                                      float64 // litres, the on-site (cooling) part of WaterL

	Method       string // "ecologits"; empty when nothing could be estimated
	Version      string // EcoLogits version of the method and data
	ModelKnown   bool   // the model (or a dated/aliased form of it) is in EcoLogits' table
	Match        string // MatchExact, MatchAlias, MatchPrefix or MatchSizeClass
	MatchedModel string // the table entry used, empty for a size class
	SizeClass    string // for unknown models: the class used (see SizeClasses); empty otherwise
	MoE          bool   // mixture-of-experts architecture

	ParamsActiveB, ParamsTotalB float64 // billions, midpoints
	GPUs                        int     // GPUs assumed to hold the model (at the midpoint)

	Provider         string        // EcoLogits provider whose datacenter defaults were used
	Zone             string        // electricity-mix zone (ISO alpha-3, WOR = world)
	PUE, WUE         float64       // midpoints used
	GridGCO2ePerKWh  float64       // grid intensity of Zone
	GridWaterLPerKWh float64       // off-site water intensity of Zone
	OutputTokens     int64         // tokens the estimate is for
	Latency          time.Duration // generation time used (modelled, capped by the measured latency)
	Note             string        // why an estimate is partial or empty
}

// EstimateCall estimates the footprint of one call to model at provider that
// produced outputTokens output tokens and took latency end to end (0 when
// unknown: the modelled generation time is then used uncapped). provider is
// an OpenTelemetry gen_ai.provider.name ("openai", "anthropic", "gcp.gemini",
// "aws.bedrock", "mistral_ai", "ollama", ...). It never fails: unknown models
// use a size class, unknown zones the world mix, and Note says what was
// missing. Calls without output tokens (embeddings) estimate zero, as
// EcoLogits models generation only.
func EstimateCall(provider, model string, outputTokens int64, latency time.Duration) Estimate {
	e := Estimate{Method: Method, Version: EcologitsVersion, OutputTokens: outputTokens}
	r := resolveCached(provider, model)
	params, dcName := r.params, r.dcName
	e.MatchedModel, e.Match, e.ModelKnown, e.SizeClass, e.Note = r.matched, r.match, r.known, r.sizeClass, r.note
	e.MoE = params.MoE
	e.ParamsActiveB, e.ParamsTotalB = params.ActiveMid(), params.TotalMid()

	dc := localDatacenter
	if dcName != "" {
		if all, err := loadDatacenters(); err == nil {
			if d, ok := all[dcName]; ok {
				dc = d
			}
		}
	}
	e.Provider, e.Zone = dc.EcologitsDefault, dc.Zone
	if e.Provider == "" {
		e.Provider = "local"
		e.Note = appendNote(e.Note, "no EcoLogits datacenter for this provider: H100-class servers, world-average grid, PUE 1 assumed; a server on this machine is also measured by local sensors")
	}
	e.PUE, e.WUE = (dc.PUEMin+dc.PUEMax)/2, (dc.WUEMin+dc.WUEMax)/2

	gwp, wue, mixOK := electricityMix(dc.Zone)
	if !mixOK {
		gwp, wue, mixOK = electricityMix("WOR")
		e.Note = appendNote(e.Note, "no electricity mix for zone "+dc.Zone+", world average used")
		e.Zone = "WOR"
	}
	if !mixOK {
		e.Note = appendNote(e.Note, "electricity mixes unavailable: CO2e and off-site water are zero")
	}
	e.GridGCO2ePerKWh, e.GridWaterLPerKWh = gwp*1000, wue

	if outputTokens <= 0 {
		e.Note = appendNote(e.Note, "no output tokens: EcoLogits estimates generation only")
		return e
	}
	lo := compute(params.ActiveMin, params.TotalMin, dc.PUEMin, dc.WUEMin, outputTokens, latency, gwp, wue)
	hi := compute(params.ActiveMax, params.TotalMax, dc.PUEMax, dc.WUEMax, outputTokens, latency, gwp, wue)
	mid := compute(e.ParamsActiveB, e.ParamsTotalB, e.PUE, e.WUE, outputTokens, latency, gwp, wue)
	e.EnergyKWh, e.EnergyKWhMin, e.EnergyKWhMax = (lo.energyKWh+hi.energyKWh)/2, lo.energyKWh, hi.energyKWh
	e.CO2eG, e.CO2eGMin, e.CO2eGMax = (lo.usageG+hi.usageG)/2, lo.usageG, hi.usageG
	e.EmbodiedCO2eG, e.EmbodiedCO2eGMin, e.EmbodiedCO2eGMax = (lo.embodiedG+hi.embodiedG)/2, lo.embodiedG, hi.embodiedG
	e.WaterL, e.WaterLMin, e.WaterLMax = (lo.waterL+hi.waterL)/2, lo.waterL, hi.waterL
	e.WaterOnSiteL = (lo.energyKWh*dc.WUEMin + hi.energyKWh*dc.WUEMax) / 2
	e.GPUs = mid.gpus
	e.Latency = time.Duration(mid.latencyS * float64(time.Second))
	return e
}

// resolved is what a (provider, model) pair resolves to; it depends on
// nothing else, so it is cached.
type resolved struct {
	params                            Params
	dcName, matched, match, sizeClass string
	known                             bool
	note                              string
}

// maxResolved bounds the cache; programs use a handful of models, and a
// full cache is simply cleared.
const maxResolved = 1024

var (
	resolvedMu    sync.Mutex
	resolvedCache = map[[2]string]resolved{}
)

func resolveCached(provider, model string) resolved {
	key := [2]string{provider, model}
	resolvedMu.Lock()
	r, ok := resolvedCache[key]
	resolvedMu.Unlock()
	if ok {
		return r
	}
	r = resolve(provider, model)
	resolvedMu.Lock()
	if len(resolvedCache) >= maxResolved {
		clear(resolvedCache)
	}
	resolvedCache[key] = r
	resolvedMu.Unlock()
	return r
}

// resolve finds the model's parameters and the datacenter to use.
func resolve(provider, model string) resolved {
	table, dcName, name := ecologitsProvider(provider, model)
	var r resolved
	params, ok := Params{}, false
	if c, err := loadCatalogue(); err == nil {
		switch table {
		case "":
		case "*":
			var prov string
			if params, r.matched, r.match, prov, ok = c.lookupAnyProvider(name); ok && dcName == "" {
				dcName = prov
			}
		default:
			params, r.matched, r.match, ok = c.lookup(table, name)
			if !ok || r.match == MatchPrefix {
				// A model served by another provider than its maker (Claude on
				// Vertex, a Mistral model on Bedrock): any table's exact or
				// alias entry beats a family guess.
				if p, m, how, found := c.lookupAny(name); found {
					params, r.matched, r.match, ok = p, m, how, true
				}
			}
		}
	} else {
		r.note = "model table unreadable: " + err.Error()
	}
	if ok {
		r.known = r.match == MatchExact || r.match == MatchAlias
	} else {
		r.sizeClass, params = classify(name)
		r.match = MatchSizeClass
	}
	r.params, r.dcName = params, dcName
	return r
}

func appendNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// point is one evaluation of the EcoLogits formulas.
type point struct {
	energyKWh, usageG, embodiedG, waterL, latencyS float64
	gpus                                           int
}

// compute evaluates EcoLogits 0.9.1 (ecologits/impacts/llm.py) at one point:
//
//	f_E      = alpha·exp(beta·batch)·P_active + gamma          Wh per token per GPU
//	f_L      = a·P_active + b·batch + c                         s per token
//	latency  = min(tokens·f_L, measured latency)
//	gpus     = 2^ceil(log2(ceil(1.2·P_total·bits/8 / 80 GB)))
//	E_server = latency/3600 · 1.2 kW · gpus/8 / batch           kWh
//	E        = PUE · (E_server + gpus · tokens · f_E / 1000)    kWh
//	CO2e     = E · grid kgCO2e/kWh
//	water    = E · (WUE + PUE · grid water L/kWh)
//	embodied = latency · (gpus/8·5700 + gpus·164) / (lifespan · batch)  kgCO2e
func compute(active, total, pue, wueOnSite float64, tokens int64, latency time.Duration, gwpKg, gridWaterL float64) point {
	n := float64(tokens)
	fE := gpuEnergyAlpha*math.Exp(gpuEnergyBeta*batchSize)*active + gpuEnergyGamma
	fL := latencyAlpha*active + latencyBeta*batchSize + latencyGamma
	lat := n * fL
	if latency > 0 && latency.Seconds() < lat {
		lat = latency.Seconds()
	}
	gpus := gpuCount(total)
	g := float64(gpus)
	server := lat / 3600 * serverPowerKW * (g / serverGPUs) / batchSize
	energy := pue * (server + g*n*fE/1000)
	embodiedKg := lat * ((g/serverGPUs)*serverEmbodiedKg + g*gpuEmbodiedKg) / (hardwareLifespanS * batchSize)
	return point{
		energyKWh: energy,
		usageG:    energy * gwpKg * 1000,
		embodiedG: embodiedKg * 1000,
		waterL:    energy * (wueOnSite + pue*gridWaterL),
		latencyS:  lat,
		gpus:      gpus,
	}
}

// gpuCount is the number of 80 GB GPUs that hold a model of total billion
// parameters at 16 bits with 20 % overhead, rounded up to a power of two.
func gpuCount(total float64) int {
	mem := 1.2 * total * quantizationBits / 8
	n := math.Ceil(mem / gpuMemoryGB)
	if n < 1 {
		return 1
	}
	return int(math.Pow(2, math.Ceil(math.Log2(n))))
}
