package report

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// writeSpans writes n spans in the jsonl exporter's encoding (through
// runtime/record itself) to path: traces of ten spans, 50 function names,
// every fifth span an LLM call with tokens and a footprint estimate, every
// span with energy and the resource of a process.
func writeSpans(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	res := []record.Attr{record.String("service.name", "bench"), record.String("telemetry.sdk.name", "tracegen"),
		record.String("telemetry.sdk.language", "go"), record.Int("process.pid", 4242), record.String("process.executable.name", "bench")}
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var buf []byte
	for i := range n {
		r := record.Record{
			Name:     fmt.Sprintf("pkg.Func%02d", i%50),
			Start:    start.Add(time.Duration(i) * time.Microsecond),
			End:      start.Add(time.Duration(i)*time.Microsecond + time.Duration(1+i%7)*time.Millisecond),
			Resource: res,
			Impact: record.Impact{EnergyKWh: 1e-9 * float64(1+i%13), CO2eG: 4.73e-7 * float64(1+i%13), WaterL: 3.9e-9 * float64(1+i%13),
				EnergySource: "cpu-model"},
			Inherited: []record.Attr{record.String(KeyTest, fmt.Sprintf("TestCase%d", i%20)), record.String(KeySession, "s1")},
		}
		r.Impact.Joules[record.EnergyCPU] = r.Impact.EnergyKWh * 3.6e6
		r.TraceID[0], r.TraceID[1], r.TraceID[2] = byte(i/10), byte(i/2560), byte(i/655360)
		r.SpanID[0], r.SpanID[1], r.SpanID[2], r.SpanID[7] = byte(i), byte(i>>8), byte(i>>16), 1
		if i%10 != 0 {
			j := i - i%10
			r.ParentSpanID[0], r.ParentSpanID[1], r.ParentSpanID[2], r.ParentSpanID[7] = byte(j), byte(j>>8), byte(j>>16), 1
		}
		if i%5 == 4 {
			r.Type = record.TypeLLM
			r.Kind = record.KindClient
			r.Attrs = []record.Attr{record.String(KeyOperation, "chat"), record.String(KeyRequestModel, "gpt-4o-mini"),
				record.Int(KeyInputTokens, 120), record.Int(KeyOutputTokens, 40), record.String(KeyFootprintMethod, "ecologits 0.6")}
		} else {
			r.Attrs = []record.Attr{record.String("http.route", "/v1/items/{id}"), record.Int("items", i%100)}
		}
		buf = r.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReport1M reads and summarizes a JSONL file of a million spans
// (the goal is under 2 s per op on CI's 2 vCPUs).
func BenchmarkReport1M(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(b.TempDir(), "spans.jsonl")
	writeSpans(b, path, n)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	cpu := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		s := Read([]string{path}, nil)
		if s.Len() != n || len(s.Problems) > 0 {
			b.Fatalf("read %d spans, %d problems", s.Len(), len(s.Problems))
		}
		r := Summarize(s)
		if r.Totals.Spans != n || len(r.Functions) != 50 {
			b.Fatalf("totals %+v", r.Totals)
		}
	}
}

// BenchmarkDecodeLine decodes one span line of the benchmark file.
func BenchmarkDecodeLine(b *testing.B) {
	path := filepath.Join(b.TempDir(), "spans.jsonl")
	writeSpans(b, path, 5)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	line := data[:bytesIndex(data, '\n')]
	tab := newSymtab()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		var s span
		if err := decodeJSONL(line, &s, tab, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func bytesIndex(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return len(b)
}
