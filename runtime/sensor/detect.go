package sensor

import (
	"os"
	"path/filepath"
)

// NVIDIAHint looks, without NVML and without cgo, for signs of an NVIDIA GPU
// (devices under /proc/driver/nvidia/gpus) and of the NVML library in the
// usual library directories. It is what doctor prints when the program was
// built without the tracegen_nvml tag.
func NVIDIAHint() (gpus int, lib string) {
	ents, _ := os.ReadDir("/proc/driver/nvidia/gpus")
	gpus = len(ents)
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64", "/usr/local/cuda/lib64"} {
		p := filepath.Join(dir, "libnvidia-ml.so.1")
		if _, err := os.Stat(p); err == nil {
			return gpus, p
		}
	}
	return gpus, ""
}
