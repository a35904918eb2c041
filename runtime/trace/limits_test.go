package trace

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestLimitsFromEnv(t *testing.T) {
	none := -1
	tests := []struct {
		name string
		env  map[string]string
		want SpanLimits
		logs int
	}{
		{"defaults", nil, SpanLimits{128, none, 128, 128, 64 << 10}, 0},
		{"general count applies to spans and events", map[string]string{"OTEL_ATTRIBUTE_COUNT_LIMIT": "10"},
			SpanLimits{10, none, 128, 10, 64 << 10}, 0},
		{"span and event forms win", map[string]string{
			"OTEL_ATTRIBUTE_COUNT_LIMIT": "10", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "20", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "3",
			"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "50", "OTEL_SPAN_EVENT_COUNT_LIMIT": "7",
		}, SpanLimits{20, 50, 7, 3, 64 << 10}, 0},
		{"general value length", map[string]string{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100"},
			SpanLimits{128, 100, 128, 128, 64 << 10}, 0},
		{"zero counts are limits", map[string]string{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "0"},
			SpanLimits{0, none, 128, 128, 64 << 10}, 0},
		{"content limit off", map[string]string{"TRACEGEN_CONTENT_LIMIT": "0"},
			SpanLimits{128, none, 128, 128, none}, 0},
		{"content limit", map[string]string{"TRACEGEN_CONTENT_LIMIT": "1000"},
			SpanLimits{128, none, 128, 128, 1000}, 0},
		{"bad values keep defaults", map[string]string{"OTEL_SPAN_EVENT_COUNT_LIMIT": "-3", "TRACEGEN_CONTENT_LIMIT": "64k"},
			SpanLimits{128, none, 128, 128, 64 << 10}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs []string
			l := limitsFromEnv(func(k string) string { return tt.env[k] }, func(err error) {
				logs = append(logs, err.Error())
			})
			if got := l.public(); got != tt.want {
				t.Errorf("limits = %+v, want %+v", got, tt.want)
			}
			if len(logs) != tt.logs {
				t.Errorf("%d log lines, want %d: %q", len(logs), tt.logs, logs)
			}
			for _, line := range logs {
				if !strings.Contains(line, "_LIMIT=") {
					t.Errorf("log line %q does not name the variable", line)
				}
			}
		})
	}
}

func TestLimitsOverride(t *testing.T) {
	l := defaultLimits
	l.override(SpanLimits{AttributeCount: 5, AttributeValueLength: 10, ContentLength: -1})
	want := SpanLimits{5, 10, 128, 128, -1}
	if got := l.public(); got != want {
		t.Errorf("limits = %+v, want %+v", got, want)
	}
}

func TestCountLimits(t *testing.T) {
	mem := setup(t, Config{Limits: SpanLimits{AttributeCount: 3, EventCount: 2, EventAttributeCount: 1}})
	before := ReadStats()
	s := Begin("s", WithAttributes(record.Int("a", 1), record.Int("b", 2), record.Int("c", 3), record.Int("d", 4)))
	s.SetAttr("a", 10) // an existing key is replaced, even at the limit
	s.SetAttr("e", 5)
	s.AddEvent("one", record.Int("x", 1), record.Int("y", 2))
	s.AddEvent("two")
	s.AddEvent("three")
	s.RecordInput("i1", 1, "i2", 2, "i3", 3, "i4", 4)
	s.End()
	r := finish(t, mem)["s"]
	if len(r.Attrs) != 3 || len(r.Events) != 2 || len(r.Input) != 3 {
		t.Fatalf("%d attributes, %d events, %d input entries; want 3, 2, 3", len(r.Attrs), len(r.Events), len(r.Input))
	}
	if v, _ := r.Lookup("a"); v.Int64() != 10 {
		t.Errorf("a = %v, want 10", v)
	}
	if len(r.Events[0].Attrs) != 1 || r.Events[0].Attrs[0].Key != "x" {
		t.Errorf("event attributes %v, want only x", r.Events[0].Attrs)
	}
	// d (start option), e, y, three, i4
	if got := ReadStats().Limited - before.Limited; got != 5 {
		t.Errorf("Limited counted %d, want 5", got)
	}
}

func TestValueLengthLimit(t *testing.T) {
	mem := setup(t, Config{Limits: SpanLimits{AttributeValueLength: 4}})
	root := Begin("root", WithInherited("team", "platform"))
	s := Begin("s", WithAttr("city", "Zürich!"), WithAttr("n", 123456))
	s.AddEvent("e", record.String("msg", "abcdefgh"))
	s.RecordInput("q", "ééééé")
	s.End()
	root.End()
	spans := finish(t, mem)
	r := spans["s"]
	checks := map[string]string{}
	v, _ := r.Lookup("city")
	checks["city"] = v.Str()
	v, _ = r.Lookup("team")
	checks["team"] = v.Str()
	checks["event msg"] = r.Events[0].Attrs[0].Value.Str()
	checks["input"] = r.Input[0].Value.Str()
	want := map[string]string{"city": "Züri", "team": "plat", "event msg": "abcd", "input": "éééé"}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %q, want %q", k, checks[k], w)
		}
	}
	if v, _ := r.Lookup("n"); v.Int64() != 123456 {
		t.Errorf("n = %v: numbers are not cut", v)
	}
	if v, _ := spans["root"].Lookup("team"); v.Str() != "plat" {
		t.Errorf("root's team = %q, want plat", v.Str())
	}
	if len(r.Input) != 1 {
		t.Errorf("input %v: the value length limit adds no markers", r.Input)
	}
}

