//go:build !linux

package sensor

import (
	"fmt"
	"os"

	"github.com/shirou/gopsutil/v4/process"
)

// selfRSS returns the resident set size of this process, via gopsutil.
func selfRSS() func() (uint64, error) {
	var p *process.Process
	return func() (uint64, error) {
		if p == nil {
			var err error
			if p, err = process.NewProcess(int32(os.Getpid())); err != nil {
				return 0, fmt.Errorf("rss: %w", err)
			}
		}
		mi, err := p.MemoryInfo()
		if err != nil {
			return 0, fmt.Errorf("rss: %w", err)
		}
		return mi.RSS, nil
	}
}
