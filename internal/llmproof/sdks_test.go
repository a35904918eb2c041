package llmproof

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/rules"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// covered lists every SDK module the built-in rules name, the version the
// proof program in testdata/llm/<dir> is built against, and that program.
// One program per SDK major. When a rule names a module missing here, a
// program pins another version, or the module proxy serves a newer version
// or a new major, TestSDKCoverage fails with one line saying so.
var covered = []struct {
	module, version, dir string
}{
	{"github.com/openai/openai-go/v3", "v3.100.0", "openaigo"},
	{"github.com/sashabaranov/go-openai", "v1.43.0", "goopenai"},
	{"github.com/anthropics/anthropic-sdk-go", "v1.84.0", "anthropic"},
	{"github.com/anthropics/anthropic-sdk-go/v2", "v2.16.0", "anthropicv2"},
	{"google.golang.org/genai", "v1.77.0", "genai"},
	{"github.com/tmc/langchaingo", "v0.1.14", "langchaingo"},
	{"github.com/aws/aws-sdk-go-v2/service/bedrockruntime", "v1.63.13", "bedrock"},
	{"github.com/ollama/ollama", "v0.17.4", "ollama"},
	{"github.com/meguminnnnnnnnn/go-openai", "v0.1.1", "eino"},
	{"github.com/cloudwego/eino", "v0.7.36", "eino"},
	{"github.com/firebase/genkit/go", "v1.4.0", "genkit"},
}

// moduleOf returns the covered module holding package path (the longest
// prefix), or "".
func moduleOf(path string) string {
	best := ""
	for _, c := range covered {
		if (path == c.module || strings.HasPrefix(path, c.module+"/")) && len(c.module) > len(best) {
			best = c.module
		}
	}
	return best
}

func TestSDKCoverage(t *testing.T) {
	root := repoRoot(t)
	// Every package a built-in rule names belongs to a covered module, and
	// every covered module is named by a rule.
	named := map[string]bool{}
	for _, r := range rules.Builtin() {
		for _, p := range r.ImportPaths() {
			m := moduleOf(p)
			if m == "" {
				t.Errorf("rule %s names package %s of a module no proof program covers: add it to covered and testdata/llm", r.Name, p)
			}
			named[m] = true
		}
	}
	yaml, err := os.ReadFile(filepath.Join(root, "rules", "builtin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "llm.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range covered {
		if !named[c.module] {
			t.Errorf("%s: no built-in rule names a package of this module", c.module)
		}
		if !hasHeader(yaml, c.module, c.version) {
			t.Errorf("rules/builtin.yaml: no section header \"# ---- %s[/pkg] (%s) ----\"", c.module, c.version)
		}
		if !hasRow(doc, c.module, c.version) {
			t.Errorf("docs/llm.md: no table row starting \"| `%s[/pkg]` %s |\"", c.module, c.version)
		}
		gomod := filepath.Join(root, "testdata", "llm", c.dir, "go.mod")
		data, err := os.ReadFile(gomod)
		if err != nil {
			t.Errorf("%s: %v", c.module, err)
			continue
		}
		f, err := modfile.ParseLax(gomod, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, r := range f.Require {
			if r.Mod.Path == c.module {
				got = r.Mod.Version
			}
		}
		if got != c.version {
			t.Errorf("testdata/llm/%s/go.mod requires %s %q, want %s", c.dir, c.module, got, c.version)
		}
	}
}

// TestSDKCoverageNewest asks the module proxy for each covered module's
// versions and for its next major: a new major path fails here, one line
// each, until a proof program and rules cover it; a newer release of a
// covered major is logged (bump the program to keep testing the newest).
func TestSDKCoverageNewest(t *testing.T) {
	if testing.Short() {
		t.Skip("asks the module proxy; run without -short")
	}
	for _, c := range covered {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			versions, ok := proxyVersions(t, c.module)
			if !ok {
				t.Fatalf("%s: the module proxy does not know it", c.module)
			}
			if latest := newest(versions); latest != c.version {
				// A newer release of a covered major is news, not a failure:
				// the rules match by name, and the program says when they stop.
				t.Logf("%s: the module proxy serves %s, the proof program is built against %s: bump testdata/llm/%s and the rules", c.module, latest, c.version, c.dir)
			}
			next := nextMajor(c.module, c.version)
			if moduleOf(next) == next {
				return // covered by a program of its own
			}
			if vs, ok := proxyVersions(t, next); ok && len(vs) > 0 {
				t.Errorf("%s: a new major exists on the module proxy (%s %s): add rules and a proof program for it", c.module, next, newest(vs))
			}
		})
	}
}

// proxyVersions runs go list -m -versions outside any module. ok is false
// when the proxy says the module does not exist; the test is skipped when the
// proxy cannot be asked at all.
func proxyVersions(t *testing.T, path string) ([]string, bool) {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-versions", path)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on", "GOPROXY="+proxyOnly())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if strings.Contains(msg, "404 Not Found") || strings.Contains(msg, "410 Gone") || strings.Contains(msg, "no matching versions") {
			return nil, false
		}
		t.Skipf("cannot ask the module proxy about %s (offline? GOPROXY=off?): %v\n%s", path, err, msg)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return nil, false
	}
	return fields[1:], true
}

// newest returns the highest release (not pre-release) version.
func newest(versions []string) string {
	best := ""
	for _, v := range versions {
		if semver.Prerelease(v) == "" && (best == "" || semver.Compare(v, best) > 0) {
			best = v
		}
	}
	return best
}

// nextMajor returns the module path of the major after version's:
// example.com/m (v0 or v1) gives example.com/m/v2, example.com/m/v3 gives
// example.com/m/v4.
func nextMajor(path, version string) string {
	prefix, _, _ := module.SplitPathVersion(path)
	n, _ := strconv.Atoi(strings.TrimPrefix(semver.Major(version), "v"))
	if n < 1 {
		n = 1
	}
	return prefix + "/v" + strconv.Itoa(n+1)
}

// hasHeader reports whether a line of the rules file opens the section of
// module (or of one of its packages) at version.
func hasHeader(yaml []byte, module, version string) bool {
	for _, line := range strings.Split(string(yaml), "\n") {
		rest, ok := strings.CutPrefix(line, "# ---- "+module)
		if ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "/")) && strings.HasSuffix(rest, " ("+version+") ----") {
			return true
		}
	}
	return false
}

// hasRow reports whether a row of the docs' SDK table names module (or one
// of its packages) at version.
func hasRow(doc []byte, module, version string) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		rest, ok := strings.CutPrefix(line, "| `"+module)
		if ok && (strings.HasPrefix(rest, "`") || strings.HasPrefix(rest, "/")) && strings.Contains(rest, "` "+version+" |") {
			if i := strings.Index(rest, "`"); !strings.Contains(rest[:i], " ") {
				return true
			}
		}
	}
	return false
}

// proxyOnly is GOPROXY without its direct and off entries: a module the
// proxy does not have is absent, rather than fetched from its origin.
func proxyOnly() string {
	out, _ := exec.Command("go", "env", "GOPROXY").Output()
	var keep []string
	for _, p := range strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "off"
	}
	return strings.Join(keep, ",")
}
