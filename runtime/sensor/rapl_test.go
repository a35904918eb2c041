package sensor

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeZone writes one powercap zone in the kernel's format: a directory
// named like intel-rapl:0:1 with name, energy_uj and max_energy_range_uj.
func writeZone(t *testing.T, root, dir, name string, energy, max uint64) {
	t.Helper()
	d := filepath.Join(root, dir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{"name": name + "\n", "energy_uj": itoa(energy) + "\n", "max_energy_range_uj": itoa(max) + "\n", "enabled": "1\n"} {
		if err := os.WriteFile(filepath.Join(d, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(v uint64) string { return uitoa(v) }

func uitoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}

func setEnergy(t *testing.T, root, dir string, v uint64) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, dir, "energy_uj"), []byte(uitoa(v)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

const maxRange = 262143328850

func TestRAPLDomains(t *testing.T) {
	tests := []struct {
		name  string
		zones [][2]string // dir, name
		want  []string
	}{
		{"server: packages + dram subzones, no core/uncore",
			[][2]string{{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"}, {"intel-rapl:0:1", "dram"}, {"intel-rapl:1", "package-1"}, {"intel-rapl:1:0", "core"}, {"intel-rapl:1:1", "dram"}},
			[]string{"package-0", "package-1", "dram", "dram"}},
		{"laptop: package wins over psys",
			[][2]string{{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "core"}, {"intel-rapl:0:1", "uncore"}, {"intel-rapl:1", "psys"}},
			[]string{"package-0"}},
		{"psys only when no package",
			[][2]string{{"intel-rapl:1", "psys"}, {"intel-rapl:1:0", "core"}},
			[]string{"psys"}},
		{"mmio duplicate of package counted once",
			[][2]string{{"intel-rapl:0", "package-0"}, {"intel-rapl-mmio:0", "package-0"}},
			[]string{"package-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "intel-rapl"), 0o755) // control type dir, no zone files
			for _, z := range tt.zones {
				writeZone(t, root, z[0], z[1], 1000, maxRange)
			}
			r, err := OpenRAPL(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.DomainNames(), ","); got != strings.Join(tt.want, ",") {
				t.Errorf("domains = %s, want %s", got, strings.Join(tt.want, ","))
			}
		})
	}
}

func TestRAPLReadAndWrap(t *testing.T) {
	root := t.TempDir()
	writeZone(t, root, "intel-rapl:0", "package-0", 1_000_000, maxRange)
	writeZone(t, root, "intel-rapl:0:0", "core", 500_000, maxRange)
	writeZone(t, root, "intel-rapl:0:1", "dram", 0, 65_712_999_613)
	r, err := OpenRAPL(root)
	if err != nil {
		t.Fatal(err)
	}
	setEnergy(t, root, "intel-rapl:0", 3_500_000)   // +2.5 J
	setEnergy(t, root, "intel-rapl:0:0", 9_000_000) // core: ignored
	setEnergy(t, root, "intel-rapl:0:1", 500_000)   // +0.5 J
	j, err := r.Read()
	if err != nil || math.Abs(j-3.0) > 1e-9 {
		t.Fatalf("Read = %v, %v; want 3 J", j, err)
	}
	// Wraparound: package goes from 3.5 J to 1 J past max_energy_range_uj.
	setEnergy(t, root, "intel-rapl:0", 1_000_000)
	j, err = r.Read()
	want := float64(1_000_000+maxRange-3_500_000) / 1e6
	if err != nil || math.Abs(j-want) > 1e-6 {
		t.Fatalf("after wrap Read = %v, %v; want %v", j, err, want)
	}
}

func TestRAPLErrors(t *testing.T) {
	t.Run("no powercap", func(t *testing.T) {
		_, err := OpenRAPL(filepath.Join(t.TempDir(), "missing"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("only core zones", func(t *testing.T) {
		root := t.TempDir()
		writeZone(t, root, "intel-rapl:0:0", "core", 1, maxRange)
		if _, err := OpenRAPL(root); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("missing energy_uj", func(t *testing.T) {
		root := t.TempDir()
		writeZone(t, root, "intel-rapl:0", "package-0", 1, maxRange)
		os.Remove(filepath.Join(root, "intel-rapl:0", "energy_uj"))
		_, err := OpenRAPL(root)
		if err == nil || !strings.Contains(err.Error(), "package-0") {
			t.Errorf("err = %v, want one naming package-0", err)
		}
	})
	t.Run("garbage energy_uj", func(t *testing.T) {
		root := t.TempDir()
		writeZone(t, root, "intel-rapl:0", "package-0", 1, maxRange)
		os.WriteFile(filepath.Join(root, "intel-rapl:0", "energy_uj"), []byte("lots\n"), 0o644)
		if _, err := OpenRAPL(root); err == nil || !strings.Contains(err.Error(), "energy_uj") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		// Tests run as root, which bypasses file modes: inject the error the
		// kernel returns to unprivileged users (root-only energy_uj).
		root := t.TempDir()
		writeZone(t, root, "intel-rapl:0", "package-0", 1, maxRange)
		deny := func(p string) ([]byte, error) {
			if strings.HasSuffix(p, "energy_uj") {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
			}
			return os.ReadFile(p)
		}
		_, err := openRAPL(root, deny, os.ReadDir)
		if !errors.Is(err, ErrRAPLPermission) {
			t.Fatalf("err = %v, want ErrRAPLPermission", err)
		}
		if !strings.Contains(RAPLFix, "chmod") {
			t.Errorf("RAPLFix gives no fix: %q", RAPLFix)
		}
	})
}

func TestWrapDelta(t *testing.T) {
	tests := []struct{ prev, cur, max, want uint64 }{
		{10, 15, 100, 5},
		{90, 5, 100, 15},
		{90, 5, 0, 0},    // unknown range: drop
		{200, 5, 100, 0}, // inconsistent: drop
	}
	for _, tt := range tests {
		if got := wrapDelta(tt.prev, tt.cur, tt.max); got != tt.want {
			t.Errorf("wrapDelta(%d,%d,%d) = %d, want %d", tt.prev, tt.cur, tt.max, got, tt.want)
		}
	}
}
