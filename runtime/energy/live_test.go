package energy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/energy"
	_ "github.com/tracegen-dev/tracegen/runtime/impact/live"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// With package live linked and a token, the sampler replaces the table
// intensity by the live one before the first span's energy is converted.
func TestLiveIntensity(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"zone":"FR","carbonIntensity":33}`)
	}))
	defer srv.Close()
	energyEnv(t, "TRACEGEN_COUNTRY", "FR", "TRACEGEN_ELECTRICITYMAPS_TOKEN", "tok", "TRACEGEN_ELECTRICITYMAPS_URL", srv.URL, "TRACEGEN_GPU", "off")
	setup(t, trace.Config{})
	_, s := trace.Start(context.Background(), "x")
	waitSampler(t)
	s.End()
	if f := energy.Factors(); f.Intensity.GCO2ePerKWh != 33 {
		t.Errorf("intensity = %+v, want the live 33", f.Intensity)
	}
}
