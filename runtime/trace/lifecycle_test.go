package trace

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestFinishRecordsErrors(t *testing.T) {
	mem := setup(t, Config{})
	run := func(fail bool) (err error) {
		_, s := Start(context.Background(), fmt.Sprintf("fail=%t", fail))
		defer func() { s.Finish(err, recover()) }()
		if fail {
			return fmt.Errorf("wrapped: %w", errBoom)
		}
		return nil
	}
	_ = run(true)
	_ = run(false)
	got := finish(t, mem)
	bad, good := got["fail=true"], got["fail=false"]
	if bad.Status != record.StatusError || bad.StatusMsg != "wrapped: boom" {
		t.Errorf("status %s %q, want error \"wrapped: boom\"", bad.Status, bad.StatusMsg)
	}
	if len(bad.Events) != 1 || bad.Events[0].Name != "exception" {
		t.Fatalf("events %+v, want one exception", bad.Events)
	}
	if typ := bad.Events[0].Attrs[0].Value.String(); typ != "*errors.errorString" {
		t.Errorf("exception.type = %s, want the unwrapped *errors.errorString", typ)
	}
	if good.Status != record.StatusUnset || len(good.Events) != 0 {
		t.Errorf("successful call has status %s and %d events", good.Status, len(good.Events))
	}
}

var errBoom = errors.New("boom")

type panicValue struct{ n int }

func TestFinishRepanicsSameValue(t *testing.T) {
	tests := []struct {
		name    string
		enabled bool
		guard   bool
	}{
		{"enabled/finish", true, false},
		{"enabled/guard", true, true},
		{"disabled/finish", false, false},
		{"disabled/guard", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := setupEnabled(t, tc.enabled)
			want := &panicValue{7}
			var got any
			func() {
				defer func() { got = recover() }() // user code recovering above a traced call
				_, s := Start(context.Background(), "panics")
				if tc.guard {
					defer s.Guard()
				} else {
					defer func() { s.Finish(nil, recover()) }()
				}
				panic(want)
			}()
			if got != want {
				t.Fatalf("recovered %v, want the same *panicValue", got)
			}
			if !tc.enabled {
				return
			}
			r := finish(t, mem)["panics"]
			if r == nil || r.Status != record.StatusError || !strings.HasPrefix(r.StatusMsg, "panic: &{7}") {
				t.Fatalf("panic not recorded: %+v", r)
			}
			if r.Events[0].Name != "exception" || r.Events[0].Attrs[3].Key != "exception.escaped" {
				t.Errorf("exception event %+v", r.Events[0])
			}
			if Current() != nil {
				t.Error("span still current after the panic")
			}
		})
	}
}

func TestStatusAndRecording(t *testing.T) {
	mem := setup(t, Config{})
	_, s := Start(context.Background(), "s")
	s.SetStatus(record.StatusOK, "")
	s.MarkFailed("refused")
	s.SetStatus(record.StatusOK, "") // ok does not erase an error
	s.SetAttr("a", []string{"x", "y"})
	s.SetAttributes(record.Float64("f", 1.5), record.Int("n", 3))
	s.SetMetadata("model", "m1")
	s.SetSummary("did things")
	s.AddTags("x")
	s.AddEvent("step", record.String("k", "v"))
	s.RecordInput("prompt", "hi", "odd")
	s.RecordOutput("text", "hello")
	s.End()
	s.SetAttr("late", 1) // ignored after End
	s.End()              // second End ignored
	r := finish(t, mem)["s"]
	if r.Status != record.StatusError || r.StatusMsg != "refused" {
		t.Errorf("status %s %q", r.Status, r.StatusMsg)
	}
	b := string(r.AppendJSON(nil))
	for _, want := range []string{
		`"attributes":{"a":["x","y"],"f":1.5,"n":3,"metadata.model":"m1","summary":"did things"}`,
		`"tags":["x"]`, `"input":{"prompt":"hi","odd":"(missing)"}`, `"output":{"text":"hello"}`,
		`"events":[{"name":"step","time":"`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("record lacks %s:\n%s", want, b)
		}
	}
	if _, ok := r.Lookup("late"); ok {
		t.Error("attribute set after End was recorded")
	}
	if s.IsRecording() {
		t.Error("ended span is still recording")
	}
}

