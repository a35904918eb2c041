package record

import (
	"encoding/json"
	"math"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// MarshalJSON returns the JSONL object of r (without the trailing newline).
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the JSON object of r to b and returns the extended
// buffer. The key order is fixed; see the package documentation.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"trace_id":"`...)
	b = appendHex(b, r.TraceID[:])
	b = append(b, `","span_id":"`...)
	b = appendHex(b, r.SpanID[:])
	b = append(b, `","parent_span_id":"`...)
	if r.ParentSpanID.IsValid() {
		b = appendHex(b, r.ParentSpanID[:])
	}
	b = append(b, `","name":`...)
	b = AppendString(b, r.Name)
	b = append(b, `,"kind":"`...)
	b = append(b, r.Kind.String()...)
	b = append(b, `","type":"`...)
	b = append(b, r.Type.String()...)
	b = append(b, `","start_time":"`...)
	b = appendTime(b, r.Start)
	b = append(b, `","end_time":"`...)
	if !r.Snapshot {
		b = appendTime(b, r.End)
	}
	b = append(b, `","duration_ms":`...)
	b = appendFloat(b, float64(r.Duration())/float64(time.Millisecond))
	b = append(b, `,"status":"`...)
	b = append(b, r.Status.String()...)
	b = append(b, `","status_message":`...)
	b = AppendString(b, r.StatusMsg)
	b = append(b, `,"attributes":`...)
	b = appendAttrObject(b, r.Inherited, r.Attrs)
	b = append(b, `,"resource":`...)
	b = appendResource(b, r.Resource)
	b = append(b, `,"events":[`...)
	for i, e := range r.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = AppendString(b, e.Name)
		b = append(b, `,"time":"`...)
		b = appendTime(b, e.Time)
		b = append(b, `","attributes":`...)
		b = appendAttrObject(b, e.Attrs, nil)
		b = append(b, '}')
	}
	b = append(b, ']')
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range r.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, t)
		}
		b = append(b, ']')
	}
	if len(r.Input) > 0 {
		b = append(b, `,"input":`...)
		b = appendAttrObject(b, r.Input, nil)
	}
	if len(r.Output) > 0 {
		b = append(b, `,"output":`...)
		b = appendAttrObject(b, r.Output, nil)
	}
	if r.Snapshot {
		b = append(b, `,"snapshot":true`...)
	}
	b = append(b, `,"impact":{"energy_kwh":`...)
	b = appendFloat(b, r.Impact.EnergyKWh)
	b = append(b, `,"co2e_g":`...)
	b = appendFloat(b, r.Impact.CO2eG)
	b = append(b, `,"water_l":`...)
	b = appendFloat(b, r.Impact.WaterL)
	b = append(b, `,"energy_source":`...)
	b = AppendString(b, r.Impact.EnergySource)
	if r.Impact.Joules != [NumEnergySources]float64{} {
		b = append(b, `,"energy_j":{`...)
		first := true
		for i, j := range r.Impact.Joules {
			if j == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, EnergySource(i).String()...)
			b = append(b, `":`...)
			b = appendFloat(b, j)
		}
		b = append(b, '}')
	}
	b = append(b, `}}`...)
	return b
}

// encodedResource is the JSON object of one resource slice, kept because
// every record of a process shares the same slice and it is the longest
// part of each line (about 500 bytes, a fifth of the encoding time of a
// span with few attributes).
type encodedResource struct {
	data *Attr // the slice's first element: its identity while the cache holds it
	n    int
	json []byte
}

var (
	resourceCache atomic.Pointer[encodedResource]
	// resourceMiss is the slice encoded at the last miss: a slice is cached
	// when it misses twice in a row, so records decoded one by one (each
	// with a slice of its own) do not copy theirs into the cache.
	resourceMiss atomic.Pointer[Attr]
)

// appendResource appends the JSON object of res, from the cache when res is
// the slice cached. The cache holds a pointer to the slice, so its memory is
// not reused for another slice while cached; Record.Resource says slices
// are not changed in place.
func appendResource(b []byte, res []Attr) []byte {
	if len(res) == 0 {
		return append(b, "{}"...)
	}
	p := unsafe.SliceData(res)
	if c := resourceCache.Load(); c != nil && c.data == p && c.n == len(res) {
		return append(b, c.json...)
	}
	start := len(b)
	b = appendAttrObject(b, res, nil)
	if resourceMiss.Swap(p) == p {
		resourceCache.Store(&encodedResource{data: p, n: len(res), json: append([]byte(nil), b[start:]...)})
	}
	return b
}

