package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Schema is the value of the schema field of the JSON report. It changes
// only when a field changes meaning or goes away; fields may be added.
const Schema = "tracegen.report/v1"

// joulesPerKWh converts kWh to J.
const joulesPerKWh = 3.6e6

// Stats is the cost of a group of spans. Spans, errors and tokens are summed
// over every span of the group. Wall time, energy, CO2e and water are summed
// over the group's top spans only (those whose parent is not in the group),
// because a span's duration covers its children's and its impact includes
// theirs: so nothing is counted twice, even for a recursive function.
type Stats struct {
	Spans        int64   `json:"spans"`
	Errors       int64   `json:"errors"`
	WallMS       float64 `json:"wall_ms"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	EnergyKWh    float64 `json:"energy_kwh"`
	EnergyJ      float64 `json:"energy_j"`
	CO2eG        float64 `json:"co2e_g"`
	WaterL       float64 `json:"water_l"`
}

// Tokens returns input plus output tokens.
func (s *Stats) Tokens() int64 { return s.InputTokens + s.OutputTokens }

func (s *Stats) addCount(sp *span) {
	s.Spans++
	if sp.isErr {
		s.Errors++
	}
	s.InputTokens += sp.inTok
	s.OutputTokens += sp.outTok
}

func (s *Stats) addRolled(sp *span) {
	s.WallMS += float64(sp.dur) / 1e6
	s.EnergyKWh += sp.kwh
	s.EnergyJ += sp.kwh * joulesPerKWh
	s.CO2eG += sp.co2e
	s.WaterL += sp.water
}

// Totals is the cost of everything read.
type Totals struct {
	Stats
	Traces   int64 `json:"traces"`
	LLMCalls int64 `json:"llm_calls"`
}

// Row is the cost of one group: a function (span name), a model, a test, a
// session, a project or an application.
type Row struct {
	Name string `json:"name"`
	Stats
}

// Count is how many spans carry a value.
type Count struct {
	Value string `json:"value"`
	Spans int64  `json:"spans"`
}

// Factor is a conversion factor observed on spans: its range and on how
// many spans it was seen.
type Factor struct {
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Spans int64   `json:"spans"`
}

func (f *Factor) add(v float64) {
	if f.Spans == 0 || v < f.Min {
		f.Min = v
	}
	if f.Spans == 0 || v > f.Max {
		f.Max = v
	}
	f.Spans++
}

// Provenance says how the figures were obtained: which sensors measured or
// modelled the energy, which factor turned it into CO2e and water, and which
// method estimated the LLM calls.
type Provenance struct {
	// EnergySources counts spans per energy_source ("rapl", "cpu-model",
	// "cloud-model", "+nvml", "+llm-estimate" combined with "+").
	EnergySources []Count `json:"energy_sources"`
	// Unmeasured is the number of spans with no energy source.
	Unmeasured int64 `json:"unmeasured_spans"`
	// JoulesBySource splits the total energy by source (cpu, memory, gpu,
	// llm), summed over root spans.
	JoulesBySource map[string]float64 `json:"joules_by_source"`
	// CO2eFactor is co2e_g / energy_kwh on spans whose energy is all local:
	// PUE × grid intensity, in gCO2e per kWh. Nil when no span had local
	// energy.
	CO2eFactor *Factor `json:"co2e_g_per_kwh,omitempty"`
	// WaterFactor is water_l / energy_kwh on the same spans: WUE + PUE ×
	// the grid's water intensity, in L per kWh.
	WaterFactor *Factor `json:"water_l_per_kwh,omitempty"`
	// LLMMethods counts LLM spans per footprint method
	// (tracegen.footprint.method, "ecologits <version>").
	LLMMethods []Count `json:"llm_methods"`
	// LLMFootprintModels counts LLM spans per model or size class the
	// estimate used (tracegen.footprint.model).
	LLMFootprintModels []Count `json:"llm_footprint_models"`
	// LLMNotes counts what the estimates had to assume
	// (tracegen.footprint.note).
	LLMNotes []Count `json:"llm_notes"`
	// LLMWithoutEstimate is the number of LLM spans with no footprint
	// estimate (no method recorded: no token usage, or an older runtime).
	LLMWithoutEstimate int64 `json:"llm_without_estimate"`
}

// Report is the summary of a run's spans. Its JSON form is the -format json
// output of `tracegen report`; docs/cli.md documents it.
type Report struct {
	Schema       string     `json:"schema"`
	Inputs       []Input    `json:"inputs"`
	Totals       Totals     `json:"totals"`
	Functions    []Row      `json:"functions"`
	Models       []Row      `json:"models"`
	Tests        []Row      `json:"tests"`
	Sessions     []Row      `json:"sessions"`
	Projects     []Row      `json:"projects"`
	Applications []Row      `json:"applications"`
	Provenance   Provenance `json:"provenance"`
	Budget       []Verdict  `json:"budget,omitempty"`
	Problems     []Problem  `json:"problems"`
}

// spanIndex finds a span by trace and span id. It is keyed by the span id
// alone (random 64 bits, cheap to hash), with a chain for the rare span ids
// that occur in more than one trace.
type spanIndex struct {
	spans []span
	first map[record.SpanID]int32
	next  []int32 // next span with the same id, or -1
}

func newSpanIndex(spans []span) *spanIndex {
	x := &spanIndex{spans: spans, first: make(map[record.SpanID]int32, len(spans)), next: make([]int32, len(spans))}
	for i := range spans {
		j, ok := x.first[spans[i].id]
		if !ok {
			j = -1
		}
		x.next[i] = j
		x.first[spans[i].id] = int32(i)
	}
	return x
}

// parent returns the parent of sp among the spans, or nil.
func (x *spanIndex) parent(sp *span) *span {
	if !sp.parent.IsValid() {
		return nil
	}
	j, ok := x.first[sp.parent]
	for ok && j >= 0 {
		if x.spans[j].trace == sp.trace {
			return &x.spans[j]
		}
		j = x.next[j]
	}
	return nil
}

// groups are the dimensions that become tables, with where they go.
var groups = [...]struct {
	dim dimension
	get func(*Report) *[]Row
}{
	{dimName, func(r *Report) *[]Row { return &r.Functions }},
	{dimModel, func(r *Report) *[]Row { return &r.Models }},
	{dimTest, func(r *Report) *[]Row { return &r.Tests }},
	{dimSession, func(r *Report) *[]Row { return &r.Sessions }},
	{dimProject, func(r *Report) *[]Row { return &r.Projects }},
	{dimApplication, func(r *Report) *[]Row { return &r.Applications }},
}

// Summarize builds the report of s.
func Summarize(s *Spans) *Report {
	r := &Report{Schema: Schema, Inputs: s.Inputs, Problems: s.Problems}
	if r.Problems == nil {
		r.Problems = []Problem{}
	}
	index := newSpanIndex(s.spans)
	// Symbols are small dense integers: per group, a slice indexed by
	// symbol is cheaper than a map.
	var byDim [len(groups)][]*Stats
	for g := range groups {
		byDim[g] = make([]*Stats, len(s.tab.strs))
	}
	traces := map[record.TraceID]struct{}{}
	roots := make([]bool, len(s.spans))
	var lastTrace record.TraceID
	for i := range s.spans {
		sp := &s.spans[i]
		parent := index.parent(sp)
		roots[i] = parent == nil
		if i == 0 || sp.trace != lastTrace {
			traces[sp.trace] = struct{}{}
			lastTrace = sp.trace
		}
		r.Totals.addCount(sp)
		if sp.isLLM {
			r.Totals.LLMCalls++
		}
		if parent == nil {
			r.Totals.addRolled(sp)
		}
		for g, grp := range groups {
			v := sp.dims[grp.dim]
			if v == 0 {
				continue
			}
			st := byDim[g][v]
			if st == nil {
				st = &Stats{}
				byDim[g][v] = st
			}
			st.addCount(sp)
			if parent == nil || parent.dims[grp.dim] != v {
				st.addRolled(sp)
			}
		}
	}
	r.Totals.Traces = int64(len(traces))
	for g, grp := range groups {
		*grp.get(r) = rows(byDim[g], s.tab)
	}
	r.Provenance = provenance(s, roots)
	return r
}

// rows turns a group's stats into rows, most energy first (then CO2e, wall
// time, tokens, calls, name).
func rows(m []*Stats, tab *symtab) []Row {
	var out []Row
	for k, st := range m {
		if st != nil {
			out = append(out, Row{Name: tab.str(sym(k)), Stats: *st})
		}
	}
	if out == nil {
		out = []Row{}
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(
			cmp.Compare(b.EnergyKWh, a.EnergyKWh),
			cmp.Compare(b.CO2eG, a.CO2eG),
			cmp.Compare(b.WallMS, a.WallMS),
			cmp.Compare(b.Tokens(), a.Tokens()),
			cmp.Compare(b.Spans, a.Spans),
			strings.Compare(a.Name, b.Name))
	})
	return out
}

// provenance collects where the figures came from; roots marks the spans
// whose parent is not among them.
func provenance(s *Spans, roots []bool) Provenance {
	p := Provenance{JoulesBySource: map[string]float64{}}
	var co2e, water Factor
	explained := [...]dimension{dimSource, dimMethod, dimFootprintMod, dimNote}
	var counts [numDims][]int64 // per symbol
	for _, d := range explained {
		counts[d] = make([]int64, len(s.tab.strs))
	}
	llmSource := make([]bool, len(s.tab.strs))
	for i, str := range s.tab.strs {
		llmSource[i] = strings.Contains(str, "llm")
	}
	for i := range s.spans {
		sp := &s.spans[i]
		if sp.dims[dimSource] == 0 {
			p.Unmeasured++
		}
		for _, d := range explained {
			counts[d][sp.dims[d]]++
		}
		if sp.isLLM && sp.dims[dimMethod] == 0 {
			p.LLMWithoutEstimate++
		}
		if sp.kwh > 0 && sp.joules[record.EnergyLLM] == 0 && !llmSource[sp.dims[dimSource]] {
			co2e.add(sp.co2e / sp.kwh)
			water.add(sp.water / sp.kwh)
		}
		if roots[i] {
			for src, j := range sp.joules {
				if j != 0 {
					p.JoulesBySource[record.EnergySource(src).String()] += j
				}
			}
		}
	}
	if co2e.Spans > 0 {
		p.CO2eFactor, p.WaterFactor = &co2e, &water
	}
	p.EnergySources = sortedCounts(counts[dimSource], s.tab)
	p.LLMMethods = sortedCounts(counts[dimMethod], s.tab)
	p.LLMFootprintModels = sortedCounts(counts[dimFootprintMod], s.tab)
	p.LLMNotes = sortedCounts(counts[dimNote], s.tab)
	return p
}

func sortedCounts(m []int64, tab *symtab) []Count {
	out := []Count{}
	for k, n := range m {
		if k != 0 && n > 0 {
			out = append(out, Count{Value: tab.str(sym(k)), Spans: n})
		}
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Spans, a.Spans), strings.Compare(a.Value, b.Value))
	})
	return out
}
