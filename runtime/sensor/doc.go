// Package sensor measures, or models where it cannot measure, the energy
// this process draws, one sampling interval at a time.
//
// A [Meter] combines the sensors that work on the machine and, on each
// [Meter.Read], returns a [Reading]: the energy of the interval split into
// the part caused by this process (active energy, by component: CPU, memory,
// GPU) and the machine's static or idle part, which is reported apart and
// never attributed to spans.
//
// CPU energy comes from, in order of preference:
//
//   - RAPL through powercap sysfs (/sys/class/powercap, TRACEGEN_RAPL_ROOT):
//     package domains, plus dram domains when present, psys only when there is
//     no package domain; core and uncore sub-domains are skipped because the
//     package already contains them. Counters wrap at max_energy_range_uj. The
//     machine energy minus the idle floor (the lowest power seen so far, as
//     Kepler does) is the dynamic energy; this process gets the share of it
//     that its CPU time is of the machine's busy CPU time (Scaphandre's ratio).
//   - a cloud model when the provider is known (TRACEGEN_CLOUD_PROVIDER):
//     Cloud Carbon Footprint's idle and full-load watts per vCPU for the CPU
//     micro-architecture; the process's CPU seconds × (max − min) is active.
//   - a TDP model otherwise: the CPU model name (gopsutil) is looked up in
//     CodeCarbon's TDP table; the machine's power runs linearly from 10 % of
//     TDP at idle to TDP at full load, so each CPU-second of this process
//     costs 0.9 × TDP × sockets / logical CPUs joules.
//
// Memory energy follows CodeCarbon's DIMM model (5 W per DIMM, DIMM count
// guessed from installed memory) scaled by RSS / installed memory; in the cloud
// CCF's 0.392 W/GB × RSS. GPU energy comes from NVML (package nvmlgpu:
// total-energy counter, or power × time), which programs link only when
// built with the tracegen_nvml tag (it needs cgo); a GPU is attributed to the
// process only when NVML lists the process on it. Process CPU time comes from
// getrusage and RSS from /proc/self/statm (gopsutil elsewhere), machine CPU
// time (RAPL share only), CPU model and installed memory from gopsutil.
//
// Containers: the CPU quota of the cgroup (v2 cpu.max or v1 cfs quota)
// bounds the number of CPUs whose idle power is reported for this process.
//
// Nothing here starts a goroutine; the runtime's sampler calls Read.
package sensor
