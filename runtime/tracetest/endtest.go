package tracetest

import (
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// EndTest ends s, the span of the test t, marking it failed when t has
// failed. `tracegen go test` starts a span at the top of every test (and
// subtest) and defers EndTest, a plain call, so that the test's own
// function literals keep their names (TestX.func1, ...).
func EndTest(s *trace.Span, t testing.TB) {
	if t.Failed() {
		s.MarkFailed("test failed")
	}
	s.End()
}
