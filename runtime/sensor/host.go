package sensor

import (
	"fmt"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/mem"
)

// Host describes the machine as far as the power models need it.
type Host struct {
	// CPUName is the CPU model string ("AMD EPYC 7R13 Processor").
	CPUName string
	// Sockets is the number of physical packages (at least 1).
	Sockets int
	// Threads is the number of logical CPUs.
	Threads int
	// MemoryBytes is the installed memory.
	MemoryBytes uint64
	// Arch is runtime.GOARCH (the memory model differs on ARM).
	Arch string
}

// DescribeHost reads the CPU model, socket and thread counts and installed
// memory through gopsutil. Missing facts get safe defaults (1 socket,
// runtime.NumCPU threads) and are reported in err.
func DescribeHost() (Host, error) {
	h := Host{Sockets: 1, Threads: runtime.NumCPU(), Arch: runtime.GOARCH}
	var firstErr error
	infos, err := cpu.Info()
	if err != nil || len(infos) == 0 {
		firstErr = fmt.Errorf("cpu info: %v", err)
	} else {
		h.CPUName = infos[0].ModelName
		sockets := map[string]bool{}
		for _, in := range infos {
			sockets[in.PhysicalID] = true
		}
		if len(sockets) > 1 {
			h.Sockets = len(sockets)
		}
	}
	if n, err := cpu.Counts(true); err == nil && n > 0 {
		h.Threads = n
	}
	if vm, err := mem.VirtualMemory(); err == nil {
		h.MemoryBytes = vm.Total
	} else if firstErr == nil {
		firstErr = fmt.Errorf("memory size: %w", err)
	}
	return h, firstErr
}

// machineBusy returns the busy CPU time of the whole machine (all CPUs, all
// states but idle and iowait), from /proc/stat through gopsutil.
func machineBusy() (time.Duration, error) {
	ts, err := cpu.Times(false)
	if err != nil || len(ts) == 0 {
		return 0, fmt.Errorf("machine cpu times: %v", err)
	}
	t := ts[0]
	busy := t.User + t.Nice + t.System + t.Irq + t.Softirq + t.Steal
	return time.Duration(busy * float64(time.Second)), nil
}
