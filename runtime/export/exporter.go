package export

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Exporter receives finished spans.
//
// Contract:
//   - Export and Shutdown are never called concurrently with each other by
//     the pipeline; calls come from one goroutine at a time.
//   - Export may block, but should return promptly when ctx is done. It must
//     not keep the slice after returning (the pipeline reuses it); it may
//     keep the *record.Record pointers, which are never modified again.
//   - Errors are returned, not logged: the pipeline logs an error of
//     each exporter to stderr at most once a minute and counts all of
//     them. A panic is recovered and counted the same way; it never
//     reaches the traced program.
//   - Shutdown is called once, after the last Export; it flushes and
//     releases resources (files, connections) within ctx.
type Exporter interface {
	Export(ctx context.Context, records []*record.Record) error
	Shutdown(ctx context.Context) error
}

// RecordReleaser is implemented by exporters that keep nothing of a record
// (not the *Record, nor its slices or values) once Export returns, such as
// exporters that serialise records synchronously. When every configured
// exporter releases records, the span pipeline recycles record memory
// after each batch, which removes most of tracing's garbage. Exporters that
// do not implement it are assumed to keep records (Memory and Tree do).
type RecordReleaser interface {
	ReleasesRecords() bool
}

// Idler is implemented by exporters that hold resources between batches (an
// open file, a connection) and can give them back while nothing is being
// exported. The span pipeline calls Idle from its batcher goroutine when no
// span has ended for a short while, just before that goroutine exits (see
// docs/runtime.md, "Idle exit"); the next Export must work as if Idle had
// not been called, reopening what Idle closed. Idle is never called
// concurrently with Export or Shutdown by the pipeline, may be called many
// times, and its errors and panics are counted like those of Export.
type Idler interface {
	Idle(ctx context.Context) error
}

// Releases reports whether e implements RecordReleaser and releases records.
func Releases(e Exporter) bool {
	r, ok := e.(RecordReleaser)
	return ok && r.ReleasesRecords()
}

// Factory builds an exporter from its own TRACEGEN_* environment variables.
type Factory func() (Exporter, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes an exporter available under name in TRACEGEN_EXPORTER. It
// is meant to be called from init functions and panics when name is empty,
// contains a comma or space, or is already registered: those are
// programming errors, found the first time the program runs.
func Register(name string, f Factory) {
	if name == "" || strings.ContainsAny(name, ", \t") || f == nil {
		panic(fmt.Sprintf("export.Register: invalid exporter name %q or nil factory", name))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("export.Register: exporter %q registered twice", name))
	}
	registry[name] = f
}

// Lookup returns the factory registered under name. For an exporter that
// lives in a package of its own (see [LinkPath]) and is not linked into the
// program, it returns a factory whose error, a *NotLinkedError, says how to
// link it.
func Lookup(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	if !ok {
		if path := LinkPath(name); path != "" {
			return func() (Exporter, error) { return nil, &NotLinkedError{Name: name, Path: path} }, true
		}
	}
	return f, ok
}

// optional maps the exporters that live in packages of their own, which a
// program links with a blank import, to those packages.
var optional = map[string]string{
	"otel":       "github.com/tracegen-dev/tracegen/runtime/export/otel",
	"otlp":       "github.com/tracegen-dev/tracegen/runtime/export/otlp",
	"prometheus": "github.com/tracegen-dev/tracegen/runtime/export/prometheus",
	"dogstatsd":  "github.com/tracegen-dev/tracegen/runtime/export/dogstatsd",
	"dynamodb":   "github.com/tracegen-dev/tracegen/runtime/export/dynamodb",
}

// LinkPath returns the import path of the package that provides the
// exporter name when that package is not part of this one, or "".
func LinkPath(name string) string { return optional[name] }

// NotLinkedError is the error of a factory for an exporter whose package
// the program does not link.
type NotLinkedError struct {
	Name string // exporter name, as in TRACEGEN_EXPORTER
	Path string // import path of its package
}

// Error says how to link the exporter.
func (e *NotLinkedError) Error() string {
	return fmt.Sprintf("not linked into this program; add import _ %q to package main (go get %s)", e.Path, e.Path)
}

// Names returns the registered exporter names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// None discards everything. TRACEGEN_EXPORTER=none selects it, which turns
// tracing off entirely (the span core sees no exporter and stays disabled).
type None struct{}

// Export discards records.
func (None) Export(context.Context, []*record.Record) error { return nil }

// Shutdown does nothing.
func (None) Shutdown(context.Context) error { return nil }

// ReleasesRecords reports true: None keeps nothing.
func (None) ReleasesRecords() bool { return true }

// Tee sends every batch to several exporters in order. A failing or
// panicking exporter does not stop the others; their errors are joined.
type Tee struct {
	exporters []Exporter
}

// NewTee returns an exporter that forwards to all of exps.
func NewTee(exps ...Exporter) *Tee { return &Tee{exporters: exps} }

// ReleasesRecords reports whether every exporter of t releases records.
func (t *Tee) ReleasesRecords() bool {
	for _, e := range t.exporters {
		if !Releases(e) {
			return false
		}
	}
	return true
}

// Exporters returns the exporters t forwards to.
func (t *Tee) Exporters() []Exporter { return t.exporters }

// Export forwards records to every exporter.
func (t *Tee) Export(ctx context.Context, records []*record.Record) error {
	var errs []error
	for _, e := range t.exporters {
		if err := Safely(e, func() error { return e.Export(ctx, records) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Idle forwards Idle to every exporter of t that implements Idler.
func (t *Tee) Idle(ctx context.Context) error {
	var errs []error
	for _, e := range t.exporters {
		if i, ok := e.(Idler); ok {
			if err := Safely(e, func() error { return i.Idle(ctx) }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Shutdown shuts every exporter down.
func (t *Tee) Shutdown(ctx context.Context) error {
	var errs []error
	for _, e := range t.exporters {
		if err := Safely(e, func() error { return e.Shutdown(ctx) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PanicError is the error Safely returns when the exporter panicked.
type PanicError struct {
	Exporter string // the exporter's type
	Value    any    // the value passed to panic
}

// Error names the exporter and the panic value.
func (p *PanicError) Error() string {
	return fmt.Sprintf("exporter %s panicked: %v", p.Exporter, p.Value)
}

// Safely runs f, turning a panic into a *PanicError that names e.
func Safely(e Exporter, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Exporter: fmt.Sprintf("%T", e), Value: v}
		}
	}()
	return f()
}

// Configuration errors of exporters, wrapped by the errors of factories
// and of the span pipeline's configuration (trace.ConfigFromEnv).
var (
	// ErrUnknownExporter: TRACEGEN_EXPORTER names no registered exporter
	// and none this module provides.
	ErrUnknownExporter = errors.New("unknown exporter")
	// ErrBadEndpoint: an exporter's endpoint or address is not one it can
	// reach (not a URL, a wrong scheme, no host, a bad host:port).
	ErrBadEndpoint = errors.New("bad endpoint")
)
