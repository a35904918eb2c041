package impact

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/*.csv
var dataFS embed.FS

// readCSV parses an embedded CSV file into records, header included.
func readCSV(name string) ([][]string, error) {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("impact: embedded table %s: %w", name, err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("impact: embedded table %s: %w", name, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("impact: embedded table %s: no rows", name)
	}
	return recs, nil
}

// parseFloat parses a table cell; the error names the table, row and column.
func parseFloat(table string, row int, col, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("impact: %s:%d: column %s: %w", table, row+1, col, err)
	}
	return v, nil
}

// country is one row of the country intensity table.
type country struct {
	iso3, iso2, name string
	year             int
	gco2ePerKWh      float64
}

// cloudRegion is one row of the cloud region table.
type cloudRegion struct {
	provider, region, iso3, source string
	gco2ePerKWh                    float64
}

// tables holds every parsed table; built once by loadTables.
type tables struct {
	mixes     map[string]Mix         // by alpha-3 zone
	countries map[string]country     // by alpha-3 and alpha-2, upper case
	regions   map[string]cloudRegion // by provider + "/" + normalised region
	cloudCPU  map[string][]CloudCPU  // by provider
}

var (
	tablesOnce sync.Once
	tablesVal  *tables
	tablesErr  error
)

// loadTables parses the embedded tables once. An error means the binary was
// built with a broken table; callers fall back to documented defaults.
func loadTables() (*tables, error) {
	tablesOnce.Do(func() { tablesVal, tablesErr = parseTables() })
	return tablesVal, tablesErr
}

func parseTables() (*tables, error) {
	t := &tables{}
	var err error
	if t.mixes, err = parseMixes(); err != nil {
		return nil, err
	}
	if t.countries, err = parseCountries(); err != nil {
		return nil, err
	}
	if t.regions, err = parseRegions(); err != nil {
		return nil, err
	}
	if t.cloudCPU, err = parseCloudCPU(); err != nil {
		return nil, err
	}
	return t, nil
}

func parseMixes() (map[string]Mix, error) {
	const name = "ecologits_electricity_mixes.csv"
	recs, err := readCSV(name)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Mix, len(recs))
	for i, r := range recs[1:] {
		if len(r) < 5 {
			return nil, fmt.Errorf("impact: %s:%d: want 5 columns, got %d", name, i+2, len(r))
		}
		var vals [4]float64
		for j, col := range []string{"adpe", "pe", "gwp", "wue"} {
			if vals[j], err = parseFloat(name, i+1, col, r[j+1]); err != nil {
				return nil, err
			}
		}
		m[r[0]] = Mix{
			Zone:           r[0],
			ADPeKgSbPerKWh: vals[0],
			PEMJPerKWh:     vals[1],
			GCO2ePerKWh:    vals[2] * 1000, // kgCO2e/kWh -> gCO2e/kWh
			WaterLPerKWh:   vals[3],
		}
	}
	return m, nil
}

func parseCountries() (map[string]country, error) {
	const name = "country_intensity.csv"
	recs, err := readCSV(name)
	if err != nil {
		return nil, err
	}
	m := make(map[string]country, 2*len(recs))
	for i, r := range recs[1:] {
		if len(r) < 5 {
			return nil, fmt.Errorf("impact: %s:%d: want 5 columns, got %d", name, i+2, len(r))
		}
		g, err := parseFloat(name, i+1, "carbon_intensity_gco2e_per_kwh", r[4])
		if err != nil {
			return nil, err
		}
		y, _ := strconv.Atoi(r[3])
		c := country{iso3: r[0], iso2: r[1], name: r[2], year: y, gco2ePerKWh: g}
		m[r[0]] = c
		if r[1] != "" {
			m[r[1]] = c
		}
	}
	return m, nil
}

func parseRegions() (map[string]cloudRegion, error) {
	const name = "cloud_regions.csv"
	recs, err := readCSV(name)
	if err != nil {
		return nil, err
	}
	m := make(map[string]cloudRegion, len(recs))
	for i, r := range recs[1:] {
		if len(r) < 5 {
			return nil, fmt.Errorf("impact: %s:%d: want 5 columns, got %d", name, i+2, len(r))
		}
		g, err := parseFloat(name, i+1, "gco2e_per_kwh", r[3])
		if err != nil {
			return nil, err
		}
		m[r[0]+"/"+normRegion(r[1])] = cloudRegion{provider: r[0], region: r[1], iso3: r[2], gco2ePerKWh: g, source: r[4]}
	}
	return m, nil
}

// normRegion makes "West Europe", "westeurope" and "west-europe" equal.
func normRegion(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c == ' ' || c == '-' || c == '_' {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
