package export

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

func snap(name string, id byte) *record.Record {
	r := rec(name, 1, id, 0, record.Int("step", 1))
	r.Snapshot, r.End = true, time.Time{}
	return r
}

// TestIterableSlowConsumer: Export and ExportSnapshot never wait; what does
// not fit in the buffer is dropped and counted; the consumer reads the
// rest in order and the iteration ends at Shutdown; later records are
// dropped.
func TestIterableSlowConsumer(t *testing.T) {
	it := NewIterable(3)
	ctx := context.Background()
	it.ExportSnapshot(ctx, snap("a", 1))
	it.Export(ctx, []*record.Record{rec("b", 1, 2, 0), rec("c", 1, 3, 0), rec("d", 1, 4, 0)})
	it.ExportSnapshot(ctx, snap("e", 5))
	if it.Dropped() != 2 {
		t.Errorf("Dropped %d, want 2", it.Dropped())
	}
	it.Shutdown(ctx)
	it.Export(ctx, []*record.Record{rec("late", 1, 6, 0)})
	var names []string
	for r := range it.All() {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "a,b,c" || it.Dropped() != 3 {
		t.Errorf("read %v, dropped %d; want a,b,c and 3", names, it.Dropped())
	}
}

// TestIterableBreak: a loop that breaks leaves the rest for the next one.
func TestIterableBreak(t *testing.T) {
	it := NewIterable(0)
	ctx := context.Background()
	it.Export(ctx, []*record.Record{rec("a", 1, 1, 0), rec("b", 1, 2, 0)})
	for range it.All() {
		break
	}
	it.Shutdown(ctx)
	var names []string
	for r := range it.All() {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "b" {
		t.Errorf("second loop read %v, want b", names)
	}
}

// TestSnapshotWriters: json and jsonl write a snapshot as one line with
// "snapshot":true and an empty end_time; jsonl closes a file it opened for
// the snapshot (an idle program holds no descriptor); the tree prints it
// at once, marked; a Tee forwards it to those that take snapshots.
func TestSnapshotWriters(t *testing.T) {
	ctx := context.Background()
	r := snap("long", 1)
	want := `"end_time":"","duration_ms":0,"status":"unset","status_message":"","attributes":{"step":1},"resource":{},"events":[],"snapshot":true,"impact":`

	var jb bytes.Buffer
	if err := NewJSON(&jb).ExportSnapshot(ctx, r); err != nil || !strings.Contains(jb.String(), want) || strings.Count(jb.String(), "\n") != 1 {
		t.Errorf("json: %v %q", err, jb.String())
	}

	path := filepath.Join(t.TempDir(), "spans.jsonl")
	j := NewJSONL(path)
	if err := j.ExportSnapshot(ctx, r); err != nil {
		t.Fatal(err)
	}
	if j.f != nil {
		t.Error("jsonl kept the file open after a snapshot while idle")
	}
	j.Export(ctx, []*record.Record{rec("done", 1, 2, 0)})
	if err := j.ExportSnapshot(ctx, r); err != nil || j.f == nil {
		t.Errorf("jsonl closed the file the pipeline had open (%v)", err)
	}
	j.Shutdown(ctx)
	if err := j.ExportSnapshot(ctx, r); err == nil {
		t.Error("jsonl took a snapshot after Shutdown")
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], want) || strings.Contains(lines[1], "snapshot") || !strings.Contains(lines[2], want) {
		t.Errorf("jsonl file:\n%s", b)
	}

	var tb bytes.Buffer
	tr := NewTree(&tb)
	if err := tr.ExportSnapshot(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := tb.String(); got != "(snapshot) long [internal] running unset span=01010000 trace=01010000 step=1\n" {
		t.Errorf("tree: %q", got)
	}

	it := NewIterable(0)
	mem := NewMemory(10)
	tee := NewTee(mem, it)
	if !AcceptsSnapshots(tee) || AcceptsSnapshots(NewTee(mem)) || AcceptsSnapshots(mem) || !AcceptsSnapshots(it) {
		t.Error("AcceptsSnapshots is wrong for a Tee, a Memory or an Iterable")
	}
	if err := tee.ExportSnapshot(ctx, r); err != nil {
		t.Fatal(err)
	}
	tee.Shutdown(ctx)
	n := 0
	for got := range it.All() {
		n++
		if got != r {
			t.Error("the tee forwarded another record")
		}
	}
	if n != 1 || len(mem.Spans()) != 0 {
		t.Errorf("iterable got %d, memory %d", n, len(mem.Spans()))
	}
}
