package trace

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// withPII installs the redactor for env and a synchronous memory pipeline,
// and restores both afterwards.
func withPII(t *testing.T, env map[string]string) (*export.Memory, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	configurePII(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &log)
	mem := export.NewMemory(100)
	Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{mem}, Sync: true, ErrorLog: &log})
	t.Cleanup(func() {
		setRedactor(nil)
		Configure(Config{IgnoreEnv: true, Exporters: []export.Exporter{}})
	})
	return mem, &log
}

func TestPIIRedactsBeforeExport(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantAttr string // the "user" attribute after redaction
		leak     []string
		logHas   string
	}{
		{"redact", map[string]string{"TRACEGEN_PII": "redact"}, "mail [REDACTED:email]", []string{"jane@example.com", "4111 1111 1111 1111"}, ""},
		{"mask", map[string]string{"TRACEGEN_PII": "mask"}, "mail j***@example.com", []string{"jane@example.com", "4111 1111 1111 1111"}, ""},
		{"hash", map[string]string{"TRACEGEN_PII": "hash", "TRACEGEN_PII_KEY": "k1"}, "", []string{"jane@example.com", "4111 1111 1111 1111"}, ""},
		{"types narrow", map[string]string{"TRACEGEN_PII": "redact", "TRACEGEN_PII_TYPES": "credit_card"}, "mail jane@example.com", []string{"4111 1111 1111 1111"}, ""},
		{"typo fails closed", map[string]string{"TRACEGEN_PII": "mask-all"}, "mail [REDACTED:email]", []string{"jane@example.com"}, "TRACEGEN_PII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem, log := withPII(t, tt.env)
			_, s := Start(context.Background(), "llm", TypeLLM, WithAttr("user", "mail jane@example.com"))
			s.AddEvent("note", record.String("card", "card 4111 1111 1111 1111"))
			s.RecordInput("prompt", "my card is 4111 1111 1111 1111")
			s.RecordOutput("answer", map[string]string{"to": "jane@example.com"})
			s.Finish(errors.New("failed for jane@example.com"), nil)
			recs := mem.Spans()
			if len(recs) != 1 {
				t.Fatalf("%d spans exported", len(recs))
			}
			js := string(recs[0].AppendJSON(nil))
			for _, l := range tt.leak {
				if strings.Contains(js, l) {
					t.Errorf("exported record contains %q: %s", l, js)
				}
			}
			v, _ := recs[0].Lookup("user")
			if tt.wantAttr != "" && v.Str() != tt.wantAttr {
				t.Errorf("user attribute %q, want %q", v.Str(), tt.wantAttr)
			}
			if tt.name == "hash" && !strings.HasPrefix(v.Str(), "mail [email:") {
				t.Errorf("hash mode attribute %q", v.Str())
			}
			if tt.logHas != "" && !strings.Contains(log.String(), tt.logHas) {
				t.Errorf("error log %q does not mention %s", log.String(), tt.logHas)
			}
		})
	}
}

func TestPIINoneLeavesDataAlone(t *testing.T) {
	mem, _ := withPII(t, map[string]string{})
	_, s := Start(context.Background(), "x", WithAttr("user", "jane@example.com"))
	s.End()
	if v, _ := mem.Spans()[0].Lookup("user"); v.Str() != "jane@example.com" {
		t.Errorf("TRACEGEN_PII unset changed the attribute to %q", v.Str())
	}
}
