package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/otlp"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// sinkServer is a local OTLP/HTTP receiver: it reads each protobuf body
// into a pooled buffer, counts the spans in it (walking the wire format,
// without decoding) and answers 200.
type sinkServer struct {
	srv   *httptest.Server
	spans atomic.Int64
}

func newSink(tb testing.TB) *sinkServer {
	s := &sinkServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.spans.Add(int64(countSpans(buf.Bytes())))
	}))
	tb.Cleanup(s.srv.Close)
	return s
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *sinkServer) url() string { return s.srv.URL + "/v1/traces" }

// countSpans counts the spans of an ExportTraceServiceRequest:
// resource_spans (1) > scope_spans (2) > spans (2).
func countSpans(b []byte) int {
	n := 0
	eachField(b, 1, func(rs []byte) {
		eachField(rs, 2, func(ss []byte) {
			eachField(ss, 2, func([]byte) { n++ })
		})
	})
	return n
}

func eachField(b []byte, want protowire.Number, f func([]byte)) {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return
		}
		b = b[l:]
		if num == want && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return
			}
			f(v)
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return
		}
		b = b[l:]
	}
}

// peakHeap samples the heap (live and not yet swept objects) every
// millisecond until stopped and returns its peak in MiB.
func peakHeap() (stop func() float64) {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak) / (1 << 20)
	}
}

// exportCase is one side of BenchmarkExport: setup configures a pipeline
// that sends to sink (otlp) or to a file in dir (jsonl) and returns one op
// (one span) and the final flush, which returns how many spans arrived.
type exportCase struct {
	name  string
	setup func(tb testing.TB, sink *sinkServer, dir string) (op func(), stop func() int64)
}

// llmSpan is the workload's span on tracegen's side: a client span with
// four attributes.
func llmSpan() func() {
	def := trace.Define("chat gpt-4o-mini", trace.TypeLLM, trace.KindClient,
		trace.WithAttr("gen_ai.provider.name", "openai"), trace.WithAttr("gen_ai.request.model", "gpt-4o-mini"))
	ctx := context.Background()
	return func() {
		s := def.Start(ctx)
		s.SetAttr("gen_ai.usage.input_tokens", 12)
		s.SetAttr("gen_ai.usage.output_tokens", 34)
		s.End()
	}
}

// otelSpan is the same span through the OpenTelemetry SDK.
func otelSpan(tr oteltrace.Tracer) func() {
	ctx := context.Background()
	start := []oteltrace.SpanStartOption{oteltrace.WithSpanKind(oteltrace.SpanKindClient), oteltrace.WithAttributes(
		attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.request.model", "gpt-4o-mini"))}
	return func() {
		_, s := tr.Start(ctx, "chat gpt-4o-mini", start...)
		s.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", 12), attribute.Int("gen_ai.usage.output_tokens", 34))
		s.End()
	}
}

// countLines counts the lines of a file, the spans a JSON-lines exporter
// wrote, reading it in small chunks so the count adds nothing to the
// measured heap.
func countLines(tb testing.TB, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

var exportCases = []exportCase{
	{"jsonl", func(tb testing.TB, _ *sinkServer, dir string) (func(), func() int64) {
		path := filepath.Join(dir, "spans.jsonl")
		trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{export.NewJSONL(path)}})
		before := trace.ReadStats()
		return llmSpan(), func() int64 {
			trace.Stop()
			if d := trace.ReadStats().Dropped - before.Dropped; d != 0 {
				tb.Errorf("%d spans dropped", d)
			}
			return countLines(tb, path)
		}
	}},
	{"jsonl-otel-sdk", func(tb testing.TB, _ *sinkServer, dir string) (func(), func() int64) {
		path := filepath.Join(dir, "spans.json")
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(f))
		if err != nil {
			tb.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(exp, sdktrace.WithBlocking()))
		return otelSpan(tp.Tracer("bench")), func() int64 {
			if err := tp.Shutdown(context.Background()); err != nil {
				tb.Error(err)
			}
			f.Close()
			return countLines(tb, path)
		}
	}},
	{"otlp", func(tb testing.TB, sink *sinkServer, _ string) (func(), func() int64) {
		exp, err := otlp.New(otlp.Config{Endpoint: sink.url(), Blocking: true})
		if err != nil {
			tb.Fatal(err)
		}
		trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{exp}})
		return llmSpan(), func() int64 {
			trace.Stop()
			if st := exp.Stats(); st.Dropped+st.Failed != 0 {
				tb.Errorf("exporter stats %+v", st)
			}
			return sink.spans.Load()
		}
	}},
	{"otlp-otel-sdk", func(tb testing.TB, sink *sinkServer, _ string) (func(), func() int64) {
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(sink.url()))
		if err != nil {
			tb.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(exp, sdktrace.WithBlocking()))
		return otelSpan(tp.Tracer("bench")), func() int64 {
			if err := tp.Shutdown(context.Background()); err != nil {
				tb.Error(err)
			}
			return sink.spans.Load()
		}
	}},
}

// BenchmarkExport sends one LLM-like span per op (a client span with four
// attributes) through a blocking pipeline to an exporter, and reports
// spans/s (the final flush included), the peak heap, the process CPU time
// per span (program, pipeline, exporter and receiver together: a steadier
// figure than wall time on a shared machine) and the spans that arrived
// per op (1 when nothing was dropped). jsonl is tracegen's JSONL exporter
// appending to a file; jsonl-otel-sdk is the OpenTelemetry Go SDK's closest
// equivalent, its stdouttrace exporter writing to a file, under its batch
// span processor. otlp is tracegen's OTLP exporter to a local OTLP/HTTP
// receiver that counts and discards; otlp-otel-sdk is the SDK's
// otlptracehttp exporter to the same receiver.
func BenchmarkExport(b *testing.B) {
	for _, c := range exportCases {
		b.Run(c.name, func(b *testing.B) {
			sink := newSink(b)
			op, stop := c.setup(b, sink, b.TempDir())
			b.ReportAllocs()
			heap := peakHeap()
			b.ResetTimer()
			cpu := startCPU()
			begin := time.Now()
			for i := 0; i < b.N; i++ {
				op()
			}
			received := stop()
			elapsed := time.Since(begin)
			b.StopTimer()
			cpu.report(b)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "spans/s")
			b.ReportMetric(heap(), "peak-heap-MiB")
			b.ReportMetric(float64(received)/float64(b.N), "received/op")
		})
	}
}

// TestExportWorkloads checks that every side of BenchmarkExport delivers
// every span to its receiver or file, so the comparisons measure the same
// work.
func TestExportWorkloads(t *testing.T) {
	const n = 3000
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			sink := newSink(t)
			op, stop := c.setup(t, sink, t.TempDir())
			for i := 0; i < n; i++ {
				op()
			}
			if got := stop(); got != n {
				t.Errorf("%d spans arrived, want %d", got, n)
			}
		})
	}
}
