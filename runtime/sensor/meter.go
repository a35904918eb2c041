package sensor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/impact"
)

// Environment variables read by OptionsFromEnv.
const (
	EnvEnergy     = "TRACEGEN_ENERGY"      // "off" disables sensors entirely
	EnvRAPLRoot   = "TRACEGEN_RAPL_ROOT"   // powercap root, default /sys/class/powercap
	EnvCPUTDP     = "TRACEGEN_CPU_TDP"     // W per socket, overrides the TDP table
	EnvCgroupRoot = "TRACEGEN_CGROUP_ROOT" // default /sys/fs/cgroup
	EnvGPU        = "TRACEGEN_GPU"         // "off" skips NVML
)

// Options configure a Meter. The zero value probes everything with defaults.
type Options struct {
	RAPLRoot   string
	CgroupRoot string
	// Provider is the cloud provider ("aws", "gcp", "azure") or "".
	Provider string
	// TDPWatts overrides the CPU TDP (W per socket) when > 0.
	TDPWatts float64
	// NoGPU skips the GPU sensor.
	NoGPU bool
	// OpenGPU opens the GPU sensor; nil uses the build's default (NVML with
	// the tracegen_nvml tag, none otherwise).
	OpenGPU func() (GPU, error)
	// Host, when non-nil, replaces DescribeHost (tests).
	Host *Host
	// ProcessCPU, MachineBusy and RSS replace the process and machine
	// readers when non-nil (tests).
	ProcessCPU  func() (time.Duration, error)
	MachineBusy func() (time.Duration, error)
	RSS         func() (uint64, error)
}

// Disabled reports whether TRACEGEN_ENERGY turns sensors off.
func Disabled(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv(EnvEnergy))) {
	case "off", "0", "false", "no", "disabled":
		return true
	}
	return false
}

// OptionsFromEnv reads TRACEGEN_RAPL_ROOT, TRACEGEN_CPU_TDP,
// TRACEGEN_CGROUP_ROOT, TRACEGEN_GPU and the cloud provider (see
// impact.ConfigFromEnv). Bad values are ignored and returned as errors.
func OptionsFromEnv(getenv func(string) string) (Options, []error) {
	o := Options{RAPLRoot: getenv(EnvRAPLRoot), CgroupRoot: getenv(EnvCgroupRoot)}
	var errs []error
	if s := strings.TrimSpace(getenv(EnvCPUTDP)); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 || v > 10000 {
			errs = append(errs, fmt.Errorf("%s=%q: want watts per socket (0 < W ≤ 10000); ignored", EnvCPUTDP, s))
		} else {
			o.TDPWatts = v
		}
	}
	if strings.EqualFold(strings.TrimSpace(getenv(EnvGPU)), "off") {
		o.NoGPU = true
	}
	loc, _ := impact.ConfigFromEnv(getenv) // location errors are reported by impact's user
	o.Provider = loc.Provider
	return o, errs
}

// Probe is the outcome of trying one sensor.
type Probe struct {
	// Name is "rapl", "cpu-model", "memory-model", "nvml", "cgroup".
	Name string
	// OK is true when the sensor is in use.
	OK bool
	// Detail says what was found, or why the sensor does not work and how
	// to fix it.
	Detail string
	// Err is why the sensor is not in use (nil when OK, and for the
	// models): for "rapl" it wraps ErrNoRAPL or ErrRAPLPermission, for
	// "nvml" ErrNoGPU.
	Err error
}

// Reading is the energy of one interval between two Reads.
type Reading struct {
	// Elapsed is the wall time of the interval.
	Elapsed time.Duration
	// ProcessCPU is the CPU time this process used in the interval.
	ProcessCPU time.Duration
	// CPUJ, MemoryJ and GPUJ are the active energy caused by this process,
	// in joules: what may be attributed to spans.
	CPUJ, MemoryJ, GPUJ float64
	// IdleJ is the idle (static) CPU energy of the CPUs this process may
	// use; reported apart, never attributed.
	IdleJ float64
	// MachineJ is the energy the RAPL domains measured for the whole
	// machine (0 without RAPL).
	MachineJ float64
	// Err is the first sensor error of the interval (the meter fell back to
	// a model and goes on); nil normally.
	Err error
}

