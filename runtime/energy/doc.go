// Package energy attributes the energy a program uses to the spans that
// used it, and turns it into CO2e and water.
//
// The model: one sampler goroutine, started by the first span, reads at
// every tick which goroutines that have a current span are on a CPU (from
// the runtime's g, without stopping the world) and gives each one's share
// of the tick's CPU time to its innermost span, priced by a [sensor.Meter]
// (RAPL when the kernel exposes it, NVML for GPUs, otherwise a CPU and
// memory model). Every interval (TRACEGEN_SAMPLE_INTERVAL, 100 ms) it reads
// the meter and settles, so that the spans' joules add up to the process's
// measured or modelled energy minus what ran outside spans; idle energy is
// kept apart. When a span ends, its joules (its own plus its children's)
// become grams of CO2e and litres of water with the grid intensity, PUE and
// water factors of where the program runs ([Factors]), plus the estimates
// of remote LLM calls recorded with trace.AddLLMImpact.
//
// The results are in each exported span's record (record.Impact), per
// trace with [Impact], per span name with [Report] (printed at exit with
// TRACEGEN_IMPACT_REPORT), and for the process with [ReadStats].
//
// runtime/trace imports this package, so every program that traces links
// it; the two talk through runtime/internal/spanhook. Nothing runs unless
// tracing is enabled, TRACEGEN_ENERGY=off disables sampling entirely (no
// goroutine, no file read), and sync mode (TRACEGEN_SYNC=1) samples no
// energy either. docs/energy.md describes the model in full.
package energy
