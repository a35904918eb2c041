//go:build linux

package energy

import (
	"syscall"
	"time"
	"unsafe"
)

// threadClock returns the CPU time of the calling OS thread
// (CLOCK_THREAD_CPUTIME_ID), the cost of the sampler's own ticks: wall time
// would also count the time the OS ran something else in the middle of a
// tick. ok is false when the clock cannot be read.
func threadClock() (time.Duration, bool) {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// threadClocks: the CPU clock of any thread of this process can be read
// (clock_gettime on the clock id the kernel derives from the thread id).
const threadClocks = true

// threadClockOf returns the CPU time of thread tid of this process (Linux
// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)); ok is false when the thread
// is gone.
func threadClockOf(tid uint64) (time.Duration, bool) {
	if tid == 0 || tid > 1<<29 {
		return 0, false
	}
	id := int32(^uint32(tid)<<3 | 6) // CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

func gettid() uint64 { return uint64(syscall.Gettid()) }
