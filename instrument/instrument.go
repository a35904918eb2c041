package instrument

import (
	"fmt"
	"go/token"
)

// RuntimePath is the import path of the runtime package that generated code calls.
const RuntimePath = "github.com/tracegen-dev/tracegen/runtime/trace"

// OTelBridgePath is the package that lets tracegen spans join OpenTelemetry
// traces. Package main imports it (blank, generated) when its module already
// requires go.opentelemetry.io/otel/trace, so no other program links OTel.
const OTelBridgePath = "github.com/tracegen-dev/tracegen/runtime/otelbridge"

// PropagationPath is the package that carries traces across HTTP: a
// traced function with an *http.Request parameter starts its span from
// its Context (or Join) so that it joins the trace in the request's
// headers, and outgoing net/http calls go through its wrappers.
const PropagationPath = "github.com/tracegen-dev/tracegen/runtime/propagation"

// Mode says how the rewritten text is laid out.
type Mode int

const (
	// InPlace produces gofmt-clean code meant to be committed next to the user's code.
	InPlace Mode = iota
	// Overlay produces code for `tracegen go build|test|run|vet`: every original
	// line keeps its line number (via same-line insertion or //line directives),
	// so stack traces, runtime.Caller and compiler errors point at the user's file.
	Overlay
)

// Config controls one run of the rewriter.
type Config struct {
	Dir        string   // working directory for package loading ("" = current)
	BuildFlags []string // passed to the go command when loading (e.g. -tags=foo)
	Tests      bool     // also consider _test.go files of the packages (directives only; -all skips them)
	All        bool     // -all: trace every function with a body except init, _test.go, generated files, //trace:ignore
	Strip      bool     // remove instrumentation instead of adding it
	Mode       Mode
	// Calls, when set, routes matching call sites (LLM SDK calls) through
	// runtime wrappers; see CallRewriter.
	Calls CallRewriter
	// CallsOnly rewrites nothing but the call sites Calls matches: directives
	// are not read and All is ignored. It is for packages of other modules
	// (`tracegen go` instruments the dependencies that call an SDK).
	CallsOnly bool

	// otelBridge: package main also imports OTelBridgePath (set per
	// package by the loader from the module's go.mod).
	otelBridge bool
}

// File is the outcome for one Go source file.
type File struct {
	Path    string   // absolute path of the file on disk
	Package string   // import path of its package
	Orig    []byte   // bytes on disk
	New     []byte   // bytes after the rewrite (== Orig when nothing changed)
	Changed bool     // New differs from Orig
	Funcs   []string // span names of the functions traced in New (for -v)
}

// Error is a problem in the user's code or directives, positioned in the original file.
type Error struct {
	Pos token.Position
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// Result holds every file considered by Run, in a stable order (package, then file path).
type Result struct {
	Files []*File
	// Errors lists every problem found. Files of a package with an error have Changed == false.
	Errors []*Error
}

// Run loads the packages matching patterns and computes the rewrite of each of their files.
// It returns an error (not an *Error list) only when the packages cannot be loaded at all.
func Run(cfg Config, patterns ...string) (*Result, error) {
	return run(cfg, patterns)
}