// ActiveJ is CPUJ + MemoryJ + GPUJ.
func (r Reading) ActiveJ() float64 { return r.CPUJ + r.MemoryJ + r.GPUJ }

// Meter turns sensor counters into per-interval readings. Read must be called
// from one goroutine (the sampler); Probes, Source and Close may be called
// from any goroutine after NewMeter returns, but Close not during Read.
type Meter struct {
	host   Host
	cpu    CPUPower
	mem    MemoryPower
	rapl   *RAPL
	gpu    GPU
	cg     *Cgroup
	cpuCap float64 // CPUs this process may use (cgroup quota or threads)
	probes []Probe
	source string

	procCPU     func() (time.Duration, error)
	machineBusy func() (time.Duration, error)
	rss         func() (uint64, error)

	primed   bool
	last     time.Time
	lastProc time.Duration
	lastBusy time.Duration
	// machineLast is when the machine counters (RAPL, machine CPU time,
	// GPU) were last read: after PrimeAt, later than last.
	machineLast time.Time
	rssBytes    uint64
	ticks       int
	raplIdleW   float64 // lowest machine power seen (0: none yet)
	// raplDynPerBusy is the latest dynamic joules per busy CPU-second, for
	// an interval whose counters did not move (read too soon).
	raplDynPerBusy float64
	// raplIdleSeen is set once an interval had the machine nearly idle
	// (busy fraction ≤ nearIdle): raplIdleW is then a measured floor.
	raplIdleSeen bool
	// raplPriorW, raplPriorWeight: the idle floor extrapolated from busy
	// intervals with CodeCarbon's idle fraction (weighted mean).
	raplPriorW, raplPriorWeight float64
	// raplJ, raplCPU: decayed sums of the process's RAPL joules and CPU
	// seconds, the price of a CPU-second (Price).
	raplJ, raplCPU float64
	gpuJ, gpuSec   float64 // decayed sums of GPU joules and seconds
}

