package sensor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultCgroupRoot is where cgroup file systems are mounted.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// Cgroup reads the CPU accounting of the control group this process runs in,
// cgroup v2 (unified) or v1 (cpu, cpuacct controllers).
type Cgroup struct {
	// Version is 1 or 2.
	Version int
	// Dir is the group's directory (v2) or cpuacct directory (v1).
	Dir string
	// CPUDir is the v1 cpu controller directory (quota files); Dir for v2.
	CPUDir string
}

// OpenCgroup finds the cgroup of this process from selfCgroup (the content of
// /proc/self/cgroup) under root (DefaultCgroupRoot when ""). When the group's
// own directory is not visible (cgroup namespaces), root's matching directory
// is used, which in a container is the container's group.
func OpenCgroup(root string, selfCgroup []byte) (*Cgroup, error) {
	if root == "" {
		root = DefaultCgroupRoot
	}
	var v1cpu, v1acct, v2 string
	haveV2 := false
	for _, line := range strings.Split(strings.TrimSpace(string(selfCgroup)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2, haveV2 = parts[2], true
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			switch c {
			case "cpu":
				v1cpu = parts[2]
			case "cpuacct":
				v1acct = parts[2]
			}
		}
	}
	pick := func(base, path, file string) string {
		for _, d := range []string{filepath.Join(base, path), base} {
			if _, err := os.Stat(filepath.Join(d, file)); err == nil {
				return d
			}
		}
		return ""
	}
	// v1 first: on hybrid hosts the v2 hierarchy exists but holds no cpu
	// controller; a pure v2 host has no cpuacct directory.
	if v1acct != "" || v1cpu != "" {
		for _, mount := range []string{"cpuacct", "cpu,cpuacct", "cpuacct,cpu"} {
			if d := pick(filepath.Join(root, mount), v1acct, "cpuacct.usage"); d != "" {
				cg := &Cgroup{Version: 1, Dir: d}
				for _, cm := range []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"} {
					if cd := pick(filepath.Join(root, cm), v1cpu, "cpu.cfs_quota_us"); cd != "" {
						cg.CPUDir = cd
						break
					}
				}
				return cg, nil
			}
		}
	}
	if haveV2 {
		if d := pick(root, v2, "cpu.stat"); d != "" {
			return &Cgroup{Version: 2, Dir: d, CPUDir: d}, nil
		}
	}
	return nil, errors.New("cgroup: no cpu accounting found (neither v2 cpu.stat nor v1 cpuacct.usage)")
}

// OpenSelfCgroup is OpenCgroup for this process.
func OpenSelfCgroup(root string) (*Cgroup, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return OpenCgroup(root, b)
}

// CPUUsage returns the CPU time consumed by the group since it was created.
func (c *Cgroup) CPUUsage() (time.Duration, error) {
	if c.Version == 1 {
		b, err := os.ReadFile(filepath.Join(c.Dir, "cpuacct.usage"))
		if err != nil {
			return 0, fmt.Errorf("cgroup v1: %w", err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cgroup v1: %s/cpuacct.usage: %w", c.Dir, err)
		}
		return time.Duration(ns), nil
	}
	b, err := os.ReadFile(filepath.Join(c.Dir, "cpu.stat"))
	if err != nil {
		return 0, fmt.Errorf("cgroup v2: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cgroup v2: %s/cpu.stat: %w", c.Dir, err)
			}
			return time.Duration(us) * time.Microsecond, nil
		}
	}
	return 0, fmt.Errorf("cgroup v2: %s/cpu.stat: no usage_usec line", c.Dir)
}

// CPULimit returns the group's CPU quota in CPUs (e.g. 1.5), and false when
// the group is unlimited or the quota cannot be read.
func (c *Cgroup) CPULimit() (float64, bool) {
	if c.CPUDir == "" {
		return 0, false
	}
	if c.Version == 1 {
		q, err1 := readInt(filepath.Join(c.CPUDir, "cpu.cfs_quota_us"))
		p, err2 := readInt(filepath.Join(c.CPUDir, "cpu.cfs_period_us"))
		if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
			return 0, false
		}
		return float64(q) / float64(p), true
	}
	b, err := os.ReadFile(filepath.Join(c.CPUDir, "cpu.max"))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	q, err1 := strconv.ParseFloat(f[0], 64)
	p, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return q / p, true
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
