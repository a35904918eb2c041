package export

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// SnapshotExporter is implemented by exporters that accept snapshots of
// running spans (trace.Span.Snapshot): copies with Record.Snapshot set and
// no end time, exported while the span goes on; the span itself is
// exported as usual when it ends.
//
// Contract: ExportSnapshot is called on the goroutine that took the
// snapshot, so it may run concurrently with Export, Idle, Shutdown and
// itself, and it should return promptly (write to a local stream or a
// buffer; no network round trip). It owns rec and may keep it. Errors and
// panics are counted like those of Export. After Shutdown it should
// return an error or do nothing.
type SnapshotExporter interface {
	ExportSnapshot(ctx context.Context, rec *record.Record) error
}

// AcceptsSnapshots reports whether e takes snapshots: it implements
// SnapshotExporter and, for a Tee, one of its exporters does.
func AcceptsSnapshots(e Exporter) bool {
	if t, ok := e.(*Tee); ok {
		for _, x := range t.exporters {
			if AcceptsSnapshots(x) {
				return true
			}
		}
		return false
	}
	_, ok := e.(SnapshotExporter)
	return ok
}

// ExportSnapshot forwards rec to the exporters of t that take snapshots.
func (t *Tee) ExportSnapshot(ctx context.Context, rec *record.Record) error {
	var errs []error
	for _, e := range t.exporters {
		if s, ok := e.(SnapshotExporter); ok {
			if err := Safely(e, func() error { return s.ExportSnapshot(ctx, rec) }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// DefaultIterableBuffer is the buffer of NewIterable(0).
const DefaultIterableBuffer = 1024

// Iterable hands finished spans and snapshots to a program as a Go
// iterator, for streaming UIs:
//
//	it := export.NewIterable(0)
//	trace.Configure(trace.Config{Exporters: []export.Exporter{it}})
//	go func() {
//		for r := range it.All() {
//			if r.Snapshot { /* still running */ }
//		}
//	}()
//
// Records go through a bounded buffer. Export and ExportSnapshot never
// wait for the consumer: when the buffer is full (the consumer is slower
// than spans end, or nobody iterates) the record is dropped and counted
// in Dropped, so a slow UI never holds up the traced program. Shutdown
// ends the iteration once the buffered records have been read. Each
// record goes to one iterating loop; several loops share the stream.
type Iterable struct {
	ch      chan *record.Record
	mu      sync.RWMutex // held for reading while sending; Shutdown closes ch under it
	closed  bool
	dropped atomic.Uint64
}

// NewIterable returns an Iterable buffering up to buffer records
// (DefaultIterableBuffer when buffer < 1).
func NewIterable(buffer int) *Iterable {
	if buffer < 1 {
		buffer = DefaultIterableBuffer
	}
	return &Iterable{ch: make(chan *record.Record, buffer)}
}

// All returns the iterator of records: finished spans and snapshots, in
// the order they were exported. It ends after Shutdown, once the buffer is
// empty, or when the loop breaks.
func (it *Iterable) All() iter.Seq[*record.Record] {
	return func(yield func(*record.Record) bool) {
		for r := range it.ch {
			if !yield(r) {
				return
			}
		}
	}
}

// Dropped returns how many records did not fit in the buffer, or came
// after Shutdown.
func (it *Iterable) Dropped() uint64 { return it.dropped.Load() }

// Export offers records to the iterator, dropping those that do not fit.
func (it *Iterable) Export(_ context.Context, records []*record.Record) error {
	it.mu.RLock()
	defer it.mu.RUnlock()
	for _, r := range records {
		it.offer(r)
	}
	return nil
}

// ExportSnapshot offers a snapshot to the iterator, dropping it when it
// does not fit.
func (it *Iterable) ExportSnapshot(_ context.Context, rec *record.Record) error {
	it.mu.RLock()
	defer it.mu.RUnlock()
	it.offer(rec)
	return nil
}

// offer sends r without waiting; it.mu is held for reading.
func (it *Iterable) offer(r *record.Record) {
	if it.closed {
		it.dropped.Add(1)
		return
	}
	select {
	case it.ch <- r:
	default:
		it.dropped.Add(1)
	}
}

// Shutdown ends the iteration after the buffered records.
func (it *Iterable) Shutdown(context.Context) error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if !it.closed {
		it.closed = true
		close(it.ch)
	}
	return nil
}

// ExportSnapshot writes the snapshot as one JSON line ("snapshot":true).
func (j *JSON) ExportSnapshot(_ context.Context, rec *record.Record) error {
	line := append(rec.AppendJSON(make([]byte, 0, 512)), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("json exporter: %w", err)
	}
	return nil
}

// ExportSnapshot appends the snapshot as one JSON line ("snapshot":true),
// in one write. A file the pipeline had closed while idle is closed again
// afterwards, so an idle program still holds no descriptor.
func (j *JSONL) ExportSnapshot(_ context.Context, rec *record.Record) error {
	line := append(rec.AppendJSON(make([]byte, 0, 512)), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil && j.openErr == nil {
		if err := j.open(); err != nil {
			return err
		}
		defer j.closeFile()
	}
	if j.openErr != nil {
		return j.openErr
	}
	return j.write(line)
}

// ExportSnapshot prints the snapshot at once, on a line of its own marked
// "(snapshot)" and "running" in place of the duration; the finished span
// is printed in its tree when its root ends.
func (t *Tree) ExportSnapshot(_ context.Context, rec *record.Record) error {
	b := FormatSpanLine(nil, rec, 0, true)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("stdout exporter: %w", err)
	}
	return nil
}
