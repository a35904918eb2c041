package record

import "encoding/hex"

// TraceID is a W3C trace id: 16 bytes, all zero meaning invalid.
type TraceID [16]byte

// SpanID is a W3C span id: 8 bytes, all zero meaning none.
type SpanID [8]byte

// IsValid reports whether the id is not all zeros.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// String returns the id as 32 lower-case hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// IsValid reports whether the id is not all zeros.
func (s SpanID) IsValid() bool { return s != SpanID{} }

// String returns the id as 16 lower-case hex digits, or "" for the zero id.
func (s SpanID) String() string {
	if !s.IsValid() {
		return ""
	}
	return hex.EncodeToString(s[:])
}
