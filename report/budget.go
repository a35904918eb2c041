package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Budget is a limit on one measure of the totals.
type Budget struct {
	Key   string
	Limit float64
}

// Verdict is a budget checked against the totals.
type Verdict struct {
	Key    string  `json:"key"`
	Limit  float64 `json:"limit"`
	Actual float64 `json:"actual"`
	Over   bool    `json:"over"`
}

// String returns the verdict as one line, e.g. "over budget: co2e_g = 6.2,
// budget 5".
func (v Verdict) String() string {
	if v.Over {
		return fmt.Sprintf("over budget: %s = %s, budget %s", v.Key, formatNum(v.Actual), formatNum(v.Limit))
	}
	return fmt.Sprintf("within budget: %s = %s, budget %s", v.Key, formatNum(v.Actual), formatNum(v.Limit))
}

// budgetKey is a measure of the totals a budget may limit.
type budgetKey struct {
	key string
	get func(*Totals) float64
}

// budgetKeys are the measures a budget may limit, in the order they are
// documented.
var budgetKeys = []budgetKey{
	{"co2e_g", func(t *Totals) float64 { return t.CO2eG }},
	{"energy_kwh", func(t *Totals) float64 { return t.EnergyKWh }},
	{"energy_j", func(t *Totals) float64 { return t.EnergyJ }},
	{"water_l", func(t *Totals) float64 { return t.WaterL }},
	{"tokens", func(t *Totals) float64 { return float64(t.Tokens()) }},
	{"input_tokens", func(t *Totals) float64 { return float64(t.InputTokens) }},
	{"output_tokens", func(t *Totals) float64 { return float64(t.OutputTokens) }},
	{"errors", func(t *Totals) float64 { return float64(t.Errors) }},
	{"spans", func(t *Totals) float64 { return float64(t.Spans) }},
	{"llm_calls", func(t *Totals) float64 { return float64(t.LLMCalls) }},
	{"wall_s", func(t *Totals) float64 { return t.WallMS / 1e3 }},
}

// BudgetKeys returns the keys ParseBudgets accepts.
func BudgetKeys() []string {
	keys := make([]string, len(budgetKeys))
	for i, k := range budgetKeys {
		keys[i] = k.key
	}
	return keys
}

// ParseBudgets parses "co2e_g=5,energy_kwh=0.01,tokens=100000,errors=0". A
// key may appear once; limits are non-negative numbers.
func ParseBudgets(s string) ([]Budget, error) {
	var out []Budget
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("budget %q: want key=value", part)
		}
		if !slices.Contains(BudgetKeys(), k) {
			return nil, fmt.Errorf("budget %q: unknown key %q (known: %s)", part, k, strings.Join(BudgetKeys(), ", "))
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("budget %q: %q is not a non-negative number", part, v)
		}
		if slices.ContainsFunc(out, func(b Budget) bool { return b.Key == k }) {
			return nil, fmt.Errorf("budget %q: %s given twice", part, k)
		}
		out = append(out, Budget{Key: k, Limit: f})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("budget %q: no key=value", s)
	}
	return out, nil
}

// Check compares the totals with each budget; a measure is over its budget
// when it is strictly greater (errors=0 fails on the first error).
func Check(t *Totals, budgets []Budget) []Verdict {
	out := make([]Verdict, 0, len(budgets))
	for _, b := range budgets {
		i := slices.IndexFunc(budgetKeys, func(k budgetKey) bool { return k.key == b.Key })
		if i < 0 {
			continue // ParseBudgets rejects unknown keys
		}
		actual := budgetKeys[i].get(t)
		out = append(out, Verdict{Key: b.Key, Limit: b.Limit, Actual: actual, Over: actual > b.Limit})
	}
	return out
}

// formatNum prints a measure briefly: integers as they are, others with 4
// significant digits, in exponent form below 0.0001.
func formatNum(f float64) string {
	a := math.Abs(f)
	switch {
	case f == math.Trunc(f) && a < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	case a >= 1000:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case a >= 1e-4:
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return strconv.FormatFloat(f, 'e', 3, 64)
}
