package dynamodb

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/testtool"
)

// These tests write to and read from dynalite, a DynamoDB-compatible
// server (npm), which scripts/dynalite installs and scripts/test names in
// TRACEGEN_DYNALITE.

// dynaliteBinary returns the dynalite command named by TRACEGEN_DYNALITE.
// Under scripts/test (which sets TRACEGEN_TOOL_CACHE) a missing one fails
// the test; elsewhere the test is skipped with the command to run.
func dynaliteBinary(t *testing.T) string {
	t.Helper()
	return testtool.Path(t, "TRACEGEN_DYNALITE", "dynalite", "./scripts/dynalite", "runtime/export/dynamodb")
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDynalite starts an in-memory dynalite on a free 127.0.0.1 port, for
// the rest of the test, and returns its URL. The AWS SDK is given fake
// credentials and a region (dynalite checks that requests are signed, not
// by whom) and no shared configuration files.
func startDynalite(t *testing.T) string {
	t.Helper()
	bin := dynaliteBinary(t)
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", port, "--createTableMs", "0", "--deleteTableMs", "0")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("dynalite exited: %v\n%s", cmd.ProcessState, logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dynalite did not listen on %s: %v\n%s", addr, err, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fakeAWS(t)
	return "http://" + addr
}

// fakeAWS gives the AWS SDK credentials and a region from the environment
// and keeps it from reading the user's files or the instance metadata.
func fakeAWS(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTRACEGENTEST",
		"AWS_SECRET_ACCESS_KEY":       "tracegen-test-secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"} {
		if _, ok := os.LookupEnv(k); ok {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
