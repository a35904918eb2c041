package impact

import "strings"

// Mix is the impact of one kWh drawn from a zone's electricity mix, from the
// EcoLogits table (data/ecologits_electricity_mixes.csv, MPL-2.0).
type Mix struct {
	// Zone is the ISO 3166-1 alpha-3 code, or "WOR" for the world average.
	Zone string
	// GCO2ePerKWh is the global warming potential, gCO2e per kWh.
	GCO2ePerKWh float64
	// WaterLPerKWh is the off-site water consumed to generate one kWh, litres.
	WaterLPerKWh float64
	// PEMJPerKWh is the primary energy per kWh, MJ.
	PEMJPerKWh float64
	// ADPeKgSbPerKWh is the abiotic resource depletion per kWh, kg Sb eq.
	ADPeKgSbPerKWh float64
}

// WorldZone is the zone of the world-average electricity mix.
const WorldZone = "WOR"

// ElectricityMix returns the electricity mix of zone, an ISO 3166-1 alpha-3
// code (alpha-2 is accepted too) or "WOR" for the world average. The lookup
// is case-insensitive; ok is false when the table has no row for the zone.
// It is safe for concurrent use.
func ElectricityMix(zone string) (Mix, bool) {
	t, err := loadTables()
	if err != nil {
		return Mix{}, false
	}
	z := strings.ToUpper(strings.TrimSpace(zone))
	if m, ok := t.mixes[z]; ok {
		return m, true
	}
	if len(z) == 2 {
		if c, ok := t.countries[z]; ok {
			m, ok := t.mixes[c.iso3]
			return m, ok
		}
	}
	return Mix{}, false
}

// CountryISO3 normalises an ISO 3166-1 alpha-2 or alpha-3 country code to
// alpha-3, reporting whether the country tables know it.
func CountryISO3(code string) (string, bool) {
	t, err := loadTables()
	if err != nil {
		return "", false
	}
	c, ok := t.countries[strings.ToUpper(strings.TrimSpace(code))]
	return c.iso3, ok
}

// CountryISO2 returns the alpha-2 code of an alpha-3 (or alpha-2) country
// code, "" when unknown.
func CountryISO2(code string) string {
	t, err := loadTables()
	if err != nil {
		return ""
	}
	return t.countries[strings.ToUpper(strings.TrimSpace(code))].iso2
}
