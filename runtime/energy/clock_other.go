//go:build !linux

package energy

import "time"

// threadClock is unknown off Linux: the sampler counts the wall time of its
// ticks instead.
func threadClock() (time.Duration, bool) { return 0, false }

const threadClocks = false

func threadClockOf(uint64) (time.Duration, bool) { return 0, false }

func gettid() uint64 { return 0 }