type bigStruct struct {
	Prompt string
	Tags   []string
}

func TestContentLimit(t *testing.T) {
	const limit = 1000
	mem := setup(t, Config{Limits: SpanLimits{ContentLength: limit}})
	big := strings.Repeat("ab", 5000) + "é" // 10002 bytes, the cut falls inside no rune
	s := Begin("s", WithAttr("gen_ai.input.messages", big), WithAttr("other", big))
	s.RecordInput("prompt", big, "small", "hello", "doc", bigStruct{Prompt: big, Tags: []string{"x"}}, "n", 7)
	s.RecordOutput("answer", strings.Repeat("é", 600)) // 1200 bytes
	s.End()
	r := finish(t, mem)["s"]

	in := attrMap(r.Input)
	if got := in["prompt"].Str(); got != big[:limit] {
		t.Errorf("prompt cut to %d bytes, want %d", len(got), limit)
	}
	if !in["prompt"+TruncatedSuffix].Bool() || in["prompt"+OriginalLengthSuffix].Int64() != int64(len(big)) {
		t.Errorf("prompt markers: truncated=%v original_length=%v, want true and %d", in["prompt.truncated"], in["prompt.original_length"], len(big))
	}
	if in["small"].Str() != "hello" || in["n"].Int64() != 7 {
		t.Errorf("small values changed: %v %v", in["small"], in["n"])
	}
	if _, ok := in["small"+TruncatedSuffix]; ok {
		t.Error("small value marked as truncated")
	}
	doc := in["doc"].Str()
	if len(doc) != limit || !strings.HasPrefix(doc, `{"Prompt":"abab`) {
		t.Errorf("doc = %.40q… (%d bytes), want the first %d bytes of its JSON text", doc, len(doc), limit)
	}
	if n := in["doc"+OriginalLengthSuffix].Int64(); n < int64(len(big)) {
		t.Errorf("doc original length %d, want at least %d", n, len(big))
	}
	out := attrMap(r.Output)
	if a := out["answer"].Str(); len(a) != limit || !utf8.ValidString(a) {
		t.Errorf("answer cut to %d bytes (valid UTF-8: %t), want %d", len(a), utf8.ValidString(a), limit)
	}
	attrs := attrMap(r.Attrs)
	if len(attrs["gen_ai.input.messages"].Str()) != limit || attrs["gen_ai.input.messages"+OriginalLengthSuffix].Int64() != int64(len(big)) {
		t.Errorf("gen_ai.input.messages: %d bytes, markers %v", len(attrs["gen_ai.input.messages"].Str()), attrs["gen_ai.input.messages"+OriginalLengthSuffix])
	}
	if attrs["other"].Str() != big {
		t.Error("an attribute that is not content was cut by the content limit")
	}
}

func TestContentLimitOff(t *testing.T) {
	mem := setup(t, Config{Limits: SpanLimits{ContentLength: -1}})
	big := strings.Repeat("x", DefaultContentLimit+1)
	s := Begin("s")
	s.RecordInput("prompt", big)
	s.End()
	if r := finish(t, mem)["s"]; len(r.Input) != 1 || r.Input[0].Value.Str() != big {
		t.Errorf("input changed with the content limit off")
	}
}

func TestCutHelpers(t *testing.T) {
	tests := []struct {
		s     string
		n     int
		bytes string
		chars string
	}{
		{"hello", 10, "hello", "hello"},
		{"hello", 3, "hel", "hel"},
		{"héllo", 2, "h", "hé"},
		{"日本語", 4, "日", "日本語"},
		{"日本語", 1, "", "日"},
	}
	for _, tt := range tests {
		if got := cutBytes(tt.s, tt.n); got != tt.bytes {
			t.Errorf("cutBytes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.bytes)
		}
		if got, _ := cutChars(tt.s, tt.n); got != tt.chars {
			t.Errorf("cutChars(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.chars)
		}
	}
	if n := sizeAtLeast(reflect.ValueOf(map[string][]string{"k": {strings.Repeat("a", 100)}}), math.MaxInt, 0); n < 100 {
		t.Errorf("sizeAtLeast = %d, want at least 100", n)
	}
}

func attrMap(attrs []record.Attr) map[string]record.Value {
	m := map[string]record.Value{}
	for _, a := range attrs {
		m[a.Key] = a.Value
	}
	return m
}