func TestCaptureContentOff(t *testing.T) {
	mem := setup(t, Config{DisableContent: true})
	if CaptureContent() {
		t.Error("CaptureContent() = true with DisableContent")
	}
	_, s := Start(context.Background(), "s")
	s.RecordInput("prompt", "secret")
	s.RecordOutput("text", "secret")
	s.End()
	if r := finish(t, mem)["s"]; len(r.Input)+len(r.Output) != 0 {
		t.Errorf("content captured although off: %v %v", r.Input, r.Output)
	}
}

func TestNilSpanIsNoop(t *testing.T) {
	var s *Span
	s.SetAttr("k", 1)
	s.SetAttributes(record.Int("k", 1))
	s.AddEvent("e")
	s.AddTags("t")
	s.RecordInput("k", "v")
	s.RecordOutput("k", "v")
	s.RecordError(errBoom)
	s.MarkFailed("x")
	s.AddEnergy(record.EnergyCPU, 1)
	s.Finish(errBoom, nil)
	s.End()
	if s.IsRecording() || s.TraceID().IsValid() || s.Name() != "" || s.Parent() != nil || s.Energy(record.EnergyCPU) != 0 {
		t.Error("nil span reports state")
	}
}

func TestDisabledIsLazy(t *testing.T) {
	// No exporter in the environment: nothing is started.
	old := envLookup
	envLookup = func(string) (string, bool) { return "", false }
	t.Cleanup(func() { envLookup = old })
	Stop()
	setActive(nil) // as at program start: environment not read yet
	before := runtime.NumGoroutine()
	ctx := context.Background()
	gotCtx, s := Start(ctx, "x", WithAttr("k", "v"))
	if s != nil || gotCtx != ctx {
		t.Fatalf("disabled Start returned %v, %v", gotCtx, s)
	}
	if Begin("y") != nil || Enabled() || CaptureContent() || Current() != nil {
		t.Error("disabled tracing reports a span or enabled state")
	}
	if after := runtime.NumGoroutine(); after != before {
		t.Errorf("goroutines %d -> %d with tracing disabled", before, after)
	}
	if active.Load() != disabledP || atomic.LoadUint32(&offFlag) != 1 {
		t.Error("fast-path flag not set after the environment was read")
	}
}

func TestAllocations(t *testing.T) {
	// The energy sampler builds its meter once, on its own goroutine; keep
	// that one-time cost out of the per-span budget measured here.
	t.Setenv("TRACEGEN_ENERGY", "off")
	ctx := context.Background()
	pair := func() {
		pctx, p := Start(ctx, "parent")
		_, c := Start(pctx, "child", WithAttr("k", "v"), WithAttr("n", 1))
		c.End()
		p.End()
	}
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	if n := testing.AllocsPerRun(1000, pair); n != 0 {
		t.Errorf("disabled pair: %v allocations, want 0", n)
	}
	Configure(Config{IgnoreEnv: true, Sync: true, Exporters: []export.Exporter{discard{}}})
	t.Cleanup(Stop)
	if n := testing.AllocsPerRun(1000, pair); n > 2 {
		t.Errorf("enabled pair (sync export): %v allocations, want <= 2 (one per span; does an end hook allocate? see setRootInherited in hooks.go)", n)
	}
	begin := func() {
		p := Begin("parent")
		c := Begin("child")
		c.End()
		p.End()
	}
	if n := testing.AllocsPerRun(1000, begin); n > 2 {
		t.Errorf("enabled Begin pair: %v allocations, want <= 2 (one per span; does an end hook allocate? see setRootInherited in hooks.go)", n)
	}
}

type discard struct{}

func (discard) Export(context.Context, []*record.Record) error { return nil }
func (discard) Shutdown(context.Context) error                 { return nil }

// gate is an exporter that blocks until released and counts spans.
type gate struct {
	release chan struct{}
	n       atomic.Int64
}

func (g *gate) Export(_ context.Context, recs []*record.Record) error {
	<-g.release
	g.n.Add(int64(len(recs)))
	return nil
}
func (g *gate) Shutdown(context.Context) error { return nil }

