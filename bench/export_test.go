package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
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
// that sends to url and returns one op (one span) and the final flush.
type exportCase struct {
	name  string
	setup func(tb testing.TB, url string) (op, stop func())
}

var exportCases = []exportCase{
	{"otlp", func(tb testing.TB, url string) (func(), func()) {
		exp, err := otlp.New(otlp.Config{Endpoint: url, Blocking: true})
		if err != nil {
			tb.Fatal(err)
		}
		trace.Configure(trace.Config{IgnoreEnv: true, Blocking: true, Exporters: []export.Exporter{exp}})
		def := trace.Define("chat gpt-4o-mini", trace.TypeLLM, trace.KindClient,
			trace.WithAttr("gen_ai.provider.name", "openai"), trace.WithAttr("gen_ai.request.model", "gpt-4o-mini"))
		ctx := context.Background()
		return func() {
				s := def.Start(ctx)
				s.SetAttr("gen_ai.usage.input_tokens", 12)
				s.SetAttr("gen_ai.usage.output_tokens", 34)
				s.End()
			}, func() {
				trace.Stop()
				if st := exp.Stats(); st.Dropped+st.Failed != 0 {
					tb.Errorf("exporter stats %+v", st)
				}
			}
	}},
	{"otlp-otel-sdk", func(tb testing.TB, url string) (func(), func()) {
		ctx := context.Background()
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url))
		if err != nil {
			tb.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(exp, sdktrace.WithBlocking()))
		tr := tp.Tracer("bench")
		start := []oteltrace.SpanStartOption{oteltrace.WithSpanKind(oteltrace.SpanKindClient), oteltrace.WithAttributes(
			attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.request.model", "gpt-4o-mini"))}
		return func() {
				_, s := tr.Start(ctx, "chat gpt-4o-mini", start...)
				s.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", 12), attribute.Int("gen_ai.usage.output_tokens", 34))
				s.End()
			}, func() {
				if err := tp.Shutdown(ctx); err != nil {
					tb.Error(err)
				}
			}
	}},
}

// BenchmarkExport sends one LLM-like span per op (a client span with four
// attributes) through a blocking pipeline to a local OTLP/HTTP receiver
// that discards, and reports spans/s (the final flush included), the peak
// heap, the process CPU time per span (program, pipeline, exporter and
// receiver together: a steadier figure than wall time on a shared machine)
// and the spans the receiver counted per op (1 when nothing was dropped). otlp is tracegen's exporter; otlp-otel-sdk is the OpenTelemetry
// Go SDK's otlptracehttp exporter under its batch span processor, on the
// same workload.
func BenchmarkExport(b *testing.B) {
	for _, c := range exportCases {
		b.Run(c.name, func(b *testing.B) {
			sink := newSink(b)
			op, stop := c.setup(b, sink.url())
			b.ReportAllocs()
			heap := peakHeap()
			b.ResetTimer()
			cpu := startCPU()
			begin := time.Now()
			for i := 0; i < b.N; i++ {
				op()
			}
			stop()
			elapsed := time.Since(begin)
			b.StopTimer()
			cpu.report(b)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "spans/s")
			b.ReportMetric(heap(), "peak-heap-MiB")
			b.ReportMetric(float64(sink.spans.Load())/float64(b.N), "received/op")
		})
	}
}

// TestExportWorkloads checks that both sides of BenchmarkExport deliver
// every span to the receiver, so the comparison measures the same work.
func TestExportWorkloads(t *testing.T) {
	const n = 3000
	for _, c := range exportCases {
		t.Run(c.name, func(t *testing.T) {
			sink := newSink(t)
			op, stop := c.setup(t, sink.url())
			for i := 0; i < n; i++ {
				op()
			}
			stop()
			if got := sink.spans.Load(); got != n {
				t.Errorf("the receiver counted %d spans, want %d", got, n)
			}
		})
	}
}
