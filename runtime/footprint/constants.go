package footprint

// EcoLogits 0.9.1 constants (ecologits/impacts/llm.py). The same values are in
// data/ecologits_llm_constants.json; a test checks that they agree.
const (
	// EcologitsVersion is the EcoLogits release whose method and data are used.
	EcologitsVersion = "0.9.1"

	gpuEnergyAlpha = 1.1665273170451914e-06 // Wh per output token per billion active parameters
	gpuEnergyBeta  = -0.011205921025579175  // per batch slot
	gpuEnergyGamma = 4.052928146734005e-05  // Wh per output token

	latencyAlpha = 0.0006785088094353663 // s per output token per billion active parameters
	latencyBeta  = 0.0003119310311688259 // s per output token per batch slot
	latencyGamma = 0.019473717579473387  // s per output token

	batchSize         = 64
	quantizationBits  = 16
	gpuMemoryGB       = 80
	serverGPUs        = 8
	serverPowerKW     = 1.2    // server power excluding GPUs
	serverEmbodiedKg  = 5700.0 // kgCO2e per server
	gpuEmbodiedKg     = 164.0  // kgCO2e per GPU
	hardwareLifespanS = 94608000.0
)
