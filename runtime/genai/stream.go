package genai

import (
	"errors"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// maxStreams bounds the streams followed at once; beyond it a new stream's
// span ends at once with tracegen.stream.abandoned, keeping memory bounded
// when a program leaks streams.
const maxStreams = 4096

// streamState is one followed stream: its call and what its elements said,
// or, for the stream a framework run returned, the end of the run's span.
type streamState struct {
	call *Call
	run  func(err error, abandoned bool) // a framework run's stream: call is nil
	spec *Spec
	src  any              // the stream object: Current, Err
	keys []unsafe.Pointer // registry keys: the stream, its embedded pointers, its events channel
	mu   sync.Mutex
	acc  *accumulator
	done bool
	// events is set once the events channel has been wrapped; stop is
	// closed when the stream finishes, releasing the forwarding goroutine
	// when the program stopped reading (break, then Close).
	events atomic.Bool
	stop   chan struct{}
	// current is the stream's Current method (sse kind), looked up once.
	current reflect.Value
}

var (
	streams     sync.Map // unsafe.Pointer -> *streamState
	streamCount atomic.Int64
)

// track registers the stream object s (or, for the events kind, the stream
// its accessor returns) so the stream wrappers can find the call. It
// reports false when s cannot be followed; the caller then ends the call.
func track(c *Call, spec *Spec, s any) bool {
	if isNil(s) {
		return false
	}
	return register(&streamState{call: c, spec: spec, src: s, acc: newAccumulator(c, spec), stop: make(chan struct{})}, s)
}

// trackRun registers the stream object s a framework run returned (a rule
// with span and stream): end ends the run's span when the stream is
// drained, fails or is closed, or at Shutdown (abandoned). It reports false
// when s cannot be followed; the caller then ends the run.
func trackRun(spec *Spec, s any, end func(err error, abandoned bool)) bool {
	if isNil(s) {
		return false
	}
	return register(&streamState{run: end, spec: spec, src: s, stop: make(chan struct{})}, s)
}

// register finds the keys of the stream object s and stores st under them.
func register(st *streamState, s any) bool {
	ok := false
	safely(func() {
		v := reflect.ValueOf(s)
		if st.spec.Stream == StreamKindEvents {
			m := v.MethodByName(st.spec.Accessor)
			if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
				return
			}
			v = m.Call(nil)[0]
			if v.Kind() != reflect.Pointer || v.IsNil() {
				return
			}
			st.src = v.Interface()
			ev := v.MethodByName("Events")
			if !ev.IsValid() || ev.Type().NumIn() != 0 || ev.Type().NumOut() != 1 {
				return
			}
			ch := ev.Call(nil)[0]
			if ch.Kind() != reflect.Chan || ch.IsNil() {
				return
			}
			st.keys = append(st.keys, ch.UnsafePointer())
		}
		if v.Kind() != reflect.Pointer {
			return
		}
		st.keys = append(st.keys, v.UnsafePointer())
		if cur := v.MethodByName("Current"); cur.IsValid() && cur.Type().NumIn() == 0 && cur.Type().NumOut() == 1 {
			st.current = cur
		}
		// Methods promoted from an embedded pointer (go-openai's
		// *streamReader) bind that pointer, not the outer one.
		if e := v.Elem(); e.Kind() == reflect.Struct {
			for i := 0; i < e.NumField(); i++ {
				if f := e.Type().Field(i); f.Anonymous && f.Type.Kind() == reflect.Pointer && !e.Field(i).IsNil() {
					st.keys = append(st.keys, e.Field(i).UnsafePointer())
				}
			}
		}
		ok = true
	})
	if !ok {
		return false
	}
	if streamCount.Add(1) > maxStreams {
		streamCount.Add(-1)
		if st.call != nil {
			st.call.SetAttr(AttrStreamAbandoned, true)
		}
		return false
	}
	for _, k := range st.keys {
		streams.Store(k, st)
	}
	return true
}

func lookupStream(key unsafe.Pointer) *streamState {
	if key == nil {
		return nil
	}
	v, ok := streams.Load(key)
	if !ok {
		return nil
	}
	return v.(*streamState)
}

// claimEvents reports whether the caller is the first to wrap the events
// channel (a second Events() call gets the SDK's channel unchanged).
func (st *streamState) claimEvents() bool { return st.events.CompareAndSwap(false, true) }

// element records one stream element.
func (st *streamState) element(x any) {
	if st.call == nil {
		return // a run's stream: only its end counts
	}
	st.call.FirstChunk()
	st.mu.Lock()
	st.acc.add(x)
	st.mu.Unlock()
}

