package instrument

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// semanticsProg exercises what the generated code promises: errors through
// unnamed, named and bare returns; panics that the user's recover catches or
// that propagate; context nesting; go statements inheriting the span.
const semanticsProg = `package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

//trace:span
func unnamed() (int, error) { return 0, errors.New("unnamed failed") }

//trace:span
func bare() (n int, err error) {
	err = errors.New("bare failed")
	return
}

//trace:span
func fine() error { return nil }

//trace:span
func recovers() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered %v", r)
		}
	}()
	panic("inner boom")
}

//trace:span
func panics() { panic("outer boom") }

//trace:span
func child(ctx context.Context) {}

//trace:agent
func parent(ctx context.Context) {
	child(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		worker()
	}()
	wg.Wait()
}

//trace:tool
func worker() {}

func main() {
	unnamed()
	bare()
	fine()
	fmt.Println("recovers:", recovers())
	parent(context.Background())
	func() {
		defer func() { fmt.Println("caught:", recover()) }()
		panics()
	}()
}
`

type jsonSpan struct {
	SpanID        string `json:"span_id"`
	ParentSpanID  string `json:"parent_span_id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	StatusMessage string `json:"status_message"`
}

// TestGeneratedSemantics runs an in-place instrumented program with the JSONL
// exporter and checks the spans it wrote.
func TestGeneratedSemantics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program; skipped in -short mode")
	}
	out, errs := instrumentOne(t, semanticsProg, Config{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	dir := tempModule(t, map[string]string{"main.go": out})
	jsonl := filepath.Join(t.TempDir(), "spans.jsonl")
	t.Setenv("TRACEGEN_EXPORTER", "jsonl")
	t.Setenv("TRACEGEN_JSONL_PATH", jsonl)
	run, err := goCmd(t, dir, "run", ".")
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, run)
	}
	for _, w := range []string{"recovers: recovered inner boom", "caught: outer boom"} {
		if !strings.Contains(string(run), w) {
			t.Errorf("program output lacks %q:\n%s", w, run)
		}
	}
	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatalf("no spans written: %v\n%s", err, run)
	}
	defer f.Close()
	spans := map[string]jsonSpan{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s jsonSpan
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("bad JSONL line %q: %v", sc.Text(), err)
		}
		spans[s.Name] = s
	}
	tests := []struct {
		name, status, msg string
	}{
		{"main.unnamed", "error", "unnamed failed"},
		{"main.bare", "error", "bare failed"},
		{"main.recovers", "error", "recovered inner boom"},
		{"main.panics", "error", "outer boom"},
	}
	for _, tt := range tests {
		s, ok := spans[tt.name]
		if !ok {
			t.Errorf("no span %s (have %v)", tt.name, keys(spans))
			continue
		}
		if s.Status != tt.status || !strings.Contains(s.StatusMessage, tt.msg) {
			t.Errorf("%s: status %q %q, want %q containing %q", tt.name, s.Status, s.StatusMessage, tt.status, tt.msg)
		}
	}
	if s := spans["main.fine"]; s.Status == "error" {
		t.Errorf("main.fine has status error: %+v", s)
	}
	p, c, w := spans["main.parent"], spans["main.child"], spans["main.worker"]
	if p.SpanID == "" || c.ParentSpanID != p.SpanID {
		t.Errorf("child not nested under parent through ctx: parent %+v child %+v", p, c)
	}
	if w.ParentSpanID != p.SpanID {
		t.Errorf("worker (in a goroutine started by parent) not nested under parent: parent %+v worker %+v", p, w)
	}
}

func keys(m map[string]jsonSpan) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