func TestBatchingBlockingLosesNothing(t *testing.T) {
	slow := &gate{release: make(chan struct{})}
	close(slow.release)
	mem := setup(t, Config{Blocking: true, QueueSize: 16, BatchSize: 4, FlushInterval: time.Hour}, slow)
	before := ReadStats()
	const workers, each = 8, 300
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, s := Start(context.Background(), "load")
				s.End()
			}
		}()
	}
	wg.Wait()
	Stop()
	after := ReadStats()
	if got := mem.Total(); got != workers*each {
		t.Errorf("memory exporter got %d spans, want %d", got, workers*each)
	}
	if got := slow.n.Load(); got != workers*each {
		t.Errorf("second exporter got %d spans, want %d", got, workers*each)
	}
	if d := after.Dropped - before.Dropped; d != 0 {
		t.Errorf("%d spans dropped in blocking mode", d)
	}
}

func TestBatchingNonBlockingCountsDrops(t *testing.T) {
	stuck := &gate{release: make(chan struct{})}
	mem := setup(t, Config{QueueSize: 8, BatchSize: 4, FlushInterval: time.Hour}, stuck)
	before := ReadStats()
	const total = 200
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/4; i++ {
				s := Begin("load")
				s.End()
			}
		}()
	}
	wg.Wait()
	close(stuck.release)
	Stop()
	after := ReadStats()
	dropped := after.Dropped - before.Dropped
	if dropped == 0 {
		t.Fatal("no drops counted although the exporter was stuck and the queue holds 8")
	}
	if got := mem.Total() + dropped; got != total {
		t.Errorf("exported %d + dropped %d = %d, want %d", mem.Total(), dropped, got, total)
	}
}

type failingExporter struct{ calls atomic.Int64 }

func (f *failingExporter) Export(context.Context, []*record.Record) error {
	f.calls.Add(1)
	return errors.New("backend down")
}
func (f *failingExporter) Shutdown(context.Context) error { return nil }

type panicking struct{}

func (panicking) Export(context.Context, []*record.Record) error { panic("exporter bug") }
func (panicking) Shutdown(context.Context) error                 { panic("shutdown bug") }

