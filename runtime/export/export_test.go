package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func rec(name string, trace byte, id, parent byte, attrs ...record.Attr) *record.Record {
	r := &record.Record{
		TraceID: record.TraceID{trace, 1}, SpanID: record.SpanID{id, 1}, Name: name,
		Start: t0.Add(time.Duration(id) * time.Millisecond), End: t0.Add(time.Duration(id)*time.Millisecond + 2500*time.Microsecond),
		Attrs: attrs,
	}
	if parent != 0 {
		r.ParentSpanID = record.SpanID{parent, 1}
	}
	return r
}

// TestMain doubles as the helper process of TestJSONLConcurrentProcesses.
func TestMain(m *testing.M) {
	if path := os.Getenv("EXPORT_TEST_APPEND"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("EXPORT_TEST_N"))
		j := NewJSONL(path)
		big := strings.Repeat("x", 6000) // lines larger than PIPE_BUF
		// Batches of 25 lines of ~6 KB: several whole-line chunk writes
		// per Export.
		var batch []*record.Record
		for i := 0; i < n; i++ {
			batch = append(batch, rec(fmt.Sprint("p", os.Getpid()), 1, byte(i%250+1), 0, record.String("pad", big), record.Int("i", i)))
			if len(batch) == 25 || i == n-1 {
				if err := j.Export(context.Background(), batch); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				batch = batch[:0]
			}
		}
		if err := j.Shutdown(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestJSONLConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	const procs, each = 4, 200
	var cmds []*exec.Cmd
	for i := 0; i < procs; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "EXPORT_TEST_APPEND="+path, "EXPORT_TEST_N="+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	lines := 0
	perProc := map[string]int{}
	next := map[string]float64{}
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not one JSON object (interleaved write?): %v", lines, err)
		}
		name := m["name"].(string)
		perProc[name]++
		// Each process's lines appear in its own order.
		i := m["attributes"].(map[string]any)["i"].(float64)
		if i != next[name] {
			t.Fatalf("process %s: line i=%v where %v was expected", name, i, next[name])
		}
		next[name]++
	}
	if lines != procs*each || len(perProc) != procs {
		t.Errorf("%d lines from %d processes, want %d from %d", lines, len(perProc), procs*each, procs)
	}
}

func TestJSONLLazyOpenAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.jsonl")
	j := NewJSONL(path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("file created before the first export")
	}
	if err := j.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("file created by Shutdown without spans")
	}
	bad := NewJSONL(filepath.Join(dir, "missing", "x.jsonl"))
	err := bad.Export(context.Background(), []*record.Record{rec("a", 1, 1, 0)})
	if err == nil || !strings.Contains(err.Error(), "jsonl exporter: open ") {
		t.Errorf("export to a missing directory: %v", err)
	}
}

func TestJSONStream(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSON(&buf)
	if err := j.Export(context.Background(), []*record.Record{rec("a", 1, 1, 0), rec("b", 1, 2, 1)}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !json.Valid([]byte(lines[0])) || !strings.Contains(lines[1], `"name":"b"`) {
		t.Errorf("json exporter wrote:\n%s", buf.String())
	}
	if err := NewJSON(errWriter{}).Export(context.Background(), []*record.Record{rec("a", 1, 1, 0)}); err == nil {
		t.Error("write error not returned")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMemoryRingAndFilters(t *testing.T) {
	m := NewMemory(3)
	var all []*record.Record
	for i := byte(1); i <= 5; i++ {
		r := rec(fmt.Sprint("s", i), 1+i%2, i, 0, record.Int("i", int(i)))
		r.Inherited = []record.Attr{record.String("user", fmt.Sprint("u", i%2))}
		r.Tags = []string{fmt.Sprint("t", i)}
		all = append(all, r)
	}
	_ = m.Export(context.Background(), all[:2])
	_ = m.Export(context.Background(), all[2:])
	names := func(rs []*record.Record) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Name)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name    string
		filters []Filter
		want    string
	}{
		{"all, oldest first", nil, "s3,s4,s5"},
		{"own attribute", []Filter{AttrIs("i", 4)}, "s4"},
		{"own attribute, other number kind", []Filter{AttrIs("i", 4.0)}, ""},
		{"inherited attribute", []Filter{AttrIs("user", "u1")}, "s3,s5"},
		{"has attribute", []Filter{HasAttr("user")}, "s3,s4,s5"},
		{"name", []Filter{NameIs("s5")}, "s5"},
		{"trace", []Filter{TraceIs(record.TraceID{1, 1})}, "s4"},
		{"tag", []Filter{HasTag("t3")}, "s3"},
		{"status", []Filter{StatusIs(record.StatusError)}, ""},
		{"type", []Filter{TypeIs(record.TypeNone)}, "s3,s4,s5"},
		{"and", []Filter{AttrIs("user", "u1"), NameIs("s5")}, "s5"},
	}
	for _, tc := range tests {
		if got := names(m.Spans(tc.filters...)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if m.Total() != 5 {
		t.Errorf("Total() = %d, want 5", m.Total())
	}
	m.Reset()
	if len(m.Spans()) != 0 || m.Total() != 0 {
		t.Error("Reset kept spans")
	}
}

type boom struct{}

func (boom) Export(context.Context, []*record.Record) error { panic("bug") }
func (boom) Shutdown(context.Context) error                 { return errors.New("close failed") }

func TestTeeIsolatesExporters(t *testing.T) {
	m := NewMemory(10)
	tee := NewTee(boom{}, m)
	err := tee.Export(context.Background(), []*record.Record{rec("a", 1, 1, 0)})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "bug" {
		t.Errorf("tee error %v, want a PanicError", err)
	}
	if m.Total() != 1 {
		t.Error("a panicking exporter stopped the next one")
	}
	if err := tee.Shutdown(context.Background()); err == nil || !strings.Contains(err.Error(), "close failed") {
		t.Errorf("shutdown error %v", err)
	}
}

func TestRegistry(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "json,jsonl,memory,none,stdout" {
		t.Errorf("Names() = %s", got)
	}
	for _, tc := range []struct {
		name string
		f    Factory
	}{{"stdout", func() (Exporter, error) { return None{}, nil }}, {"", nil}, {"a,b", func() (Exporter, error) { return None{}, nil }}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tc.name)
				}
			}()
			Register(tc.name, tc.f)
		}()
	}
	t.Setenv("TRACEGEN_MEMORY_SIZE", "0")
	f, _ := Lookup("memory")
	if _, err := f(); err == nil || !strings.Contains(err.Error(), `TRACEGEN_MEMORY_SIZE="0"`) {
		t.Errorf("bad memory size: %v", err)
	}
	t.Setenv("TRACEGEN_STDOUT", "printer")
	f, _ = Lookup("stdout")
	if _, err := f(); err == nil {
		t.Error("bad TRACEGEN_STDOUT accepted")
	}
}

