package trace

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Span limits. The counts are those of the OpenTelemetry SDKs (attribute
// limits and span limits of the specification, with their defaults); the
// content limit is tracegen's own, for captured input and output and the
// GenAI message attributes.
//
// Counts are checked where a value is added (SetAttr, AddEvent,
// RecordInput), one comparison each; lengths are checked once per span, by
// the batcher goroutine just before the span is exported, so neither costs
// the traced code anything more than it did. What a limit drops or cuts is
// counted in Stats.Limited.
const (
	DefaultAttributeCountLimit      = 128      // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT
	DefaultEventCountLimit          = 128      // OTEL_SPAN_EVENT_COUNT_LIMIT
	DefaultEventAttributeCountLimit = 128      // OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT
	DefaultContentLimit             = 64 << 10 // TRACEGEN_CONTENT_LIMIT, bytes
)

// MaxAttributes and MaxEvents are the default count limits, kept under
// their former names.
//
// Deprecated: use DefaultAttributeCountLimit and DefaultEventCountLimit;
// the limits in effect are those of Config.Limits and the environment.
const (
	MaxAttributes = DefaultAttributeCountLimit
	MaxEvents     = DefaultEventCountLimit
)

// Suffixes of the attributes that mark a value cut by the content limit:
// beside "prompt" (an input entry) come "prompt.truncated" = true and
// "prompt.original_length" = its length in bytes before the cut (for a
// value that is not a string, the length of its JSON text).
const (
	TruncatedSuffix      = ".truncated"
	OriginalLengthSuffix = ".original_length"
)

// contentAttrs are the attributes that hold captured content (the GenAI
// conventions' messages); the content limit applies to them as to input
// and output entries.
var contentAttrs = []string{
	"gen_ai.input.messages",
	"gen_ai.output.messages",
	"gen_ai.system_instructions",
	"gen_ai.tool.call.arguments",
	"gen_ai.tool.call.result",
}

// SpanLimits bound what one span holds. In Config, a zero field leaves
// the environment's value (or the default) in place and a negative one
// means no limit.
type SpanLimits struct {
	// AttributeCount is the most distinct attribute keys per span, and the
	// most input entries and output entries each.
	AttributeCount int
	// AttributeValueLength is the most characters of a string value
	// (attributes, event attributes, input and output); longer ones are
	// cut. No limit by default.
	AttributeValueLength int
	// EventCount is the most events per span.
	EventCount int
	// EventAttributeCount is the most attributes per event.
	EventAttributeCount int
	// ContentLength is the most bytes of one captured input or output
	// value or GenAI message attribute; a longer one is cut at a UTF-8
	// boundary and marked (TruncatedSuffix, OriginalLengthSuffix).
	ContentLength int
}

// limits are the resolved limits; math.MaxInt stands for "none".
type limits struct {
	attrs, valueLen, events, eventAttrs, content int
}

var defaultLimits = limits{
	attrs:      DefaultAttributeCountLimit,
	valueLen:   math.MaxInt,
	events:     DefaultEventCountLimit,
	eventAttrs: DefaultEventAttributeCountLimit,
	content:    DefaultContentLimit,
}

// limitsFromEnv reads the limit variables: the SPAN_ and EVENT_ forms win
// over the general OTEL_ATTRIBUTE_* ones, as the specification orders them.
// A bad value is reported and the default kept.
func limitsFromEnv(get func(string) string, report func(error)) limits {
	l := defaultLimits
	read := func(dst *int, zeroIsNone bool, names ...string) {
		for _, name := range names {
			v := get(name)
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				report(envErr(name, ErrInvalidValue, "%s=%q: want a non-negative integer; using the default", name, v))
				return
			}
			if n == 0 && zeroIsNone {
				n = math.MaxInt
			}
			*dst = n
			return
		}
	}
	read(&l.attrs, false, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")
	read(&l.valueLen, false, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
	read(&l.events, false, "OTEL_SPAN_EVENT_COUNT_LIMIT")
	read(&l.eventAttrs, false, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")
	read(&l.content, true, "TRACEGEN_CONTENT_LIMIT")
	return l
}

// override applies the non-zero fields of c.
func (l *limits) override(c SpanLimits) {
	set := func(dst *int, v int) {
		switch {
		case v < 0:
			*dst = math.MaxInt
		case v > 0:
			*dst = v
		}
	}
	set(&l.attrs, c.AttributeCount)
	set(&l.valueLen, c.AttributeValueLength)
	set(&l.events, c.EventCount)
	set(&l.eventAttrs, c.EventAttributeCount)
	set(&l.content, c.ContentLength)
}

// public returns l as SpanLimits, -1 for no limit.
func (l limits) public() SpanLimits {
	f := func(n int) int {
		if n == math.MaxInt {
			return -1
		}
		return n
	}
	return SpanLimits{f(l.attrs), f(l.valueLen), f(l.events), f(l.eventAttrs), f(l.content)}
}

// lengthCheck is what the batcher does with a record before export: it
// cuts string values past the value length limit and content past the
// content limit. It only reads lengths unless something is too long.
func (l *limits) lengthCheck(r *record.Record) {
	if l.valueLen != math.MaxInt {
		r.Attrs = l.cutValues(r.Attrs, false)
		if needsCut(r.Inherited, l.valueLen) {
			// Inherited attributes are shared with the span's relatives.
			r.Inherited = l.cutValues(slices.Clone(r.Inherited), false)
		}
		for i := range r.Events {
			if needsCut(r.Events[i].Attrs, l.valueLen) {
				r.Events[i].Attrs = l.cutValues(r.Events[i].Attrs, false)
			}
		}
	}
	if len(r.Input) > 0 {
		r.Input = l.cutValues(r.Input, true)
	}
	if len(r.Output) > 0 {
		r.Output = l.cutValues(r.Output, true)
	}
	if l.content != math.MaxInt && needsCut(r.Attrs, l.content) {
		r.Attrs = l.cutContentAttrs(r.Attrs)
	}
}

func needsCut(attrs []record.Attr, n int) bool {
	for i := range attrs {
		if attrs[i].Value.StrLen() > n {
			return true
		}
	}
	return false
}

// cutValues applies the value length limit to attrs and, when content is
// true, the content limit too (with its markers).
func (l *limits) cutValues(attrs []record.Attr, content bool) []record.Attr {
	n := len(attrs)
	for i := 0; i < n; i++ {
		a := &attrs[i]
		if content && l.content != math.MaxInt {
			if cut, orig, ok := cutContent(a.Value, l.content); ok {
				a.Value = cut
				attrs = appendMarkers(attrs, attrs[i].Key, orig)
				a = &attrs[i]
			}
		}
		if a.Value.StrLen() > l.valueLen {
			if s, ok := cutChars(a.Value.Str(), l.valueLen); ok {
				a.Value = record.StringValue(s)
				stats.limited.Add(1)
			}
		}
	}
	return attrs
}

// cutContentAttrs applies the content limit to the GenAI message
// attributes. Only strings longer than the limit are looked at by key.
func (l *limits) cutContentAttrs(attrs []record.Attr) []record.Attr {
	n := len(attrs)
	for i := 0; i < n; i++ {
		v := attrs[i].Value
		if v.StrLen() <= l.content || !slices.Contains(contentAttrs, attrs[i].Key) {
			continue
		}
		cut, orig, _ := cutContent(v, l.content)
		attrs[i].Value = cut
		attrs = appendMarkers(attrs, attrs[i].Key, orig)
	}
	return attrs
}

func appendMarkers(attrs []record.Attr, key string, orig int) []record.Attr {
	stats.limited.Add(1)
	return append(attrs, record.Bool(key+TruncatedSuffix, true), record.Int(key+OriginalLengthSuffix, orig))
}

// cutContent returns v cut to n bytes, with its original length, when it is
// longer. A string is cut as it is; another value (a struct, a map, a
// slice) is measured by a walk that stops once past n and, when too long,
// replaced by the first n bytes of its JSON text.
func cutContent(v record.Value, n int) (record.Value, int, bool) {
	switch v.Kind() {
	case record.ValueString:
		s := v.Str()
		if len(s) <= n {
			return v, 0, false
		}
		return record.StringValue(cutBytes(s, n)), len(s), true
	case record.ValueAny:
	default:
		return v, 0, false
	}
	x := v.Any()
	var text string
	switch x := x.(type) {
	case nil:
		return v, 0, false
	case json.Marshaler:
		b, err := x.MarshalJSON()
		if err != nil || len(b) <= n {
			return v, 0, false
		}
		text = string(b)
	case fmt.Stringer:
		if text = x.String(); len(text) <= n {
			return v, 0, false
		}
	default:
		if sizeAtLeast(reflect.ValueOf(x), n+1, 0) <= n {
			return v, 0, false
		}
		text = string(record.AppendValue(nil, v))
		if len(text) <= n {
			return v, 0, false
		}
	}
	return record.StringValue(cutBytes(text, n)), len(text), true
}

// sizeAtLeast returns a lower bound of the length of v's JSON text, or
// some number >= budget once the bound reaches budget.
func sizeAtLeast(v reflect.Value, budget, depth int) int {
	if depth > 32 || !v.IsValid() {
		return 4
	}
	switch v.Kind() {
	case reflect.String:
		return len(v.String()) + 2
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 4
		}
		return sizeAtLeast(v.Elem(), budget, depth+1)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return (v.Len()*4+2)/3 + 2 // base64
		}
		total := 2
		for i := 0; i < v.Len() && total < budget; i++ {
			total += sizeAtLeast(v.Index(i), budget-total, depth+1) + 1
		}
		return total
	case reflect.Map:
		total := 2
		for it := v.MapRange(); it.Next() && total < budget; {
			total += sizeAtLeast(it.Key(), budget-total, depth+1) + sizeAtLeast(it.Value(), budget-total, depth+1) + 2
		}
		return total
	case reflect.Struct:
		total := 2
		t := v.Type()
		for i := 0; i < v.NumField() && total < budget; i++ {
			if t.Field(i).IsExported() {
				total += len(t.Field(i).Name) + 4 + sizeAtLeast(v.Field(i), budget-total, depth+1)
			}
		}
		return total
	}
	return 1
}

// cutBytes cuts s to at most n bytes without splitting a UTF-8 sequence.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cutChars cuts s to n characters (code points), as the OpenTelemetry
// attribute value length limit counts them; ok is false when s is short
// enough.
func cutChars(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false // n bytes hold at most n characters
	}
	i := 0
	for c := 0; c < n; c++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if i >= len(s) {
			return s, false
		}
	}
	return s[:i], true
}
