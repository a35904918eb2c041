package trace

import (
	"testing"
	"unsafe"
)

func TestSpanSize(t *testing.T) {
	// The Span is the one allocation per span in pool mode; keep it small.
	if n := unsafe.Sizeof(Span{}); n > 192 {
		t.Errorf("Span is %d bytes, want <= 192", n)
	}
	t.Logf("Span %d bytes, spanData %d, spanAndData %d", unsafe.Sizeof(Span{}), unsafe.Sizeof(spanData{}), unsafe.Sizeof(spanAndData{}))
}
