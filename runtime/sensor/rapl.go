package sensor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultRAPLRoot is where the powercap framework exposes RAPL.
const DefaultRAPLRoot = "/sys/class/powercap"

// RAPLFix is the advice printed when RAPL counters are not readable.
const RAPLFix = "since Linux 5.10 energy_uj is readable by root only; to let tracegen read it run " +
	"`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj` " +
	"(lost at reboot), or add the udev rule " +
	"`SUBSYSTEM==\"powercap\", ACTION==\"add\", RUN+=\"/bin/chmod a+r /sys%p/energy_uj\"`"

// ErrRAPLPermission is returned (wrapped) when a RAPL counter exists but
// cannot be read; see RAPLFix.
var ErrRAPLPermission = errors.New("rapl: permission denied")

// ErrNoRAPL is wrapped by OpenRAPL's error when there is no RAPL counter
// (no powercap tree, or none with a package, dram or psys domain), besides
// fs.ErrNotExist; a Meter's "rapl" Probe carries it in Err.
var ErrNoRAPL = errors.New("no RAPL")

// RAPLDomain is one powercap zone used for measurement.
type RAPLDomain struct {
	// Dir is the zone's directory, e.g. /sys/class/powercap/intel-rapl:0.
	Dir string
	// Name is the zone's name: "package-0", "dram", "psys".
	Name string
	// MaxRangeUJ is max_energy_range_uj, where the counter wraps.
	MaxRangeUJ uint64
}

// RAPL reads energy counters from a powercap tree. It is not safe for
// concurrent use: one sampler owns it.
type RAPL struct {
	Domains []RAPLDomain
	last    []uint64
	primed  bool
	// readFile is os.ReadFile; tests replace it.
	readFile func(string) ([]byte, error)
}

// OpenRAPL finds the RAPL domains under root (DefaultRAPLRoot when "") and
// reads each once. It returns an error wrapping fs.ErrNotExist when there is
// no RAPL, and one wrapping ErrRAPLPermission when counters are not readable.
func OpenRAPL(root string) (*RAPL, error) {
	return openRAPL(root, os.ReadFile, os.ReadDir)
}

func openRAPL(root string, readFile func(string) ([]byte, error), readDir func(string) ([]os.DirEntry, error)) (*RAPL, error) {
	if root == "" {
		root = DefaultRAPLRoot
	}
	ents, err := readDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rapl: %w (%w)", err, ErrNoRAPL)
		}
		return nil, fmt.Errorf("rapl: %w", err)
	}
	type cand struct {
		d     RAPLDomain
		depth int // 1 = top-level zone (intel-rapl:0), 2 = sub-zone (intel-rapl:0:1)
		mmio  bool
	}
	var cands []cand
	for _, e := range ents {
		base := e.Name()
		prefix, idx, ok := strings.Cut(base, ":")
		if !ok || !strings.Contains(prefix, "rapl") {
			continue // control-type directory ("intel-rapl") or another powercap driver
		}
		dir := filepath.Join(root, base)
		nameB, err := readFile(filepath.Join(dir, "name"))
		if err != nil {
			continue
		}
		d := RAPLDomain{Dir: dir, Name: strings.TrimSpace(string(nameB))}
		if b, err := readFile(filepath.Join(dir, "max_energy_range_uj")); err == nil {
			d.MaxRangeUJ, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		}
		cands = append(cands, cand{d: d, depth: 1 + strings.Count(idx, ":"), mmio: strings.Contains(prefix, "mmio")})
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].d.Dir < cands[j].d.Dir })

	// Choose: packages (top level), dram anywhere (it is not part of a
	// package), psys only without packages; core/uncore never. A domain name
	// seen twice (MSR and MMIO interfaces of the same package) counts once,
	// the MSR one kept.
	var pkgs, drams, psys []RAPLDomain
	seen := map[string]bool{}
	for _, pass := range []bool{false, true} { // MSR first, then MMIO
		for _, c := range cands {
			if c.mmio != pass || seen[c.d.Name] {
				continue
			}
			switch {
			case strings.HasPrefix(c.d.Name, "package") && c.depth == 1:
				pkgs = append(pkgs, c.d)
			case c.d.Name == "dram":
				drams = append(drams, c.d)
			case c.d.Name == "psys" && c.depth == 1:
				psys = append(psys, c.d)
			default:
				continue
			}
			// dram sub-zones repeat the name "dram" per package: key by dir.
			if c.d.Name == "dram" {
				seen[c.d.Dir] = true
			} else {
				seen[c.d.Name] = true
			}
		}
	}
	doms := append(pkgs, drams...)
	if len(pkgs) == 0 {
		doms = append(psys, drams...)
		if len(psys) > 0 {
			doms = psys // psys covers the whole SoC, dram included
		}
	}
	if len(doms) == 0 {
		return nil, fmt.Errorf("rapl: no package, dram or psys domain under %s: %w (%w)", root, fs.ErrNotExist, ErrNoRAPL)
	}
	r := &RAPL{Domains: doms, last: make([]uint64, len(doms)), readFile: readFile}
	if _, err := r.Read(); err != nil {
		return nil, err
	}
	return r, nil
}

// Read returns the energy in joules consumed by all domains since the
// previous Read (0 on the first). A counter that went backwards wrapped at
// max_energy_range_uj.
func (r *RAPL) Read() (float64, error) {
	var total uint64
	for i, d := range r.Domains {
		b, err := r.readFile(filepath.Join(d.Dir, "energy_uj"))
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return 0, fmt.Errorf("%w: %s: %v", ErrRAPLPermission, d.Dir, err)
			}
			return 0, fmt.Errorf("rapl: %s: %w", d.Name, err)
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("rapl: %s/energy_uj: %w", d.Dir, err)
		}
		if r.primed {
			total += wrapDelta(r.last[i], v, d.MaxRangeUJ)
		}
		r.last[i] = v
	}
	r.primed = true
	return float64(total) / 1e6, nil
}

// wrapDelta is cur - prev for a counter that wraps to 0 after max.
func wrapDelta(prev, cur, max uint64) uint64 {
	if cur >= prev {
		return cur - prev
	}
	if max == 0 || prev > max {
		return 0 // no range known: drop the interval rather than invent energy
	}
	return cur + max - prev
}

// DomainNames lists the domains used, for reports.
func (r *RAPL) DomainNames() []string {
	out := make([]string, len(r.Domains))
	for i, d := range r.Domains {
		out[i] = d.Name
	}
	return out
}
