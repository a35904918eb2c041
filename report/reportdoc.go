package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// reportDoc lays a report out for the text, markdown and html formats.
func reportDoc(r *Report, top int) *document {
	d := &document{Title: "tracegen report"}
	d.Notes = append(d.Notes, inputsNote(r.Inputs))
	d.Sections = append(d.Sections, totalsSection(&r.Totals), topSection(r))
	for _, t := range []struct {
		title string
		rows  []Row
		empty string
	}{
		{"Functions", r.Functions, ""},
		{"Models", r.Models, "no LLM call names a model (gen_ai.request.model or gen_ai.response.model)"},
		{"Tests", r.Tests, "no span carries a test name (test.case.name): run the tests through `tracegen go test`"},
		{"Sessions", r.Sessions, ""},
		{"Projects", r.Projects, ""},
		{"Applications", r.Applications, ""},
	} {
		if len(t.rows) == 0 && t.empty == "" {
			continue
		}
		d.Sections = append(d.Sections, rowsSection(t.title, t.rows, t.empty, top))
	}
	d.Sections = append(d.Sections, provenanceSection(&r.Provenance))
	if len(r.Budget) > 0 {
		d.Sections = append(d.Sections, budgetSection(r.Budget))
	}
	if len(r.Problems) > 0 {
		s := section{Title: "Problems"}
		for _, p := range r.Problems {
			s.Notes = append(s.Notes, p.String())
		}
		d.Sections = append(d.Sections, s)
	}
	return d
}

func inputsNote(in []Input) string {
	var parts []string
	spans := 0
	for _, i := range in {
		p := fmt.Sprintf("%s (%d spans", i.File, i.Spans)
		if i.Format != "" {
			p += ", " + i.Format
		}
		if i.Problems > 0 {
			p += fmt.Sprintf(", %d problems", i.Problems)
		}
		parts = append(parts, p+")")
		spans += i.Spans
	}
	return fmt.Sprintf("%d spans from %s.", spans, strings.Join(parts, ", "))
}

func totalsSection(t *Totals) section {
	tb := &table{Header: []string{"measure", "total"}, Right: []bool{false, true}}
	add := func(k, v string) { tb.Rows = append(tb.Rows, []string{k, v}) }
	add("spans", fmt.Sprint(t.Spans))
	add("traces", fmt.Sprint(t.Traces))
	add("errors", fmt.Sprint(t.Errors))
	add("LLM calls", fmt.Sprint(t.LLMCalls))
	add("wall time", formatMS(t.WallMS))
	add("input tokens", fmt.Sprint(t.InputTokens))
	add("output tokens", fmt.Sprint(t.OutputTokens))
	add("energy (kWh)", formatNum(t.EnergyKWh))
	add("energy (J)", formatNum(t.EnergyJ))
	add("CO2e (g)", formatNum(t.CO2eG))
	add("water (L)", formatNum(t.WaterL))
	return section{Title: "Totals", Table: tb, Notes: []string{
		"wall time, energy, CO2e and water are summed over root spans (a span includes its children's); spans, errors and tokens over every span",
	}}
}

// rankings are the measures of the "top by measure" table.
var rankings = []struct {
	name string
	get  func(*Stats) float64
	show func(float64) string
}{
	{"calls", func(s *Stats) float64 { return float64(s.Spans) }, formatNum},
	{"errors", func(s *Stats) float64 { return float64(s.Errors) }, formatNum},
	{"wall time", func(s *Stats) float64 { return s.WallMS }, formatMS},
	{"tokens", func(s *Stats) float64 { return float64(s.Tokens()) }, formatNum},
	{"energy (J)", func(s *Stats) float64 { return s.EnergyJ }, formatNum},
	{"CO2e (g)", func(s *Stats) float64 { return s.CO2eG }, formatNum},
	{"water (L)", func(s *Stats) float64 { return s.WaterL }, formatNum},
}

// topSection names the function and the model that lead each measure.
func topSection(r *Report) section {
	tb := &table{Header: []string{"measure", "top function", "", "top model", ""}, Right: []bool{false, false, true, false, true}}
	lead := func(rows []Row, get func(*Stats) float64, show func(float64) string) (string, string) {
		best, val := "", 0.0
		for i := range rows {
			if v := get(&rows[i].Stats); v > val {
				best, val = rows[i].Name, v
			}
		}
		if best == "" {
			return "—", ""
		}
		return best, show(val)
	}
	for _, m := range rankings {
		f, fv := lead(r.Functions, m.get, m.show)
		mo, mv := lead(r.Models, m.get, m.show)
		tb.Rows = append(tb.Rows, []string{m.name, f, fv, mo, mv})
	}
	return section{Title: "Top by measure", Table: tb}
}

