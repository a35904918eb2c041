package export

import (
	"context"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// DefaultMemoryCapacity is the ring size of TRACEGEN_EXPORTER=memory when
// TRACEGEN_MEMORY_SIZE is not set.
const DefaultMemoryCapacity = 10000

// Memory keeps the most recent finished spans in a bounded ring. It is safe
// for concurrent use: tests and programs query it while spans are exported.
type Memory struct {
	mu    sync.Mutex
	ring  []*record.Record
	next  int // index of the next write
	full  bool
	total uint64
}

// NewMemory returns a ring holding at most capacity spans (at least 1).
func NewMemory(capacity int) *Memory {
	if capacity < 1 {
		capacity = 1
	}
	return &Memory{ring: make([]*record.Record, capacity)}
}

// Export stores records, overwriting the oldest when the ring is full.
func (m *Memory) Export(_ context.Context, records []*record.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.ring[m.next] = r
		m.next++
		if m.next == len(m.ring) {
			m.next, m.full = 0, true
		}
	}
	m.total += uint64(len(records))
	return nil
}

// Shutdown keeps the spans, so they can still be read after the program
// has stopped tracing.
func (m *Memory) Shutdown(context.Context) error { return nil }

// Spans returns the stored spans, oldest first, that match every filter.
func (m *Memory) Spans(filters ...Filter) []*record.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*record.Record
	add := func(r *record.Record) {
		for _, f := range filters {
			if !f(r) {
				return
			}
		}
		out = append(out, r)
	}
	if m.full {
		for _, r := range m.ring[m.next:] {
			add(r)
		}
	}
	for _, r := range m.ring[:m.next] {
		add(r)
	}
	return out
}

// Total returns how many spans were ever exported to m, including those
// the ring has since overwritten.
func (m *Memory) Total() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

// Reset forgets every stored span.
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.ring)
	m.next, m.full, m.total = 0, false, 0
}

// Filter selects records in Memory.Spans.
type Filter func(*record.Record) bool

// AttrIs matches spans whose attribute key (own or inherited, own first)
// equals value. Numbers compare by kind: AttrIs("n", 3) matches an int
// attribute 3 but not a float 3.0.
func AttrIs(key string, value any) Filter {
	want := record.AnyValue(value)
	return func(r *record.Record) bool {
		v, ok := r.Lookup(key)
		return ok && v.Equal(want)
	}
}

// HasAttr matches spans that have attribute key, own or inherited.
func HasAttr(key string) Filter {
	return func(r *record.Record) bool {
		_, ok := r.Lookup(key)
		return ok
	}
}

// NameIs matches spans called name.
func NameIs(name string) Filter {
	return func(r *record.Record) bool { return r.Name == name }
}

// TraceIs matches spans of one trace.
func TraceIs(id record.TraceID) Filter {
	return func(r *record.Record) bool { return r.TraceID == id }
}

// TypeIs matches spans of one GenAI type.
func TypeIs(t record.Type) Filter {
	return func(r *record.Record) bool { return r.Type == t }
}

// StatusIs matches spans with status s.
func StatusIs(s record.Status) Filter {
	return func(r *record.Record) bool { return r.Status == s }
}

// HasTag matches spans carrying tag.
func HasTag(tag string) Filter {
	return func(r *record.Record) bool {
		for _, t := range r.Tags {
			if t == tag {
				return true
			}
		}
		return false
	}
}
