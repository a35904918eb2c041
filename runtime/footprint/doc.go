// Package footprint estimates the energy, carbon and water footprint of one
// remote LLM call with the EcoLogits method (genai-impact/ecologits 0.9.1,
// https://ecologits.ai/latest/methodology/llm_inference/).
//
// The model: a provider serves the model on H100-class servers (8 GPUs of
// 80 GB, 1.2 kW for the rest of the server) with a batch of 64 requests. The
// model's total parameter count fixes how many GPUs hold it (16-bit weights
// plus 20 % overhead, rounded up to a power of two); its active parameter
// count (all of them for a dense model, the active experts for a MoE) fixes the
// GPU energy per output token through EcoLogits' fitted curve
// alpha·exp(beta·batch)·P_active + gamma Wh, and the generation time per token.
// Energy is PUE × (server share + GPUs × tokens × energy per token); CO2e is
// that energy times the grid intensity of the provider's zone; water is energy
// × (on-site WUE + PUE × off-site water intensity of the zone). Embodied
// emissions of the hardware are amortised over the generation time.
//
// Parameter counts come from EcoLogits' model table (embedded verbatim,
// MPL-2.0). Proprietary sizes are EcoLogits' own estimates given as ranges;
// every estimate is computed at both ends of a range and the midpoint is the
// headline value. Models missing from the table fall back to a documented
// size class (see SizeClasses) and say so in Estimate.Match and
// Estimate.ModelKnown.
package footprint
