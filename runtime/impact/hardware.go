package impact

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// DefaultWattsPerThread is the CPU power assumed per logical CPU when the CPU
// model is not in the TDP table (CodeCarbon's fallback, 4 W per thread).
const DefaultWattsPerThread = 4.0

// tdpRow is one CPU of the TDP table, with its name pre-tokenised.
type tdpRow struct {
	name   string
	tokens []string
	tdpW   float64
}

// cpuTDPTable is the CPU table, parsed on first LookupTDP only (it is the
// largest table and only the CPU model sensor needs it).
var cpuTDPTable = sync.OnceValues(parseTDP)

func parseTDP() ([]tdpRow, error) {
	const name = "codecarbon_cpu_power.csv"
	recs, err := readCSV(name)
	if err != nil {
		return nil, err
	}
	rows := make([]tdpRow, 0, len(recs))
	for i, r := range recs[1:] {
		if len(r) < 2 {
			return nil, fmt.Errorf("impact: %s:%d: want 2 columns, got %d", name, i+2, len(r))
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(r[1]), 64)
		if err != nil || w <= 0 {
			// The upstream table has a few malformed cells (e.g. "27.29.5");
			// such a CPU is treated as not in the table.
			continue
		}
		rows = append(rows, tdpRow{name: r[0], tokens: cpuTokens(r[0]), tdpW: w})
	}
	return rows, nil
}

// cpuNoise are words of CPU model strings that carry no identity.
var cpuNoise = map[string]bool{
	"cpu": true, "processor": true, "with": true, "radeon": true, "graphics": true,
	"vega": true, "mobile": true,
}

// cpuTokens lower-cases a CPU model string, drops trademark marks, the clock
// suffix ("@ 2.90GHz") and filler words, and splits it into words.
func cpuTokens(s string) []string {
	s = strings.ToLower(s)
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i]
	}
	for _, m := range []string{"(r)", "(tm)", "®", "™", ","} {
		s = strings.ReplaceAll(s, m, " ")
	}
	var out []string
	for _, f := range strings.Fields(s) {
		if cpuNoise[f] || strings.HasSuffix(f, "-core") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// TDP is the result of looking a CPU model up in the TDP table.
type TDP struct {
	// Watts is the thermal design power of one socket.
	Watts float64
	// Matched is the table row that matched, "" when none did.
	Matched string
}

// LookupTDP finds the thermal design power of a CPU model string as the
// kernel or gopsutil report it (e.g. "Intel(R) Xeon(R) Platinum 8375C CPU @
// 2.90GHz"). Matching is fuzzy, after CodeCarbon: both names are normalised
// (case, trademarks, clock, filler words) and the row whose words are all in
// the model string wins, the row with most words first; a row must contain a
// model number (a word with a digit). ok is false when no row matches; the
// caller then uses DefaultWattsPerThread per logical CPU.
func LookupTDP(model string) (TDP, bool) {
	rows, err := cpuTDPTable()
	if err != nil {
		return TDP{}, false
	}
	have := make(map[string]bool)
	for _, w := range cpuTokens(model) {
		have[w] = true
	}
	best, bestN := -1, 0
	for i, r := range rows {
		if len(r.tokens) <= bestN || !hasDigitWord(r.tokens) {
			continue
		}
		all := true
		for _, w := range r.tokens {
			if !have[w] {
				all = false
				break
			}
		}
		if all {
			best, bestN = i, len(r.tokens)
		}
	}
	if best < 0 {
		return TDP{}, false
	}
	return TDP{Watts: rows[best].tdpW, Matched: rows[best].name}, true
}

func hasDigitWord(ws []string) bool {
	for _, w := range ws {
		if strings.ContainsAny(w, "0123456789") {
			return true
		}
	}
	return false
}

// CloudCPU is the power of one vCPU of a CPU architecture in a cloud, from
// Cloud Carbon Footprint's coefficients (SPECpower based).
type CloudCPU struct {
	// Architecture is the micro-architecture ("Cascade Lake", "EPYC 3rd Gen",
	// "Graviton2", ...), or "average" for the mean of the provider's rows.
	Architecture string
	// MinWatts and MaxWatts are the power per vCPU at idle and at 100% load.
	MinWatts, MaxWatts float64
}

func parseCloudCPU() (map[string][]CloudCPU, error) {
	m := make(map[string][]CloudCPU, 3)
	for _, p := range []string{"aws", "azure", "gcp"} {
		name := "ccf_coefficients_" + p + "_use.csv"
		recs, err := readCSV(name)
		if err != nil {
			return nil, err
		}
		for i, r := range recs[1:] {
			if len(r) < 4 {
				return nil, fmt.Errorf("impact: %s:%d: want 5 columns, got %d", name, i+2, len(r))
			}
			lo, err := parseFloat(name, i+1, "Min Watts", r[2])
			if err != nil {
				return nil, err
			}
			hi, err := parseFloat(name, i+1, "Max Watts", r[3])
			if err != nil {
				return nil, err
			}
			m[p] = append(m[p], CloudCPU{Architecture: r[1], MinWatts: lo, MaxWatts: hi})
		}
	}
	return m, nil
}

// CloudCPUPower returns the per-vCPU power of arch on provider ("aws",
// "gcp", "azure"). When arch is "" or unknown it returns the mean over the
// provider's architectures (CCF's own fallback), with Architecture "average".
// ok is false for an unknown provider.
func CloudCPUPower(provider, arch string) (CloudCPU, bool) {
	t, err := loadTables()
	if err != nil {
		return CloudCPU{}, false
	}
	rows := t.cloudCPU[NormProvider(provider)]
	if len(rows) == 0 {
		return CloudCPU{}, false
	}
	a := normRegion(arch)
	var sum CloudCPU
	for _, r := range rows {
		if a != "" && normRegion(r.Architecture) == a {
			return r, true
		}
		sum.MinWatts += r.MinWatts
		sum.MaxWatts += r.MaxWatts
	}
	n := float64(len(rows))
	return CloudCPU{Architecture: "average", MinWatts: sum.MinWatts / n, MaxWatts: sum.MaxWatts / n}, true
}

// CloudArchitecture guesses the CCF micro-architecture of a CPU model string,
// for the families whose model numbers say it (AMD EPYC, AWS Graviton, Intel
// Xeon Scalable). It returns "" when it cannot tell.
func CloudArchitecture(model string) string {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "graviton4"):
		return "Graviton4"
	case strings.Contains(m, "graviton3"):
		return "Graviton3"
	case strings.Contains(m, "graviton2"), strings.Contains(m, "neoverse-n1"):
		return "Graviton2"
	case strings.Contains(m, "epyc"):
		for _, w := range cpuTokens(m) {
			if len(w) == 4 && (w[0] == '7' || w[0] == '9') {
				switch w[3] {
				case '1':
					return "EPYC 1st Gen"
				case '2':
					return "EPYC 2nd Gen"
				case '3':
					return "EPYC 3rd Gen"
				case '4':
					return "EPYC 4th Gen"
				case '5':
					return "EPYC 5th Gen"
				}
			}
		}
	case strings.Contains(m, "xeon"):
		for _, w := range cpuTokens(m) {
			if len(w) >= 4 && len(w) <= 6 {
				if w[0] >= '5' && w[0] <= '9' && isDigit(w[1]) && isDigit(w[2]) && isDigit(w[3]) {
					switch w[1] {
					case '1':
						return "Skylake"
					case '2':
						return "Cascade Lake"
					case '3':
						return "Ice Lake"
					case '4':
						return "Sapphire Rapids"
					case '5':
						return "Emerald Rapids"
					}
				}
			}
		}
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
