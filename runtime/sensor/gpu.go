package sensor

import (
	"errors"
	"fmt"
	"time"
)

// GPU measures the energy of the machine's GPUs (see package nvmlgpu).
type GPU interface {
	// Read returns the energy of all devices since the previous Read, and
	// the part of it on devices where this process runs.
	Read(elapsed time.Duration) (procJ, totalJ float64, err error)
	// Devices describes the devices and how each is measured.
	Devices() []string
	// Close releases the library.
	Close()
}

// ErrNoGPU is wrapped by the Err of a Meter's "nvml" Probe when no GPU is
// measured: the build has no NVML, the library or a device is missing, or
// TRACEGEN_GPU=off.
var ErrNoGPU = errors.New("no GPU")

// errNoGPUBuild explains why a default build measures no GPU.
var errNoGPUBuild = fmt.Errorf("nvml: not linked into this program (build it with -tags tracegen_nvml, needs cgo): %w", ErrNoGPU)

// defaultOpenGPU opens the GPU sensor of this build; gpu_nvml.go replaces it
// under the tracegen_nvml tag.
var defaultOpenGPU = func() (GPU, error) { return nil, errNoGPUBuild }
