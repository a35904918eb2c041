package energy_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/trace"

	"github.com/tracegen-dev/tracegen/runtime/energy"
	"github.com/tracegen-dev/tracegen/runtime/sensor"
)

// The sampler's cost, side by side: energy off, the scheduler-state split
// (the default) and the goroutine-dump split (the fallback), at the default
// interval (100 ms, ticks every 5 ms).
//
//	go test -run '^$' -bench 'Sampler' -benchtime 20x -count 3 ./trace
//
// BenchmarkSamplerWaiting: 50 goroutines inside spans, all waiting (the
// common case of a program waiting on LLM calls); nothing else runs, so the
// process's CPU time per second of wall time is the sampler's whole cost,
// wake-ups and the runtime's scheduling included (%core). Each op is 100 ms
// of wall time.
//
// BenchmarkSamplerBusy: the same with 2 of the 50 goroutines computing; the
// process then uses about two cores, of which the sampler's share is
// reported as %core from the ticks' own CPU time (tick-%core), since a
// difference of process CPU times would drown in the computing goroutines'
// noise. Wake-ups cost what they cost in BenchmarkSamplerWaiting.
func BenchmarkSamplerWaiting(b *testing.B) { benchSampler(b, 0) }

func BenchmarkSamplerBusy(b *testing.B) { benchSampler(b, 2) }

func benchSampler(b *testing.B, busy int) {
	for _, mode := range []string{"off", "scheduler", "dump"} {
		b.Run(mode, func(b *testing.B) {
			env := map[string]string{"TRACEGEN_GPU": "off"}
			if mode == "off" {
				env["TRACEGEN_ENERGY"] = "off"
			}
			restore := energy.SetGetenv(func(k string) string { return env[k] })
			energy.ForceDumpSplit.Store(mode == "dump")
			defer func() {
				restore()
				energy.ForceDumpSplit.Store(false)
			}()
			setup(b, trace.Config{})
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func(compute bool) {
					defer wg.Done()
					_, s := trace.Start(context.Background(), "g")
					defer s.End()
					if !compute {
						<-stop
						return
					}
					for {
						select {
						case <-stop:
							return
						default:
							sink2.Add(spin(10000))
						}
					}
				}(i < busy)
			}
			if mode != "off" {
				for !energy.SamplerReady() {
					time.Sleep(time.Millisecond)
				}
			}
			time.Sleep(200 * time.Millisecond) // settle: the first ticks, the meter's first interval
			st0 := energy.ReadStats()
			c0, _ := sensor.ProcessCPU()
			t0 := time.Now()
			b.ResetTimer()
			for range b.N {
				time.Sleep(100 * time.Millisecond)
			}
			b.StopTimer()
			wall := time.Since(t0)
			c1, _ := sensor.ProcessCPU()
			st1 := energy.ReadStats()
			close(stop)
			wg.Wait()
			if busy == 0 {
				b.ReportMetric(float64(c1-c0)/float64(wall)*100, "%core")
			}
			if mode == "scheduler" {
				if st1.Ticks == st0.Ticks {
					b.Fatalf("no ticks: %+v", st1)
				}
				b.ReportMetric(float64(st1.TickTotal-st0.TickTotal)/float64(wall)*100, "tick-%core")
				b.ReportMetric(float64(st1.Ticks-st0.Ticks)/wall.Seconds(), "ticks/s")
				b.ReportMetric(float64(st1.TickTotal-st0.TickTotal)/float64(st1.Ticks-st0.Ticks)/1e3, "µs/tick")
			}
			if mode == "dump" {
				b.ReportMetric(float64(st1.DumpTotal-st0.DumpTotal)/float64(wall)*100, "dump-%core")
			}
		})
	}
}

// BenchmarkTick is one tick's work with 50 goroutines inside spans, 4 of
// them computing: read their states and threads' clocks, share the tick's
// CPU time, give it to the spans. The default 200 ticks per second cost
// 200 × this.
func BenchmarkTick(b *testing.B) {
	defer energy.SetGetenv(func(k string) string {
		switch k {
		case energy.EnvSampleInterval:
			return "10s" // the ticker (500 ms) stays out of the way
		case "TRACEGEN_GPU":
			return "off"
		}
		return ""
	})()
	setup(b, trace.Config{})
	stop := spanGoroutines(50, 4)
	defer stop()
	if !energy.SchedulerSplit() {
		b.Skip("no scheduler-state split here (g layout unknown)")
	}
	runtime.Gosched()
	b.ResetTimer()
	for range b.N {
		energy.Tick()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*200/1e9*100, "%core@200Hz")
}
