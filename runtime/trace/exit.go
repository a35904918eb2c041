package trace

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/tracegen-dev/tracegen/runtime/export"
)

// Enabled reports whether spans are recorded. It reads the environment on
// first use; afterwards it is one atomic load.
func Enabled() bool {
	p := active.Load()
	if p == nil {
		p = initFromEnv()
	}
	return p != disabledP
}

// CaptureContent reports whether input/output content is captured
// (tracing enabled and TRACEGEN_CAPTURE_CONTENT not false). The LLM
// wrappers check it before building prompt/completion attributes.
func CaptureContent() bool {
	p := active.Load()
	if p == nil {
		p = initFromEnv()
	}
	return p != disabledP && p.captureContent
}

// MemoryExporter returns the memory exporter of the latest configuration
// (TRACEGEN_EXPORTER=memory, or one passed to Configure), or nil. It stays
// readable after Stop.
func MemoryExporter() *export.Memory { return lastMemory.Load() }

// Flush exports every span that has ended so far and waits until the
// exporters return, or until ctx is done.
func Flush(ctx context.Context) error {
	p := active.Load()
	if p == nil || p == disabledP {
		return nil
	}
	return p.flush(ctx)
}

// Shutdown flushes, shuts the exporters down and disables tracing: spans
// started afterwards are nil, spans ending afterwards are dropped and
// counted. It runs once; later calls return the first result. It is safe
// to call when tracing was never enabled (it then does nothing and reads
// no environment).
func Shutdown(ctx context.Context) error {
	initMu.Lock()
	p := setActive(disabledP)
	initMu.Unlock()
	stopSignalWatcher()
	if p == nil || p == disabledP {
		return nil
	}
	return p.shutdown(ctx)
}

// Stop is what generated code defers in main: Shutdown bounded by the
// shutdown timeout (TRACEGEN_SHUTDOWN_TIMEOUT, default 5s). Problems are
// reported on stderr, never returned.
func Stop() {
	initMu.Lock()
	p := setActive(disabledP)
	initMu.Unlock()
	stopSignalWatcher()
	if p == nil || p == disabledP {
		return
	}
	shutdownWithTimeout(p)
}

func shutdownWithTimeout(p *pipeline) {
	ctx, cancel := context.WithTimeout(context.Background(), p.shutdownTimeout)
	defer cancel()
	// Exporter failures were already logged once each; report only what
	// nobody has seen yet: running out of time.
	if err := p.shutdown(ctx); err != nil && ctx.Err() != nil {
		p.logf("%s", strings.TrimPrefix(err.Error(), "tracegen: ")) // logf says tracegen: already
	}
}

// Exit replaces os.Exit in instrumented code: it runs Stop, then exits
// with code. Deferred functions do not run, exactly as with os.Exit.
func Exit(code int) {
	Stop()
	os.Exit(code)
}

var sigState struct {
	mu sync.Mutex
	ch chan os.Signal
}

// FlushOnSignal installs a handler for SIGINT and SIGTERM that runs Stop
// and then raises the same signal again with the default disposition, so
// the program still dies of that signal (same exit status as without
// tracing). It is opt-in (or TRACEGEN_FLUSH_ON_SIGNAL=1) and never
// installed by default: signal.Notify changes how a program that handles
// signals itself behaves (for example a server doing its own graceful
// shutdown would see its first SIGINT consumed by us). Stop and Shutdown
// remove the handler.
func FlushOnSignal() {
	sigState.mu.Lock()
	defer sigState.mu.Unlock()
	if sigState.ch != nil {
		return
	}
	ch := make(chan os.Signal, 1)
	sigState.ch = ch
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		Stop()
		signal.Reset(sig)
		if proc, err := os.FindProcess(os.Getpid()); err == nil {
			_ = proc.Signal(sig)
		}
	}()
}

func stopSignalWatcher() {
	sigState.mu.Lock()
	defer sigState.mu.Unlock()
	if sigState.ch == nil {
		return
	}
	signal.Stop(sigState.ch)
	close(sigState.ch)
	sigState.ch = nil
}
