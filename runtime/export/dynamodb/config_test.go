package dynamodb

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string // a substring of the error; "" for none
	}{
		{"table only", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "spans"}, Config{Table: "spans"}, ""},
		{"everything", map[string]string{
			"TRACEGEN_DYNAMODB_TABLE": " spans ", "TRACEGEN_DYNAMODB_ENDPOINT": "http://127.0.0.1:4567",
			"TRACEGEN_DYNAMODB_CREATE_TABLE": "true", "TRACEGEN_DYNAMODB_CONVERSATION_INDEX": "conv",
			"TRACEGEN_DYNAMODB_IDENTIFIER": "app1", "TRACEGEN_DYNAMODB_TTL": "48h", "TRACEGEN_DYNAMODB_QUEUE_SIZE": "10",
		}, Config{Table: "spans", Endpoint: "http://127.0.0.1:4567", CreateTable: true, ConversationIndex: "conv",
			Identifier: "app1", TTL: 48 * time.Hour, QueueSize: 10}, ""},
		{"no ttl", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "t", "TRACEGEN_DYNAMODB_TTL": "0"}, Config{Table: "t", NoTTL: true}, ""},
		{"no table", map[string]string{}, Config{}, "TRACEGEN_DYNAMODB_TABLE is not set"},
		{"bad endpoint", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "t", "TRACEGEN_DYNAMODB_ENDPOINT": "ftp://user:pw@x"},
			Config{Table: "t", Endpoint: "ftp://user:pw@x"}, "TRACEGEN_DYNAMODB_ENDPOINT"},
		{"bad create", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "t", "TRACEGEN_DYNAMODB_CREATE_TABLE": "yes please"},
			Config{Table: "t"}, "TRACEGEN_DYNAMODB_CREATE_TABLE"},
		{"bad ttl", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "t", "TRACEGEN_DYNAMODB_TTL": "30d"}, Config{Table: "t"}, "TRACEGEN_DYNAMODB_TTL"},
		{"bad queue", map[string]string{"TRACEGEN_DYNAMODB_TABLE": "t", "TRACEGEN_DYNAMODB_QUEUE_SIZE": "-1"},
			Config{Table: "t", QueueSize: -1}, "TRACEGEN_DYNAMODB_QUEUE_SIZE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error %v shows the endpoint's password", err)
			}
			if got != tc.want {
				t.Errorf("config %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewNeedsTable(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New without a table: %v, want ErrConfig", err)
	}
}
