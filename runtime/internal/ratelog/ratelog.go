// Package ratelog writes warning lines at most once per interval, for the
// exporters whose failures may repeat many times a second (an endpoint
// down, a table missing): the lines held back are counted, and the next
// line written says how many there were.
package ratelog

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Logger writes "tracegen: <Prefix>: <message>" lines to W, at most one
// per Interval. Now is the clock (time.Now when nil). Its methods are safe
// for concurrent use.
type Logger struct {
	W        io.Writer
	Prefix   string
	Interval time.Duration
	Now      func() time.Time

	mu         sync.Mutex
	last       time.Time // zero: nothing written yet
	suppressed int
}

// Allow reports whether a line may be written now and, if so, takes the
// slot; it returns how many lines were held back since the last one.
func (l *Logger) Allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	if !l.last.IsZero() && now.Sub(l.last) < l.Interval {
		l.suppressed++
		return false, 0
	}
	l.last = now
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// Reset lets the next line through at once, as if none had been written.
func (l *Logger) Reset() {
	l.mu.Lock()
	l.last = time.Time{}
	l.mu.Unlock()
}

// Printf writes the formatted line when the interval allows it. Callers
// must not put credentials in it.
func (l *Logger) Printf(format string, args ...any) {
	ok, held := l.Allow()
	if !ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if held > 0 {
		msg += fmt.Sprintf(" (%d more warnings in the last %s not shown)", held, l.Interval)
	}
	fmt.Fprintf(l.W, "tracegen: %s: %s\n", l.Prefix, msg)
}
