package trace

import "sync/atomic"

// Stats are process-wide counters of the span pipeline.
type Stats struct {
	Exported     uint64 // spans handed to the exporters
	Dropped      uint64 // spans dropped: queue full (non-blocking mode) or ended after Shutdown
	ExportErrors uint64 // errors returned by exporters (Export and Shutdown)
	ExportPanics uint64 // panics recovered from exporters
	Limited      uint64 // attributes and events dropped by MaxAttributes/MaxEvents
	Snapshots    uint64 // snapshots handed to the exporters (Span.Snapshot)
}

var stats struct {
	exported, dropped, errors, panics, limited atomic.Uint64
	snapshots                                  atomic.Uint64
}

// ReadStats returns the counters accumulated since the program started.
func ReadStats() Stats {
	return Stats{
		Exported:     stats.exported.Load(),
		Dropped:      stats.dropped.Load(),
		ExportErrors: stats.errors.Load(),
		ExportPanics: stats.panics.Load(),
		Limited:      stats.limited.Load(),
		Snapshots:    stats.snapshots.Load(),
	}
}
