package sensor

import (
	"math"
	"strings"
	"testing"
)

func TestMachineMemoryW(t *testing.T) {
	const gb = 1 << 30
	tests := []struct {
		bytes uint64
		arch  string
		want  float64
	}{
		{1 * gb, "amd64", 10},                            // 1 DIMM = 5 W, floor 10 W
		{16 * gb, "amd64", 10},                           // 2 DIMMs
		{32 * gb, "amd64", 20},                           // 4 DIMMs
		{128 * gb, "amd64", 38},                          // 8 DIMMs: 4×5 + 4×4.5
		{256 * gb, "amd64", 38},                          // 256/32 = 8 DIMMs
		{1024 * gb, "amd64", 38},                         // 1024/128 = 8 DIMMs
		{4096 * gb, "amd64", 5*4 + 4.5*4 + 4*8 + 3.5*16}, // capped at 32 DIMMs
		{32 * gb, "arm64", 6},                            // 4 × 1.5 W
		{2 * gb, "arm64", 3},                             // floor 3 W
	}
	for _, tt := range tests {
		if got := MachineMemoryW(tt.bytes, tt.arch); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("MachineMemoryW(%d GB, %s) = %v, want %v", tt.bytes/gb, tt.arch, got, tt.want)
		}
	}
}

func TestCPUPowerModel(t *testing.T) {
	tests := []struct {
		name     string
		host     Host
		provider string
		tdp      float64
		source   string
		maxW     float64
	}{
		{"table", Host{CPUName: "AMD EPYC 7302 16-Core Processor", Sockets: 2, Threads: 64}, "", 0, "tdp", 155.0 * 2 / 64},
		{"override", Host{CPUName: "AMD EPYC 7302 16-Core Processor", Sockets: 1, Threads: 4}, "", 100, "tdp", 25},
		{"unknown model", Host{CPUName: "AMD EPYC", Sockets: 1, Threads: 2}, "", 0, "tdp-default", 4},
		{"cloud", Host{CPUName: "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", Threads: 2}, "aws", 0, "cloud", 4.063193520161689},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := CPUPowerModel(tt.host, tt.provider, tt.tdp)
			if p.Source != tt.source || math.Abs(p.MaxW-tt.maxW) > 1e-9 {
				t.Errorf("got %+v, want source %s maxW %v", p, tt.source, tt.maxW)
			}
			if p.MinW <= 0 || p.MinW >= p.MaxW || p.Detail == "" {
				t.Errorf("bad model %+v", p)
			}
			if tt.source == "tdp" && math.Abs(p.MinW-IdleFraction*p.MaxW) > 1e-12 {
				t.Errorf("idle %v is not %v of max %v", p.MinW, IdleFraction, p.MaxW)
			}
		})
	}
}

func TestMemoryPowerModel(t *testing.T) {
	const gb = 1 << 30
	m := MemoryPowerModel(Host{MemoryBytes: 32 * gb, Arch: "amd64"}, false)
	if got := m.WPerByte * gb; math.Abs(got-20.0/32) > 1e-12 {
		t.Errorf("on-prem W/GB = %v, want %v", got, 20.0/32)
	}
	c := MemoryPowerModel(Host{MemoryBytes: 32 * gb}, true)
	if got := c.WPerByte * gb; math.Abs(got-0.392) > 1e-12 || !strings.Contains(c.Detail, "Cloud Carbon") {
		t.Errorf("cloud W/GB = %v (%s)", got, c.Detail)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{EnvCPUTDP: "abc", EnvGPU: "off", "TRACEGEN_CLOUD_PROVIDER": "GCP", EnvRAPLRoot: "/x"}
	o, errs := OptionsFromEnv(func(k string) string { return env[k] })
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), EnvCPUTDP) {
		t.Errorf("errs = %v", errs)
	}
	if !o.NoGPU || o.Provider != "gcp" || o.RAPLRoot != "/x" || o.TDPWatts != 0 {
		t.Errorf("options = %+v", o)
	}
	for v, want := range map[string]bool{"off": true, "OFF": true, "0": true, "": false, "on": false} {
		if got := Disabled(func(string) string { return v }); got != want {
			t.Errorf("Disabled(%q) = %v", v, got)
		}
	}
}
