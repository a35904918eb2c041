package session

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Totals sums the LLM spans of one user (or other group).
type Totals struct {
	Calls        int64   `json:"calls"`
	Errors       int64   `json:"errors"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	EnergyKWh    float64 `json:"energy_kwh"`
	CO2eG        float64 `json:"co2e_g"`
	WaterL       float64 `json:"water_l"`
}

func (t *Totals) add(errored bool, in, out int64, im record.Impact) {
	t.Calls++
	if errored {
		t.Errors++
	}
	t.InputTokens += in
	t.OutputTokens += out
	t.EnergyKWh += im.EnergyKWh
	t.CO2eG += im.CO2eG
	t.WaterL += im.WaterL
}

// NoGroup is the group of spans without the grouping attribute.
const NoGroup = "(none)"

// isLLM reports whether a record is an LLM call: span type llm or a
// gen_ai.operation.name attribute.
func isLLM(r *record.Record) bool {
	if r.Type == record.TypeLLM {
		return true
	}
	_, ok := r.Lookup("gen_ai.operation.name")
	return ok
}

// SumBy totals the LLM spans among records per value of the attribute key
// (own or inherited), e.g. "user.id", "session.id", "gen_ai.request.model".
// Spans without it are grouped under NoGroup. Parent spans are not counted,
// so nothing is counted twice.
func SumBy(records []*record.Record, key string) map[string]Totals {
	out := map[string]Totals{}
	for _, r := range records {
		if r == nil || !isLLM(r) {
			continue
		}
		g := NoGroup
		if v, ok := r.Lookup(key); ok && v.String() != "" {
			g = v.String()
		}
		t := out[g]
		t.add(r.Status == record.StatusError, intAttr(r, "gen_ai.usage.input_tokens"), intAttr(r, "gen_ai.usage.output_tokens"), r.Impact)
		out[g] = t
	}
	return out
}

// ByUser is SumBy(records, "user.id"), for export.Memory.Spans() output.
func ByUser(records []*record.Record) map[string]Totals { return SumBy(records, AttrUserID) }

func intAttr(r *record.Record, key string) int64 {
	v, ok := r.Lookup(key)
	if !ok {
		return 0
	}
	switch x := v.Any().(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// jsonlSpan is the part of a JSONL record that totals need.
type jsonlSpan struct {
	Type       string         `json:"type"`
	Status     string         `json:"status"`
	Attributes map[string]any `json:"attributes"`
	Impact     struct {
		EnergyKWh float64 `json:"energy_kwh"`
		CO2eG     float64 `json:"co2e_g"`
		WaterL    float64 `json:"water_l"`
	} `json:"impact"`
}

// ReadJSONL totals the LLM spans of a JSONL stream (one record per line, as
// the jsonl exporter writes) per value of key. A malformed line stops the
// read with an error naming its line number; blank lines are skipped.
func ReadJSONL(r io.Reader, key string) (map[string]Totals, error) {
	out := map[string]Totals{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var s jsonlSpan
		if err := json.Unmarshal(b, &s); err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		if _, op := s.Attributes["gen_ai.operation.name"]; s.Type != "llm" && !op {
			continue
		}
		g := NoGroup
		if v, ok := s.Attributes[key]; ok && fmt.Sprint(v) != "" {
			g = fmt.Sprint(v)
		}
		t := out[g]
		t.add(s.Status == "error", jsonInt(s.Attributes["gen_ai.usage.input_tokens"]), jsonInt(s.Attributes["gen_ai.usage.output_tokens"]),
			record.Impact{EnergyKWh: s.Impact.EnergyKWh, CO2eG: s.Impact.CO2eG, WaterL: s.Impact.WaterL})
		out[g] = t
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

func jsonInt(v any) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return 0
}

// Sorted returns the groups of m sorted by name, for stable output.
func Sorted(m map[string]Totals) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
