package llmhttp

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzEventStream: any bytes, fed whole or one byte at a time, decode to
// the same messages and never panic.
func FuzzEventStream(f *testing.F) {
	f.Add(esEvent("metadata", `{"usage":{"inputTokens":1,"outputTokens":2}}`))
	f.Add(append(esEvent("a", "{}"), esFrame([][2]string{{":message-type", "exception"}}, "x")...))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		var whole, split esDecoder
		a := whole.feed(data)
		var b []esMessage
		for i := range data {
			b = append(b, split.feed(data[i:i+1])...)
		}
		if len(a) != len(b) {
			t.Fatalf("whole gave %d messages, split %d", len(a), len(b))
		}
		for i := range a {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Fatalf("message %d differs: %+v vs %+v", i, a[i], b[i])
			}
		}
	})
}

// FuzzStreamParse: any body, in any provider format and wire mode, parses
// without panicking, and the same bytes split differently give the same
// response.
func FuzzStreamParse(f *testing.F) {
	f.Add(uint8(0), []byte("data: {\"id\":\"x\",\"usage\":{\"prompt_tokens\":1}}\n\n"), uint8(3))
	f.Add(uint8(1), []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n"), uint8(1))
	f.Add(uint8(4), []byte("{\"done\":true,\"eval_count\":2}\n"), uint8(2))
	f.Add(uint8(2), []byte(`{"usageMetadata":{"promptTokenCount":8}}`), uint8(5))
	f.Fuzz(func(t *testing.T, fmtByte uint8, data []byte, chunk uint8) {
		run := func(step int) any {
			b := &bodyState{tg: target{format: format(fmtByte % 5), stream: true}, s: &fakeCall{}}
			b.acc.format = b.tg.format
			b.sse.emit = b.acc.event
			for i := 0; i < len(data); i += step {
				b.feed(data[i:min(len(data), i+step)])
			}
			b.finish(nil)
			r := b.s.(*fakeCall).resp
			return []any{r.ID, r.Model, r.InputTokens, r.OutputTokens, r.UsageKnown, r.FinishReasons}
		}
		step := int(chunk%16) + 1
		if a, b := run(len(data)+1), run(step); !reflect.DeepEqual(a, b) {
			// Mode detection looks at the first chunk only; a body whose
			// first bytes decide differently is not comparable.
			if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("data:")) == bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), step)], " \t\r\n"), []byte("data:")) &&
				len(bytes.TrimLeft(data[:min(len(data), step)], " \t\r\n")) >= 6 {
				t.Fatalf("whole %v, split by %d %v", a, step, b)
			}
		}
	})
}
