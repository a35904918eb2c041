//go:build unix

package bench

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the process CPU time (all goroutines: the caller, the
// batchers, the garbage collector) over a benchmark loop. On a shared,
// noisy machine it is a steadier basis for comparing the two sides than
// wall time.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}
