// Package nvmlgpu measures the energy of NVIDIA GPUs through NVML
// (github.com/NVIDIA/go-nvml), which loads libnvidia-ml with dlopen and so
// needs cgo. Per device it reads the total-energy counter where the GPU
// supports it (Volta and later) and otherwise integrates the power reading
// over the sampling interval.
//
// The package is separate from runtime/sensor so that instrumented programs
// only link NVML (and need cgo) when built with the tracegen_nvml tag; the
// tracegen command links it for `tracegen doctor`. Without cgo or off Linux,
// Open returns an error and Available is false.
package nvmlgpu
