package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func sample() *Record {
	start := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	return &Record{
		TraceID:      TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:       SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		ParentSpanID: SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		Name:         "agent.Ask",
		Kind:         KindClient,
		Type:         TypeLLM,
		Start:        start,
		End:          start.Add(1500 * time.Microsecond),
		Status:       StatusError,
		StatusMsg:    "rate \"limited\"",
		Inherited:    []Attr{String("session", "s1"), String("user", "u")},
		Attrs:        []Attr{Int("tokens", 12), String("user", "override"), Float64("temp", 0.5), Bool("stream", true), Any("stop", []string{"a"})},
		Tags:         []string{"prod"},
		Events:       []Event{{Name: "exception", Time: start, Attrs: []Attr{String("exception.message", "x")}}},
		Input:        []Attr{String("prompt", "hi <b>")},
		Resource:     []Attr{String("service.name", "svc")},
		Impact:       Impact{EnergyKWh: 1e-6, CO2eG: 0.5, WaterL: 0.001, EnergySource: "rapl", Joules: [NumEnergySources]float64{EnergyCPU: 3.6}},
	}
}

func TestAppendJSONGolden(t *testing.T) {
	got := string(sample().AppendJSON(nil))
	want := `{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","parent_span_id":"0102030405060708",` +
		`"name":"agent.Ask","kind":"client","type":"llm","start_time":"2026-11-23T09:00:00.123456789Z",` +
		`"end_time":"2026-11-23T09:00:00.124956789Z","duration_ms":1.5,"status":"error","status_message":"rate \"limited\"",` +
		`"attributes":{"session":"s1","tokens":12,"user":"override","temp":0.5,"stream":true,"stop":["a"]},` +
		`"resource":{"service.name":"svc"},"events":[{"name":"exception","time":"2026-11-23T09:00:00.123456789Z","attributes":{"exception.message":"x"}}],` +
		`"tags":["prod"],"input":{"prompt":"hi \u003cb\u003e"},` +
		`"impact":{"energy_kwh":1e-06,"co2e_g":0.5,"water_l":0.001,"energy_source":"rapl","energy_j":{"cpu":3.6}}}`
	if got != want {
		t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
	}
}

func TestJSONIsValidAndTyped(t *testing.T) {
	r := &Record{Name: "root", Start: time.Unix(0, 0), End: time.Unix(1, 0)}
	b, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	checks := map[string]any{
		"parent_span_id": "", "type": "", "status": "unset", "kind": "internal", "duration_ms": 1000.0,
		"span_id": "0000000000000000", "trace_id": strings.Repeat("0", 32),
	}
	for k, want := range checks {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	imp := m["impact"].(map[string]any)
	for _, k := range []string{"energy_kwh", "co2e_g", "water_l"} {
		if imp[k] != 0.0 {
			t.Errorf("impact.%s = %v, want 0", k, imp[k])
		}
	}
	if _, ok := m["events"].([]any); !ok {
		t.Errorf("events is %T, want an array", m["events"])
	}
	for _, k := range []string{"tags", "input", "output"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty %s should be omitted", k)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	tests := []string{"", "plain", "quote\"back\\slash", "ctl\x00\x01\x1f\n\r\t", "<html>&", "uni é ☃ 😀", "bad \xff utf8", "line\u2028sep\u2029", "\x7f"}
	for _, s := range tests {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "S" }

func TestValues(t *testing.T) {
	tests := []struct {
		in       any
		kind     ValueKind
		str, js  string
		wantBack any
	}{
		{"s", ValueString, "s", `"s"`, "s"},
		{42, ValueInt64, "42", "42", int64(42)},
		{uint8(7), ValueInt64, "7", "7", int64(7)},
		{1.25, ValueFloat64, "1.25", "1.25", 1.25},
		{float32(2), ValueFloat64, "2", "2", 2.0},
		{true, ValueBool, "true", "true", true},
		{errors.New("e"), ValueString, "e", `"e"`, "e"},
		{[]int{1, 2}, ValueAny, "[1 2]", "[1,2]", nil},
		{map[string]int{"a": 1}, ValueAny, "map[a:1]", `{"a":1}`, nil},
		{stringer{}, ValueAny, "S", `"S"`, nil},
		{nil, ValueAny, "<nil>", "null", nil},
		{math.Inf(1), ValueFloat64, "+Inf", `"+Inf"`, math.Inf(1)},
		{func() {}, ValueAny, "", "", nil},
	}
	for _, tc := range tests {
		v := AnyValue(tc.in)
		if v.Kind() != tc.kind {
			t.Errorf("AnyValue(%#v).Kind() = %d, want %d", tc.in, v.Kind(), tc.kind)
			continue
		}
		if tc.js == "" { // unencodable: falls back to a string, still valid JSON
			if b := AppendValue(nil, v); !json.Valid(b) {
				t.Errorf("AppendValue(func) = %s, not valid JSON", b)
			}
			continue
		}
		if v.String() != tc.str {
			t.Errorf("AnyValue(%#v).String() = %q, want %q", tc.in, v.String(), tc.str)
		}
		if b := string(AppendValue(nil, v)); b != tc.js {
			t.Errorf("AppendValue(%#v) = %s, want %s", tc.in, b, tc.js)
		}
		if tc.wantBack != nil && v.Any() != tc.wantBack {
			t.Errorf("AnyValue(%#v).Any() = %#v, want %#v", tc.in, v.Any(), tc.wantBack)
		}
	}
	if !StringValue("a").Equal(AnyValue("a")) || StringValue("1").Equal(Int64Value(1)) || Int64Value(1).Equal(Float64Value(1)) {
		t.Error("Equal compares kind and value")
	}
	if v := StringValue("abc").WithString(strings.ToUpper); v.Str() != "ABC" {
		t.Errorf("WithString: %q", v.Str())
	}
	if v := Int64Value(3).WithString(strings.ToUpper); v.Int64() != 3 {
		t.Error("WithString changed a non-string")
	}
}

func TestNames(t *testing.T) {
	if KindConsumer.String() != "consumer" || Kind(99).String() != "internal" || TypeTask.String() != "task" ||
		TypeNone.String() != "" || StatusOK.String() != "ok" || EnergyLLM.String() != "llm" {
		t.Error("enum names changed: they are part of the JSONL contract")
	}
}

func TestLookupOrder(t *testing.T) {
	r := sample()
	if v, _ := r.Lookup("user"); v.Str() != "override" {
		t.Errorf("own attribute must win over inherited, got %v", v)
	}
	if v, ok := r.Lookup("session"); !ok || v.Str() != "s1" {
		t.Error("inherited attribute not found")
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Error("missing key found")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	r := sample()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buf = r.AppendJSON(buf[:0])
	}
}

// FuzzAppendString checks that every string encodes to valid JSON that
// decodes back to the same text (invalid UTF-8 becoming U+FFFD, as with
// encoding/json).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff", "<&>", "\u2028", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: invalid JSON: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		if string(b) != string(want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json gives %s", s, b, want)
		}
	})
}

