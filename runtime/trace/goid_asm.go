//go:build amd64 || arm64

package trace

import "unsafe"

// getg returns the runtime's g of the calling goroutine (assembly).
//
//go:noescape
func getg() unsafe.Pointer

const haveGetg = true

// readGoidAt reads the 8-byte word at off inside the current g.
func readGoidAt(off uintptr) int64 {
	return *(*int64)(unsafe.Add(getg(), off))
}
