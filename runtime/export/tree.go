package export

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// DefaultTreeBuffer is how many unfinished-trace spans Tree holds before it
// prints the oldest trace early.
const DefaultTreeBuffer = 4096

// Tree prints finished spans as a human-readable tree, one line per span:
// name, kind/type, duration, status, short span id, attributes, then
// indented input/output lines. Spans are buffered until the local root of
// their trace ends, so the tree prints in one piece; the buffer is bounded
// (the oldest trace is printed early when it fills) and whatever is left at
// Shutdown is printed as orphans.
type Tree struct {
	mu      sync.Mutex
	w       io.Writer
	limit   int
	pending map[record.TraceID][]*record.Record
	order   []record.TraceID // traces in the order they were first seen
	n       int              // buffered spans
	buf     []byte
}

// NewTree returns a tree printer writing to w.
func NewTree(w io.Writer) *Tree {
	return &Tree{w: w, limit: DefaultTreeBuffer, pending: map[record.TraceID][]*record.Record{}}
}

// SetBufferLimit changes how many spans are held while waiting for roots.
func (t *Tree) SetBufferLimit(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n < 1 {
		n = 1
	}
	t.limit = n
}

// Export buffers records and prints every trace whose local root ended.
func (t *Tree) Export(_ context.Context, records []*record.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf[:0]
	for _, r := range records {
		if _, seen := t.pending[r.TraceID]; !seen {
			t.order = append(t.order, r.TraceID)
		}
		t.pending[r.TraceID] = append(t.pending[r.TraceID], r)
		t.n++
		if r.IsLocalRoot() {
			b = t.printRoot(b, r)
		}
	}
	for t.n > t.limit && len(t.order) > 0 {
		b = t.printTrace(b, t.order[0])
	}
	if cap(b) <= 1<<20 {
		t.buf = b
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("stdout exporter: %w", err)
	}
	return nil
}

// Shutdown prints every buffered span, as orphans when their root never
// ended.
func (t *Tree) Shutdown(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b []byte
	for len(t.order) > 0 {
		b = t.printTrace(b, t.order[0])
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("stdout exporter: %w", err)
	}
	return nil
}

// printRoot prints root and its buffered descendants, and forgets them.
func (t *Tree) printRoot(b []byte, root *record.Record) []byte {
	spans := t.pending[root.TraceID]
	kids := children(spans)
	printed := map[*record.Record]bool{}
	b = t.printSubtree(b, root, kids, 0, printed, true)
	t.forget(root.TraceID, printed)
	return b
}

// printTrace prints all buffered spans of one trace: subtrees whose parent
// is not buffered are printed from their top, marked as orphans.
func (t *Tree) printTrace(b []byte, id record.TraceID) []byte {
	spans := t.pending[id]
	kids := children(spans)
	have := map[record.SpanID]bool{}
	for _, r := range spans {
		have[r.SpanID] = true
	}
	printed := map[*record.Record]bool{}
	for _, r := range spans {
		if !r.IsLocalRoot() && have[r.ParentSpanID] {
			continue
		}
		b = t.printSubtree(b, r, kids, 0, printed, r.IsLocalRoot())
	}
	t.forget(id, nil)
	return b
}

func (t *Tree) forget(id record.TraceID, printed map[*record.Record]bool) {
	spans := t.pending[id]
	keep := spans[:0]
	for _, r := range spans {
		if printed != nil && !printed[r] {
			keep = append(keep, r)
		}
	}
	t.n -= len(spans) - len(keep)
	if len(keep) > 0 {
		t.pending[id] = keep
		return
	}
	delete(t.pending, id)
	for i, o := range t.order {
		if o == id {
			t.order = append(t.order[:i], t.order[i+1:]...)
			break
		}
	}
}

func children(spans []*record.Record) map[record.SpanID][]*record.Record {
	kids := map[record.SpanID][]*record.Record{}
	for _, r := range spans {
		if !r.IsLocalRoot() {
			kids[r.ParentSpanID] = append(kids[r.ParentSpanID], r)
		}
	}
	for _, k := range kids {
		sort.SliceStable(k, func(i, j int) bool { return k[i].Start.Before(k[j].Start) })
	}
	return kids
}

func (t *Tree) printSubtree(b []byte, r *record.Record, kids map[record.SpanID][]*record.Record, depth int, printed map[*record.Record]bool, root bool) []byte {
	if printed[r] {
		return b
	}
	printed[r] = true
	b = FormatSpanLine(b, r, depth, root)
	for _, c := range kids[r.SpanID] {
		b = t.printSubtree(b, c, kids, depth+1, printed, false)
	}
	return b
}

