package energy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"

	"github.com/tracegen-dev/tracegen/runtime/impact"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// From energy to impact.
//
// At span end (end hook), the span's joules per source (its own plus its
// children's, rolled up by the core) become:
//
//	co2e_g  = local_kwh × PUE × intensity + llm_co2e_g
//	water_l = local_kwh × (WUE + PUE × offsite water) + llm_water_l
//
// where local_kwh is the CPU + memory + GPU energy measured or modelled
// here, and the LLM terms are the estimates recorded with trace.AddLLMImpact
// (computed with the provider's datacenter, not ours). For a span without
// LLM energy, co2e_g == energy_kwh × PUE × intensity exactly.

// LLMEnergySource is the energy_source label of LLM estimates.
const LLMEnergySource = "llm-estimate"

var (
	factorsOnce sync.Once
	factorsVal  atomic.Pointer[impact.Factors]
)

// ensureFactors resolves the grid, PUE and water factors once (tables are
// parsed here, not on the span path). With an Electricity Maps token (and
// package runtime/impact/live linked in) it also prepares refreshLive, which
// the sampler goroutine calls at start and every hour.
func ensureFactors() *impact.Factors {
	factorsOnce.Do(func() {
		cfg, errs := impact.ConfigFromEnv(energyGetenv)
		for _, err := range errs {
			energyLogOnce(err.Error(), "%v", err)
		}
		f := impact.Resolve(cfg)
		factorsVal.Store(&f)
		if live := impact.LiveFromEnv(energyGetenv); live != nil && cfg.GridIntensity == 0 {
			refresh := func(ctx context.Context) {
				lf := live(ctx, cfg)
				for _, n := range lf.Notes {
					energyLogOnce("live:"+n, "grid intensity: %s", n)
				}
				factorsVal.Store(&lf)
			}
			liveRefresh.Store(&refresh)
		}
	})
	return factorsVal.Load()
}

// liveRefresh replaces the factors by the live ones; nil without a live
// source.
var liveRefresh atomic.Pointer[func(context.Context)]

// liveRefreshEvery is how often the sampler asks for the live intensity (the
// client caches for as long).
const liveRefreshEvery = time.Hour

// refreshLive fetches the live intensity (bounded by 5 s); it runs on the
// sampler goroutine.
func refreshLive() {
	if f := liveRefresh.Load(); f != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		(*f)(ctx)
	}
}

// Factors returns the conversion factors in use (resolving them on first
// call).
func Factors() impact.Factors { return *ensureFactors() }

// resetConfig forgets the resolved factors so that the next span reads
// the environment again. For tests; not safe while spans run.
func resetConfig() {
	factorsOnce = sync.Once{}
	factorsVal.Store(nil)
	liveRefresh.Store(nil)
}

// llmAcc is the LLM impact recorded on one span (and rolled up from its
// children): energy, CO2e and water per model.
type llmAcc struct {
	mu      sync.Mutex
	byModel map[string]ModelImpact
}

// ModelImpact is the impact of the LLM calls to one model.
type ModelImpact struct {
	Calls     int
	EnergyKWh float64
	CO2eG     float64
	WaterL    float64
}

func (m *ModelImpact) add(o ModelImpact) {
	m.Calls += o.Calls
	m.EnergyKWh += o.EnergyKWh
	m.CO2eG += o.CO2eG
	m.WaterL += o.WaterL
}

// nodeExt is the energy package's state of one span, kept in its node
// (spanhook.Node.Ext) and made only for the few spans that need it: the LLM
// estimates on the span and its ended children, and a root's final impact.
type nodeExt struct {
	mu      sync.Mutex
	byModel map[string]ModelImpact
	final   atomic.Pointer[TraceImpact] // set when a local root ends
}

// extOf returns n's state, making it when make is set (else nil if none).
func extOf(n *spanhook.Node, make bool) *nodeExt {
	if p := n.Ext(); p != nil || !make {
		return (*nodeExt)(p)
	}
	e := new(nodeExt)
	if !n.CompareAndSwapExt(nil, unsafe.Pointer(e)) {
		return (*nodeExt)(n.Ext())
	}
	return e
}

