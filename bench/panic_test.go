package bench

import (
	"errors"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// panicDepth is the depth of BenchmarkPanicDepth's recursion.
const panicDepth = 10000

var errBottom = errors.New("bottom")

// tracedDescend is a traced function as tracegen generates it.
func tracedDescend(n int, panics bool) (err error) {
	span := trace.Begin("descend")
	defer span.Return(&err)
	if n == 0 {
		if panics {
			panic(errBottom)
		}
		return nil
	}
	return tracedDescend(n-1, panics)
}

// plainDescend is the same function without tracing.
func plainDescend(n int, panics bool) error {
	if n == 0 {
		if panics {
			panic(errBottom)
		}
		return nil
	}
	return plainDescend(n-1, panics)
}

func unwind(f func(int, bool) error, panics bool) {
	defer func() {
		if r := recover(); r != errBottom && r != nil {
			panic(r)
		}
	}()
	_ = f(panicDepth, panics)
}

// BenchmarkPanicDepth unwinds 10,000 frames by a return and by a panic
// recovered at the top: plain, traced with tracing off, and traced with
// every span exported. The target: in each traced row, panic within 3× of
// return (the cost stays O(n)). ns/frame is the figure to compare.
func BenchmarkPanicDepth(b *testing.B) {
	rows := []struct {
		name   string
		f      func(int, bool) error
		tracer bool
	}{
		{"plain", plainDescend, false},
		{"off", tracedDescend, false},
		{"exported", tracedDescend, true},
	}
	for _, row := range rows {
		for _, panics := range []bool{false, true} {
			how := map[bool]string{false: "return", true: "panic"}[panics]
			b.Run(row.name+"/"+how, func(b *testing.B) {
				if row.tracer {
					trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, QueueSize: 2 * panicDepth,
						Exporters: []export.Exporter{&countSink{}}})
				} else {
					trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
				}
				defer trace.Stop()
				for b.Loop() {
					unwind(row.f, panics)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/panicDepth, "ns/frame")
			})
		}
	}
}