// NewMeter probes the sensors and returns a meter that uses the best ones
// available. It never fails: without any sensor it models the CPU from its
// TDP (or 4 W per thread). Nothing is started; the caller calls Read.
func NewMeter(o Options) *Meter {
	m := &Meter{procCPU: o.ProcessCPU, machineBusy: o.MachineBusy, rss: o.RSS}
	if m.procCPU == nil {
		m.procCPU = processCPU
	}
	if m.machineBusy == nil {
		m.machineBusy = machineBusy
	}
	if m.rss == nil {
		m.rss = selfRSS()
	}
	if o.Host != nil {
		m.host = *o.Host
	} else {
		var err error
		m.host, err = DescribeHost()
		if err != nil {
			m.probes = append(m.probes, Probe{Name: "host", Detail: err.Error()})
		}
	}
	m.cpuCap = float64(max(m.host.Threads, 1))

	// Containers: the quota bounds the CPUs whose idle power is ours.
	if cg, err := OpenSelfCgroup(o.CgroupRoot); err == nil {
		m.cg = cg
		detail := fmt.Sprintf("cgroup v%d at %s", cg.Version, cg.Dir)
		if lim, ok := cg.CPULimit(); ok {
			m.cpuCap = min(m.cpuCap, lim)
			detail += fmt.Sprintf(", CPU quota %.2f CPUs", lim)
		} else {
			detail += ", no CPU quota"
		}
		m.probes = append(m.probes, Probe{Name: "cgroup", OK: true, Detail: detail})
	} else {
		m.probes = append(m.probes, Probe{Name: "cgroup", Detail: err.Error()})
	}

	// CPU: RAPL, else a model.
	m.cpu = CPUPowerModel(m.host, o.Provider, o.TDPWatts)
	r, err := OpenRAPL(o.RAPLRoot)
	switch {
	case err == nil:
		if _, berr := m.machineBusy(); berr != nil {
			m.probes = append(m.probes, Probe{Name: "rapl", Detail: fmt.Sprintf("RAPL readable (%s) but machine CPU time is not (%v): cannot share machine energy; using the CPU model", strings.Join(r.DomainNames(), ", "), berr)})
		} else {
			m.rapl = r
			m.probes = append(m.probes, Probe{Name: "rapl", OK: true, Detail: "domains " + strings.Join(r.DomainNames(), ", ")})
		}
	case errors.Is(err, ErrRAPLPermission):
		m.probes = append(m.probes, Probe{Name: "rapl", Detail: err.Error() + "; " + RAPLFix, Err: err})
	default:
		m.probes = append(m.probes, Probe{Name: "rapl", Detail: err.Error(), Err: err})
	}
	m.probes = append(m.probes, Probe{Name: "cpu-model", OK: m.rapl == nil, Detail: m.cpu.Detail + modelNote(m.rapl != nil)})
	m.source = "cpu-model"
	if m.cpu.Source == "cloud" {
		m.source = "cloud-model"
	}
	if m.rapl != nil {
		m.source = "rapl"
	}

	m.mem = MemoryPowerModel(m.host, o.Provider != "")
	m.probes = append(m.probes, Probe{Name: "memory-model", OK: true, Detail: m.mem.Detail})

	switch {
	case o.NoGPU:
		m.probes = append(m.probes, Probe{Name: "nvml", Detail: EnvGPU + "=off", Err: fmt.Errorf("%s=off: %w", EnvGPU, ErrNoGPU)})
	default:
		open := o.OpenGPU
		if open == nil {
			open = defaultOpenGPU
		}
		if g, err := open(); err == nil {
			m.gpu = g
			m.source += "+nvml"
			m.probes = append(m.probes, Probe{Name: "nvml", OK: true, Detail: strings.Join(g.Devices(), "; ")})
		} else {
			if !errors.Is(err, ErrNoGPU) {
				err = fmt.Errorf("%w: %w", ErrNoGPU, err)
			}
			m.probes = append(m.probes, Probe{Name: "nvml", Detail: err.Error(), Err: err})
		}
	}
	return m
}

func modelNote(raplOK bool) string {
	if raplOK {
		return " (standby: used if RAPL fails)"
	}
	return ""
}

// Probes lists what was tried and with which result.
func (m *Meter) Probes() []Probe { return m.probes }

// Source is the energy_source label of measured energy: "rapl",
// "cpu-model", "cloud-model", each possibly with "+nvml".
func (m *Meter) Source() string { return m.source }

// CPU returns the CPU power model in use (also the fallback under RAPL).
func (m *Meter) CPU() CPUPower { return m.cpu }

// Host returns the machine description.
func (m *Meter) Host() Host { return m.host }

// Close releases the GPU library.
func (m *Meter) Close() {
	if m.gpu != nil {
		m.gpu.Close()
	}
}

// ProcessCPU returns the CPU time this process has used so far (user +
// system, all threads). It is cheap (getrusage on Unix).
func ProcessCPU() (time.Duration, error) { return processCPU() }

// PrimeAt makes the next Read cover the interval since at, when this
// process had used proc of CPU time (from ProcessCPU, taken at that moment):
// a meter built on another goroutine then loses none of the energy used
// while it was being built. Counters of the machine (RAPL, machine CPU
// time, GPU) start now; the next Read applies their power and busy rate,
// measured from now, to the whole interval.
func (m *Meter) PrimeAt(at time.Time, proc time.Duration) {
	m.Read(time.Now()) // primes (or advances) every counter; the reading is dropped
	m.last, m.lastProc = at, proc
}

// rssEvery is how often (in reads) RSS is refreshed: it moves slowly and
// costs a file read.
const rssEvery = 10

