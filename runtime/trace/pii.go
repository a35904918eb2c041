package trace

import (
	"fmt"
	"io"
	"os"

	"github.com/tracegen-dev/tracegen/runtime/pii"
)

// PII redaction: TRACEGEN_PII=mask|redact|hash|none selects what happens to
// personal data and secrets found in string attributes, event attributes,
// status messages and captured input/output before any exporter sees them;
// TRACEGEN_PII_TYPES narrows the types (default all, see runtime/pii) and
// TRACEGEN_PII_KEY keys hash mode. The environment is read once, at
// program start. A bad value is reported on stderr and redacts every type,
// so that a typo never exports what it meant to hide.

func init() { configurePII(envLookup, os.Stderr) }

// configurePII installs the redaction hook from the environment and returns
// the redactor (nil when TRACEGEN_PII is unset or none).
func configurePII(lookup func(string) (string, bool), errLog io.Writer) *pii.Redactor {
	r, err := pii.FromLookup(func(k string) string {
		v, _ := lookup(k)
		return v
	})
	if err != nil && errLog != nil {
		fmt.Fprintf(errLog, "tracegen: %v; redacting every PII type\n", err)
	}
	if r == nil {
		setRedactor(nil)
		return nil
	}
	setRedactor(r.Redact)
	return r
}