func TestExporterFailureIsolation(t *testing.T) {
	log := &syncBuffer{}
	bad := &failingExporter{}
	mem := setup(t, Config{ErrorLog: log, BatchSize: 1, QueueSize: 64}, bad, panicking{})
	before := ReadStats()
	for i := 0; i < 10; i++ {
		_, s := Start(context.Background(), fmt.Sprint("s", i))
		s.End()
		if err := Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	Stop()
	after := ReadStats()
	if mem.Total() != 10 {
		t.Errorf("healthy exporter got %d spans, want 10", mem.Total())
	}
	if e := after.ExportErrors - before.ExportErrors; e != uint64(bad.calls.Load()) || e < 10 {
		t.Errorf("export errors counted %d, failing exporter called %d times", e, bad.calls.Load())
	}
	if p := after.ExportPanics - before.ExportPanics; p != 11 { // 10 exports + shutdown
		t.Errorf("panics counted %d, want 11", p)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one log line per failing exporter, got:\n%s", log.String())
	}
	for _, want := range []string{"tracegen: exporter *trace.failingExporter: export failed: backend down", "tracegen: exporter trace.panicking: export failed: exporter trace.panicking panicked: exporter bug"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestFlushAndShutdown(t *testing.T) {
	mem := setup(t, Config{FlushInterval: time.Hour})
	s := Begin("a")
	s.End()
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if mem.Total() != 1 {
		t.Fatalf("after Flush the exporter has %d spans, want 1", mem.Total())
	}
	late := Begin("late")
	before := ReadStats()
	if err := Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	late.End() // after shutdown: dropped and counted
	if d := ReadStats().Dropped - before.Dropped; d != 1 {
		t.Errorf("span ended after Shutdown: dropped %d, want 1", d)
	}
	if Begin("after") != nil {
		t.Error("Begin after Shutdown returned a span")
	}
	if MemoryExporter() != mem {
		t.Error("MemoryExporter() lost after Shutdown")
	}
}

func TestFlushHonoursContext(t *testing.T) {
	stuck := &gate{release: make(chan struct{})}
	setup(t, Config{}, stuck)
	s := Begin("a")
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush with a stuck exporter: %v, want deadline exceeded", err)
	}
	close(stuck.release)
}

func TestSyncMode(t *testing.T) {
	// The energy sampler starts a goroutine of its own for a span when it
	// has exited idle (runtime/energy), and a process's first span starts a
	// short-lived one that learns the runtime's panic layout (unwind.go):
	// what is tested is that no goroutine of the pipeline stays.
	t.Setenv("TRACEGEN_ENERGY", "off")
	mem := setup(t, Config{Sync: true})
	before := settledGoroutines()
	for i, name := range []string{"a", "b"} {
		Begin(name).End()
		if mem.Total() != uint64(i+1) {
			t.Errorf("sync mode: exporter has %d spans right after End of span %d, want %d", mem.Total(), i+1, i+1)
		}
	}
	if after := settledGoroutines(); after > before {
		t.Errorf("sync mode left a goroutine running: %d -> %d", before, after)
	}
}

func TestSampling(t *testing.T) {
	mem := setup(t, Config{SampleRatio: 0.5})
	const traces = 400
	for i := 0; i < traces; i++ {
		root := Begin("root")
		child := Begin("child")
		child.End()
		root.End()
	}
	spans := finish2(t, mem)
	roots, children := 0, 0
	ids := map[record.TraceID]int{}
	for _, r := range spans {
		ids[r.TraceID]++
		if r.Name == "root" {
			roots++
		} else {
			children++
		}
	}
	if roots == 0 || roots == traces {
		t.Errorf("ratio 0.5 sampled %d of %d traces", roots, traces)
	}
	for id, n := range ids {
		if n != 2 {
			t.Errorf("trace %s exported %d spans: sampling must keep or drop whole traces", id, n)
		}
	}
}

func finish2(t *testing.T, mem *export.Memory) []*record.Record {
	t.Helper()
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return mem.Spans()
}

func TestEnergyRollup(t *testing.T) {
	// Exact joules: no measured energy from the sampler on top of what
	// the test adds (a sampler a test before left running would give some).
	t.Setenv("TRACEGEN_ENERGY", "off")
	mem := setup(t, Config{})
	root := Begin("root")
	child := Begin("child")
	child.AddEnergy(record.EnergyCPU, 3.6e6) // 1 kWh
	child.AddEnergy(record.EnergyGPU, 1.8e6)
	child.End()
	root.AddEnergy(record.EnergyCPU, 3.6e6)
	root.End()
	got := finish(t, mem)
	if j := got["child"].Impact.Joules; j[record.EnergyCPU] != 3.6e6 || j[record.EnergyGPU] != 1.8e6 {
		t.Errorf("child joules %v", j)
	}
	if kwh := got["child"].Impact.EnergyKWh; kwh != 1.5 {
		t.Errorf("child energy %v kWh, want 1.5", kwh)
	}
	if j := got["root"].Impact.Joules; j[record.EnergyCPU] != 7.2e6 || j[record.EnergyGPU] != 1.8e6 {
		t.Errorf("root joules %v, want its own plus the child's", j)
	}
}

func TestRedactionHook(t *testing.T) {
	old := redactor.Load()
	setRedactor(func(s string) string { return strings.ReplaceAll(s, "secret", "[x]") })
	t.Cleanup(func() { redactor.Store(old) })
	mem := setup(t, Config{})
	_, s := Start(context.Background(), "s", WithAttr("a", "my secret"))
	s.SetAttr("b", "secret too")
	s.AddEvent("e", record.String("c", "secret"))
	s.RecordInput("prompt", "the secret", "obj", map[string]string{"k": "secret"})
	s.RecordError(errors.New("secret failed"))
	s.End()
	b := string(finish(t, mem)["s"].AppendJSON(nil))
	if strings.Contains(b, "secret") {
		t.Errorf("unredacted value reached the exporter:\n%s", b)
	}
}

func TestConcurrentSpanUse(t *testing.T) {
	// Exact joules: no measured energy from the sampler on top of what
	// the test adds (a sampler a test before left running would give some).
	t.Setenv("TRACEGEN_ENERGY", "off")
	mem := setup(t, Config{Limits: SpanLimits{EventCount: 1000}})
	_, s := Start(context.Background(), "shared")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				s.SetAttr(fmt.Sprint("k", i), j)
				s.AddEnergy(record.EnergyCPU, 1)
				s.AddEvent("e")
			}
		}()
	}
	wg.Wait()
	s.End()
	r := finish(t, mem)["shared"]
	if len(r.Events) != 200 || r.Impact.Joules[record.EnergyCPU] != 200 {
		t.Errorf("events %d, cpu joules %v; want 200 each", len(r.Events), r.Impact.Joules[record.EnergyCPU])
	}
}

