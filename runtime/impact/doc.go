// Package impact turns energy into environmental impact: grams of CO2e and
// litres of water.
//
// The model is the one used by CodeCarbon, Cloud Carbon Footprint and
// EcoLogits. Energy measured or modelled at the server (IT energy, kWh) is
// multiplied by the data-centre power usage effectiveness (PUE) to get the
// energy drawn from the grid, and that by the grid's carbon intensity
// (gCO2e/kWh):
//
//	co2e_g  = energy_kwh × PUE × intensity
//	water_l = energy_kwh × (WUE + PUE × offsite_water_l_per_kwh)
//
// WUE is the on-site water usage effectiveness of the data centre (litres per
// kWh of IT energy, TRACEGEN_WUE, default 0); the off-site term is the water
// consumed to generate the electricity, per country where the EcoLogits table
// has it.
//
// The grid intensity is resolved in a fixed order (see [Resolve]):
// TRACEGEN_GRID_INTENSITY; then TRACEGEN_CLOUD_PROVIDER + TRACEGEN_CLOUD_REGION
// through the cloud region table; then TRACEGEN_COUNTRY (ISO 3166 alpha-2 or
// alpha-3) through the country table; then the world average. An optional live
// source (Electricity Maps, package runtime/impact/live, registered through
// [RegisterLive]) can replace the table value; it is cached,
// bounded by a timeout and falls back to the table.
//
// All tables are embedded (package data, see data/README.md for origin,
// licence and units) and parsed lazily, once, on first use. Nothing in this
// package does I/O.
package impact
