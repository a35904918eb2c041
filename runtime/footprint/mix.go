package footprint

// electricityMix returns the grid intensity (kgCO2e per kWh) and off-site
// water intensity (litres per kWh) of an EcoLogits zone. It is a variable so
// that tests can pin values; the table itself lives in runtime/impact.
var electricityMix = func(zone string) (gwpKgPerKWh, waterLPerKWh float64, ok bool) {
	return 0, 0, false
}