// FuzzRecordJSON checks that any names, keys and values give one valid
// JSON object per record.
func FuzzRecordJSON(f *testing.F) {
	f.Add("span", "k", "v", 1.5, int64(3))
	f.Add("", "", "\xff", math.NaN(), int64(-1))
	f.Fuzz(func(t *testing.T, name, key, val string, fl float64, n int64) {
		r := sample()
		r.Name = name
		r.Attrs = []Attr{String(key, val), Float64(key+"f", fl), Int64(key+"n", n), Any(key+"a", []string{val})}
		r.Events = []Event{{Name: val, Attrs: []Attr{String(key, val)}}}
		r.Impact.CO2eG = fl
		b := r.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			t.Fatalf("newline inside a JSONL record: %s", b)
		}
	})
}

// TestAppendTimeMatchesFormat: the hand-written RFC 3339 form is the one
// time.RFC3339Nano gives, in UTC, for every kind of time.
func TestAppendTimeMatchesFormat(t *testing.T) {
	times := []time.Time{
		{}, time.Unix(0, 0), time.Unix(0, 1), time.Unix(1, 100), time.Unix(1, 120000000),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", -7*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 5, time.UTC), time.Now(),
	}
	for i := range 1000 {
		times = append(times, time.Unix(int64(i)*9876543211, int64(i)*7919%1e9))
	}
	for _, tm := range times {
		want := tm.UTC().Format(time.RFC3339Nano)
		if got := string(appendTime(nil, tm)); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

// TestResourceCache: the cached encoding of a shared resource is the
// encoding of that slice and no other, whatever order slices come in: the
// same slice again and again, two slices taking turns, one of the same
// length, and slices that come once each (records decoded one by one).
func TestResourceCache(t *testing.T) {
	shared := []Attr{String("service.name", "svc"), Int("process.pid", 7)}
	other := []Attr{String("service.name", "other")}
	sameLen := []Attr{String("service.name", "svc2"), Int("process.pid", 8)}
	want := func(res []Attr) string { return string(appendAttrObject(nil, res, nil)) }
	encode := func(res []Attr) string {
		r := sample()
		r.Resource = res
		var got struct{ Resource json.RawMessage }
		if err := json.Unmarshal(r.AppendJSON(nil), &got); err != nil {
			t.Fatal(err)
		}
		return string(got.Resource)
	}
	seq := [][]Attr{shared, shared, shared, other, shared, other, other, sameLen, shared, nil, sameLen, sameLen, shared}
	for i := range 20 {
		seq = append(seq, []Attr{String("service.name", "decoded"), Int("n", i)}, shared)
	}
	for i, res := range seq {
		if got := encode(res); got != want(res) {
			t.Fatalf("record %d: resource %s, want %s", i, got, want(res))
		}
	}
	encode(shared)
	encode(shared)
	if c := resourceCache.Load(); c == nil || c.data != &shared[0] {
		t.Errorf("a slice met twice in a row is not cached")
	}
}