func rowsSection(title string, rows []Row, empty string, top int) section {
	s := section{Title: title}
	if len(rows) == 0 {
		s.Notes = []string{empty}
		return s
	}
	if top > 0 && len(rows) > top {
		s.Notes = []string{fmt.Sprintf("the %d of %d with the most energy (-top 0 shows all)", top, len(rows))}
		rows = rows[:top]
	}
	tb := &table{
		Header: []string{strings.ToLower(strings.TrimSuffix(title, "s")), "calls", "errors", "wall time", "in tokens", "out tokens", "energy (J)", "CO2e (g)", "water (L)"},
		Right:  []bool{false, true, true, true, true, true, true, true, true},
	}
	most := 0.0
	for _, r := range rows {
		most = math.Max(most, r.EnergyJ)
	}
	for _, r := range rows {
		tb.Rows = append(tb.Rows, []string{r.Name, fmt.Sprint(r.Spans), fmt.Sprint(r.Errors), formatMS(r.WallMS),
			fmt.Sprint(r.InputTokens), fmt.Sprint(r.OutputTokens), formatNum(r.EnergyJ), formatNum(r.CO2eG), formatNum(r.WaterL)})
		if most > 0 {
			tb.Bars = append(tb.Bars, r.EnergyJ/most)
		}
	}
	s.Table = tb
	return s
}

// sourceMeaning explains the parts of an energy_source.
var sourceMeaning = map[string]string{
	"rapl":         "measured by the CPU's RAPL counters (Linux powercap)",
	"cpu-model":    "modelled from the process's CPU time and the CPU's TDP",
	"cloud-model":  "modelled from CPU time and the cloud's watts per vCPU",
	"nvml":         "NVIDIA GPU energy measured through NVML",
	"llm-estimate": "remote LLM calls estimated from the model and its output tokens",
}

func provenanceSection(p *Provenance) section {
	s := section{Title: "Where the figures come from"}
	note := func(format string, args ...any) { s.Notes = append(s.Notes, fmt.Sprintf(format, args...)) }
	if len(p.EnergySources) == 0 {
		note("energy: no span carries an energy source (energy sampling was off, or nothing ran long enough to be measured)")
	}
	seen := map[string]bool{}
	for _, c := range p.EnergySources {
		note("energy source %q on %s", c.Value, plural(c.Spans, "span"))
		for _, part := range strings.Split(strings.TrimPrefix(c.Value, "+"), "+") {
			if m, ok := sourceMeaning[part]; ok && !seen[part] {
				seen[part] = true
				note("%s: %s", part, m)
			}
		}
	}
	if p.Unmeasured > 0 {
		note("%s no energy (too short to be sampled, or sampling off)", plural(p.Unmeasured, "span")+map[bool]string{true: " carries", false: " carry"}[p.Unmeasured == 1])
	}
	if len(p.JoulesBySource) > 0 {
		keys := make([]string, 0, len(p.JoulesBySource))
		for k := range p.JoulesBySource {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %s J", k, formatNum(p.JoulesBySource[k])))
		}
		note("energy by source: %s", strings.Join(parts, ", "))
	}
	if f := p.CO2eFactor; f != nil {
		note("CO2e: PUE × grid intensity = %s gCO2e/kWh on %s with local energy only; the spans record the product, not its factors: `tracegen doctor` on the machine that ran them prints the grid intensity, its source and the PUE", factorRange(f), plural(f.Spans, "span"))
	}
	if f := p.WaterFactor; f != nil {
		note("water: WUE + PUE × the grid's water intensity = %s L/kWh on the same spans", factorRange(f))
	}
	for _, c := range p.LLMMethods {
		note("LLM footprint: %s on %s", c.Value, plural(c.Spans, "call"))
	}
	for _, c := range p.LLMFootprintModels {
		note("LLM footprint model or size class %q on %s", c.Value, plural(c.Spans, "call"))
	}
	for _, c := range p.LLMNotes {
		note("LLM footprint assumed: %s (%s)", c.Value, plural(c.Spans, "call"))
	}
	if p.LLMWithoutEstimate > 0 {
		note("%s carry no footprint estimate (tracegen.footprint.method): they were not made through an SDK rule, llmhttp or genai.RecordLLMCall, or reported no token usage", plural(p.LLMWithoutEstimate, "LLM call"))
	}
	return s
}

// factorRange prints a factor, or its range when the spans disagree by
// more than rounding (different places, or a live grid intensity).
func factorRange(f *Factor) string {
	if f.Max-f.Min <= 1e-9*math.Abs(f.Max) {
		return formatNum(f.Max)
	}
	return fmt.Sprintf("%s to %s (the runs used different factors)", formatNum(f.Min), formatNum(f.Max))
}

func budgetSection(vs []Verdict) section {
	tb := &table{Header: []string{"budget", "limit", "actual", ""}, Right: []bool{false, true, true, false}}
	for _, v := range vs {
		verdict := "within"
		if v.Over {
			verdict = "OVER"
		}
		tb.Rows = append(tb.Rows, []string{v.Key, formatNum(v.Limit), formatNum(v.Actual), verdict})
	}
	return section{Title: "Budget", Table: tb}
}

// formatMS prints milliseconds as ms or s.
func formatMS(ms float64) string {
	if ms >= 1000 {
		return formatNum(ms/1000) + " s"
	}
	return formatNum(ms) + " ms"
}

// plural says "1 span" or "3 spans".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