// add merges m into e's per-model estimates. Estimates for a root that
// ended without any (zeroExt, shared) are dropped, as they would be for any
// span that has ended.
func (e *nodeExt) add(m map[string]ModelImpact) {
	if e == zeroExt {
		return
	}
	e.mu.Lock()
	if e.byModel == nil {
		e.byModel = make(map[string]ModelImpact, len(m))
	}
	for k, x := range m {
		y := e.byModel[k]
		y.add(x)
		e.byModel[k] = y
	}
	e.mu.Unlock()
}

// addLLM is the AddLLM hook: trace.AddLLMImpact has added the joules to
// the span's "llm" energy; the estimate's CO2e and water (computed for the
// provider's datacenter, PUE included) are kept per model, as they are,
// instead of being recomputed with the local grid.
func addLLM(s *spanhook.Node, model string, joules, co2eG, waterL float64) {
	extOf(s, true).add(map[string]ModelImpact{model: {Calls: 1, EnergyKWh: joules / 3.6e6, CO2eG: co2eG, WaterL: waterL}})
}

// takeLLM returns s's LLM estimates at its end, rolling them into its
// parent's.
func takeLLM(s *spanhook.Node) map[string]ModelImpact {
	e := extOf(s, false)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	m := e.byModel
	e.byModel = nil
	e.mu.Unlock()
	if s.Parent != nil && len(m) > 0 {
		extOf(s.Parent, true).add(m)
	}
	return m
}

// peekLLM returns a copy of s's LLM estimates so far.
func peekLLM(s *spanhook.Node) map[string]ModelImpact {
	e := extOf(s, false)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.byModel) == 0 {
		return nil
	}
	out := make(map[string]ModelImpact, len(e.byModel))
	for k, x := range e.byModel {
		out[k] = x
	}
	return out
}

// endHook fills CO2e, water and energy source of a finished span, feeds
// the per-name report and remembers local roots for Impact.
func endHook(s *spanhook.Node, r *record.Record) {
	if s.HasEnergy() || (r.End.Sub(r.Start) >= tailMinSpan && (threadBasesPending() || onFollowedThread())) {
		energyTail(s, r) // the CPU since the sampler's last tick, or since the span's start
	}
	llm := takeLLM(s)
	computeImpact(&r.Impact, llm)
	reportAdd(r.Name, &r.Impact)
	if s.Parent == nil {
		rememberRoot(s, r, llm)
	}
}

// computeImpact sets CO2eG, WaterL and EnergySource of im from its joules
// (EnergyKWh already set by the core) and the LLM estimates.
func computeImpact(im *record.Impact, llm map[string]ModelImpact) {
	local := 0.0
	for i, j := range im.Joules {
		if record.EnergySource(i) == record.EnergyLLM || j == 0 {
			continue
		}
		local += j
	}
	llmJ := im.Joules[record.EnergyLLM]
	if local == 0 && llmJ == 0 {
		return
	}
	f := ensureFactors()
	localKWh := local / 3.6e6
	if llmJ == 0 {
		localKWh = im.EnergyKWh // the core's sum: keeps co2e == energy_kwh × PUE × intensity exact
	}
	im.CO2eG = f.CO2eG(localKWh)
	im.WaterL = f.WaterL(localKWh)
	src := ""
	if local > 0 {
		src = measuredSource()
	}
	if llmJ > 0 {
		estimated := 0.0
		for _, m := range llm {
			im.CO2eG += m.CO2eG
			im.WaterL += m.WaterL
			estimated += m.EnergyKWh * 3.6e6
		}
		// LLM energy added with AddEnergy alone has no remote factors:
		// use ours rather than nothing.
		if rest := llmJ - estimated; rest > 1e-9 {
			im.CO2eG += f.CO2eG(rest / 3.6e6)
			im.WaterL += f.WaterL(rest / 3.6e6)
		}
		if src == "" {
			src = LLMEnergySource
		} else {
			src += "+" + LLMEnergySource
		}
	}
	im.EnergySource = src
}

// measuredSource is the label of measured energy: the meter's source.
func measuredSource() string {
	if st := lastStats.Load(); st != nil && st.Source != "" {
		return st.Source
	}
	return "cpu-model"
}
