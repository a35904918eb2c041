package trace

import (
	"context"
	"io"

	"github.com/tracegen-dev/tracegen/runtime/energy"
	"github.com/tracegen-dev/tracegen/runtime/impact"
	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Energy attribution lives in package runtime/energy. AddLLMImpact stays
// here because it acts on a span; the rest are the names this package gave
// the energy API before it moved, kept so that programs written against
// them still build.

// AddLLMImpact records the estimated impact of a remote LLM call on s:
// joules go to the span's "llm" energy and co2eG/waterL (computed for the
// provider's datacenter, PUE included) are kept as they are instead of
// being recomputed with the local grid. model labels the per-model
// breakdown of energy.Impact. Safe for concurrent use; a no-op on a nil or
// unsampled span.
func AddLLMImpact(s *Span, model string, joules, co2eG, waterL float64) {
	if s == nil || !s.node.Sampled {
		return
	}
	s.AddEnergy(record.EnergyLLM, joules)
	if h := spanhook.Registered(); h != nil && h.AddLLM != nil {
		h.AddLLM(&s.node, model, joules, co2eG, waterL)
	}
}

// TraceImpact is energy.TraceImpact.
//
// Deprecated: use energy.TraceImpact.
type TraceImpact = energy.TraceImpact

// ModelImpact is energy.ModelImpact.
//
// Deprecated: use energy.ModelImpact.
type ModelImpact = energy.ModelImpact

// NameImpact is energy.NameImpact.
//
// Deprecated: use energy.NameImpact.
type NameImpact = energy.NameImpact

// EnergyStats is energy.Stats.
//
// Deprecated: use energy.Stats.
type EnergyStats = energy.Stats

// Impact returns energy.Impact(ctx).
//
// Deprecated: use energy.Impact.
func Impact(ctx context.Context) TraceImpact { return energy.Impact(ctx) }

// ImpactReport returns energy.Report().
//
// Deprecated: use energy.Report.
func ImpactReport() []NameImpact { return energy.Report() }

// WriteImpactReport calls energy.WriteReport.
//
// Deprecated: use energy.WriteReport.
func WriteImpactReport(w io.Writer) error { return energy.WriteReport(w) }

// ReadEnergyStats returns energy.ReadStats().
//
// Deprecated: use energy.ReadStats.
func ReadEnergyStats() EnergyStats { return energy.ReadStats() }

// SampleEnergy returns energy.Sample().
//
// Deprecated: use energy.Sample.
func SampleEnergy() bool { return energy.Sample() }

// Factors returns energy.Factors().
//
// Deprecated: use energy.Factors.
func Factors() impact.Factors { return energy.Factors() }