// appendAttrObject writes base then over as one JSON object; a key that
// appears more than once keeps its last value, at its first position.
func appendAttrObject(b []byte, base, over []Attr) []byte {
	b = append(b, '{')
	n := 0
	for i, a := range base {
		// Skip a key when a later attribute has the same key; the later one
		// wins. Attribute lists are short, so the quadratic scan is cheaper
		// than a map.
		if hasKey(base[i+1:], a.Key) || hasKey(over, a.Key) {
			continue
		}
		b = appendMember(b, n, a)
		n++
	}
	for i, a := range over {
		if hasKey(over[i+1:], a.Key) {
			continue
		}
		b = appendMember(b, n, a)
		n++
	}
	return append(b, '}')
}

func hasKey(attrs []Attr, key string) bool {
	for i := range attrs {
		if attrs[i].Key == key {
			return true
		}
	}
	return false
}

// appendMember appends "key":value, after a comma unless it is the
// object's first (n == 0).
func appendMember(b []byte, n int, a Attr) []byte {
	if n > 0 {
		b = append(b, ',')
	}
	b = AppendString(b, a.Key)
	b = append(b, ':')
	return AppendValue(b, a.Value)
}

// AppendValue appends the JSON form of v: strings, numbers and bools as
// such, other values through encoding/json (or their fmt form as a string
// when they cannot be marshalled). Non-finite floats become strings.
func AppendValue(b []byte, v Value) []byte {
	switch v.Kind() {
	case ValueString:
		return AppendString(b, v.str())
	case ValueInt64:
		return strconv.AppendInt(b, int64(v.num), 10)
	case ValueFloat64:
		return appendFloat(b, math.Float64frombits(v.num))
	case ValueBool:
		return strconv.AppendBool(b, v.num == 1)
	}
	if v.any == nil {
		return append(b, "null"...)
	}
	if s, ok := v.any.(interface{ String() string }); ok {
		if _, isJSON := v.any.(json.Marshaler); !isJSON {
			return AppendString(b, s.String())
		}
	}
	out, err := json.Marshal(v.any)
	if err != nil {
		return AppendString(b, v.String())
	}
	return append(b, out...)
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return AppendString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func appendHex(b []byte, src []byte) []byte {
	for _, c := range src {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// appendTime appends t in UTC as time.RFC3339Nano formats it (nanoseconds
// without trailing zeros, "Z"), writing the digits itself for years 0 to
// 9999, which is most of the JSON encoding's time otherwise.
func appendTime(b []byte, t time.Time) []byte {
	unix := t.Unix()
	if unix < 0 || unix >= maxUnix4 {
		return t.UTC().AppendFormat(b, time.RFC3339Nano)
	}
	days, secs := int(unix/86400), int(unix%86400)
	year, month, day := civil(days)
	var d [30]byte // 2006-01-02T15:04:05.999999999Z
	d[0], d[1], d[2], d[3] = byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10)
	d[4], d[7], d[10], d[13], d[16] = '-', '-', 'T', ':', ':'
	put2(d[5:], month)
	put2(d[8:], day)
	put2(d[11:], secs/3600)
	put2(d[14:], secs/60%60)
	put2(d[17:], secs%60)
	n := 19
	if ns := t.Nanosecond(); ns != 0 {
		d[19] = '.'
		for i := 28; i > 19; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n = 29
		for d[n-1] == '0' {
			n--
		}
	}
	d[n] = 'Z'
	return append(b, d[:n+1]...)
}

// maxUnix4 is 10000-01-01T00:00:00Z: appendTime writes the times from 1970
// up to it itself.
const maxUnix4 = 253402300800

// civil returns the date of the day days after 1970-01-01 (days >= 0), by
// Howard Hinnant's days-to-civil algorithm.
func civil(days int) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// put2 writes n, 0 to 99, as two digits.
func put2(d []byte, n int) {
	d[0], d[1] = byte('0'+n/10), byte('0'+n%10)
}

// plainASCII[c] is true for the bytes AppendString copies as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendString appends s as a JSON string, escaping quotes, backslashes,
// control characters and invalid UTF-8 (as U+FFFD). It also escapes <, >,
// & and U+2028/U+2029 like encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	// Most keys and values need no escape: copy them in one piece.
	i := 0
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	return appendEscaped(b, s, i)
}

// appendEscaped writes the rest of AppendString from s[i], the first
// byte that is not plain ASCII.
func appendEscaped(b []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