// Read returns the energy of the interval since the previous Read (the first
// Read only primes the counters and returns Elapsed 0).
func (m *Meter) Read(now time.Time) Reading {
	proc, err := m.procCPU()
	return m.ReadWith(now, proc, err)
}

// CPUTime returns the process CPU time as the meter reads it (getrusage, or
// the reader given in Options): a caller that samples between Reads and
// wants its samples to add up exactly to the next Reading uses it, and
// passes the value read at the end of the interval to ReadWith.
func (m *Meter) CPUTime() (time.Duration, error) { return m.procCPU() }

// ReadWith is Read with the process CPU time proc (and its error) already
// read by the caller at now, from CPUTime.
func (m *Meter) ReadWith(now time.Time, proc time.Duration, perr error) Reading {
	var rd Reading
	if perr != nil {
		rd.Err = perr
	}
	var busy time.Duration
	if m.rapl != nil {
		var err error
		if busy, err = m.machineBusy(); err != nil && rd.Err == nil {
			rd.Err = err
		}
	}
	if m.ticks%rssEvery == 0 {
		if v, err := m.rss(); err == nil {
			m.rssBytes = v
		} else if rd.Err == nil {
			rd.Err = err
		}
	}
	m.ticks++
	if !m.primed {
		m.primed = true
		m.last, m.lastProc, m.lastBusy, m.machineLast = now, proc, busy, now
		if m.rapl != nil {
			m.rapl.Read() //nolint:errcheck // priming; errors surface on the next Read
		}
		if m.gpu != nil {
			m.gpu.Read(0) //nolint:errcheck
		}
		return rd
	}
	rd.Elapsed = now.Sub(m.last)
	if rd.Elapsed <= 0 {
		return rd
	}
	if perr == nil {
		rd.ProcessCPU = max(proc-m.lastProc, 0)
		m.lastProc = proc
	}
	dt := rd.Elapsed.Seconds()
	m.last = now
	// The machine's counters cover [machineLast, now], which is shorter than
	// the interval after PrimeAt: their power and busy rate are measured on
	// their own window and applied to the interval.
	dtM := dt
	if !m.machineLast.IsZero() && m.machineLast.After(now.Add(-rd.Elapsed)) && now.After(m.machineLast) {
		dtM = now.Sub(m.machineLast).Seconds()
	}
	machineFrom := m.machineLast
	m.machineLast = now

	usedRAPL := false
	if m.rapl != nil {
		j, err := m.rapl.Read()
		dBusy := busy - m.lastBusy
		switch {
		case err != nil:
			if rd.Err == nil {
				rd.Err = err
			}
			m.rapl = nil // fall back to the model for good; reported once by the caller
			m.source = strings.Replace(m.source, "rapl", "cpu-model", 1)
		case j == 0 && dtM < 1:
			// The counters have not moved yet (RAPL updates about every
			// millisecond, /proc/stat every clock tick): keep the machine
			// window open and price this interval at the latest rate.
			usedRAPL = true
			m.machineLast = machineFrom
			rd.CPUJ = m.raplDynPerBusy * rd.ProcessCPU.Seconds()
			rd.IdleJ = m.raplIdleW * dt * m.cpuCap / float64(max(m.host.Threads, 1))
		default:
			usedRAPL = true
			m.lastBusy = busy
			rd.MachineJ = j * dt / dtM
			busyRate := dBusy.Seconds() / dtM // busy CPUs
			floorW := m.raplFloor(j/dtM, busyRate)
			dynamicW := max(j/dtM-floorW, 0)
			if busyRate > 0 {
				// The process's share of the dynamic power is its CPU time's
				// share of the machine's busy time.
				rd.CPUJ = dynamicW * min(dt, rd.ProcessCPU.Seconds()/busyRate)
				m.raplDynPerBusy = dynamicW / busyRate
			}
			rd.IdleJ = floorW * dt * m.cpuCap / float64(max(m.host.Threads, 1))
		}
		if usedRAPL {
			// The price of one CPU-second of this process, for Price.
			m.raplJ, m.raplCPU = priceDecay*m.raplJ+rd.CPUJ, priceDecay*m.raplCPU+rd.ProcessCPU.Seconds()
		}
	}
	if !usedRAPL {
		rd.CPUJ = rd.ProcessCPU.Seconds() * m.cpu.ActiveWPerCPU()
		rd.IdleJ = m.cpu.MinW * m.cpuCap * dt
	}
	rd.MemoryJ = float64(m.rssBytes) * m.mem.WPerByte * dt
	if m.gpu != nil {
		procJ, _, err := m.gpu.Read(time.Duration(dtM * float64(time.Second)))
		rd.GPUJ = procJ * dt / dtM
		if err != nil && rd.Err == nil {
			rd.Err = err
		}
		m.gpuJ, m.gpuSec = priceDecay*m.gpuJ+procJ, priceDecay*m.gpuSec+dt
	}
	return rd
}

