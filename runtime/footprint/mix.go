package footprint

import "github.com/tracegen-dev/tracegen/runtime/impact"

// electricityMix returns the grid intensity (kgCO2e per kWh) and off-site
// water intensity (litres per kWh) of an EcoLogits zone from runtime/impact,
// which embeds EcoLogits' electricity_mixes.csv. It is a variable so that
// tests can pin values.
var electricityMix = func(zone string) (gwpKgPerKWh, waterLPerKWh float64, ok bool) {
	m, ok := impact.ElectricityMix(zone)
	if !ok {
		return 0, 0, false
	}
	return m.GCO2ePerKWh / 1000, m.WaterLPerKWh, true
}
