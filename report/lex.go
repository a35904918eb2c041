package report

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unsafe"
)

// lexer reads one JSON value from b without building a tree: the span
// decoder asks for the keys it needs and skips the rest. It validates what
// it reads (strings, numbers, literals, nesting), so a truncated or garbled
// line is an error, not a silently short span.
type lexer struct {
	b   []byte
	i   int
	err error
}

var errSyntax = errors.New("invalid JSON")

func (l *lexer) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("offset %d: "+format, append([]any{l.i}, args...)...)
	}
	l.i = len(l.b)
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (l *lexer) peek() byte {
	l.ws()
	if l.i < len(l.b) {
		return l.b[l.i]
	}
	return 0
}

func (l *lexer) expect(c byte) bool {
	if l.peek() != c {
		if l.i >= len(l.b) {
			l.fail("unexpected end of line, want %q", c)
		} else {
			l.fail("unexpected %q, want %q", l.b[l.i], c)
		}
		return false
	}
	l.i++
	return true
}

// rawString reads a JSON string and returns its bytes between the quotes;
// esc reports whether it holds escapes (then use str, which unquotes). It
// checks the quotes and escapes, not for raw control characters.
func (l *lexer) rawString() (raw []byte, esc bool) {
	if !l.expect('"') {
		return nil, false
	}
	start := l.i
	for {
		j := quoteOrBackslash(l.b, l.i)
		if j < 0 {
			l.fail("unterminated string")
			return nil, false
		}
		if l.b[j] == '"' {
			raw = l.b[start:j]
			l.i = j + 1
			return raw, esc
		}
		// An escape: step over it so that an escaped quote does not end
		// the string.
		esc = true
		l.i = j + 2
		if l.i > len(l.b) {
			l.fail("unterminated string")
			return nil, false
		}
	}
}

const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	quotes = '"' * lsb
	slashs = '\\' * lsb
)

// quoteOrBackslash returns the index of the first '"' or '\\' in b from i
// on, or -1. It tests eight bytes at a time (a word with a zero byte has
// (x-lsb) & ^x & msb set), which beats a byte loop on the ids and times of a
// span and the per-call cost of bytes.IndexByte on short keys.
func quoteOrBackslash(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, s := x^quotes, x^slashs
		if m := ((q - lsb) &^ q & msb) | ((s - lsb) &^ s & msb); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return -1
}

// str reads a JSON string. The returned string aliases the line when it has
// no escapes: callers intern it before the line's buffer is reused.
func (l *lexer) str() string {
	raw, esc := l.rawString()
	if l.err != nil {
		return ""
	}
	if !esc {
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
	var s string
	if err := json.Unmarshal(l.b[l.i-len(raw)-2:l.i], &s); err != nil {
		l.fail("bad string escape")
		return ""
	}
	return s
}

// number reads a JSON number, or a string holding one (OTLP/JSON writes
// 64-bit integers as strings).
func (l *lexer) number() float64 {
	if l.peek() == '"' {
		s := l.str()
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && l.err == nil {
			l.fail("not a number: %q", s)
		}
		return f
	}
	start := l.i
	for l.i < len(l.b) {
		c := l.b[l.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			l.i++
			continue
		}
		break
	}
	raw := l.b[start:l.i]
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
	if err != nil || len(raw) == 0 {
		l.i = start
		l.fail("invalid number")
	}
	return f
}

// literal reads true, false or null.
func (l *lexer) literal() (isTrue bool) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(l.b[l.i:], []byte(lit)) {
			l.i += len(lit)
			return lit == "true"
		}
	}
	l.fail("invalid value")
	return false
}

// skip reads and discards any value.
func (l *lexer) skip() {
	switch l.peek() {
	case '"':
		l.rawString()
	case '{':
		l.object(func(string) { l.skip() })
	case '[':
		l.array(l.skip)
	case 't', 'f', 'n':
		l.literal()
	case 0:
		l.fail("unexpected end of line")
	default:
		l.number()
	}
}

// object reads an object, calling field for every key; field must read the
// value (or call skip). The key aliases the line.
func (l *lexer) object(field func(key string)) {
	if !l.expect('{') {
		return
	}
	if l.peek() == '}' {
		l.i++
		return
	}
	for l.err == nil {
		key := l.str()
		if !l.expect(':') {
			return
		}
		field(key)
		switch l.peek() {
		case ',':
			l.i++
		case '}':
			l.i++
			return
		default:
			l.fail("want ',' or '}' after object value")
		}
	}
}

// array reads an array, calling elem for every element.
func (l *lexer) array(elem func()) {
	if !l.expect('[') {
		return
	}
	if l.peek() == ']' {
		l.i++
		return
	}
	for l.err == nil {
		elem()
		switch l.peek() {
		case ',':
			l.i++
		case ']':
			l.i++
			return
		default:
			l.fail("want ',' or ']' after array element")
		}
	}
}

// end checks that nothing but space follows the value.
func (l *lexer) end() {
	if l.peek() != 0 && l.err == nil {
		l.fail("unexpected %q after the value", l.b[l.i])
	}
}

// scalar reads a string, number or bool as a string (for grouping
// attributes); objects and arrays are skipped and give "".
func (l *lexer) scalar() string {
	switch l.peek() {
	case '"':
		return l.str()
	case '{', '[':
		l.skip()
		return ""
	case 't', 'f', 'n':
		start := l.i
		l.literal()
		if l.b[start] == 'n' {
			return ""
		}
		return string(l.b[start:l.i])
	default:
		start := l.i
		l.number()
		raw := l.b[start:l.i]
		return unsafe.String(unsafe.SliceData(raw), len(raw))
	}
}
