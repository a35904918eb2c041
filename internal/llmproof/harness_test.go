package llmproof

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// span is one JSONL record, decoded loosely.
type span struct {
	TraceID  string         `json:"trace_id"`
	SpanID   string         `json:"span_id"`
	Parent   string         `json:"parent_span_id"`
	Name     string         `json:"name"`
	Kind     string         `json:"kind"`
	Type     string         `json:"type"`
	Start    time.Time      `json:"start_time"`
	End      time.Time      `json:"end_time"`
	Status   string         `json:"status"`
	Attrs    map[string]any `json:"attributes"`
	Impact   map[string]any `json:"impact"`
	Duration float64        `json:"duration_ms"`
}

func (s *span) str(key string) string {
	v, _ := s.Attrs[key].(string)
	return v
}

func (s *span) num(key string) (float64, bool) {
	v, ok := s.Attrs[key].(float64)
	return v, ok
}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Once
	toolPath  string
	buildErr  error
)

// TestMain removes the tracegen command the tests share, which cannot live
// in one test's t.TempDir.
func TestMain(m *testing.M) {
	code := m.Run()
	if toolPath != "" {
		os.RemoveAll(filepath.Dir(toolPath))
	}
	os.Exit(code)
}

// tracegenTool builds the tracegen command once per test binary.
func tracegenTool(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llmproof-tool")
		if err != nil {
			buildErr = err
			return
		}
		toolPath = filepath.Join(dir, "tracegen")
		cmd := exec.Command("go", "build", "-o", toolPath, "./cmd/tracegen")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building tracegen: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return toolPath
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	return runStdin(t, dir, env, "", name, args...)
}

// runStdin is run with stdin as the command's standard input.
func runStdin(t *testing.T, dir string, env []string, stdin, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	defer func() {
		t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	}()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out.String())
	}
	return out.String()
}

// instrumentAndRun copies testdata/llm/<name>, points it at this checkout of
// tracegen, instruments it in place with the tracegen command and runs it.
// It returns the spans the program exported and its output.
func instrumentAndRun(t *testing.T, name string, env ...string) ([]*span, string) {
	t.Helper()
	return instrumentAndRunMode(t, name, false, env...)
}

// instrumentAndRunMode is instrumentAndRun; with overlay set it runs
// `tracegen go run .` (the source stays untouched) instead of rewriting the
// copy in place and running `go run .`.
func instrumentAndRunMode(t *testing.T, name string, overlay bool, env ...string) ([]*span, string) {
	t.Helper()
	return instrumentAndRunFlags(t, name, overlay, nil, env...)
}

// instrumentAndRunFlags is instrumentAndRunMode with tracegen flags (given
// before the go subcommand, or before ./... in place).
func instrumentAndRunFlags(t *testing.T, name string, overlay bool, flags []string, env ...string) ([]*span, string) {
	t.Helper()
	tool := tracegenTool(t)
	dir := copyProgram(t, name)
	goenv := []string{"GOFLAGS=-mod=mod"}
	jsonl := filepath.Join(dir, "spans.jsonl")
	runEnv := append(traceEnv(jsonl), env...)
	var out string
	if overlay {
		out = run(t, dir, runEnv, tool, append(flags, "go", "run", ".")...)
	} else {
		before, _ := os.ReadFile(filepath.Join(dir, "main.go"))
		run(t, dir, goenv, tool, append(flags, "./...")...)
		after, _ := os.ReadFile(filepath.Join(dir, "main.go"))
		if bytes.Equal(before, after) {
			t.Fatalf("tracegen left %s/main.go unchanged", name)
		}
		if !bytes.Contains(after, []byte("tracegenGenai.")) {
			t.Fatalf("no SDK call was routed through runtime/genai:\n%s", after)
		}
		out = run(t, dir, runEnv, "go", "run", ".")
		// -strip gives back the exact original source.
		run(t, dir, goenv, tool, "-strip", "./...")
		if stripped, _ := os.ReadFile(filepath.Join(dir, "main.go")); !bytes.Equal(stripped, before) {
			t.Errorf("tracegen -strip did not restore %s/main.go:\n%s", name, stripped)
		}
	}
	spans := readSpans(t, jsonl)
	for _, s := range spans {
		t.Logf("span %q type=%s dur=%.1fms attrs=%v impact=%v", s.Name, s.Type, s.Duration, s.Attrs, s.Impact)
	}
	return spans, out
}

// copyProgram copies testdata/llm/<name> to a temporary directory and
// points its go.mod at this checkout's runtime module, as a user requires
// the runtime (go mod edit replaces a replacement the program may have).
func copyProgram(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot(t), "testdata", "llm", name))); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, "go", "mod", "edit", "-require=github.com/tracegen-dev/tracegen/runtime@v0.0.0",
		"-replace=github.com/tracegen-dev/tracegen/runtime="+filepath.Join(repoRoot(t), "runtime"))
	return dir
}

