package trace

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// releasing is a discarding exporter that lets the pipeline recycle records.
type releasing struct{ discard }

func (releasing) ReleasesRecords() bool { return true }

func TestPoolModeSelection(t *testing.T) {
	tests := []struct {
		name string
		exps []export.Exporter
		want bool
	}{
		{"json", []export.Exporter{export.NewJSON(&bytes.Buffer{})}, true},
		{"jsonl+none", []export.Exporter{export.NewJSONL("x"), export.None{}}, true},
		{"memory", []export.Exporter{export.NewMemory(1)}, false},
		{"tree", []export.Exporter{export.NewTree(&bytes.Buffer{})}, false},
		{"tee of json and memory", []export.Exporter{export.NewTee(export.NewJSON(&bytes.Buffer{}), export.NewMemory(1))}, false},
		{"user exporter", []export.Exporter{discard{}}, false},
	}
	for _, tc := range tests {
		p := build(Config{IgnoreEnv: true, Exporters: tc.exps, ErrorLog: &bytes.Buffer{}})
		if p.pool != tc.want {
			t.Errorf("%s: pool = %t, want %t", tc.name, p.pool, tc.want)
		}
	}
}

// TestPoolModeRecordsStayIntact runs many concurrent traces through the
// JSON exporter in pool mode and checks every line against what its span
// recorded: a record recycled too early would show another span's data.
func TestPoolModeRecordsStayIntact(t *testing.T) {
	var out syncBuffer
	Configure(Config{IgnoreEnv: true, Blocking: true, QueueSize: 64, BatchSize: 16, SampleRatio: 0.7,
		Exporters: []export.Exporter{export.NewJSON(&out)}, ErrorLog: &syncBuffer{}})
	if !active.Load().pool {
		t.Fatal("JSON exporter alone should select pool mode")
	}
	const workers, each = 6, 200
	type ended struct {
		name    string
		traceID record.TraceID
	}
	var mu sync.Mutex
	var seen []ended
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				ctx, root := Start(context.Background(), name, WithInherited("worker", w), WithAttr("i", i))
				_, child := Start(ctx, name+"-child", WithAttr("parent", name), WithAttr("a", 1), WithAttr("b", 2), WithAttr("c", 3), WithAttr("d", 4))
				childTrace := child.TraceID() // a child of an unsampled root answers while it runs
				child.RecordInput("q", name)
				child.End()
				root.End()
				// After End the span still answers with its own identity.
				if root.Name() != name || root.TraceID() != childTrace {
					t.Errorf("after End: %q %s, want %q and the child's trace", root.Name(), root.TraceID(), name)
				}
				mu.Lock()
				seen = append(seen, ended{name, root.TraceID()})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	Stop()
	sc := bufio.NewScanner(bytes.NewReader([]byte(out.String())))
	sc.Buffer(nil, 1<<20)
	type line struct {
		TraceID    string         `json:"trace_id"`
		Name       string         `json:"name"`
		Attributes map[string]any `json:"attributes"`
		Input      map[string]any `json:"input"`
	}
	byTrace := map[string][]line{}
	n := 0
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %s: %v", sc.Bytes(), err)
		}
		byTrace[l.TraceID] = append(byTrace[l.TraceID], l)
		n++
	}
	if n == 0 || n == 2*workers*each {
		t.Fatalf("%d lines: sampling at 0.7 should export some but not all", n)
	}
	for _, e := range seen {
		lines := byTrace[e.traceID.String()]
		if len(lines) == 0 {
			continue // not sampled
		}
		if len(lines) != 2 {
			t.Fatalf("trace of %s exported %d spans, want 2", e.name, len(lines))
		}
		for _, l := range lines {
			w := fmt.Sprint(l.Attributes["worker"])
			switch l.Name {
			case e.name:
				if fmt.Sprintf("w%s-%v", w, l.Attributes["i"]) != e.name {
					t.Errorf("root %s carries attributes of another span: %v", e.name, l.Attributes)
				}
			case e.name + "-child":
				if l.Attributes["parent"] != e.name || l.Input["q"] != e.name || l.Attributes["d"] != 4.0 {
					t.Errorf("child of %s carries foreign data: %v %v", e.name, l.Attributes, l.Input)
				}
			default:
				t.Errorf("trace of %s contains span %s", e.name, l.Name)
			}
		}
	}
}

func TestPoolModeAllocations(t *testing.T) {
	t.Setenv("TRACEGEN_ENERGY", "off")
	Configure(Config{IgnoreEnv: true, Sync: true, Exporters: []export.Exporter{releasing{}}})
	t.Cleanup(Stop)
	ctx := context.Background()
	pair := func() {
		pctx, p := Start(ctx, "parent")
		_, c := Start(pctx, "child", WithAttr("k", "v"), WithAttr("n", 1))
		c.End()
		p.End()
	}
	if n := testing.AllocsPerRun(1000, pair); n > 2 {
		t.Errorf("pool mode pair: %v allocations, want <= 2", n)
	}
}
