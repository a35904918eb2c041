package trace

import "github.com/tracegen-dev/tracegen/runtime/internal/goroutine"

// curGoid returns the id of the calling goroutine (runtime/internal/goroutine).
func curGoid() int64 { return goroutine.ID() }

// initGoid discovers the goid offset, the panic record layout (unwind.go)
// and the creator fields of g (fork.go); it runs when tracing is enabled,
// and each discovery runs once per process.
func initGoid() {
	initPanicLayout()
	goroutine.Discover()
	initLineage()
}