// FormatSpanLine appends the tree line(s) of r at the given depth: the span
// line, then one indented line per input, output and error event. root
// selects the root form, which also shows the trace id; a non-root span
// with depth 0 is printed as an orphan, a snapshot (Record.Snapshot) as
// "(snapshot) name [kind] running ...".
func FormatSpanLine(b []byte, r *record.Record, depth int, root bool) []byte {
	indent := strings.Repeat("  ", depth)
	b = append(b, indent...)
	if r.Snapshot {
		b = append(b, "(snapshot) "...)
	} else if depth == 0 && !root {
		b = append(b, "(orphan) "...)
	}
	b = append(b, r.Name...)
	b = append(b, " ["...)
	b = append(b, r.Kind.String()...)
	if r.Type != record.TypeNone {
		b = append(b, '/')
		b = append(b, r.Type.String()...)
	}
	b = append(b, "] "...)
	if r.Snapshot {
		b = append(b, "running"...)
	} else {
		b = appendDuration(b, r.Duration())
	}
	b = append(b, ' ')
	b = append(b, r.Status.String()...)
	if r.StatusMsg != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, r.StatusMsg)
	}
	b = append(b, " span="...)
	b = append(b, r.SpanID.String()[:8]...)
	if depth == 0 {
		b = append(b, " trace="...)
		b = append(b, r.TraceID.String()[:8]...)
	}
	b = appendHumanAttrs(b, r.Inherited, r.Attrs)
	if len(r.Tags) > 0 {
		b = append(b, " tags="...)
		b = append(b, strings.Join(r.Tags, ",")...)
	}
	if !r.Impact.IsZero() {
		b = appendImpact(b, &r.Impact)
	}
	b = append(b, '\n')
	for _, a := range r.Input {
		b = appendIO(b, indent, "input", a)
	}
	for _, a := range r.Output {
		b = appendIO(b, indent, "output", a)
	}
	for _, e := range r.Events {
		if e.Name != "exception" {
			continue
		}
		b = append(b, indent...)
		b = append(b, "    ! "...)
		for i, a := range e.Attrs {
			if a.Key == "exception.stacktrace" {
				continue
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(b, a.Key...)
			b = append(b, '=')
			b = appendHumanValue(b, a.Value)
		}
		b = append(b, '\n')
	}
	return b
}

func appendIO(b []byte, indent, dir string, a record.Attr) []byte {
	b = append(b, indent...)
	b = append(b, "    "...)
	b = append(b, dir...)
	b = append(b, ' ')
	b = append(b, a.Key...)
	b = append(b, ": "...)
	s := a.Value.String()
	const max = 400
	if len(s) > max {
		s = s[:max] + "…"
	}
	s = strings.ReplaceAll(s, "\n", "\n"+indent+"      ")
	b = append(b, s...)
	return append(b, '\n')
}

func appendHumanAttrs(b []byte, base, over []record.Attr) []byte {
	all := make([]record.Attr, 0, len(base)+len(over))
	all = append(all, base...)
	all = append(all, over...)
	for i, a := range all {
		dup := false
		for _, later := range all[i+1:] {
			if later.Key == a.Key {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		b = appendHumanValue(b, a.Value)
	}
	return b
}

func appendHumanValue(b []byte, v record.Value) []byte {
	s := v.String()
	if v.Kind() == record.ValueString && (s == "" || strings.ContainsAny(s, " \t\n\"=")) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func appendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Microsecond:
		return append(strconv.AppendInt(b, int64(d), 10), "ns"...)
	case d < time.Millisecond:
		return append(strconv.AppendFloat(b, float64(d)/1e3, 'f', 1, 64), "µs"...)
	case d < time.Second:
		return append(strconv.AppendFloat(b, float64(d)/1e6, 'f', 2, 64), "ms"...)
	default:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64), "s"...)
	}
}

// appendImpact writes " energy=1.2mWh co2e=0.41g water=3.1mL (rapl)".
func appendImpact(b []byte, im *record.Impact) []byte {
	b = append(b, " energy="...)
	b = appendSI(b, im.EnergyKWh*1000, "Wh")
	b = append(b, " co2e="...)
	b = appendSI(b, im.CO2eG, "g")
	b = append(b, " water="...)
	b = appendSI(b, im.WaterL, "L")
	if im.EnergySource != "" {
		b = append(b, " ("...)
		b = append(b, im.EnergySource...)
		b = append(b, ')')
	}
	return b
}

// appendSI writes v with a milli/micro/kilo prefix and three significant
// digits.
func appendSI(b []byte, v float64, unit string) []byte {
	prefix := ""
	av := v
	if av < 0 {
		av = -av
	}
	switch {
	case av == 0:
	case av >= 1000:
		v, prefix = v/1000, "k"
	case av < 1e-3:
		v, prefix = v*1e6, "µ"
	case av < 1:
		v, prefix = v*1e3, "m"
	}
	b = strconv.AppendFloat(b, v, 'g', 3, 64)
	b = append(b, prefix...)
	return append(b, unit...)
}
