package energy

import (
	"time"

	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// What the external tests (package energy_test, which start spans through
// runtime/trace) may reach inside the package.

var (
	ForceDumpSplit    = &forceDumpSplit
	MaxDumpGoroutines = &maxDumpGoroutines
	ResetConfig       = resetConfig
	ResetReport       = resetReport
	ReportAdd         = reportAdd
	WriteReportAtStop = writeReportAtStop
)

// IdleExit is how long the sampler goroutine outlives the last span.
const IdleExit = energyIdleExit

// SetGetenv replaces the environment the package reads (and forgets the
// resolved factors); restore puts os.Getenv back.
func SetGetenv(f func(string) string) (restore func()) {
	old := energyGetenv
	energyGetenv = f
	resetConfig()
	return func() {
		energyGetenv = old
		resetConfig()
	}
}

// SetTrace sets the tick and settlement trace (nil: none).
func SetTrace(f func(format string, args ...any)) { energyTrace = f }

// ForgetLogged lets the once-per-process log line of key be written again.
func ForgetLogged(key string) { energyLogged.Delete(key) }

// SamplerExists reports whether a sampler is installed (tracing started
// with energy on and not stopped).
func SamplerExists() bool {
	samplerMu.Lock()
	defer samplerMu.Unlock()
	return samplerCur != nil
}

// SamplerReady reports whether the sampler has read the meter once.
func SamplerReady() bool {
	samplerMu.Lock()
	s := samplerCur
	samplerMu.Unlock()
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meter != nil && s.stats.Samples > 0
}

// SchedulerSplit reports whether the current sampler splits by the
// goroutines' scheduling state (false: goroutine dumps).
func SchedulerSplit() bool {
	samplerMu.Lock()
	s := samplerCur
	samplerMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched
}

// AttributeDump splits cpuJ joules by a goroutine dump now.
func AttributeDump(cpuJ float64) {
	s := samplerCur
	s.mu.Lock()
	s.carry = sensor.Reading{CPUJ: cpuJ}
	s.attributeDump()
	s.mu.Unlock()
}

// Tick runs one tick of the current sampler now.
func Tick() {
	s := samplerCur
	s.mu.Lock()
	proc, _ := s.meter.CPUTime()
	s.tickLocked(time.Now(), proc)
	s.mu.Unlock()
}
