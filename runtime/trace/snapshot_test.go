package trace

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// collect reads what an Iterable got until Stop ends it.
func collect(it *export.Iterable) []*record.Record {
	Stop()
	var out []*record.Record
	for r := range it.All() {
		out = append(out, r)
	}
	return out
}

// TestSnapshot: a snapshot is a copy of the running span as it was when
// taken (marked, no end time), which later changes do not reach; the span
// is exported again, finished, at End; snapshots of nil, ended and
// unsampled spans, and with no exporter taking them, are nothing.
func TestSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func()
		want []string // name/snapshot/attrs of the records, in order
	}{
		{"running span", func() {
			ctx, root := Start(context.Background(), "root", WithInherited("conv", "c1"))
			_, s := Start(ctx, "long", WithAttr("step", 0))
			s.RecordInput("q", "hi")
			s.Snapshot()
			s.SetAttr("step", 1)
			s.AddEvent("tick")
			s.RecordInput("q2", "more")
			s.Snapshot()
			s.End()
			root.End()
		}, []string{"long snapshot step=0 in=1 ev=0", "long snapshot step=1 in=2 ev=1", "long ended step=1 in=2 ev=1", "root ended  in=0 ev=0"}},
		{"ended span", func() {
			_, s := Start(context.Background(), "done")
			s.End()
			s.Snapshot()
		}, []string{"done ended  in=0 ev=0"}},
		{"nil span", func() { (*Span)(nil).Snapshot() }, nil},
		{"beneath an unsampled span", func() {
			_, s := Start(context.Background(), "below")
			unsampledBelow.Snapshot()
			s.End()
		}, []string{"below ended  in=0 ev=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := export.NewIterable(0)
			setup(t, Config{}, it)
			before := ReadStats().Snapshots
			tc.run()
			var got []string
			for _, r := range collect(it) {
				state := "ended"
				if r.Snapshot {
					state = "snapshot"
					if !r.End.IsZero() || r.Duration() != 0 {
						t.Errorf("snapshot of %s has end %v, duration %v", r.Name, r.End, r.Duration())
					}
				}
				step := ""
				if v, ok := r.Lookup("step"); ok {
					step = "step=" + v.String()
				}
				got = append(got, strings.Join([]string{r.Name, state, step, "in=" + itoa(len(r.Input)), "ev=" + itoa(len(r.Events))}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			snaps := 0
			for _, w := range tc.want {
				if strings.Contains(w, "snapshot") {
					snaps++
				}
			}
			if n := ReadStats().Snapshots - before; n != uint64(snaps) {
				t.Errorf("Stats.Snapshots grew by %d, want %d", n, snaps)
			}
		})
	}
}

func itoa(n int) string { return record.Int64Value(int64(n)).String() }

// TestSnapshotInherited: a snapshot carries the inherited attributes and
// the span's identity, like the finished record.
func TestSnapshotInherited(t *testing.T) {
	it := export.NewIterable(0)
	setup(t, Config{}, it)
	ctx, root := Start(context.Background(), "root", WithInherited("conv", "c1"))
	_, s := Start(ctx, "child", TypeLLM, KindClient)
	s.Snapshot()
	s.End()
	root.End()
	recs := collect(it)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	snap, done := recs[0], recs[1]
	if !snap.Snapshot || snap.SpanID != done.SpanID || snap.TraceID != done.TraceID || snap.ParentSpanID != done.ParentSpanID ||
		snap.Type != record.TypeLLM || snap.Kind != record.KindClient || !snap.Start.Equal(done.Start) {
		t.Errorf("snapshot %+v, finished %+v", snap, done)
	}
	if v, ok := snap.Lookup("conv"); !ok || v.String() != "c1" {
		t.Errorf("snapshot's inherited conv = %v, %v", v, ok)
	}
}

// TestSnapshotNoTaker: with only exporters that take no snapshot, Snapshot
// exports nothing and counts nothing.
func TestSnapshotNoTaker(t *testing.T) {
	mem := setup(t, Config{})
	before := ReadStats().Snapshots
	_, s := Start(context.Background(), "s")
	s.Snapshot()
	s.End()
	Stop()
	if n := len(mem.Spans()); n != 1 || ReadStats().Snapshots != before {
		t.Errorf("%d spans, %d snapshots", n, ReadStats().Snapshots-before)
	}
}

type failingSnapshots struct{ export.None }

func (failingSnapshots) ExportSnapshot(context.Context, *record.Record) error {
	return errors.New("no room")
}

type panickingSnapshots struct{ export.None }

func (panickingSnapshots) ExportSnapshot(context.Context, *record.Record) error { panic("snap") }

// TestSnapshotFailures: an exporter's snapshot error or panic is counted,
// logged once, and does not stop the others.
func TestSnapshotFailures(t *testing.T) {
	it := export.NewIterable(0)
	log := &syncBuffer{}
	setup(t, Config{ErrorLog: log}, failingSnapshots{}, panickingSnapshots{}, it)
	before := ReadStats()
	_, s := Start(context.Background(), "s")
	s.Snapshot()
	s.Snapshot()
	s.End()
	recs := collect(it)
	after := ReadStats()
	if len(recs) != 3 || !recs[0].Snapshot || !recs[1].Snapshot {
		t.Errorf("the iterable got %d records", len(recs))
	}
	if e, p := after.ExportErrors-before.ExportErrors, after.ExportPanics-before.ExportPanics; e != 2 || p != 2 {
		t.Errorf("%d errors, %d panics, want 2 and 2", e, p)
	}
	if n := strings.Count(log.String(), "snapshot failed"); n != 2 {
		t.Errorf("log has %d snapshot lines, want one per exporter:\n%s", n, log.String())
	}
}
