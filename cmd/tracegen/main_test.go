package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output sections of testdata/script with the actual output")

// TestMain makes the test binary act as the tracegen command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"tracegen": main})
}

// TestScripts runs testdata/script/*.txtar at the repository root: one script
// per CLI behaviour (see testdata/script/README.md).
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goenv := goEnv(t, "GOMODCACHE", "GOCACHE", "GOPATH")
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			for k, v := range goenv {
				env.Setenv(k, v)
			}
			// Hermetic: modules come from the module cache that building
			// tracegen itself filled, and sums from its go.sum (scripts copy it).
			env.Setenv("GOPROXY", "off")
			// Those modules were verified against tracegen's go.sum when they
			// were downloaded; a script module whose go.sum lacks a line must
			// not ask the checksum database, which may be unreachable (CI).
			env.Setenv("GOSUMDB", "off")
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOTOOLCHAIN", "local")
			env.Setenv("TRACEGEN_ROOT", root)
			// The runtime module: what script modules require (and
			// replace with this directory) to build instrumented code.
			env.Setenv("TRACEGEN_RUNTIME", filepath.Join(root, "runtime"))
			env.Setenv("TRACEGEN_CACHE", filepath.Join(env.WorkDir, ".tracegen-cache"))
			return nil
		},
		Cmds: scriptCommands(),
	})
}

// goEnv reads go env values once, so scripts use the same caches and proxy.
func goEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"env", "-json"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go env: %v", err)
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// scriptCommands returns the custom script commands, refusing duplicates.
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := make(map[string]func(ts *testscript.TestScript, neg bool, args []string))
	add := func(name string, fn func(ts *testscript.TestScript, neg bool, args []string)) {
		if _, dup := cmds[name]; dup {
			panic("duplicate script command " + name)
		}
		cmds[name] = fn
	}
	add("exits", cmdExits)
	add("replace", cmdReplace)
	add("treehash", cmdTreehash)
	add("spans", cmdSpans)
	add("maskcrash", cmdMaskCrash)
	add("stacks", cmdStacks)
	add("freeport", cmdFreeport)
	add("httppost", cmdHTTPPost)
	add("httpget", cmdHTTPGet)
	add("linesize", cmdLineSize)
	return cmds
}

// cmdLineSize checks the number of lines of a file and the size of the
// longest:
//
//	linesize file.jsonl lines maxbytes
func cmdLineSize(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: linesize file lines maxbytes")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err1 := strconv.Atoi(args[1])
	limit, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		ts.Fatalf("linesize: bad numbers %q %q", args[1], args[2])
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	longest := 0
	for _, l := range lines {
		longest = max(longest, len(l))
	}
	ts.Logf("%s: %d bytes, %d lines, the longest %d bytes", args[0], len(data), len(lines), longest)
	if len(lines) != want || longest > limit {
		ts.Fatalf("%s: %d lines, the longest %d bytes; want %d lines of at most %d bytes", args[0], len(lines), longest, want, limit)
	}
}

// cmdExits runs a program and checks its exact exit status, keeping its
// stdout and stderr for the next stdout/stderr/cmp commands:
//
//	exits code program args...
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits code program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdReplace edits a file in place, replacing the first old by new; it fails
// when old does not occur: replace file old new.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace file old new")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	if !strings.Contains(string(data), args[1]) {
		ts.Fatalf("replace: %q not found in %s", args[1], args[0])
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), args[1], args[2], 1)), 0o666))
}

// cmdTreehash prints one hash of every file (name, mode, bytes) under a
// directory, skipping .tracegen-cache; with a suffix, only the files whose
// names end with it: treehash dir [suffix].
func cmdTreehash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: treehash dir [suffix]")
	}
	suffix := ""
	if len(args) == 2 {
		suffix = args[1]
	}
	root := ts.MkAbs(args[0])
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".tracegen-cache" {
			return filepath.SkipDir
		}
		if !d.IsDir() && !strings.HasSuffix(d.Name(), suffix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00%v\x00", rel, info.Mode())
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	ts.Check(err)
	fmt.Fprintln(ts.Stdout(), hex.EncodeToString(h.Sum(nil)))
}

