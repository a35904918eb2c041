package energy

import (
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/internal/goroutine"
	"github.com/tracegen-dev/tracegen/runtime/internal/spanhook"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestParseDump(t *testing.T) {
	dump := `goroutine 7 [running]:
main.sampler()
	/x.go:1 +0x1

goroutine 1 [chan receive, 2 minutes]:
main.main()

goroutine 18 [running]:
	goroutine running on other thread; stack unavailable

goroutine 19 [runnable]:
main.work()

goroutine 20 [syscall, locked to thread]:
main.cuda()

goroutine 21 [sleep]:
time.Sleep()

goroutine 22 gp=0xc000 m=nil [runnable]:
main.other()
`
	got := parseDump([]byte(dump))
	want := []gCount{{18, 1, 1}, {19, 1, 1}, {20, 0, 1}, {22, 1, 1}}
	if len(got.gs) != len(want) {
		t.Fatalf("gs = %v, want %v", got.gs, want)
	}
	for i := range want {
		if got.gs[i] != want[i] {
			t.Errorf("gs[%d] = %v, want %v", i, got.gs[i], want[i])
		}
	}
	if len(got.all) != 7 || got.all[0] != 7 {
		t.Errorf("all = %v", got.all)
	}
	// The real thing: our own goroutine is first and skipped.
	buf := make([]byte, 1<<20)
	real := parseDump(buf[:runtime.Stack(buf, true)])
	if len(real.all) == 0 || real.all[0] != goroutine.ID() {
		t.Errorf("first goroutine of a dump = %v, want caller %d", real.all, goroutine.ID())
	}
}

func TestImpactReportBounded(t *testing.T) {
	resetReport()
	defer resetReport()
	for i := 0; i < maxReportNames+10; i++ {
		reportAdd(strings.Repeat("n", 1)+string(rune('a'+i%26))+time.Duration(i).String(), &record.Impact{EnergyKWh: float64(i)})
	}
	rep := Report()
	if len(rep) != maxReportNames+1 {
		t.Errorf("report has %d lines, want %d", len(rep), maxReportNames+1)
	}
	var sb strings.Builder
	if err := WriteReport(&sb); err != nil || !strings.Contains(sb.String(), "(other)") {
		t.Errorf("WriteReport: %v\n%s", err, sb.String()[:200])
	}
}

func TestReportAtStop(t *testing.T) {
	path := t.TempDir() + "/report.txt"
	old := energyGetenv
	energyGetenv = func(k string) string {
		if k == EnvImpactReport {
			return path
		}
		return ""
	}
	defer func() { energyGetenv = old }()
	resetReport()
	defer resetReport()
	reportAdd("llm.call", &record.Impact{EnergyKWh: 2e-6, CO2eG: 1e-3})
	reportAdd("llm.call", &record.Impact{EnergyKWh: 4e-6, CO2eG: 3e-3})
	writeReportAtStop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// count 2, total 0.006 Wh, avg 0.003, min 0.002, max 0.004; CO2e 4, 2, 1, 3 mg.
	if !regexp.MustCompile(`llm\.call\s+2\s+0\.006000\s+0\.003000\s+0\.002000\s+0\.004000\s+4\.000\s+2\.000\s+1\.000\s+3\.000`).Match(b) {
		t.Errorf("report:\n%s", b)
	}
}

// BenchmarkEndHook is the work the energy package adds to every End: a
// child span with energy (CO2e, water, report) and a root span without.
func BenchmarkEndHook(b *testing.B) {
	ensureFactors()
	root := &spanhook.Node{Sampled: true}
	child := &spanhook.Node{Parent: root, Sampled: true}
	rc := &record.Record{Name: "child"}
	rr := &record.Record{Name: "root"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rc.Impact = record.Impact{EnergyKWh: 1e-6, Joules: [record.NumEnergySources]float64{3.6, 0}}
		endHook(child, rc)
		endHook(root, rr)
	}
}
