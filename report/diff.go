package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// DiffSchema is the value of the schema field of the JSON diff.
const DiffSchema = "tracegen.diff/v1"

// Measures compared by a diff, in display order.
var Measures = []string{"calls", "wall_ms", "energy_kwh", "co2e_g", "tokens"}

func measure(s *Stats, m string) float64 {
	switch m {
	case "calls":
		return float64(s.Spans)
	case "wall_ms":
		return s.WallMS
	case "energy_kwh":
		return s.EnergyKWh
	case "co2e_g":
		return s.CO2eG
	case "tokens":
		return float64(s.Tokens())
	}
	panic("unknown measure " + m)
}

// Spread is a measure over the runs of one side: its median and range.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// spreadOf returns the median and range of vs (which it sorts).
func spreadOf(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{}
	}
	slices.Sort(vs)
	n := len(vs)
	med := vs[n/2]
	if n%2 == 0 {
		med = (vs[n/2-1] + vs[n/2]) / 2
	}
	return Spread{Median: med, Min: vs[0], Max: vs[n-1], Runs: n}
}

// Change is one measure of one row, base against head.
type Change struct {
	Base Spread  `json:"base"`
	Head Spread  `json:"head"`
	Diff float64 `json:"change"` // head median − base median
	// Pct is Diff relative to the base median (0.1 is +10 %); absent when
	// the base median is 0.
	Pct *float64 `json:"change_pct,omitempty"`
	// Beyond is true when the ranges of the two sides do not overlap; it
	// needs at least two runs on each side (else it is false and Noisy is
	// true).
	Beyond bool `json:"beyond_spread"`
	// Noisy is true when a side has a single run: the change is one
	// measurement against another, with no spread to judge it by.
	Noisy bool `json:"single_run"`
	// Regression is true when the change is over the -fail-over threshold
	// of its measure (and, with several runs, beyond the spread).
	Regression bool `json:"regression"`
}

// DiffRow is one function, test or model (or the totals) on both sides.
type DiffRow struct {
	Name string `json:"name"`
	// Only is "base" or "head" when the row appears on one side only.
	Only    string            `json:"only,omitempty"`
	Changes map[string]Change `json:"changes"`
}

// Regression names a change over its threshold.
type Regression struct {
	Table   string  `json:"table"` // "totals", "functions", "tests", "models"
	Name    string  `json:"name"`
	Measure string  `json:"measure"`
	Pct     float64 `json:"change_pct"`
	Limit   float64 `json:"limit_pct"`
}

func (r Regression) String() string {
	what := r.Table
	if r.Table != "totals" {
		what = fmt.Sprintf("%s %s", strings.TrimSuffix(r.Table, "s"), r.Name)
	}
	return fmt.Sprintf("regression: %s %s %+.1f%% (limit %+.1f%%)", what, r.Measure, 100*r.Pct, 100*r.Limit)
}

// Diff compares the runs of a base with the runs of a head. Its JSON form
// is the -format json output of `tracegen report -base ... -head ...`.
type Diff struct {
	Schema      string       `json:"schema"`
	BaseRuns    int          `json:"base_runs"`
	HeadRuns    int          `json:"head_runs"`
	Thresholds  Thresholds   `json:"fail_over,omitempty"`
	Totals      DiffRow      `json:"totals"`
	Functions   []DiffRow    `json:"functions"`
	Tests       []DiffRow    `json:"tests"`
	Models      []DiffRow    `json:"models"`
	Regressions []Regression `json:"regressions"`
	Problems    []Problem    `json:"problems"`
}

// Regressed reports whether any change is over its threshold.
func (d *Diff) Regressed() bool { return len(d.Regressions) > 0 }

// Thresholds are the -fail-over limits per measure, as fractions (0.1 is
// 10 %).
type Thresholds map[string]float64

// ParseThresholds parses "10%" (every measure) or "co2e_g=10%,tokens=5%".
func ParseThresholds(s string) (Thresholds, error) {
	t := Thresholds{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			k, v = "", part
		}
		f, err := parsePct(v)
		if err != nil {
			return nil, fmt.Errorf("fail-over %q: %v", part, err)
		}
		if k == "" {
			for _, m := range Measures {
				t[m] = f
			}
			continue
		}
		if !slices.Contains(Measures, k) {
			return nil, fmt.Errorf("fail-over %q: unknown measure %q (known: %s)", part, k, strings.Join(Measures, ", "))
		}
		t[k] = f
	}
	return t, nil
}

// parsePct reads "10%" or "0.1" as 0.1.
func parsePct(v string) (float64, error) {
	v = strings.TrimSpace(v)
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a non-negative percentage", v)
	}
	if pct {
		f /= 100
	}
	return f, nil
}

