package genai

import (
	_ "embed"
	"encoding/json"
	"os"
	"strings"
	"sync"
)

// builtinJSON is generated from rules/builtin.yaml (go test ./rules -run
// TestBuiltinJSON -update); a test in rules keeps the two in step.
//
//go:embed builtin.json
var builtinJSON []byte

var (
	builtinOnce  sync.Once
	builtinSpecs map[string]*Spec
	specCache    sync.Map // JSON literal -> *Spec
	envOnce      sync.Map // spec name -> struct{}
)

// BuiltinSpecs returns the run-time specs compiled into the runtime, by
// rule name. The map and specs are shared: do not modify them.
func BuiltinSpecs() map[string]*Spec {
	builtinOnce.Do(func() {
		var list []*Spec
		builtinSpecs = map[string]*Spec{}
		if err := json.Unmarshal(builtinJSON, &list); err != nil {
			warnOnce("builtin-json", "genai: built-in rules unreadable: "+err.Error())
			return
		}
		for _, s := range list {
			builtinSpecs[s.Name] = s
		}
	})
	return builtinSpecs
}

// lookupSpec resolves a call site's rule argument: the name of a built-in
// rule, or the JSON of a user rule's Spec. An unknown name yields a spec that
// still records a span (operation chat, provider unknown).
func lookupSpec(rule string) *Spec {
	if strings.HasPrefix(rule, "{") {
		if v, ok := specCache.Load(rule); ok {
			return v.(*Spec)
		}
		s := new(Spec)
		if err := json.Unmarshal([]byte(rule), s); err != nil {
			warnOnce("spec:"+rule, "genai: unreadable rule at a call site: "+err.Error())
			s = &Spec{Name: "invalid", Operation: "chat", Provider: "unknown"}
		}
		specCache.Store(rule, s)
		return s
	}
	if s, ok := BuiltinSpecs()[rule]; ok {
		return s
	}
	warnOnce("rule:"+rule, "genai: unknown rule "+rule+" (runtime older than the rewriter?)")
	s := &Spec{Name: rule, Operation: "chat", Provider: "unknown"}
	return s
}

// applySDKTracingEnv turns off the SDK's own spans (NAME=value) unless the
// user chose a value for NAME.
func applySDKTracingEnv(s *Spec) {
	if s.SDKTracingEnv == "" {
		return
	}
	if _, done := envOnce.LoadOrStore(s.SDKTracingEnv, struct{}{}); done {
		return
	}
	name, value, _ := strings.Cut(s.SDKTracingEnv, "=")
	if _, set := os.LookupEnv(name); !set {
		os.Setenv(name, value)
	}
}

var warned sync.Map

// warnOnce reports a runtime problem once per key on stderr; the program
// itself is never interrupted.
func warnOnce(key, msg string) {
	if _, dup := warned.LoadOrStore(key, struct{}{}); dup {
		return
	}
	os.Stderr.WriteString("tracegen: " + msg + "\n")
}
