package trace

import (
	"context"
	"testing"
)

func TestWithIDs(t *testing.T) {
	for k, v := range map[string]string{EnvClientID: "c-env", EnvApplicationID: "app", EnvProjectID: "proj-1", EnvSessionID: "s-env", "TRACEGEN_ENERGY": "off"} {
		t.Setenv(k, v)
	}
	resetIDs()
	t.Cleanup(resetIDs)
	mem := setup(t, Config{})
	ctx := WithIDs(context.Background(), "c-trace", "", "")
	_, s := Start(ctx, "x")
	s.End()
	_, s2 := Start(context.Background(), "y")
	s2.End()
	recs := finish(t, mem)
	for name, want := range map[string]string{"x": "c-trace", "y": "c-env"} {
		if v, _ := recs[name].Lookup(AttrClientID); v.String() != want {
			t.Errorf("%s: client id %v, want %s", name, v, want)
		}
		if v, _ := recs[name].Lookup(AttrApplicationID); v.String() != "app" {
			t.Errorf("%s: application id %v", name, v)
		}
		if v, _ := recs[name].Lookup(AttrProjectID); v.String() != "proj-1" {
			t.Errorf("%s: project id %v", name, v)
		}
		if v, _ := recs[name].Lookup(AttrSessionID); v.String() != "s-env" {
			t.Errorf("%s: session id %v", name, v)
		}
	}
}
