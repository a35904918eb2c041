package dynamodb

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// warner writes at most one warning line per interval; the lines it holds
// back are counted and the next line says how many.
type warner struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu         sync.Mutex
	last       time.Time // zero: nothing written yet
	suppressed int
}

// allow reports whether a line may be written now and, if so, takes the
// slot; it returns how many warnings were held back since the last line.
func (w *warner) allow() (bool, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if !w.last.IsZero() && now.Sub(w.last) < w.interval {
		w.suppressed++
		return false, 0
	}
	w.last = now
	n := w.suppressed
	w.suppressed = 0
	return true, n
}

// warnf writes "tracegen: dynamodb exporter: <message>" when the interval
// allows it. Messages are built from the exporter's own wording, the table
// name and the SDK's error text, which never holds credentials.
func (w *warner) warnf(format string, args ...any) {
	ok, held := w.allow()
	if !ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if held > 0 {
		msg += fmt.Sprintf(" (%d more warnings in the last %s not shown)", held, w.interval)
	}
	fmt.Fprintf(w.w, "tracegen: dynamodb exporter: %s\n", msg)
}
