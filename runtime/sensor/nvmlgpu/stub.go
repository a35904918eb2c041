//go:build !linux || !cgo

package nvmlgpu

import (
	"errors"
	"time"
)

// Available reports whether this build can use NVML.
const Available = false

// GPU is unavailable in this build.
type GPU struct{}

// Open always fails: NVML needs Linux and cgo.
func Open() (*GPU, error) {
	return nil, errors.New("nvml: not in this build (needs linux and cgo)")
}

// Read returns nothing.
func (g *GPU) Read(time.Duration) (procJ, totalJ float64, err error) { return 0, 0, nil }

// Devices returns nothing.
func (g *GPU) Devices() []string { return nil }

// Close does nothing.
func (g *GPU) Close() {}
