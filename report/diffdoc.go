package report

import (
	"fmt"
	"strings"
)

// diffUnits are how a diff shows each measure: a header and a scale.
var diffUnits = map[string]struct {
	header string
	scale  float64
}{
	"calls":      {"calls", 1},
	"wall_ms":    {"wall (ms)", 1},
	"energy_kwh": {"energy (J)", joulesPerKWh},
	"co2e_g":     {"CO2e (g)", 1},
	"tokens":     {"tokens", 1},
}

// diffDoc lays a diff out for the text, markdown and html formats.
func diffDoc(d *Diff, top int) *document {
	doc := &document{Title: fmt.Sprintf("tracegen report: %s against %s", runs(d.BaseRuns, "base"), runs(d.HeadRuns, "head"))}
	if d.BaseRuns < 2 || d.HeadRuns < 2 {
		doc.Notes = append(doc.Notes, "One run on a side: each change is one measurement against another, with no spread to judge it by (marked \"1 run\"); give each side several runs (-base a -base b ...) to see medians and their spread.")
	} else {
		doc.Notes = append(doc.Notes, "Figures are medians over the runs of each side, with their range [min–max]; a change is marked \"beyond spread\" only when the two ranges do not overlap, and \"within spread\" otherwise.")
	}
	if len(d.Thresholds) > 0 {
		doc.Notes = append(doc.Notes, "REGRESSION marks an increase over the -fail-over threshold"+
			map[bool]string{true: "", false: " that is beyond the spread"}[d.BaseRuns < 2 || d.HeadRuns < 2]+".")
	}
	doc.Sections = append(doc.Sections, diffTotals(&d.Totals))
	for _, t := range []struct {
		title string
		rows  []DiffRow
	}{{"Functions", d.Functions}, {"Tests", d.Tests}, {"Models", d.Models}} {
		if len(t.rows) > 0 {
			doc.Sections = append(doc.Sections, diffRows(t.title, t.rows, top))
		}
	}
	if len(d.Regressions) > 0 {
		s := section{Title: "Regressions"}
		for _, r := range d.Regressions {
			s.Notes = append(s.Notes, r.String())
		}
		doc.Sections = append(doc.Sections, s)
	}
	if len(d.Problems) > 0 {
		s := section{Title: "Problems"}
		for _, p := range d.Problems {
			s.Notes = append(s.Notes, p.String())
		}
		doc.Sections = append(doc.Sections, s)
	}
	return doc
}

func diffTotals(row *DiffRow) section {
	tb := &table{Header: []string{"measure", "base", "head", "change", ""}, Right: []bool{false, true, true, true, false}}
	for _, m := range Measures {
		c := row.Changes[m]
		u := diffUnits[m]
		tb.Rows = append(tb.Rows, []string{u.header, spreadText(c.Base, u.scale), spreadText(c.Head, u.scale), changeText(&c), verdictText(&c)})
	}
	return section{Title: "Totals", Table: tb}
}

// diffRows prints one row per name with, per measure, base → head and the
// relative change; the top rows by energy, and every regressed row.
func diffRows(title string, rows []DiffRow, top int) section {
	s := section{Title: title}
	header := []string{strings.ToLower(strings.TrimSuffix(title, "s"))}
	right := []bool{false}
	for _, m := range Measures {
		header = append(header, diffUnits[m].header)
		right = append(right, true)
	}
	tb := &table{Header: append(header, ""), Right: append(right, false)}
	shown := 0
	for _, row := range rows {
		regressed := false
		for _, c := range row.Changes {
			regressed = regressed || c.Regression
		}
		if top > 0 && shown >= top && !regressed {
			continue
		}
		shown++
		cells := []string{row.Name}
		var marks []string
		for _, m := range Measures {
			c := row.Changes[m]
			u := diffUnits[m]
			cells = append(cells, fmt.Sprintf("%s → %s %s", spreadText(c.Base, u.scale), spreadText(c.Head, u.scale), changeText(&c)))
			if c.Regression {
				marks = append(marks, "REGRESSION "+diffUnits[m].header)
			}
		}
		switch {
		case row.Only != "":
			marks = append([]string{"only in " + row.Only}, marks...)
		case len(marks) == 0 && len(row.Changes) > 0:
			c := row.Changes["energy_kwh"]
			marks = append(marks, verdictText(&c))
		}
		tb.Rows = append(tb.Rows, append(cells, strings.Join(marks, ", ")))
	}
	if shown < len(rows) {
		s.Notes = []string{fmt.Sprintf("%d of %d, by energy, and every regression (-top 0 shows all)", shown, len(rows))}
	}
	s.Table = tb
	return s
}

// spreadText prints a side's median, with its range when it has several
// runs.
func spreadText(sp Spread, scale float64) string {
	if sp.Runs < 2 {
		return formatNum(sp.Median * scale)
	}
	return fmt.Sprintf("%s [%s–%s]", formatNum(sp.Median*scale), formatNum(sp.Min*scale), formatNum(sp.Max*scale))
}

func changeText(c *Change) string {
	switch {
	case c.Diff == 0:
		return "="
	case c.Pct != nil:
		return fmt.Sprintf("%+.1f%%", 100**c.Pct)
	}
	return "new"
}

// runs says "1 base run" or "3 base runs".
func runs(n int, side string) string {
	if n == 1 {
		return "1 " + side + " run"
	}
	return fmt.Sprintf("%d %s runs", n, side)
}

// verdictText says how far a change can be trusted.
func verdictText(c *Change) string {
	switch {
	case c.Regression:
		return "REGRESSION"
	case c.Diff == 0:
		return ""
	case c.Noisy:
		return "1 run"
	case c.Beyond:
		return "beyond spread"
	}
	return "within spread"
}
