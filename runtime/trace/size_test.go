package trace

import (
	"testing"
	"unsafe"
)

func TestSpanSize(t *testing.T) {
	// 512 bytes is the largest object the allocator types without a header.
	if n := unsafe.Sizeof(Span{}); n > 512 {
		t.Errorf("Span is %d bytes, want <= 512 (see nInlineAttrs)", n)
	}
}
