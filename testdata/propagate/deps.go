//go:build tools

// The runtime packages tracegen's instrumentation of this program imports,
// so that go mod tidy keeps in go.mod and go.sum what tracegen go build
// needs.
package main

import (
	_ "github.com/tracegen-dev/tracegen/runtime/propagation"
	_ "github.com/tracegen-dev/tracegen/runtime/trace"
)
