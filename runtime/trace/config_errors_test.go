package trace

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/impact"
)

func TestConfigFromEnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    error
		varName string
	}{
		{"unknown exporter", map[string]string{"TRACEGEN_EXPORTER": "bogus"}, export.ErrUnknownExporter, "TRACEGEN_EXPORTER"},
		{"exporter not linked", map[string]string{"TRACEGEN_EXPORTER": "otlp"}, nil, "TRACEGEN_EXPORTER"},
		{"bad sample", map[string]string{"TRACEGEN_SAMPLE": "lots"}, ErrInvalidValue, "TRACEGEN_SAMPLE"},
		{"bad limit", map[string]string{"OTEL_SPAN_EVENT_COUNT_LIMIT": "-1"}, ErrInvalidValue, "OTEL_SPAN_EVENT_COUNT_LIMIT"},
		{"missing region", map[string]string{"TRACEGEN_CLOUD_PROVIDER": "aws"}, impact.ErrMissingRegion, "TRACEGEN_CLOUD_REGION"},
		{"unknown country", map[string]string{"TRACEGEN_COUNTRY": "XX"}, impact.ErrUnknownCountry, "TRACEGEN_COUNTRY"},
		{"missing env file", map[string]string{}, fs.ErrNotExist, "Config.EnvFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var err error
			if tt.varName == "Config.EnvFile" {
				var st settings
				var errs []error
				st = resolve(Config{EnvFile: filepath.Join(t.TempDir(), "absent.env")}, func(e error) { errs = append(errs, e) })
				_ = st
				err = errors.Join(errs...)
				t.Cleanup(func() { export.UseEnvFile("") })
			} else {
				var cfg Config
				cfg, err = ConfigFromEnv()
				for _, e := range cfg.Exporters {
					e.Shutdown(context.Background())
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want == nil {
				var nl *export.NotLinkedError
				if !errors.As(err, &nl) || nl.Name != "otlp" {
					t.Errorf("error %v, want a *export.NotLinkedError for otlp", err)
				}
			} else if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want one wrapping %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.varName) || strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("error %q: want one line naming %s", err, tt.varName)
			}
			var ee *EnvError
			if tt.want == ErrInvalidValue || tt.want == export.ErrUnknownExporter {
				if !errors.As(err, &ee) || ee.Var != tt.varName {
					t.Errorf("error %v: want an *EnvError for %s", err, tt.varName)
				}
			}
		})
	}
}

func TestConfigFromEnvValues(t *testing.T) {
	t.Setenv("TRACEGEN_EXPORTER", "memory")
	t.Setenv("TRACEGEN_SAMPLE", "0.25")
	t.Setenv("TRACEGEN_QUEUE_SIZE", "100")
	t.Setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "9")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Exporters) != 1 || cfg.SampleRatio != 0.25 || cfg.QueueSize != 100 || cfg.Limits.AttributeCount != 9 {
		t.Errorf("ConfigFromEnv = %+v", cfg)
	}
	if _, ok := cfg.Exporters[0].(*export.Memory); !ok {
		t.Errorf("exporter %T, want *export.Memory", cfg.Exporters[0])
	}
}

func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tracegen.env")
	const file = `# settings for the test
export OTEL_SERVICE_NAME="from-file"
OTEL_RESOURCE_ATTRIBUTES='team=search'
TRACEGEN_CONTENT_LIMIT=10   # bytes
not a line
TRACEGEN_SAMPLE=1
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTEL_SERVICE_NAME", "from-env") // the environment wins
	t.Cleanup(func() { export.UseEnvFile("") })
	log := &syncBuffer{}
	mem := export.NewMemory(10)
	Configure(Config{EnvFile: path, Exporters: []export.Exporter{mem}, ErrorLog: log})
	t.Cleanup(Stop)
	s := Begin("s")
	s.RecordInput("prompt", strings.Repeat("x", 100))
	s.End()
	r := finish(t, mem)["s"]
	res := attrMap(r.Resource)
	if res["service.name"].Str() != "from-env" || res["team"].Str() != "search" {
		t.Errorf("resource service.name=%q team=%q, want from-env and search", res["service.name"].Str(), res["team"].Str())
	}
	if in := attrMap(r.Input); len(in["prompt"].Str()) != 10 {
		t.Errorf("prompt %d bytes, want the file's content limit, 10", len(in["prompt"].Str()))
	}
	want := path + ":5: want KEY=VALUE"
	if got := strings.TrimSpace(log.String()); got != "tracegen: "+want {
		t.Errorf("stderr %q, want %q", got, "tracegen: "+want)
	}
	var fe *export.EnvFileError
	if err := export.UseEnvFile(path); !errors.As(err, &fe) || fe.Line != 5 || fe.File != path {
		t.Errorf("UseEnvFile error %v, want an *export.EnvFileError at line 5", err)
	}
}
