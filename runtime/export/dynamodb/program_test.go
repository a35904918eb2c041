package dynamodb

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/testtool"

	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// TestMain doubles as an instrumented program (DYNAMODB_TEST_PROGRAM=1):
// it links this package as a program's blank import would, traces one
// conversation, prints a line and exits with code 3. Otherwise it runs the
// tests and checks that nothing of the exporter is left running.
func TestMain(m *testing.M) {
	if os.Getenv("DYNAMODB_TEST_PROGRAM") == "1" {
		conversation("conv-prog", "search", 3)
		fmt.Println("hello from the program")
		trace.Exit(3)
	}
	goleak.VerifyTestMain(m)
}

// runProgram runs the test binary as the program with env added.
func runProgram(t *testing.T, env ...string) testtool.Run {
	t.Helper()
	return testtool.RunSelf(t, "DYNAMODB_TEST_PROGRAM", env...)
}

// TestProgram: a program configured only by the environment
// (TRACEGEN_EXPORTER=dynamodb, the table, the endpoint, create-table)
// writes its spans, which read back by conversation; its output and exit
// code are those of the untraced program.
func TestProgram(t *testing.T) {
	url := startDynalite(t)
	base := runProgram(t)
	if base.Stdout != "hello from the program\n" || base.Code != 3 || base.Stderr != "" {
		t.Fatalf("untraced program: %+v", base)
	}
	r := runProgram(t, "TRACEGEN_EXPORTER=dynamodb", "TRACEGEN_DYNAMODB_TABLE=prog",
		"AWS_ENDPOINT_URL_DYNAMODB="+url, "TRACEGEN_DYNAMODB_CREATE_TABLE=true", "OTEL_SERVICE_NAME=dyn-prog")
	if r.Stdout != base.Stdout || r.Code != base.Code || r.Stderr != "" {
		t.Fatalf("traced program: stdout %q, exit code %d, stderr %q", r.Stdout, r.Code, r.Stderr)
	}
	exp, err := New(Config{Table: "prog", Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := exp.Traces(context.Background(), Filter{ConversationID: "conv-prog"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("%d spans of the conversation, want 6", len(recs))
	}
	root := recs[0]
	if root.Name != "agent.Run" || root.ParentSpanID.IsValid() {
		t.Fatalf("first span %s (parent %s), want the root agent.Run", root.Name, root.ParentSpanID)
	}
	for _, s := range recs[1:] {
		if s.TraceID != root.TraceID || s.ParentSpanID != root.SpanID {
			t.Errorf("span %s: trace %s parent %s, want %s %s", s.Name, s.TraceID, s.ParentSpanID, root.TraceID, root.SpanID)
		}
	}
	if v, ok := root.Lookup("service.name"); ok || len(root.Resource) == 0 {
		t.Errorf("service.name among attributes (%v) or no resource", v)
	}
	if fmt.Sprint(root.Resource) == "" || !strings.Contains(fmt.Sprint(root.Resource), "dyn-prog") {
		t.Errorf("resource %v, want service.name dyn-prog", root.Resource)
	}
}

// TestProgramEndpointDown: with nothing listening at the endpoint the
// program prints the same, exits with the same code, writes at most one
// warning line, without credentials, and exits within its shutdown
// timeout.
func TestProgramEndpointDown(t *testing.T) {
	fakeAWS(t)
	down := freeAddr(t)
	hang, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	for _, tc := range []struct{ name, endpoint string }{
		{"down", "http://" + down},
		{"never answers", "http://" + hang.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runProgram(t, "TRACEGEN_EXPORTER=dynamodb", "TRACEGEN_DYNAMODB_TABLE=prog",
				"TRACEGEN_DYNAMODB_ENDPOINT="+tc.endpoint, "TRACEGEN_SHUTDOWN_TIMEOUT=1s")
			if r.Stdout != "hello from the program\n" || r.Code != 3 {
				t.Errorf("stdout %q, exit code %d", r.Stdout, r.Code)
			}
			if l := lines(r.Stderr); len(l) > 1 || strings.Contains(r.Stderr, "tracegen-test-secret") {
				t.Errorf("stderr %q: want at most one line, without the secret", r.Stderr)
			}
			if r.Took > 4*time.Second {
				t.Errorf("the program took %v with a 1s shutdown timeout", r.Took)
			}
		})
	}
}
