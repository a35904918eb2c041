package genai

import (
	"errors"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
)

// maxStreams bounds the streams followed at once; beyond it a new stream's
// span ends at once with tracegen.stream.abandoned, keeping memory bounded
// when a program leaks streams.
const maxStreams = 4096

// streamState is one followed stream: its call and what its elements said.
type streamState struct {
	call *Call
	spec *Spec
	src  any // the stream object (for Err on the events kind)
	mu   sync.Mutex
	acc  *accumulator
	done bool
}

var (
	streams     sync.Map // stream object (pointer or channel) -> *streamState
	streamCount atomic.Int64
)

// track registers the stream object s (or, for the events kind, the stream
// its accessor returns) so the stream wrappers can find the call. It
// reports false when s cannot be followed; the caller then ends the call.
func track(c *Call, spec *Spec, s any) bool {
	if isNil(s) {
		return false
	}
	st := &streamState{call: c, spec: spec, src: s, acc: newAccumulator(c, spec)}
	key := s
	if spec.Stream == StreamKindEvents {
		ok := false
		safely(func() {
			m := reflect.ValueOf(s).MethodByName(spec.Accessor)
			if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
				return
			}
			stream := m.Call(nil)[0]
			if isNil(stream.Interface()) {
				return
			}
			ev := stream.MethodByName("Events")
			if !ev.IsValid() || ev.Type().NumIn() != 0 || ev.Type().NumOut() != 1 {
				return
			}
			ch := ev.Call(nil)[0]
			if ch.Kind() != reflect.Chan {
				return
			}
			st.src = stream.Interface()
			key = ch.Interface()
			ok = true
		})
		if !ok {
			return false
		}
	}
	if streamCount.Add(1) > maxStreams {
		streamCount.Add(-1)
		c.SetAttr(AttrStreamAbandoned, true)
		return false
	}
	streams.Store(key, st)
	return true
}

func lookupStream(key any) *streamState {
	if isNil(key) {
		return nil
	}
	v, ok := streams.Load(key)
	if !ok {
		return nil
	}
	return v.(*streamState)
}

// element records one stream element.
func (st *streamState) element(x any) {
	st.call.FirstChunk()
	st.mu.Lock()
	st.acc.add(x)
	st.mu.Unlock()
}

// finish ends the stream's call once.
func (st *streamState) finish(key any, err error, abandoned bool) {
	st.mu.Lock()
	if st.done {
		st.mu.Unlock()
		return
	}
	st.done = true
	resp := st.acc.response()
	st.mu.Unlock()
	if _, loaded := streams.LoadAndDelete(key); loaded {
		streamCount.Add(-1)
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
// ssestream.Stream): each true reads Current(), false ends the span with
// the stream's Err().
func StreamNext[S any](s S, next func() bool) bool {
	ok := next()
	st := lookupStream(s)
	if st == nil {
		return ok
	}
	if ok {
		safely(func() {
			if cur := reflect.ValueOf(s).MethodByName("Current"); cur.IsValid() && cur.Type().NumIn() == 0 && cur.Type().NumOut() == 1 {
				st.element(cur.Call(nil)[0].Interface())
			}
		})
		return ok
	}
	st.finish(s, streamErr(s), false)
	return ok
}

// StreamRecv wraps a stream's Recv() (T, error) (go-openai): io.EOF ends the
// span normally, another error ends it failed.
func StreamRecv[S, T any](s S, recv func() (T, error)) (T, error) {
	v, err := recv()
	st := lookupStream(s)
	if st == nil {
		return v, err
	}
	switch {
	case err == nil:
		st.element(v)
	case errors.Is(err, io.EOF):
		st.finish(s, nil, false)
	default:
		st.finish(s, err, false)
	}
	return v, err
}

// StreamClose wraps a stream's Close() error: closing ends the span (early
// close is not an error of the call).
func StreamClose[S any](s S, close func() error) error {
	err := close()
	if st := lookupStream(s); st != nil {
		st.finish(s, nil, false)
	}
	return err
}

// StreamEvents wraps a stream's Events() <-chan T (Bedrock ConverseStream):
// the returned channel carries the same events, and the span ends when the
// SDK closes the channel, with the stream's Err().
func StreamEvents[T any](events func() <-chan T) <-chan T {
	ch := events()
	st := lookupStream(ch)
	if st == nil {
		return ch
	}
	out := make(chan T)
	go func() {
		defer close(out)
		for v := range ch {
			st.element(v)
			out <- v
		}
		st.finish(ch, streamErr(st.src), false)
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

// Shutdown ends the spans of streams that were never drained or closed in
// instrumented code, marking them tracegen.stream.abandoned. The runtime
// calls it before its final flush.
func Shutdown() {
	streams.Range(func(k, v any) bool {
		v.(*streamState).finish(k, nil, true)
		return true
	})
}