// traceEnv is the environment of a traced run: spans go to the JSONL file
// at jsonl, all of them, without message content. No go mod tidy:
// GOFLAGS=-mod=mod records the requirements and sums the instrumented build
// needs, without looking at test dependencies.
func traceEnv(jsonl string) []string {
	return []string{"GOFLAGS=-mod=mod", "TRACEGEN_EXPORTER=jsonl", "TRACEGEN_JSONL_PATH=" + jsonl,
		"TRACEGEN_CAPTURE_CONTENT=", "TRACEGEN_SAMPLE=1"}
}

func readSpans(t *testing.T, path string) []*span {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no spans written: %v", err)
	}
	defer f.Close()
	var spans []*span
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		s := new(span)
		if err := json.Unmarshal(sc.Bytes(), s); err != nil {
			t.Fatalf("bad JSONL line %q: %v", sc.Text(), err)
		}
		spans = append(spans, s)
	}
	return spans
}

// llmSpans returns the spans of type llm in start order, and the span named
// parent, checking that every LLM span is its child.
func llmSpans(t *testing.T, spans []*span, parent string) []*span {
	t.Helper()
	var p *span
	for _, s := range spans {
		if s.Name == parent {
			p = s
		}
	}
	if p == nil {
		t.Fatalf("no span named %q among %d spans", parent, len(spans))
	}
	var out []*span
	for _, s := range spans {
		if s.Type != "llm" {
			continue
		}
		if s.Parent != p.SpanID || s.TraceID != p.TraceID {
			t.Errorf("LLM span %q is not a child of %q", s.Name, parent)
		}
		if s.Kind != "client" {
			t.Errorf("LLM span %q kind %q, want client", s.Name, s.Kind)
		}
		out = append(out, s)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start.Before(out[j-1].Start); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// expect is what one LLM span must show.
type expect struct {
	name, provider, operation string
	respModel, respID         string
	in, out                   float64 // -1: must be absent
	cacheRead, reasoning      float64 // 0: not checked
	finish                    string  // contained in finish_reasons
	stream                    bool
	minStream                 time.Duration // stream spans: at least this long (chunks are spaced)
	usageMissing              bool
	impact                    bool
}

func check(t *testing.T, s *span, w expect) {
	t.Helper()
	if s.Name != w.name {
		t.Errorf("span name %q, want %q", s.Name, w.name)
	}
	eq := func(key, want string) {
		if want != "" && s.str(key) != want {
			t.Errorf("%s: %s = %q, want %q", w.name, key, s.str(key), want)
		}
	}
	eq("gen_ai.provider.name", w.provider)
	eq("gen_ai.operation.name", w.operation)
	eq("gen_ai.response.model", w.respModel)
	eq("gen_ai.response.id", w.respID)
	num := func(key string, want float64) {
		got, ok := s.num(key)
		switch {
		case want < 0 && ok:
			t.Errorf("%s: %s = %v, want none", w.name, key, got)
		case want >= 0 && (!ok || got != want):
			t.Errorf("%s: %s = %v (present %v), want %v", w.name, key, got, ok, want)
		}
	}
	num("gen_ai.usage.input_tokens", w.in)
	num("gen_ai.usage.output_tokens", w.out)
	if w.cacheRead > 0 {
		num("gen_ai.usage.cache_read.input_tokens", w.cacheRead)
	}
	if w.reasoning > 0 {
		num("gen_ai.usage.reasoning.output_tokens", w.reasoning)
	}
	if w.finish != "" {
		if fr := fmt.Sprint(s.Attrs["gen_ai.response.finish_reasons"]); !strings.Contains(fr, w.finish) {
			t.Errorf("%s: finish reasons %s, want %q", w.name, fr, w.finish)
		}
	}
	if got, _ := s.Attrs["gen_ai.request.stream"].(bool); got != w.stream {
		t.Errorf("%s: gen_ai.request.stream = %v, want %v", w.name, got, w.stream)
	}
	if w.stream {
		ttfc, ok := s.num("gen_ai.response.time_to_first_chunk")
		dur := s.End.Sub(s.Start)
		if !ok || ttfc <= 0 || ttfc >= dur.Seconds() {
			t.Errorf("%s: time to first chunk %v (present %v), want in (0, %v)", w.name, ttfc, ok, dur)
		}
		if dur < w.minStream {
			t.Errorf("%s: stream span lasted %v, want >= %v: it must end after the last chunk, not when the call returns", w.name, dur, w.minStream)
		}
	}
	if _, missing := s.Attrs["tracegen.usage.missing"]; missing != w.usageMissing {
		t.Errorf("%s: tracegen.usage.missing present=%v, want %v", w.name, missing, w.usageMissing)
	}
	if s.Status == "error" {
		t.Errorf("%s: status error", w.name)
	}
	energy, _ := s.Impact["energy_kwh"].(float64)
	co2, _ := s.Impact["co2e_g"].(float64)
	if w.impact && (energy <= 0 || co2 <= 0) {
		t.Errorf("%s: impact %v, want an energy and CO2e estimate", w.name, s.Impact)
	}
	if w.impact && s.str("tracegen.footprint.method") == "" {
		t.Errorf("%s: no tracegen.footprint.method", w.name)
	}
}
