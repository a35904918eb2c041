package ratelog

import (
	"bytes"
	"testing"
	"time"
)

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	l := &Logger{W: &buf, Prefix: "x exporter", Interval: time.Minute, Now: func() time.Time { return now }}
	l.Printf("failed %d", 1)
	l.Printf("failed %d", 2) // held back
	l.Printf("failed %d", 3) // held back
	now = now.Add(time.Minute)
	l.Printf("failed %d", 4)
	want := "tracegen: x exporter: failed 1\ntracegen: x exporter: failed 4 (2 more warnings in the last 1m0s not shown)\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