// diffTables are the tables a diff compares.
var diffTables = [...]struct {
	name string
	rows func(*Report) []Row
	out  func(*Diff) *[]DiffRow
}{
	{"functions", func(r *Report) []Row { return r.Functions }, func(d *Diff) *[]DiffRow { return &d.Functions }},
	{"tests", func(r *Report) []Row { return r.Tests }, func(d *Diff) *[]DiffRow { return &d.Tests }},
	{"models", func(r *Report) []Row { return r.Models }, func(d *Diff) *[]DiffRow { return &d.Models }},
}

// Compare builds the diff of the base runs against the head runs (each a
// report of one run) with the given thresholds (nil: flag nothing).
func Compare(base, head []*Report, th Thresholds) *Diff {
	d := &Diff{Schema: DiffSchema, BaseRuns: len(base), HeadRuns: len(head), Thresholds: th, Problems: []Problem{}}
	for _, r := range slices.Concat(base, head) {
		d.Problems = append(d.Problems, r.Problems...)
	}
	totals := func(rs []*Report) []map[string]*Stats {
		out := make([]map[string]*Stats, len(rs))
		for i, r := range rs {
			out[i] = map[string]*Stats{"": &r.Totals.Stats}
		}
		return out
	}
	d.Totals = compareRows(totals(base), totals(head), th)[0]
	d.Totals.Name = "totals"
	d.Regressions = regressions("totals", []DiffRow{d.Totals}, th)
	for _, t := range diffTables {
		side := func(rs []*Report) []map[string]*Stats {
			out := make([]map[string]*Stats, len(rs))
			for i, r := range rs {
				m := map[string]*Stats{}
				for _, row := range t.rows(r) {
					m[row.Name] = &row.Stats
				}
				out[i] = m
			}
			return out
		}
		rows := compareRows(side(base), side(head), th)
		*t.out(d) = rows
		d.Regressions = append(d.Regressions, regressions(t.name, rows, th)...)
	}
	return d
}

// compareRows compares each name found in any run; a run without the name
// counts as zero for it.
func compareRows(base, head []map[string]*Stats, th Thresholds) []DiffRow {
	names := map[string]string{}
	for _, side := range [...]struct {
		runs []map[string]*Stats
		name string
	}{{base, "base"}, {head, "head"}} {
		for _, run := range side.runs {
			for n := range run {
				if o, ok := names[n]; ok && o != side.name {
					names[n] = ""
				} else {
					names[n] = side.name
				}
			}
		}
	}
	var out []DiffRow
	for n, only := range names {
		row := DiffRow{Name: n, Only: only, Changes: map[string]Change{}}
		for _, m := range Measures {
			limit, ok := th[m]
			row.Changes[m] = compareMeasure(values(base, n, m), values(head, n, m), limit, ok && only == "")
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b DiffRow) int {
		ea := math.Max(a.Changes["energy_kwh"].Base.Median, a.Changes["energy_kwh"].Head.Median)
		eb := math.Max(b.Changes["energy_kwh"].Base.Median, b.Changes["energy_kwh"].Head.Median)
		return cmp.Or(cmp.Compare(eb, ea), strings.Compare(a.Name, b.Name))
	})
	return out
}

func values(runs []map[string]*Stats, name, m string) []float64 {
	vs := make([]float64, len(runs))
	for i, run := range runs {
		if st, ok := run[name]; ok {
			vs[i] = measure(st, m)
		}
	}
	return vs
}

// compareMeasure compares one measure. gate says whether it can regress:
// it has a threshold, limit, and its row is on both sides.
func compareMeasure(base, head []float64, limit float64, gate bool) Change {
	c := Change{Base: spreadOf(base), Head: spreadOf(head)}
	c.Diff = c.Head.Median - c.Base.Median
	if c.Base.Median != 0 {
		p := c.Diff / c.Base.Median
		c.Pct = &p
	}
	c.Noisy = c.Base.Runs < 2 || c.Head.Runs < 2
	if !c.Noisy {
		c.Beyond = c.Head.Min > c.Base.Max || c.Head.Max < c.Base.Min
	}
	c.Regression = gate && c.Pct != nil && *c.Pct > limit && (c.Noisy || c.Beyond)
	return c
}

func regressions(table string, rows []DiffRow, th Thresholds) []Regression {
	var out []Regression
	for _, row := range rows {
		for _, m := range Measures {
			if c := row.Changes[m]; c.Regression {
				out = append(out, Regression{Table: table, Name: row.Name, Measure: m, Pct: *c.Pct, Limit: th[m]})
			}
		}
	}
	return out
}