// finish ends the stream's call once.
func (st *streamState) finish(err error, abandoned bool) {
	st.mu.Lock()
	if st.done {
		st.mu.Unlock()
		return
	}
	st.done = true
	var resp Response
	if st.acc != nil {
		resp = st.acc.response()
	}
	close(st.stop)
	st.mu.Unlock()
	for _, k := range st.keys {
		streams.CompareAndDelete(k, st)
	}
	streamCount.Add(-1)
	if st.call == nil {
		st.run(err, abandoned)
		return
	}
	st.call.SetResponse(resp)
	noteMissingUsage(st.call, st.spec, st.acc)
	if abandoned {
		st.call.SetAttr(AttrStreamAbandoned, true)
	}
	st.call.End(err)
}

func noteMissingUsage(c *Call, spec *Spec, acc *accumulator) {
	if spec.MissingUsage != "" && acc.in == 0 && acc.out == 0 {
		c.SetAttr(AttrUsageMissing, spec.MissingUsage)
	}
}

// StreamNext wraps a stream's Next() bool (openai-go and anthropic
// ssestream.Stream), called as StreamNext(st.Next): each true reads
// Current(), false ends the span with the stream's Err().
func StreamNext(next func() bool) bool {
	ok := next()
	st := lookupStream(methodRecv(next))
	if st == nil {
		return ok
	}
	if ok {
		if st.current.IsValid() {
			safely(func() { st.element(st.current.Call(nil)[0].Interface()) })
		}
		return ok
	}
	st.finish(streamErr(st.src), false)
	return ok
}

// StreamRecv wraps a stream's Recv() (T, error) (go-openai), called as
// StreamRecv(stream.Recv): io.EOF ends the span normally, another error
// ends it failed.
func StreamRecv[T any](recv func() (T, error)) (T, error) {
	v, err := recv()
	st := lookupStream(methodRecv(recv))
	if st == nil {
		return v, err
	}
	switch {
	case err == nil:
		st.element(v)
	case errors.Is(err, io.EOF):
		st.finish(nil, false)
	default:
		st.finish(err, false)
	}
	return v, err
}

// StreamClose wraps a stream's Close() error, called as
// StreamClose(stream.Close): closing ends the span (an early close is not
// an error of the call).
func StreamClose(close func() error) error {
	err := close()
	if st := lookupStream(methodRecv(close)); st != nil {
		st.finish(nil, false)
	}
	return err
}

// StreamCloseNoErr is StreamClose for a Close() that returns nothing
// (eino's schema.StreamReader), called as StreamCloseNoErr(stream.Close).
func StreamCloseNoErr(close func()) {
	close()
	if st := lookupStream(methodRecv(close)); st != nil {
		st.finish(nil, false)
	}
}

// StreamEvents wraps a stream's Events() <-chan T (Bedrock ConverseStream),
// called as StreamEvents(out.GetStream().Events): the returned channel
// carries the same events, and the span ends when the SDK closes the
// channel, with the stream's Err().
func StreamEvents[T any](events func() <-chan T) <-chan T {
	ch := events()
	if ch == nil {
		return ch
	}
	st := lookupStream(reflect.ValueOf(ch).UnsafePointer())
	if st == nil || !st.claimEvents() {
		return ch
	}
	out := make(chan T)
	go func() {
		defer close(out)
		for v := range ch {
			st.element(v)
			select {
			case out <- v:
			case <-st.stop:
				return // closed early: nobody reads out any more
			}
		}
		st.finish(streamErr(st.src), false)
	}()
	return out
}

func streamErr(s any) error {
	var err error
	safely(func() {
		if e, ok := s.(interface{ Err() error }); ok {
			err = e.Err()
		}
	})
	return err
}

// methodRecv returns the receiver bound in a method value such as st.Next
// (a pointer receiver, as the rules package guarantees). The gc compiler
// lays a method value out as a closure {code pointer, receiver}; the
// pointer is only used as a lookup key, never dereferenced, so a different
// layout makes lookups miss (the span then ends at Shutdown) and nothing
// worse. Tested for plain, generic and promoted methods.
func methodRecv[F any](f F) unsafe.Pointer {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&f))
	if p == nil {
		return nil
	}
	return (*[2]unsafe.Pointer)(p)[1]
}

// Shutdown ends the spans of streams that were never drained or closed in
// instrumented code, marking them tracegen.stream.abandoned. The runtime
// calls it before its final flush.
func Shutdown() {
	streams.Range(func(k, v any) bool {
		v.(*streamState).finish(nil, true)
		return true
	})
}
