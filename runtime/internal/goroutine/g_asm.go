//go:build amd64 || arm64

package goroutine

import "unsafe"

// G returns the runtime's g of the calling goroutine (assembly).
//
//go:noescape
func G() unsafe.Pointer

// HaveG reports whether G is implemented on this architecture.
const HaveG = true

// readWordAt reads the 8-byte word at off inside the current g.
func readWordAt(off uintptr) int64 {
	return *(*int64)(unsafe.Add(G(), off))
}
