package record

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
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
	b = appendAttrObject(b, r.Resource, nil)
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

// appendAttrObject writes base then over as one JSON object; a key that
// appears more than once keeps its last value, at its first position.
func appendAttrObject(b []byte, base, over []Attr) []byte {
	b = append(b, '{')
	n := 0
	all := func(i int) Attr {
		if i < len(base) {
			return base[i]
		}
		return over[i-len(base)]
	}
	total := len(base) + len(over)
	for i := 0; i < total; i++ {
		a := all(i)
		// Skip a key when a later attribute has the same key; the later one
		// wins. Attribute lists are short, so the quadratic scan is cheaper
		// than a map.
		dup := false
		for j := i + 1; j < total; j++ {
			if all(j).Key == a.Key {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = AppendString(b, a.Key)
		b = append(b, ':')
		b = AppendValue(b, a.Value)
	}
	return append(b, '}')
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

func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

// AppendString appends s as a JSON string, escaping quotes, backslashes,
// control characters and invalid UTF-8 (as U+FFFD). It also escapes <, >,
// & and U+2028/U+2029 like encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
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
