package otlp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type mapEnv map[string]string

func (m mapEnv) lookup(k string) (string, bool) { v, ok := m[k]; return v, ok }

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  mapEnv
		want Config
		err  string // substring of the error; "" for none
	}{
		{"nothing set", mapEnv{}, Config{}, ""},
		{"base endpoint gets /v1/traces", mapEnv{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			Config{Endpoint: "http://collector:4318/v1/traces"}, ""},
		{"base endpoint with a path and a slash", mapEnv{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://gw.example/otlp/"},
			Config{Endpoint: "https://gw.example/otlp/v1/traces"}, ""},
		{"traces endpoint used as is and wins", mapEnv{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://a:4318",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:9999/custom"},
			Config{Endpoint: "http://b:9999/custom"}, ""},
		{"protocol, traces variant wins", mapEnv{
			"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
			Config{Protocol: ProtocolJSON}, ""},
		{"headers percent-decoded, traces variant replaces", mapEnv{
			"OTEL_EXPORTER_OTLP_HEADERS":        "a=1",
			"OTEL_EXPORTER_OTLP_TRACES_HEADERS": " Authorization = Basic%20dTpw , x-tenant=acme%2Ceu ,"},
			Config{Headers: map[string]string{"Authorization": "Basic dTpw", "x-tenant": "acme,eu"}}, ""},
		{"gzip and timeout in ms", mapEnv{
			"OTEL_EXPORTER_OTLP_COMPRESSION":        "none",
			"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
			"OTEL_EXPORTER_OTLP_TIMEOUT":            "2500"},
			Config{Gzip: true, Timeout: 2500 * time.Millisecond}, ""},
		{"queue, batch, blocking", mapEnv{"TRACEGEN_OTLP_QUEUE_SIZE": "100", "TRACEGEN_OTLP_BATCH_SIZE": "10", "TRACEGEN_BLOCKING": "1"},
			Config{QueueSize: 100, BatchSize: 10, Blocking: true}, ""},
		{"grpc is refused", mapEnv{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, Config{},
			"OTEL_EXPORTER_OTLP_PROTOCOL=grpc: not supported"},
		{"bad timeout", mapEnv{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "5s"}, Config{},
			`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="5s"`},
		{"bad compression", mapEnv{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, Config{}, "want gzip or none"},
		{"endpoint without scheme, user info hidden", mapEnv{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://u:pw@h/x"}, Config{},
			`"ftp://u:xxxxx@h/x": want an http:// or https:// URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(tc.env.lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrConfig) {
					t.Fatalf("error %v, want one containing %q and wrapping ErrConfig", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{BatchSize: 100000}.withDefaults()
	if c.Endpoint != DefaultEndpoint || c.Protocol != ProtocolProtobuf || c.Timeout != 10*time.Second ||
		c.QueueSize != DefaultQueueSize || c.BatchSize != DefaultQueueSize {
		t.Errorf("defaults %+v", c)
	}
	if _, err := New(Config{Endpoint: "localhost:4318"}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with a scheme-less endpoint: %v", err)
	}
	if got := redactedURL("https://u:p@h:1/v1/traces?key=s"); got != "https://h:1/v1/traces?redacted" {
		t.Errorf("redactedURL = %s", got)
	}
}
