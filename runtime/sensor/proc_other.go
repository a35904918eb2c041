//go:build !unix

package sensor

import (
	"fmt"
	"os"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// processCPU returns the user+system CPU time of this process, via gopsutil.
func processCPU() (time.Duration, error) {
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		return 0, fmt.Errorf("process cpu time: %w", err)
	}
	t, err := p.Times()
	if err != nil {
		return 0, fmt.Errorf("process cpu time: %w", err)
	}
	return time.Duration((t.User + t.System) * float64(time.Second)), nil
}
