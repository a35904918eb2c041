//go:build unix

package store

import (
	"syscall"
	"time"
)

// processCPU is the process's CPU time (every goroutine): on a shared,
// noisy machine a steadier figure than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
