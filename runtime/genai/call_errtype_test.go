package genai

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type statusErr struct{ code string }

func (e *statusErr) Error() string     { return "provider said " + e.code }
func (e *statusErr) ErrorType() string { return e.code }

type plainErr struct{}

func (plainErr) Error() string { return "plain" }

func TestErrorType(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"names its type", &statusErr{"429"}, "429"},
		{"wrapped, names its type", fmt.Errorf("call: %w", &statusErr{"overloaded_error"}), "overloaded_error"},
		{"empty name falls back to the Go type", &statusErr{""}, "*genai.statusErr"},
		{"go type", plainErr{}, "genai.plainErr"},
		{"anonymous", errors.New("x"), "_OTHER"},
		{"canceled", context.Canceled, "context canceled"},
	}
	for _, tt := range tests {
		if got := errorType(tt.err); got != tt.want {
			t.Errorf("%s: errorType(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
}
