package trace

import (
	"context"
	"slices"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Snapshot hands a copy of the running span, as it is now, to every
// configured exporter that accepts snapshots (export.SnapshotExporter:
// the stdout tree, json, jsonl, export.Iterable, and a Tee holding one):
// a record with Snapshot set, no end time, the attributes, events and
// content recorded so far and the energy measured so far. It lets a
// streaming UI show a long-running span (an agent loop, a streamed LLM
// answer) before it ends; the span goes on and is exported as usual at
// End. Snapshot does nothing for a nil, unsampled or ended span, or when
// no exporter takes snapshots; it never changes the span.
//
// The exporters run on the calling goroutine, which is why they must
// return promptly (see export.SnapshotExporter); their errors and panics
// are counted in Stats like those of Export. Snapshot costs nothing to
// spans that never call it.
func (s *Span) Snapshot() {
	if s == nil || !s.node.Sampled {
		return
	}
	p := s.p
	if !p.takesSnapshots() {
		return
	}
	rec, ok := s.snapshotRecord()
	if !ok {
		return
	}
	ctx := context.Background()
	for _, ne := range p.exporters {
		se, ok := ne.exp.(export.SnapshotExporter)
		if !ok || !export.AcceptsSnapshots(ne.exp) {
			continue
		}
		if err := export.Safely(ne.exp, func() error { return se.ExportSnapshot(ctx, rec) }); err != nil {
			p.countFailure(ne.name, "snapshot", err)
		}
	}
	stats.snapshots.Add(1)
}

// takesSnapshots reports whether one of p's exporters accepts snapshots
// and p is still running.
func (p *pipeline) takesSnapshots() bool {
	for _, ne := range p.exporters {
		if export.AcceptsSnapshots(ne.exp) {
			return !p.isStopped()
		}
	}
	return false
}

// snapshotRecord copies the record of s, when it is still running, into a
// record of its own: what the span changes later (attributes set again,
// events, content appended) does not reach the copy.
func (s *Span) snapshotRecord() (*record.Record, bool) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil, false
	}
	r := *s.rec
	r.Attrs = slices.Clone(r.Attrs)
	r.Inherited = slices.Clip(r.Inherited) // shared with the family, never changed in place
	r.Tags = slices.Clone(r.Tags)
	r.Events = slices.Clone(r.Events) // an event's attributes never change once added
	r.Input = slices.Clone(r.Input)
	r.Output = slices.Clone(r.Output)
	s.mu.Unlock()
	r.Snapshot, r.End = true, time.Time{}
	total := 0.0
	for i := range record.NumEnergySources {
		j := s.Energy(record.EnergySource(i))
		r.Impact.Joules[i] = j
		total += j
	}
	if total != 0 {
		r.Impact.EnergyKWh = total / 3.6e6
	}
	return &r, true
}
