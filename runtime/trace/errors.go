package trace

import (
	"errors"
	"fmt"
)

// Configuration errors. A setting tracegen cannot use is reported on one
// stderr line that names the variable, and ignored: the program goes on
// with the default. ConfigFromEnv returns the same problems as values a
// program can test:
//
//	_, err := trace.ConfigFromEnv()
//	var ee *trace.EnvError
//	if errors.As(err, &ee) && errors.Is(ee, export.ErrUnknownExporter) { … }
//
// Each concern owns its errors: export (ErrUnknownExporter,
// ErrBadEndpoint, *NotLinkedError, *EnvFileError), impact
// (ErrUnknownProvider, ErrMissingRegion, ErrUnknownCountry, ErrBadNumber),
// sensor (ErrNoRAPL, ErrRAPLPermission, ErrNoGPU); this package adds
// ErrInvalidValue for its own variables.

// ErrInvalidValue is wrapped by the errors about one of this package's
// variables whose value does not parse (TRACEGEN_SAMPLE, the queue and
// limit settings, OTEL_RESOURCE_ATTRIBUTES).
var ErrInvalidValue = errors.New("invalid value")

// EnvError is a variable whose value tracegen cannot use. Its message
// names the variable and says what applies instead; it never shows the
// value of a variable that may hold a credential.
type EnvError struct {
	Var string // the variable, e.g. "TRACEGEN_EXPORTER"
	Err error  // what is wrong: ErrInvalidValue, export.ErrUnknownExporter, …
	msg string
}

// Error returns the one-line message (without the "tracegen: " prefix).
func (e *EnvError) Error() string { return e.msg }

// Unwrap returns Err.
func (e *EnvError) Unwrap() error { return e.Err }

func envErr(name string, err error, format string, args ...any) *EnvError {
	return &EnvError{Var: name, Err: err, msg: fmt.Sprintf(format, args...)}
}
