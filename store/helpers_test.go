package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// benchStart is when the generated spans start.
var benchStart = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// genRecord returns span i of a generated run: traces of ten spans (one
// root, nine children), 50 function names, every fifth span an LLM call
// with tokens, a model and a footprint estimate, every span with energy,
// traces in sessions s0..s9, every seventh trace failed at its third span.
func genRecord(i int) *record.Record {
	res := []record.Attr{record.String("service.name", "bench"), record.Int("process.pid", 4242)}
	tr := i / 10
	r := &record.Record{
		Name:     fmt.Sprintf("pkg.Func%02d", i%50),
		Start:    benchStart.Add(time.Duration(i) * time.Microsecond),
		End:      benchStart.Add(time.Duration(i)*time.Microsecond + time.Duration(1+i%7)*time.Millisecond),
		Resource: res,
		Impact: record.Impact{EnergyKWh: 1e-9 * float64(1+i%13), CO2eG: 4.73e-7 * float64(1+i%13), WaterL: 3.9e-9 * float64(1+i%13),
			EnergySource: "cpu-model"},
		Inherited: []record.Attr{record.String("test.case.name", fmt.Sprintf("TestCase%d", tr%20)),
			record.String("session.id", fmt.Sprintf("s%d", tr%10))},
	}
	r.Impact.Joules[record.EnergyCPU] = r.Impact.EnergyKWh * 3.6e6
	r.TraceID[0], r.TraceID[1], r.TraceID[2], r.TraceID[15] = byte(tr), byte(tr>>8), byte(tr>>16), 7
	r.SpanID[0], r.SpanID[1], r.SpanID[2], r.SpanID[7] = byte(i), byte(i>>8), byte(i>>16), 1
	if i%10 != 0 {
		j := i - i%10
		r.ParentSpanID[0], r.ParentSpanID[1], r.ParentSpanID[2], r.ParentSpanID[7] = byte(j), byte(j>>8), byte(j>>16), 1
	}
	if i%5 == 4 {
		r.Type = record.TypeLLM
		r.Kind = record.KindClient
		r.Attrs = []record.Attr{record.String("gen_ai.operation.name", "chat"), record.String("gen_ai.request.model", "gpt-4o-mini"),
			record.Int("gen_ai.usage.input_tokens", 120), record.Int("gen_ai.usage.output_tokens", 40),
			record.String("tracegen.footprint.method", "ecologits 0.6")}
	} else {
		r.Attrs = []record.Attr{record.String("http.route", "/v1/items/{id}"), record.Int("items", i%100)}
	}
	if tr%7 == 0 && i%10 == 2 {
		r.Status, r.StatusMsg = record.StatusError, "boom"
	}
	return r
}

// writeGen writes spans [from, to) of the generated run as JSONL.
func writeGen(tb testing.TB, path string, from, to int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	for i := from; i < to; i++ {
		buf = genRecord(i).AppendJSON(buf[:0])
		w.Write(append(buf, '\n'))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// openTemp opens a fresh store in a temporary directory.
func openTemp(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "traces.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func ingest(tb testing.TB, s *Store, names ...string) *Result {
	tb.Helper()
	res, err := s.IngestFiles(context.Background(), names, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}