// priceDecay is the weight of the past in Price's running means, per Read
// (about the last five intervals count). The price only prices the part of
// a span after the last reading when the span ends before the next one; one
// interval's RAPL price varies by ±15–30 % on a loaded machine (machine busy
// time comes in 10 ms clock ticks), so a longer memory prices those tails
// closer to the truth than the latest interval does.
const priceDecay = 0.8

// nearIdle is the machine busy fraction at or below which an interval's
// power counts as a measured idle floor.
const nearIdle = 0.1

// raplFloor returns the machine's idle power given this interval's power p
// (W) and busy CPUs (busy CPU-seconds per second). The floor is the lowest
// power seen (Kepler) once the machine was seen nearly idle. Before that —
// a program that keeps the CPUs busy from its first span on never shows the
// idle power — the lowest power seen is the power at some load, and taking
// it as the floor would call most of the energy idle; the floor is then also
// estimated from each busy interval by CodeCarbon's load line (idle at
// IdleFraction of full load, linear in the busy fraction u: idle = p ×
// IdleFraction / (IdleFraction + (1 − IdleFraction) u)), weighted by u,
// and the lower of the two is used.
func (m *Meter) raplFloor(p, busyCPUs float64) float64 {
	if p <= 0 {
		return m.raplIdleW // nothing measured: keep what is known
	}
	if m.raplIdleW == 0 || p < m.raplIdleW {
		m.raplIdleW = p
	}
	u := min(max(busyCPUs/float64(max(m.host.Threads, 1)), 0), 1)
	if u <= nearIdle {
		m.raplIdleSeen = true
	}
	if m.raplIdleSeen {
		return m.raplIdleW
	}
	m.raplPriorW += u * p * IdleFraction / (IdleFraction + (1-IdleFraction)*u)
	m.raplPriorWeight += u
	return min(m.raplIdleW, m.raplPriorW/m.raplPriorWeight)
}

// Price is what the next interval is expected to cost, for a caller that
// splits energy among spans between Reads and settles the difference when
// the Reading comes.
type Price struct {
	// CPUJPerSec is the active energy of one CPU-second of this process:
	// the model's MaxW − MinW, or with RAPL the recent intervals' joules
	// per CPU-second (the model's until RAPL has measured some).
	CPUJPerSec float64
	// MemoryW is the memory power charged to this process now (RSS-based).
	MemoryW float64
	// GPUW is the recent GPU power of this process.
	GPUW float64
}

// Price returns the current price; like Read, it must be called from the
// goroutine that calls Read.
func (m *Meter) Price() Price {
	p := Price{CPUJPerSec: m.cpu.ActiveWPerCPU(), MemoryW: float64(m.rssBytes) * m.mem.WPerByte}
	if m.rapl != nil && m.raplCPU > 1e-3 {
		p.CPUJPerSec = m.raplJ / m.raplCPU
	}
	if m.gpuSec > 0 {
		p.GPUW = m.gpuJ / m.gpuSec
	}
	return p
}