// cmdSpans checks spans in a JSONL file written by the jsonl exporter:
//
//	spans file.jsonl want...
//
// where each want is name (a span so named exists), child<parent (a span
// named child whose parent span is named parent), name!error (a span so
// named has status error) or name#N (exactly N spans are so named). With !,
// the wants must all fail.
func cmdSpans(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: spans file.jsonl want...")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	type span struct {
		ID     string `json:"span_id"`
		Parent string `json:"parent_span_id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	var spans []span
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var s span
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			ts.Fatalf("%s:%d: %v", args[0], n, err)
		}
		spans = append(spans, s)
	}
	byID := make(map[string]span)
	var names []string
	for _, s := range spans {
		byID[s.ID] = s
		names = append(names, s.Name)
	}
	sort.Strings(names)
	for _, want := range args[1:] {
		ok := false
		switch {
		case strings.Contains(want, "<"):
			child, parent, _ := strings.Cut(want, "<")
			for _, s := range spans {
				if s.Name == child && s.Parent != "" && byID[s.Parent].Name == parent {
					ok = true
				}
			}
		case strings.Contains(want, "#"):
			name, count, _ := strings.Cut(want, "#")
			n := 0
			for _, s := range spans {
				if s.Name == name {
					n++
				}
			}
			ok = strconv.Itoa(n) == count
		case strings.HasSuffix(want, "!error"):
			name := strings.TrimSuffix(want, "!error")
			for _, s := range spans {
				if s.Name == name && s.Status == "error" {
					ok = true
				}
			}
		default:
			for _, s := range spans {
				if s.Name == want {
					ok = true
				}
			}
		}
		if ok == neg {
			ts.Fatalf("spans: %q: got %v for %d spans %s", want, ok, len(spans), strings.Join(names, ", "))
		}
	}
}

// Parts of a crash report that differ from build to build and run to run:
// hexadecimal numbers (addresses, pointer arguments), a frame's +0x pc
// offset (absent on inlined frames), goroutine ids, and a frame's argument
// list, which is "(...)" when the function was inlined and its argument
// words otherwise (a traced function has a deferred call, so the compiler
// no longer inlines it).
var (
	crashArgs   = regexp.MustCompile(`^([\w./*()\[\]-]+)\((?:\.\.\.|[0-9a-fx?, {}.]*)\)$`)
	crashOffset = regexp.MustCompile(` \+0x[0-9a-f]+$`)
	crashHex    = regexp.MustCompile(`0x[0-9a-f]+\??`)
	crashGoid   = regexp.MustCompile(`goroutine \d+`)
)

// cmdMaskCrash copies a crash report with addresses, offsets, goroutine ids
// and argument lists masked, so that the reports of two builds compare:
//
//	maskcrash in out
func cmdMaskCrash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: maskcrash in out")
	}
	lines := strings.Split(ts.ReadFile(args[0]), "\n") // stdout and stderr too
	for i, l := range lines {
		l = crashArgs.ReplaceAllString(l, "$1(_)")
		l = crashOffset.ReplaceAllString(l, "")
		l = crashHex.ReplaceAllString(l, "0x_")
		l = crashGoid.ReplaceAllString(l, "goroutine N")
		lines[i] = l
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(lines, "\n")), 0o666))
}

// cmdStacks checks how many spans of a JSONL file carry an event with an
// exception.stacktrace attribute:
//
//	stacks file.jsonl n
func cmdStacks(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: stacks file.jsonl n")
	}
	type span struct {
		Events []struct {
			Attrs map[string]any `json:"attributes"`
		} `json:"events"`
	}
	n := 0
	for i, line := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var s span
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			ts.Fatalf("%s:%d: %v", args[0], i+1, err)
		}
		for _, e := range s.Events {
			if _, ok := e.Attrs["exception.stacktrace"]; ok {
				n++
				break
			}
		}
	}
	if strconv.Itoa(n) != args[1] {
		ts.Fatalf("%d spans carry a stack trace, want %s", n, args[1])
	}
}

// cmdFreeport sets an environment variable to a free TCP port on
// 127.0.0.1, for a server the script starts in the background:
//
//	freeport VAR
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	ts.Check(l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// httpDo sends a request, retrying for 20 s while the server is not yet
// listening, and prints the status and body on stdout.
func httpDo(ts *testscript.TestScript, method, url, ctype string, body []byte) {
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, rerr := http.NewRequest(method, url, bytes.NewReader(body))
		ts.Check(rerr)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err = http.DefaultClient.Do(req)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	ts.Check(err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d %s\n%s\n", resp.StatusCode, resp.Header.Get("Content-Type"), out)
}

// cmdHTTPPost posts a file and prints the status line and body:
//
//	httppost URL content-type file
func cmdHTTPPost(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: httppost URL content-type file")
	}
	body, err := os.ReadFile(ts.MkAbs(args[2]))
	ts.Check(err)
	httpDo(ts, http.MethodPost, args[0], args[1], body)
}

// cmdHTTPGet gets a URL and prints the status line and body:
//
//	httpget URL
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpget URL")
	}
	httpDo(ts, http.MethodGet, args[0], "", nil)
}
