package trace

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// The panic record layout must be found on every architecture with getg:
// a Go release that moves the fields must fail here, not quietly fall back
// to the slower, value-less path.
func TestPanicLayoutDiscovered(t *testing.T) {
	if !goroutine.HaveG {
		t.Skipf("no getg on %s: panics are classified by caller and recorded without value", runtime.GOARCH)
	}
	initPanicLayout()
	if !layout.ok {
		t.Fatalf("the runtime's panic record layout was not found on %s (%s): update listCandidates/argCandidates in unwind.go", runtime.GOARCH, runtime.Version())
	}
	if unwinding() {
		t.Error("unwinding() is true outside a panic")
	}
}

// traced is a function as the rewriter generates it.
func traced(name string, depth int, bottom func()) (err error) {
	span := Begin(name)
	defer span.Return(&err)
	if depth == 0 {
		bottom()
		return nil
	}
	return traced(name, depth-1, bottom)
}

func TestReturnRecordsError(t *testing.T) {
	mem := setup(t, Config{})
	boom := errors.New("boom")
	f := func() (err error) {
		span := Begin("fails")
		defer span.Return(&err)
		return boom
	}
	g := func() {
		span := Begin("plain")
		defer span.Return(nil)
	}
	if err := f(); err != boom {
		t.Fatalf("err = %v", err)
	}
	g()
	spans := finish(t, mem)
	if r := spans["fails"]; r.Status != record.StatusError || r.StatusMsg != "boom" {
		t.Errorf("fails: status %v %q", r.Status, r.StatusMsg)
	}
	if r := spans["plain"]; r.Status == record.StatusError || len(r.Events) != 0 {
		t.Errorf("plain: status %v, events %v", r.Status, r.Events)
	}
}

func TestPanicPassesThroughUnchanged(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		t.Run(map[bool]string{true: "enabled", false: "disabled"}[enabled], func(t *testing.T) {
			mem := setupEnabled(t, enabled)
			want := &panicValue{7}
			var got any
			func() {
				defer func() { got = recover() }()
				_ = traced("level", 3, func() { panic(want) })
			}()
			if got != want {
				t.Fatalf("recovered %v, want the same *panicValue", got)
			}
			if !enabled {
				return
			}
			spans := finish2(t, mem)
			if len(spans) != 4 {
				t.Fatalf("%d spans, want 4", len(spans))
			}
			stacks := 0
			for _, r := range spans {
				if r.Status != record.StatusError || r.StatusMsg != "panic: &{7}" {
					t.Errorf("status %v %q, want error \"panic: &{7}\"", r.Status, r.StatusMsg)
				}
				ev := r.Events[0]
				typ, _ := eventAttr(ev, "exception.type")
				if ev.Name != "exception" || typ.Str() != "*trace.panicValue" {
					t.Errorf("event %+v", ev)
				}
				if st, ok := eventAttr(ev, "exception.stacktrace"); ok {
					stacks++
					if !strings.Contains(st.Str(), "unwind_test.go") {
						t.Errorf("stack trace does not show the panic site:\n%s", st.Str())
					}
				}
			}
			if stacks != 1 {
				t.Errorf("%d spans carry a stack trace, want 1 (the innermost)", stacks)
			}
			if Current() != nil {
				t.Error("span still current after the panic")
			}
		})
	}
}

func TestPanicNil(t *testing.T) {
	mem := setup(t, Config{})
	var got any
	func() {
		defer func() { got = recover() }()
		_ = traced("nil", 0, func() { panic(nil) })
	}()
	if _, ok := got.(*runtime.PanicNilError); !ok {
		t.Fatalf("recovered %T, want *runtime.PanicNilError", got)
	}
	r := finish(t, mem)["nil"]
	if typ, _ := eventAttr(r.Events[0], "exception.type"); typ.Str() != "*runtime.PanicNilError" {
		t.Errorf("exception.type %q", typ.Str())
	}
}

func TestGoexitEndsSpansWithoutError(t *testing.T) {
	mem := setup(t, Config{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = traced("exiting", 2, runtime.Goexit)
		t.Error("Goexit returned")
	}()
	wg.Wait()
	spans := finish2(t, mem)
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	for _, r := range spans {
		if r.Status == record.StatusError || len(r.Events) != 1 || r.Events[0].Name != "runtime.Goexit" {
			t.Errorf("status %v, events %+v", r.Status, r.Events)
		}
	}
}

// A traced function called normally from a deferred function that runs
// during a panic returned normally; the one the panic unwinds did not.
func TestNormalReturnDuringPanic(t *testing.T) {
	mem := setup(t, Config{})
	func() {
		defer func() { _ = recover() }()
		_ = traced("unwound", 0, func() {
			defer func() { _ = traced("cleanup", 1, func() {}) }()
			panic("boom")
		})
	}()
	spans := finish2(t, mem)
	for _, r := range spans {
		isErr := r.Status == record.StatusError
		if isErr != (r.Name == "unwound") {
			t.Errorf("%s: status %v %q", r.Name, r.Status, r.StatusMsg)
		}
	}
}

// A panic recovered inside the traced function lets it return normally
// with the error its own deferred function set.
func TestRecoverInsideTracedFunction(t *testing.T) {
	mem := setup(t, Config{})
	f := func() (err error) {
		span := Begin("recovers")
		defer span.Return(&err)
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("recovered: boom")
			}
		}()
		panic("boom")
	}
	if err := f(); err == nil || err.Error() != "recovered: boom" {
		t.Fatalf("err = %v", err)
	}
	r := finish(t, mem)["recovers"]
	if r.StatusMsg != "recovered: boom" || r.Events[0].Name != "exception" {
		t.Errorf("status %q, events %+v", r.StatusMsg, r.Events)
	}
	if _, ok := eventAttr(r.Events[0], "exception.escaped"); ok {
		t.Error("a recovered panic is recorded as escaping")
	}
}

// A deferred span.End (hand-written, OTel style) records panics too.
func TestDeferredEndRecordsPanic(t *testing.T) {
	mem := setup(t, Config{})
	func() {
		defer func() { _ = recover() }()
		_, s := Start(context.Background(), "byhand")
		defer s.End()
		panic("boom")
	}()
	if r := finish(t, mem)["byhand"]; r.StatusMsg != "panic: boom" {
		t.Errorf("status %q", r.StatusMsg)
	}
}

// eventAttr returns the attribute key of ev.
func eventAttr(ev record.Event, key string) (record.Value, bool) {
	for _, a := range ev.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return record.Value{}, false
}
