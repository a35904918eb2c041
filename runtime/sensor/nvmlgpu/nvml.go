//go:build linux && cgo

package nvmlgpu

import (
	"fmt"
	"os"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Available reports whether this build can use NVML.
const Available = true

// GPU measures NVIDIA GPUs through NVML. Per device it prefers the
// total-energy counter (mJ since driver load, Volta and later) and falls back
// to power × elapsed time.
type GPU struct {
	lib  nvml.Interface
	pid  uint32
	devs []device
}

type device struct {
	dev     nvml.Device
	name    string
	counter bool   // total-energy counter supported
	lastMJ  uint64 // last counter value
}

// Open opens the system's NVML (libnvidia-ml.so.1, loaded with dlopen); an
// error (no library, no device) means "no usable NVIDIA GPU here". It never
// panics and prints nothing.
func Open() (*GPU, error) {
	return OpenWith(nvml.New(), uint32(os.Getpid()))
}

// OpenWith opens the devices of lib (a real library or go-nvml's mock) and
// attributes devices to process pid.
func OpenWith(lib nvml.Interface, pid uint32) (*GPU, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml: init: %v", ret)
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		lib.Shutdown()
		return nil, fmt.Errorf("nvml: device count: %v", ret)
	}
	g := &GPU{lib: lib, pid: pid}
	for i := 0; i < n; i++ {
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		d := device{dev: dev, name: fmt.Sprintf("gpu%d", i)}
		if name, ret := dev.GetName(); ret == nvml.SUCCESS {
			d.name = fmt.Sprintf("gpu%d %s", i, name)
		}
		if mj, ret := dev.GetTotalEnergyConsumption(); ret == nvml.SUCCESS {
			d.counter, d.lastMJ = true, mj
		} else if _, ret := dev.GetPowerUsage(); ret != nvml.SUCCESS {
			continue // neither energy nor power: unusable
		}
		g.devs = append(g.devs, d)
	}
	if len(g.devs) == 0 {
		lib.Shutdown()
		return nil, fmt.Errorf("nvml: %d devices, none reports energy or power", n)
	}
	return g, nil
}

// Read returns the energy of all devices since the previous Read, and the
// part of it on devices where this process runs. A device that fails is
// skipped and reported in err; the others still count.
func (g *GPU) Read(elapsed time.Duration) (procJ, totalJ float64, err error) {
	for i := range g.devs {
		d := &g.devs[i]
		var j float64
		if d.counter {
			mj, ret := d.dev.GetTotalEnergyConsumption()
			if ret != nvml.SUCCESS {
				err = fmt.Errorf("nvml: %s: energy: %v", d.name, ret)
				continue
			}
			if mj >= d.lastMJ {
				j = float64(mj-d.lastMJ) / 1e3
			}
			d.lastMJ = mj
		} else {
			mw, ret := d.dev.GetPowerUsage()
			if ret != nvml.SUCCESS {
				err = fmt.Errorf("nvml: %s: power: %v", d.name, ret)
				continue
			}
			j = float64(mw) / 1e3 * elapsed.Seconds()
		}
		totalJ += j
		if g.runsHere(d.dev) {
			procJ += j
		}
	}
	return procJ, totalJ, err
}

// runsHere reports whether this process has a compute or graphics context on
// dev. When NVML cannot tell (not supported, no permission), the device is
// counted as ours: a program that links tracegen on a GPU host is most
// likely the one using it (CodeCarbon attributes whole devices too).
func (g *GPU) runsHere(dev nvml.Device) bool {
	procs, ret := dev.GetComputeRunningProcesses()
	if ret != nvml.SUCCESS {
		return true
	}
	for _, p := range procs {
		if p.Pid == g.pid {
			return true
		}
	}
	gprocs, ret := dev.GetGraphicsRunningProcesses()
	if ret == nvml.SUCCESS {
		for _, p := range gprocs {
			if p.Pid == g.pid {
				return true
			}
		}
	}
	return false
}

// Devices describes each device and how it is measured.
func (g *GPU) Devices() []string {
	out := make([]string, len(g.devs))
	for i, d := range g.devs {
		how := "power sampling"
		if d.counter {
			how = "total-energy counter"
		}
		out[i] = d.name + " (" + how + ")"
	}
	return out
}

// Close shuts NVML down.
func (g *GPU) Close() { g.lib.Shutdown() }
