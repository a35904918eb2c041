package sensor

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, v := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCgroup(t *testing.T) {
	tests := []struct {
		name      string
		self      string
		files     map[string]string
		version   int
		usage     time.Duration
		limit     float64
		limitOK   bool
		wantError bool
	}{
		{
			name: "v2 with quota",
			self: "0::/kubepods/pod1/ctr\n",
			files: map[string]string{
				"kubepods/pod1/ctr/cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n",
				"kubepods/pod1/ctr/cpu.max":  "150000 100000\n",
			},
			version: 2, usage: 2500 * time.Millisecond, limit: 1.5, limitOK: true,
		},
		{
			name:    "v2 namespaced (path not visible, root is the container)",
			self:    "0::/\n",
			files:   map[string]string{"cpu.stat": "usage_usec 10\n", "cpu.max": "max 100000\n"},
			version: 2, usage: 10 * time.Microsecond,
		},
		{
			name: "v1 split controllers",
			self: "12:cpu:/docker/abc\n11:cpuacct:/docker/abc\n0::/\n",
			files: map[string]string{
				"cpuacct/docker/abc/cpuacct.usage": "3000000000\n",
				"cpu/docker/abc/cpu.cfs_quota_us":  "200000\n",
				"cpu/docker/abc/cpu.cfs_period_us": "100000\n",
			},
			version: 1, usage: 3 * time.Second, limit: 2, limitOK: true,
		},
		{
			name: "v1 joint mount, unlimited",
			self: "4:cpu,cpuacct:/\n",
			files: map[string]string{
				"cpu,cpuacct/cpuacct.usage":     "42\n",
				"cpu,cpuacct/cpu.cfs_quota_us":  "-1\n",
				"cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			version: 1, usage: 42,
		},
		{name: "nothing", self: "0::/\n", files: map[string]string{"other": ""}, wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			cg, err := OpenCgroup(root, []byte(tt.self))
			if tt.wantError {
				if err == nil {
					t.Fatalf("OpenCgroup = %+v, want error", cg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cg.Version != tt.version {
				t.Errorf("version = %d, want %d", cg.Version, tt.version)
			}
			u, err := cg.CPUUsage()
			if err != nil || u != tt.usage {
				t.Errorf("CPUUsage = %v, %v; want %v", u, err, tt.usage)
			}
			l, ok := cg.CPULimit()
			if ok != tt.limitOK || l != tt.limit {
				t.Errorf("CPULimit = %v, %v; want %v, %v", l, ok, tt.limit, tt.limitOK)
			}
		})
	}
}

func TestCgroupBadFiles(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"cpu.stat": "nr_periods 0\n"})
	cg, err := OpenCgroup(root, []byte("0::/\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cg.CPUUsage(); err == nil {
		t.Error("cpu.stat without usage_usec accepted")
	}
}
