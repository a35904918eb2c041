//go:build tracegen_nvml

package sensor

import "github.com/tracegen-dev/tracegen/runtime/sensor/nvmlgpu"

// With the tracegen_nvml build tag, meters measure NVIDIA GPUs by default.
func init() {
	defaultOpenGPU = func() (GPU, error) {
		g, err := nvmlgpu.Open()
		if err != nil {
			return nil, err
		}
		return g, nil
	}
}
