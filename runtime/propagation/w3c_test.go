package propagation

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

const (
	tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	sid = "00f067aa0ba902b7"
)

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ok      bool
		sampled bool
	}{
		{"sampled", "00-" + tid + "-" + sid + "-01", true, true},
		{"not sampled", "00-" + tid + "-" + sid + "-00", true, false},
		{"other flags, sampled", "00-" + tid + "-" + sid + "-03", true, true},
		{"other flags, not sampled", "00-" + tid + "-" + sid + "-02", true, false},
		{"later version", "01-" + tid + "-" + sid + "-01", true, true},
		{"later version with a field more", "cc-" + tid + "-" + sid + "-01-what-the-future-holds", true, true},
		{"later version, no dash after flags", "01-" + tid + "-" + sid + "-01x", false, false},
		{"version ff", "ff-" + tid + "-" + sid + "-01", false, false},
		{"version 00 with a field more", "00-" + tid + "-" + sid + "-01-extra", false, false},
		{"version not hex", "0g-" + tid + "-" + sid + "-01", false, false},
		{"upper-case version", "0A-" + tid + "-" + sid + "-01", false, false},
		{"upper-case trace id", "00-" + strings.ToUpper(tid) + "-" + sid + "-01", false, false},
		{"upper-case flags", "00-" + tid + "-" + sid + "-0A", false, false},
		{"flags not hex", "00-" + tid + "-" + sid + "-0x", false, false},
		{"zero trace id", "00-" + strings.Repeat("0", 32) + "-" + sid + "-01", false, false},
		{"zero parent id", "00-" + tid + "-" + strings.Repeat("0", 16) + "-01", false, false},
		{"short trace id", "00-" + tid[:31] + "-" + sid + "-01", false, false},
		{"wrong separator", "00_" + tid + "-" + sid + "-01", false, false},
		{"empty", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTraceparent(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseTraceparent(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrTraceparent) {
					t.Errorf("error %v does not wrap ErrTraceparent", err)
				}
				return
			}
			if got.TraceID.String() != tid || got.SpanID.String() != sid || got.Sampled != tc.sampled {
				t.Errorf("got %s %s sampled=%v, want %s %s %v", got.TraceID, got.SpanID, got.Sampled, tid, sid, tc.sampled)
			}
		})
	}
}

func TestTraceparentFormat(t *testing.T) {
	tc := TraceContext{TraceID: record.TraceID{0x4b, 0xf9, 15: 0x36}, SpanID: record.SpanID{0, 0xf0, 7: 0xb7}}
	for _, sampled := range []bool{false, true} {
		tc.Sampled = sampled
		s := tc.Traceparent()
		back, err := ParseTraceparent(s)
		if err != nil || back != tc {
			t.Errorf("%q parses to %+v, %v; want %+v", s, back, err, tc)
		}
	}
	if got := tc.Traceparent(); got != "00-4bf90000000000000000000000000036-00f00000000000b7-01" {
		t.Errorf("Traceparent() = %q", got)
	}
}

func TestParseTraceState(t *testing.T) {
	// n members of size characters each, keys starting with prefix.
	members := func(prefix string, n, size int) []string {
		var out []string
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("%s%02d", prefix, i)
			out = append(out, k+"="+strings.Repeat("v", size-len(k)-1))
		}
		return out
	}
	long := members("l", 5, 200)  // five members over 128 characters
	short := members("s", 30, 20) // 30×20+29 = 629 characters: 24 fit in 512
	mixed := append(append([]string{}, short[:3]...), long...)
	tests := []struct {
		name, in, want string
	}{
		{"one", "congo=t61rcWkgMzE", "congo=t61rcWkgMzE"},
		{"two, optional white space", " rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE ", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
		{"empty members", "a=1,,  ,b=2", "a=1,b=2"},
		{"multi-tenant key", "fw529a3039@dt=abc,7y@x=1", "fw529a3039@dt=abc,7y@x=1"},
		{"key characters", "a_-*/0=v", "a_-*/0=v"},
		{"value with spaces inside", "a=x y", "a=x y"},
		{"repeated key", "a=1,b=2,a=3", ""},
		{"upper-case key", "Abc=1", ""},
		{"key starting with a digit", "1abc=1", ""},
		{"system id too long", "t@" + strings.Repeat("s", 15) + "=1", ""},
		{"two @", "a@b@c=1", ""},
		{"value with =", "a=b=c", ""},
		{"value ending in a space", "a=b ,c=d", "a=b,c=d"}, // the space is optional white space
		{"empty value", "a=", ""},
		{"no =", "abc", ""},
		{"control character", "a=b\x01", ""},
		{"value of 257 characters", "a=" + strings.Repeat("v", 257), ""},
		{"32 members", strings.Join(members("k", 32, 5), ","), strings.Join(members("k", 32, 5), ",")},
		{"33 members", strings.Join(members("k", 33, 5), ","), ""},
		{"over 512: long members go first", strings.Join(mixed, ","), strings.Join(short[:3], ",")},
		{"over 512: then from the end", strings.Join(short, ","), strings.Join(short[:24], ",")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseTraceState(tc.in); got != tc.want {
				t.Errorf("ParseTraceState(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
			if got := ParseTraceState(tc.in); len(got) > MaxTraceStateLen {
				t.Errorf("%d characters, over the limit", len(got))
			}
		})
	}
}

func TestParseBaggage(t *testing.T) {
	many := strings.Repeat("k=v,", MaxBaggageMembers) + "k=v"
	tests := []struct{ name, in, want string }{
		{"members with properties", "userId=alice,serverNode=DF%2028;p=1", "userId=alice,serverNode=DF%2028;p=1"},
		{"white space trimmed", "  a=1 ", "a=1"},
		{"no key", "=1", ""},
		{"no =", "a", ""},
		{"too many members", many, ""},
		{"too long", "a=" + strings.Repeat("x", MaxBaggageLen), ""},
		{"not ASCII", "a=é", ""},
	}
	for _, tc := range tests {
		if got := ParseBaggage(tc.in); got != tc.want {
			t.Errorf("%s: ParseBaggage(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestExtract(t *testing.T) {
	tp := "00-" + tid + "-" + sid + "-01"
	tests := []struct {
		name   string
		h      http.Header
		ok     bool
		state  string
		bagage string
	}{
		{"traceparent only", http.Header{"Traceparent": {tp}}, true, "", ""},
		{"with state and baggage", http.Header{"Traceparent": {tp}, "Tracestate": {"a=1", "b=2"}, "Baggage": {"u=1", "v=2"}}, true, "a=1,b=2", "u=1,v=2"},
		{"bad state dropped, trace kept", http.Header{"Traceparent": {tp}, "Tracestate": {"a=1,a=2"}}, true, "", ""},
		{"two traceparents", http.Header{"Traceparent": {tp, tp}}, false, "", ""},
		{"invalid traceparent", http.Header{"Traceparent": {"ff" + tp[2:]}, "Tracestate": {"a=1"}}, false, "", ""},
		{"none", http.Header{"Tracestate": {"a=1"}}, false, "", ""},
	}
	for _, tc := range tests {
		got, ok := Extract(tc.h)
		if ok != tc.ok || got.TraceState != tc.state || got.Baggage != tc.bagage {
			t.Errorf("%s: Extract = %+v, %v; want ok=%v state %q baggage %q", tc.name, got, ok, tc.ok, tc.state, tc.bagage)
		}
		if ok && (got.TraceID.String() != tid || got.SpanID.String() != sid || !got.Sampled) {
			t.Errorf("%s: ids %s %s", tc.name, got.TraceID, got.SpanID)
		}
	}
}
