//go:build linux && cgo

package nvmlgpu

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
)

// mockDevice is a GPU whose energy counter (mJ) and power (mW) the test sets.
func mockDevice(name string, energyMJ *uint64, counter bool, powerMW uint32, pids []uint32) *mock.Device {
	return &mock.Device{
		GetNameFunc: func() (string, nvml.Return) { return name, nvml.SUCCESS },
		GetTotalEnergyConsumptionFunc: func() (uint64, nvml.Return) {
			if !counter {
				return 0, nvml.ERROR_NOT_SUPPORTED
			}
			return *energyMJ, nvml.SUCCESS
		},
		GetPowerUsageFunc: func() (uint32, nvml.Return) { return powerMW, nvml.SUCCESS },
		GetComputeRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) {
			var out []nvml.ProcessInfo
			for _, p := range pids {
				out = append(out, nvml.ProcessInfo{Pid: p})
			}
			return out, nvml.SUCCESS
		},
		GetGraphicsRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS },
	}
}

func mockLib(devs ...nvml.Device) *mock.Interface {
	return &mock.Interface{
		InitFunc:           func() nvml.Return { return nvml.SUCCESS },
		ShutdownFunc:       func() nvml.Return { return nvml.SUCCESS },
		DeviceGetCountFunc: func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			return devs[i], nvml.SUCCESS
		},
	}
}

func TestEnergyCounterAndPowerFallback(t *testing.T) {
	const pid = 4242
	var e0, e1 uint64 = 1_000_000, 5_000
	lib := mockLib(
		mockDevice("NVIDIA H100 80GB HBM3", &e0, true, 0, []uint32{pid}), // ours, counter
		mockDevice("Tesla T4", &e1, false, 70_000, []uint32{pid}),        // ours, power only
		mockDevice("NVIDIA A100", &e1, false, 300_000, []uint32{1}),      // someone else's
	)
	g, err := OpenWith(lib, pid)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	devs := strings.Join(g.Devices(), "; ")
	if !strings.Contains(devs, "gpu0 NVIDIA H100 80GB HBM3 (total-energy counter)") || !strings.Contains(devs, "gpu1 Tesla T4 (power sampling)") {
		t.Errorf("Devices = %s", devs)
	}
	e0 += 250_000 // +250 J on the counter
	proc, total, err := g.Read(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// ours: 250 J (counter) + 70 W × 2 s; total adds 300 W × 2 s.
	if math.Abs(proc-390) > 1e-9 || math.Abs(total-990) > 1e-9 {
		t.Errorf("Read = proc %v total %v, want 390 and 990", proc, total)
	}
	// No new energy on the counter: 0 J from it.
	proc, _, _ = g.Read(time.Second)
	if math.Abs(proc-70) > 1e-9 {
		t.Errorf("second Read proc = %v, want 70", proc)
	}
}

func TestNoLibrary(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	if _, err := OpenWith(lib, 1); err == nil || !strings.Contains(err.Error(), "init") {
		t.Errorf("err = %v", err)
	}
	// The real library on this machine: either works or fails cleanly.
	g, err := Open()
	if err == nil {
		g.Close()
	} else if !strings.Contains(err.Error(), "nvml") {
		t.Errorf("Open error does not say nvml: %v", err)
	}
}

func TestNoUsableDevice(t *testing.T) {
	dev := &mock.Device{
		GetNameFunc:                   func() (string, nvml.Return) { return "old", nvml.SUCCESS },
		GetTotalEnergyConsumptionFunc: func() (uint64, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED },
		GetPowerUsageFunc:             func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED },
	}
	shut := false
	lib := mockLib(dev)
	lib.ShutdownFunc = func() nvml.Return { shut = true; return nvml.SUCCESS }
	if _, err := OpenWith(lib, 1); err == nil || !shut {
		t.Errorf("err = %v, shutdown %v; want error and shutdown", err, shut)
	}
}
