package propagation

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Header names, as W3C Trace Context and W3C Baggage define them.
const (
	TraceparentHeader = "traceparent"
	TracestateHeader  = "tracestate"
	BaggageHeader     = "baggage"
)

// Limits of the headers this package hands on.
const (
	// MaxTraceStateMembers is the most list-members a tracestate may hold;
	// one with more is dropped, as one with a malformed or repeated key is.
	MaxTraceStateMembers = 32
	// MaxTraceStateLen is the longest tracestate sent on: a longer one
	// loses its members over 128 characters, then members from its end.
	MaxTraceStateLen = 512
	// MaxBaggageLen and MaxBaggageMembers bound the baggage handed on (the
	// W3C Baggage limits); a larger baggage is dropped.
	MaxBaggageLen     = 8192
	MaxBaggageMembers = 180
)

// TraceContext is the trace a request belongs to: the W3C traceparent's
// ids and sampled flag, and the tracestate and baggage that travel with it.
type TraceContext struct {
	TraceID    record.TraceID
	SpanID     record.SpanID // the parent-id: the span that sent the request
	Sampled    bool
	TraceState string // a valid tracestate, or ""
	Baggage    string // the baggage header, or ""
}

// Valid reports whether both ids are set.
func (tc TraceContext) Valid() bool { return tc.TraceID.IsValid() && tc.SpanID.IsValid() }

// Traceparent formats the ids and flag as a version 00 traceparent.
func (tc TraceContext) Traceparent() string {
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tc.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], tc.SpanID[:])
	copy(b[52:], "-00")
	if tc.Sampled {
		b[54] = '1'
	}
	return string(b[:])
}

// ErrTraceparent is wrapped by the errors of ParseTraceparent.
var ErrTraceparent = errors.New("invalid traceparent")

// ParseTraceparent parses a traceparent header value. Version 00 must be
// exactly 55 characters; a later version may be longer, with a '-' after
// the flags, and is read as version 00 (its extra fields ignored). Version
// ff, upper-case hex and all-zero ids are invalid.
func ParseTraceparent(v string) (TraceContext, error) {
	bad := func(why string) (TraceContext, error) {
		return TraceContext{}, fmt.Errorf("%w %q: %s", ErrTraceparent, v, why)
	}
	if len(v) < 55 {
		return bad("shorter than 55 characters")
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return bad("fields not separated by '-'")
	}
	var ver, flags [1]byte
	if !lowerHex(ver[:], v[:2]) {
		return bad("version is not two lower-case hex digits")
	}
	switch {
	case ver[0] == 0xff:
		return bad("version ff")
	case ver[0] == 0 && len(v) != 55:
		return bad("version 00 longer than 55 characters")
	case len(v) > 55 && v[55] != '-':
		return bad("no '-' after the flags")
	}
	var tc TraceContext
	if !lowerHex(tc.TraceID[:], v[3:35]) || !lowerHex(tc.SpanID[:], v[36:52]) || !lowerHex(flags[:], v[53:55]) {
		return bad("ids and flags must be lower-case hex")
	}
	if !tc.TraceID.IsValid() {
		return bad("trace-id is all zeros")
	}
	if !tc.SpanID.IsValid() {
		return bad("parent-id is all zeros")
	}
	tc.Sampled = flags[0]&1 == 1
	return tc, nil
}

// lowerHex decodes s, lower-case hex digits only, into dst.
func lowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// ParseTraceState validates a tracestate (the values of every tracestate
// header joined with commas) and returns it normalised: members separated
// by single commas, empty members and optional white space removed, cut
// to MaxTraceStateLen. It returns "" for a tracestate with a malformed
// member, a repeated key or more than MaxTraceStateMembers members.
func ParseTraceState(v string) string {
	var members []string
	seen := map[string]bool{}
	for _, m := range strings.Split(v, ",") {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		key, val, ok := strings.Cut(m, "=")
		if !ok || !validKey(key) || !validValue(val) || seen[key] {
			return ""
		}
		seen[key] = true
		members = append(members, m)
	}
	if len(members) > MaxTraceStateMembers {
		return ""
	}
	return truncateTraceState(members)
}

// truncateTraceState joins members, dropping first those over 128
// characters and then the last ones until the result fits.
func truncateTraceState(members []string) string {
	n := len(members) - 1
	for _, m := range members {
		n += len(m)
	}
	if n > MaxTraceStateLen {
		kept := members[:0:0]
		for _, m := range members {
			if len(m) <= 128 {
				kept = append(kept, m)
			}
		}
		members = kept
		for n = len(members) - 1 + totalLen(members); n > MaxTraceStateLen; n = len(members) - 1 + totalLen(members) {
			members = members[:len(members)-1]
		}
	}
	return strings.Join(members, ",")
}

func totalLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

// validKey: simple-key = lcalpha 0*255(keychar), or tenant-id "@"
// system-id with tenant-id = (lcalpha / DIGIT) 0*240(keychar) and
// system-id = lcalpha 0*13(keychar).
func validKey(k string) bool {
	tenant, system, multi := strings.Cut(k, "@")
	if !multi {
		return len(k) <= 256 && isLCAlpha(k, 0) && keyChars(k[1:])
	}
	return len(tenant) >= 1 && len(tenant) <= 241 && (isLCAlpha(tenant, 0) || isDigit(tenant[0])) && keyChars(tenant[1:]) &&
		len(system) >= 1 && len(system) <= 14 && isLCAlpha(system, 0) && keyChars(system[1:])
}

func isLCAlpha(s string, i int) bool { return i < len(s) && s[i] >= 'a' && s[i] <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func keyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/') {
			return false
		}
	}
	return true
}

// validValue: 0*255(chr) nblk-chr, chr = %x20 / nblk-chr, nblk-chr =
// %x21-2B / %x2D-3C / %x3E-7E (printable ASCII but ',' and '=').
func validValue(v string) bool {
	if len(v) == 0 || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

// ParseBaggage returns the baggage to hand on (the values of every
// baggage header joined with commas), or "" when it exceeds the W3C
// Baggage limits or holds a member without a key.
func ParseBaggage(v string) string {
	v = strings.Trim(v, " \t")
	if v == "" || len(v) > MaxBaggageLen {
		return ""
	}
	members := strings.Split(v, ",")
	if len(members) > MaxBaggageMembers {
		return ""
	}
	for _, m := range members {
		key, _, ok := strings.Cut(m, "=")
		if !ok || strings.Trim(key, " \t") == "" {
			return ""
		}
		for i := 0; i < len(m); i++ {
			if m[i] < 0x20 || m[i] > 0x7e {
				return ""
			}
		}
	}
	return v
}
