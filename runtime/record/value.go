package record

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// ValueKind tells which field of a [Value] is set.
type ValueKind uint8

// Value kinds. KindAny covers slices, maps and every other Go value.
const (
	ValueString ValueKind = iota
	ValueInt64
	ValueFloat64
	ValueBool
	ValueAny
)

// Value is an attribute value. Scalars are stored unboxed, so building a
// Value from a string, integer, float or bool does not allocate; a Value is
// three words (like log/slog's: the number or string length in num, the
// kind, string data or other value in any).
type Value struct {
	num uint64
	any any
}

// kindTag in Value.any marks an int64, float64 or bool held in num.
type kindTag ValueKind

// stringptr in Value.any points to string data of length num.
type stringptr *byte

// StringValue returns a Value holding s.
func StringValue(s string) Value {
	return Value{num: uint64(len(s)), any: stringptr(unsafe.StringData(s))}
}

// Int64Value returns a Value holding n.
func Int64Value(n int64) Value { return Value{num: uint64(n), any: kindTag(ValueInt64)} }

// Float64Value returns a Value holding f.
func Float64Value(f float64) Value {
	return Value{num: math.Float64bits(f), any: kindTag(ValueFloat64)}
}

// BoolValue returns a Value holding b.
func BoolValue(b bool) Value {
	var n uint64
	if b {
		n = 1
	}
	return Value{num: n, any: kindTag(ValueBool)}
}

// AnyValue returns a Value for v, unboxing strings, integers, floats and
// bools; everything else (slices, maps, structs, errors, Stringers) is kept
// as is and encoded by the exporter.
func AnyValue(v any) Value {
	switch x := v.(type) {
	case string:
		return StringValue(x)
	case int:
		return Int64Value(int64(x))
	case int64:
		return Int64Value(x)
	case int32:
		return Int64Value(int64(x))
	case int16:
		return Int64Value(int64(x))
	case int8:
		return Int64Value(int64(x))
	case uint:
		return Int64Value(int64(x))
	case uint64:
		return Int64Value(int64(x))
	case uint32:
		return Int64Value(int64(x))
	case uint16:
		return Int64Value(int64(x))
	case uint8:
		return Int64Value(int64(x))
	case float64:
		return Float64Value(x)
	case float32:
		return Float64Value(float64(x))
	case bool:
		return BoolValue(x)
	case Value:
		return x
	case error:
		return StringValue(x.Error())
	default:
		return Value{any: v}
	}
}

// Kind returns the kind of v.
func (v Value) Kind() ValueKind {
	switch x := v.any.(type) {
	case stringptr:
		return ValueString
	case kindTag:
		return ValueKind(x)
	default:
		return ValueAny
	}
}

func (v Value) str() string {
	return unsafe.String((*byte)(v.any.(stringptr)), int(v.num))
}

// Str returns the string held by v, or "" when v is not a string.
func (v Value) Str() string {
	if v.Kind() != ValueString {
		return ""
	}
	return v.str()
}

// StrLen returns the length of the string held by v, or 0 when v is not a
// string; cheaper than len(v.Str()).
func (v Value) StrLen() int {
	if _, ok := v.any.(stringptr); ok {
		return int(v.num)
	}
	return 0
}

// Int64 returns the integer held by v, or 0.
func (v Value) Int64() int64 {
	if v.Kind() != ValueInt64 {
		return 0
	}
	return int64(v.num)
}

// Float64 returns the float held by v, or 0.
func (v Value) Float64() float64 {
	if v.Kind() != ValueFloat64 {
		return 0
	}
	return math.Float64frombits(v.num)
}

// Bool returns the bool held by v, or false.
func (v Value) Bool() bool { return v.Kind() == ValueBool && v.num == 1 }

// Any returns v as a plain Go value (string, int64, float64, bool or the
// original value).
func (v Value) Any() any {
	switch v.Kind() {
	case ValueString:
		return v.str()
	case ValueInt64:
		return int64(v.num)
	case ValueFloat64:
		return math.Float64frombits(v.num)
	case ValueBool:
		return v.num == 1
	default:
		return v.any
	}
}

// String formats v for humans: strings as is, other values with fmt.
func (v Value) String() string {
	switch v.Kind() {
	case ValueString:
		return v.str()
	case ValueInt64:
		return strconv.FormatInt(int64(v.num), 10)
	case ValueFloat64:
		return strconv.FormatFloat(math.Float64frombits(v.num), 'g', -1, 64)
	case ValueBool:
		return strconv.FormatBool(v.num == 1)
	default:
		if v.any == nil {
			return "<nil>"
		}
		return fmt.Sprint(v.any)
	}
}

// Equal reports whether v and w hold the same value. Values of kind
// ValueAny compare by their fmt representation.
func (v Value) Equal(w Value) bool {
	k := v.Kind()
	if k != w.Kind() {
		return false
	}
	switch k {
	case ValueString:
		return v.str() == w.str()
	case ValueAny:
		return v.String() == w.String()
	default:
		return v.num == w.num
	}
}

// WithString returns v with its string replaced by f(string) when v holds a
// string; other kinds are returned unchanged. It is how redaction reaches
// attribute values.
func (v Value) WithString(f func(string) string) Value {
	if v.Kind() == ValueString {
		return StringValue(f(v.str()))
	}
	return v
}

// Attr is a key/value pair.
type Attr struct {
	Key   string
	Value Value
}

// String returns an Attr holding a string.
func String(key, value string) Attr { return Attr{key, StringValue(value)} }

// Int returns an Attr holding an int.
func Int(key string, value int) Attr { return Attr{key, Int64Value(int64(value))} }

// Int64 returns an Attr holding an int64.
func Int64(key string, value int64) Attr { return Attr{key, Int64Value(value)} }

// Float64 returns an Attr holding a float64.
func Float64(key string, value float64) Attr { return Attr{key, Float64Value(value)} }

// Bool returns an Attr holding a bool.
func Bool(key string, value bool) Attr { return Attr{key, BoolValue(value)} }

// Any returns an Attr for any value; see [AnyValue].
func Any(key string, value any) Attr { return Attr{key, AnyValue(value)} }