// TestJSONLIdleSameBytes: closing the file between batches (Idle) and
// reopening it at the next export writes exactly the bytes one long-lived
// descriptor writes, and holds no descriptor
// while idle.
func TestJSONLIdleSameBytes(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("y", 30000) // several lines per 64 KB chunk, and chunk splits
	var batches [][]*record.Record
	for b := 0; b < 5; b++ {
		var batch []*record.Record
		for i := 0; i < 7; i++ {
			batch = append(batch, rec(fmt.Sprint("s", b, i), byte(b+1), byte(i+1), 0, record.String("pad", big[:i*5000]), record.Int("i", i)))
		}
		batches = append(batches, batch)
	}
	ctx := context.Background()
	steady := NewJSONL(filepath.Join(dir, "steady.jsonl"))
	idling := NewJSONL(filepath.Join(dir, "idling.jsonl"))
	for _, batch := range batches {
		if err := steady.Export(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := idling.Export(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if idling.f == nil {
			t.Fatal("no file open right after Export")
		}
		if err := idling.Idle(ctx); err != nil {
			t.Fatal(err)
		}
		if idling.f != nil {
			t.Fatal("file still open after Idle")
		}
		if err := idling.Idle(ctx); err != nil { // idle twice: nothing to close
			t.Fatal(err)
		}
	}
	if idling.opens != len(batches) || steady.opens != 1 {
		t.Errorf("opens: idling %d (want %d), steady %d (want 1)", idling.opens, len(batches), steady.opens)
	}
	for _, j := range []*JSONL{steady, idling} {
		if err := j.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a, err := os.ReadFile(steady.Path())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(idling.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("idle close and reopen changed the output: %d bytes against %d", len(b), len(a))
	}
	if strings.Count(string(a), "\n") != 35 {
		t.Errorf("%d lines, want 35", strings.Count(string(a), "\n"))
	}
	// After Shutdown, also when idle at that moment, exports fail.
	if err := idling.Export(ctx, batches[0]); err == nil || !strings.Contains(err.Error(), "already shut down") {
		t.Errorf("export after Shutdown of an idle exporter: %v", err)
	}
}

type idleCounter struct {
	None
	n int
}

func (c *idleCounter) Idle(context.Context) error { c.n++; return nil }

type idlePanics struct{ None }

func (idlePanics) Idle(context.Context) error { panic("idle bug") }

// TestTeeIdle: a Tee forwards Idle to the exporters that implement Idler,
// isolating panics.
func TestTeeIdle(t *testing.T) {
	a, b := &idleCounter{}, &idleCounter{}
	tee := NewTee(a, None{}, idlePanics{}, NewTee(b))
	var _ Idler = tee
	err := tee.Idle(context.Background())
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "idle bug" {
		t.Errorf("Tee.Idle error: %v", err)
	}
	if a.n != 1 || b.n != 1 {
		t.Errorf("Idle reached %d and %d exporters, want 1 and 1", a.n, b.n)
	}
}

// TestNotLinked: an exporter that lives in a package of its own, when the
// program does not link it, is found with a factory whose error says how
// to link it, and is not listed among the registered names.
func TestNotLinked(t *testing.T) {
	f, ok := Lookup("otlp")
	if !ok {
		t.Fatal("Lookup(otlp) found nothing")
	}
	_, err := f()
	var nl *NotLinkedError
	if !errors.As(err, &nl) || nl.Path != "github.com/tracegen-dev/tracegen/runtime/export/otlp" ||
		!strings.Contains(err.Error(), `add import _ "github.com/tracegen-dev/tracegen/runtime/export/otlp"`) {
		t.Errorf("error %v, want a NotLinkedError naming the import", err)
	}
	if strings.Contains(strings.Join(Names(), ","), "otlp") {
		t.Errorf("Names() = %v lists an exporter that is not linked", Names())
	}
	if _, ok := Lookup("nosuch"); ok {
		t.Error("Lookup(nosuch) found a factory")
	}
}

// TestOptionalRegister: each package named in optional registers the name
// it is listed under.
func TestOptionalRegister(t *testing.T) {
	const module = "github.com/tracegen-dev/tracegen/runtime/"
	for name, pkg := range optional {
		dir := filepath.Join("..", strings.TrimPrefix(pkg, module))
		found := false
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			found = found || err == nil && strings.Contains(string(src), fmt.Sprintf("export.Register(%q,", name))
		}
		if !found {
			t.Errorf("no file of %s registers %q", dir, name)
		}
	}
}
