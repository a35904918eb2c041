package sensor

import (
	"fmt"
	"math"

	"github.com/tracegen-dev/tracegen/runtime/impact"
)

// IdleFraction is the machine's idle power as a fraction of TDP: the value of
// CodeCarbon's load curve 0.1 + 0.9·load³ at zero load.
const IdleFraction = 0.1

// CPUPower is the linear power model of one logical CPU: MinW when idle, MaxW
// when fully busy. Each CPU-second of this process costs MaxW − MinW joules
// of active energy.
type CPUPower struct {
	MinW, MaxW float64
	// Source is "tdp", "tdp-default" or "cloud".
	Source string
	// Detail explains the numbers ("AMD EPYC 7302 TDP 155 W × 1 socket / 32
	// threads").
	Detail string
}

// ActiveWPerCPU is the power of one CPU-second of work above idle.
func (p CPUPower) ActiveWPerCPU() float64 { return p.MaxW - p.MinW }

// CPUPowerModel chooses the CPU power model for host: the cloud provider's
// per-vCPU coefficients when provider is aws/gcp/azure, otherwise TDP from
// the table (tdpOverride W per socket when > 0), otherwise 4 W per thread.
func CPUPowerModel(h Host, provider string, tdpOverride float64) CPUPower {
	threads := max(h.Threads, 1)
	sockets := max(h.Sockets, 1)
	if provider != "" && tdpOverride <= 0 {
		arch := impact.CloudArchitecture(h.CPUName)
		if c, ok := impact.CloudCPUPower(provider, arch); ok {
			return CPUPower{MinW: c.MinWatts, MaxW: c.MaxWatts, Source: "cloud",
				Detail: fmt.Sprintf("%s %s: %.2f–%.2f W per vCPU (Cloud Carbon Footprint)", impact.NormProvider(provider), c.Architecture, c.MinWatts, c.MaxWatts)}
		}
	}
	if tdpOverride > 0 {
		perCPU := tdpOverride * float64(sockets) / float64(threads)
		return CPUPower{MinW: IdleFraction * perCPU, MaxW: perCPU, Source: "tdp",
			Detail: fmt.Sprintf("TRACEGEN_CPU_TDP %g W × %d socket(s) / %d threads", tdpOverride, sockets, threads)}
	}
	if t, ok := impact.LookupTDP(h.CPUName); ok {
		perCPU := t.Watts * float64(sockets) / float64(threads)
		return CPUPower{MinW: IdleFraction * perCPU, MaxW: perCPU, Source: "tdp",
			Detail: fmt.Sprintf("%q matched %q: TDP %g W × %d socket(s) / %d threads", h.CPUName, t.Matched, t.Watts, sockets, threads)}
	}
	per := impact.DefaultWattsPerThread
	return CPUPower{MinW: IdleFraction * per, MaxW: per, Source: "tdp-default",
		Detail: fmt.Sprintf("%q not in the TDP table: default %g W per thread (CodeCarbon)", h.CPUName, per)}
}

// Memory power constants: CodeCarbon's DIMM model (5 W per DIMM on x86, 1.5
// W on ARM, at least 10 W / 3 W per machine) and Cloud Carbon Footprint's
// 0.392 W per GB in the cloud.
const (
	wPerDIMMx86   = 5.0
	wPerDIMMARM   = 1.5
	minMemWx86    = 10.0
	minMemWARM    = 3.0
	cloudWPerGB   = 0.392
	bytesPerGB    = 1 << 30
	maxDIMMsGuess = 32
)

// MachineMemoryW is the power of the installed memory after CodeCarbon: the
// DIMM count is guessed from the size (≤2 GB: 1, ≤16: 2, ≤64: 4, ≤128: 8,
// more: size / the largest of 128…4 GB not above size/8, at most 32), DIMMs
// 1–4 count fully, 5–8 at 90 %, 9–16 at 80 %, the rest at 70 %.
func MachineMemoryW(totalBytes uint64, arch string) float64 {
	gb := float64(totalBytes) / bytesPerGB
	var dimms int
	switch {
	case gb <= 0:
		dimms = 0
	case gb <= 2:
		dimms = 1
	case gb <= 16:
		dimms = 2
	case gb <= 64:
		dimms = 4
	case gb <= 128:
		dimms = 8
	default:
		s := 4.0
		for _, c := range []float64{128, 64, 32, 16, 8, 4} {
			if c <= gb/8 {
				s = c
				break
			}
		}
		dimms = min(int(math.Ceil(gb/s)), maxDIMMsGuess)
	}
	per, floor := wPerDIMMx86, minMemWx86
	if arch == "arm64" || arch == "arm" {
		per, floor = wPerDIMMARM, minMemWARM
	}
	var w float64
	for i := 1; i <= dimms; i++ {
		f := 1.0
		switch {
		case i > 16:
			f = 0.7
		case i > 8:
			f = 0.8
		case i > 4:
			f = 0.9
		}
		w += per * f
	}
	return max(w, floor)
}

// MemoryPower is the memory model: the power of rss bytes of this process.
type MemoryPower struct {
	// WPerByte is the power per resident byte.
	WPerByte float64
	Detail   string
}

// MemoryPowerModel returns the process memory model for host: machine memory
// power × RSS / installed memory, or CCF's W/GB in the cloud.
func MemoryPowerModel(h Host, cloud bool) MemoryPower {
	if cloud || h.MemoryBytes == 0 {
		return MemoryPower{WPerByte: cloudWPerGB / bytesPerGB, Detail: fmt.Sprintf("%.3f W per GB of RSS (Cloud Carbon Footprint)", cloudWPerGB)}
	}
	w := MachineMemoryW(h.MemoryBytes, h.Arch)
	return MemoryPower{WPerByte: w / float64(h.MemoryBytes),
		Detail: fmt.Sprintf("%.1f W for %.1f GB installed (CodeCarbon DIMM model) × RSS share", w, float64(h.MemoryBytes)/bytesPerGB)}
}