// tracingExporter uses instrumented code inside Export and Shutdown, like an
// exporter whose HTTP client is traced.
type tracingExporter struct{ calls atomic.Int64 }

func (e *tracingExporter) Export(ctx context.Context, recs []*record.Record) error {
	e.calls.Add(1)
	_, s := Start(ctx, "inside-export")
	s.End()
	return nil
}

func (e *tracingExporter) Shutdown(ctx context.Context) error {
	s := Begin("inside-shutdown")
	s.End()
	return nil
}

func TestExporterThatTracesDoesNotDeadlock(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"sync", Config{Sync: true}},
		{"blocking", Config{Blocking: true, QueueSize: 1, BatchSize: 1}},
		{"async", Config{QueueSize: 2, BatchSize: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp := &tracingExporter{}
			setup(t, tc.cfg, exp)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < 20; i++ {
					s := Begin("user")
					s.End()
				}
				Stop()
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("deadlock: an exporter that starts spans blocked the pipeline")
			}
			if exp.calls.Load() == 0 {
				t.Error("exporter never called")
			}
		})
	}
}

func TestSpanMemoryIsBounded(t *testing.T) {
	mem := setup(t, Config{})
	before := ReadStats()
	s := Begin("long-lived")
	for i := 0; i < 1000; i++ {
		s.SetAttr("progress", i) // same key: replaced, not appended
		s.SetAttr(fmt.Sprint("k", i), i)
		s.AddEvent("tick")
		s.RecordInput("chunk", i)
	}
	s.End()
	r := finish(t, mem)["long-lived"]
	if len(r.Input) != MaxAttributes {
		t.Errorf("%d input entries, want %d", len(r.Input), MaxAttributes)
	}
	if len(r.Attrs) != MaxAttributes || len(r.Events) != MaxEvents {
		t.Errorf("%d attributes, %d events; want %d and %d", len(r.Attrs), len(r.Events), MaxAttributes, MaxEvents)
	}
	if v, _ := r.Lookup("progress"); v.Int64() != 999 {
		t.Errorf("progress = %v, want the last value 999", v)
	}
	if got := ReadStats().Limited - before.Limited; got != (1000-(MaxAttributes-1))+(1000-MaxEvents)+(1000-MaxAttributes) {
		t.Errorf("Limited counted %d", got)
	}
}

func TestPanicInOutermostSpanFlushes(t *testing.T) {
	mem := setup(t, Config{FlushInterval: time.Hour, BatchSize: 512})
	func() {
		defer func() { _ = recover() }()
		_, s := Start(context.Background(), "crashing")
		defer func() { s.Finish(nil, recover()) }()
		inner := Begin("inner")
		func() {
			defer func() { inner.Finish(nil, recover()) }() // not outermost: no flush here
			panic("boom")
		}()
	}()
	// Without the flush in Finish, spans would wait for the hour-long timer.
	if got := mem.Total(); got != 2 {
		t.Errorf("after a panic through the outermost span, %d spans exported, want 2", got)
	}
}

func TestQueueKeepsItsCapacity(t *testing.T) {
	setup(t, Config{QueueSize: 32, BatchSize: 4, Blocking: true})
	for i := 0; i < 2000; i++ {
		s := Begin("s")
		s.End()
	}
	if err := Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := active.Load()
	p.mu.Lock()
	c := cap(p.queue)
	p.mu.Unlock()
	if c != 32 {
		t.Errorf("queue capacity %d after many batches, want 32 (the arrays must be reused whole)", c)
	}
}
