package energy_test

import (
	"bytes"
	"context"
	"runtime"
	"runtime/pprof"
	rtrace "runtime/trace"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tracegen-dev/tracegen/runtime/energy"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// samplerGoroutines counts the energy sampler's goroutines in a dump.
func samplerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "energy.(*sampler).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestEnergyIdleExit: the sampler runs while a span is open, is gone about
// energyIdleExit after the last span ended (a goleak check with its default
// retries passes), and starts again with the next span, which gets energy.
func TestEnergyIdleExit(t *testing.T) {
	energyEnv(t, "TRACEGEN_GPU", "off")
	mem := setup(t, trace.Config{})
	ignore := goleak.IgnoreCurrent()
	unit := calibrate(20 * time.Millisecond)
	var worst time.Duration
	for round := 1; round <= 3; round++ {
		_, s := trace.Start(context.Background(), "work")
		sink2.Add(spin(unit))
		if n := samplerGoroutines(); n != 1 {
			t.Errorf("round %d: %d sampler goroutines inside a span, want 1", round, n)
		}
		s.End()
		ended := time.Now()
		for samplerGoroutines() != 0 {
			if time.Since(ended) > time.Second {
				t.Fatalf("round %d: the sampler still runs 1 s after the last span", round)
			}
			time.Sleep(500 * time.Microsecond)
		}
		worst = max(worst, time.Since(ended))
		goleak.VerifyNone(t, ignore) // the pipeline's batcher idle-exits too
	}
	t.Logf("sampler gone %v (worst of 3) after the last span", worst)
	if worst > 150*time.Millisecond {
		t.Errorf("sampler outlived the last span by %v, want about %v", worst, energy.IdleExit)
	}
	// The first span of this test's pipeline created the sampler; the two
	// later busy periods each started it again.
	if n := energy.ReadStats().Starts; n != 3 {
		t.Errorf("sampler started %d times over 3 busy periods, want 3", n)
	}
	for i, r := range mem.Spans() {
		if r.Impact.Joules[record.EnergyCPU] <= 0 {
			t.Errorf("span %d of the 3 busy periods got no CPU energy: %+v", i+1, r.Impact)
		}
	}
}

// TestEnergyLeavesProfilersAlone: the program can still start its own CPU
// profile and execution trace while the sampler runs (the sampler uses
// neither).
func TestEnergyLeavesProfilersAlone(t *testing.T) {
	energyEnv(t, "TRACEGEN_GPU", "off")
	setup(t, trace.Config{})
	_, s := trace.Start(context.Background(), "profiled")
	defer s.End()
	waitSampler(t)
	var prof, tr bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		t.Fatalf("pprof.StartCPUProfile with the energy sampler running: %v", err)
	}
	if err := rtrace.Start(&tr); err != nil {
		t.Fatalf("runtime/trace.Start with the energy sampler running: %v", err)
	}
	sink2.Add(spin(calibrate(30 * time.Millisecond)))
	rtrace.Stop()
	pprof.StopCPUProfile()
	if prof.Len() == 0 || tr.Len() == 0 {
		t.Errorf("CPU profile %d bytes, execution trace %d bytes", prof.Len(), tr.Len())
	}
	if st := energy.ReadStats(); st.Split == "scheduler" && st.Ticks == 0 {
		t.Errorf("no ticks while profiled: %+v", st)
	}
}
