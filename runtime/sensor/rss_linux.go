//go:build linux

package sensor

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// selfRSS returns the resident set size of this process from
// /proc/self/statm (resident pages × page size): the number gopsutil
// reports, without linking its process package.
func selfRSS() func() (uint64, error) {
	page := uint64(os.Getpagesize())
	return func() (uint64, error) {
		b, err := os.ReadFile("/proc/self/statm")
		if err != nil {
			return 0, fmt.Errorf("rss: %w", err)
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0, fmt.Errorf("rss: /proc/self/statm: %q", b)
		}
		pages, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("rss: /proc/self/statm: %w", err)
		}
		return pages * page, nil
	}
}
