package export

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func init() {
	Register("none", func() (Exporter, error) { return None{}, nil })
	Register("stdout", newStdoutFromEnv)
	Register("json", newJSONFromEnv)
	Register("jsonl", newJSONLFromEnv)
	Register("memory", newMemoryFromEnv)
}

// newStdoutFromEnv: TRACEGEN_STDOUT=stderr sends the tree to stderr.
func newStdoutFromEnv() (Exporter, error) {
	switch v := strings.ToLower(strings.TrimSpace(Getenv("TRACEGEN_STDOUT"))); v {
	case "", "stdout":
		return NewTree(os.Stdout), nil
	case "stderr":
		return NewTree(os.Stderr), nil
	default:
		return nil, fmt.Errorf("TRACEGEN_STDOUT=%q: want stdout or stderr", v)
	}
}

// newJSONFromEnv: JSON lines on stderr, or stdout with TRACEGEN_JSON=stdout.
func newJSONFromEnv() (Exporter, error) {
	switch v := strings.ToLower(strings.TrimSpace(Getenv("TRACEGEN_JSON"))); v {
	case "", "stderr":
		return NewJSON(os.Stderr), nil
	case "stdout":
		return NewJSON(os.Stdout), nil
	default:
		return nil, fmt.Errorf("TRACEGEN_JSON=%q: want stdout or stderr", v)
	}
}

func newJSONLFromEnv() (Exporter, error) {
	path := Getenv("TRACEGEN_JSONL_PATH")
	if path == "" {
		path = DefaultJSONLPath
	}
	return NewJSONL(path), nil
}

func newMemoryFromEnv() (Exporter, error) {
	n := DefaultMemoryCapacity
	if v := strings.TrimSpace(Getenv("TRACEGEN_MEMORY_SIZE")); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("TRACEGEN_MEMORY_SIZE=%q: want a positive integer", v)
		}
	}
	return NewMemory(n), nil
}
