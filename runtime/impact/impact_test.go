package impact

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestElectricityMix(t *testing.T) {
	tests := []struct {
		zone      string
		wantOK    bool
		gco2e, wl float64
	}{
		{"USA", true, 383.55, 3.1321},
		{"fra", true, 44.18, 3.6737},
		{"WOR", true, 473.01, 3.908},
		{"SE", true, 35.82, 6.0315}, // alpha-2 accepted
		{"XYZ", false, 0, 0},
		{"", false, 0, 0},
	}
	for _, tt := range tests {
		m, ok := ElectricityMix(tt.zone)
		if ok != tt.wantOK {
			t.Errorf("ElectricityMix(%q) ok = %v, want %v", tt.zone, ok, tt.wantOK)
			continue
		}
		if ok && (!near(m.GCO2ePerKWh, tt.gco2e) || !near(m.WaterLPerKWh, tt.wl)) {
			t.Errorf("ElectricityMix(%q) = %+v, want gco2e %v water %v", tt.zone, m, tt.gco2e, tt.wl)
		}
	}
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     func(string) string
		want    error
		varName string
	}{
		{"missing region", env(EnvCloudProvider, "aws"), ErrMissingRegion, EnvCloudRegion},
		{"unknown provider", env(EnvCloudProvider, "ibm"), ErrUnknownProvider, EnvCloudProvider},
		{"unknown country", env(EnvCountry, "XX"), ErrUnknownCountry, EnvCountry},
		{"bad number", env(EnvPUE, "0.5"), ErrBadNumber, EnvPUE},
		{"region from AWS_REGION", env(EnvCloudProvider, "aws", "AWS_REGION", "eu-west-3"), nil, ""},
		{"region from GOOGLE_CLOUD_REGION", env(EnvCloudProvider, "gcp", "GOOGLE_CLOUD_REGION", "europe-west9"), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := ConfigFromEnv(tt.env)
			if tt.want == nil {
				if len(errs) != 0 || c.Region == "" {
					t.Errorf("errors %v, region %q; want none and a region", errs, c.Region)
				}
				return
			}
			if len(errs) != 1 || !errors.Is(errs[0], tt.want) {
				t.Fatalf("errors %v, want one wrapping %v", errs, tt.want)
			}
			if msg := errs[0].Error(); !strings.HasPrefix(msg, tt.varName) || strings.Contains(msg, "\n") {
				t.Errorf("message %q does not start with %s on one line", msg, tt.varName)
			}
		})
	}
}

func TestResolveOrder(t *testing.T) {
	tests := []struct {
		name       string
		env        func(string) string
		gco2e      float64
		zone       string
		pue        float64
		srcContain string
	}{
		{"explicit wins", env(EnvGridIntensity, "100", EnvCloudProvider, "aws", EnvCloudRegion, "us-east-1", EnvCountry, "FR"), 100, "FRA", 1.135, EnvGridIntensity},
		{"aws region", env(EnvCloudProvider, "aws", EnvCloudRegion, "us-east-1", EnvCountry, "FR"), 415.755, "USA", 1.135, "us-east-1"},
		{"azure spelling", env(EnvCloudProvider, "Azure", EnvCloudRegion, "westeurope"), 390, "NLD", 1.185, "West Europe"},
		{"azure malformed upstream row", env(EnvCloudProvider, "azure", EnvCloudRegion, "Finland Central"), 77, "FIN", 1.185, "Finland"},
		{"gcp 2024", env(EnvCloudProvider, "gcp", EnvCloudRegion, "europe-west9"), 16.3, "FRA", 1.1, "Google 2024"},
		{"unknown region falls to country", env(EnvCloudProvider, "gcp", EnvCloudRegion, "mars-1", EnvCountry, "DE"), 380.95, "DEU", 1.1, "country DEU"},
		{"country alpha-2", env(EnvCountry, "fr"), 56.039, "FRA", 1, "country FRA"},
		{"country alpha-3", env(EnvCountry, "IND"), 713.441, "IND", 1, "country IND"},
		{"world", env(), 473.01, "WOR", 1, "world"},
		{"pue override", env(EnvPUE, "1.5", EnvCloudProvider, "gcp", EnvCloudRegion, "mars-1"), 473.01, "WOR", 1.5, "world"},
		{"lambda detection", env("AWS_EXECUTION_ENV", "AWS_Lambda_go1.x", "AWS_REGION", "eu-west-3"), 52, "FRA", 1.135, "eu-west-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := ConfigFromEnv(tt.env)
			if len(errs) > 0 {
				t.Fatalf("ConfigFromEnv errors: %v", errs)
			}
			f := Resolve(c)
			if !near(f.Intensity.GCO2ePerKWh, tt.gco2e) || f.Intensity.Zone != tt.zone || !near(f.PUE, tt.pue) {
				t.Errorf("Resolve = intensity %v zone %q pue %v, want %v %q %v", f.Intensity.GCO2ePerKWh, f.Intensity.Zone, f.PUE, tt.gco2e, tt.zone, tt.pue)
			}
			if !strings.Contains(f.Intensity.Source, tt.srcContain) {
				t.Errorf("source %q does not mention %q", f.Intensity.Source, tt.srcContain)
			}
		})
	}
}

func TestConfigFromEnvBadValues(t *testing.T) {
	c, errs := ConfigFromEnv(env(EnvGridIntensity, "lots", EnvPUE, "0.5", EnvWUE, "-1", EnvCloudProvider, "ovh", EnvCountry, "Atlantis"))
	if len(errs) != 5 {
		t.Fatalf("got %d errors, want 5: %v", len(errs), errs)
	}
	for i, name := range []string{EnvGridIntensity, EnvPUE, EnvWUE, EnvCloudProvider, EnvCountry} {
		if !strings.Contains(errs[i].Error(), name) {
			t.Errorf("error %d %q does not name %s", i, errs[i], name)
		}
	}
	if c != (Config{}) {
		t.Errorf("bad values kept: %+v", c)
	}
}

func TestConversionExact(t *testing.T) {
	c, _ := ConfigFromEnv(env(EnvGridIntensity, "250", EnvPUE, "1.2", EnvWUE, "0.5", EnvCountry, "FRA"))
	f := Resolve(c)
	kwh, pue, in := 0.0123, 1.2, 250.0
	if got, want := f.CO2eG(kwh), kwh*pue*in; got != want {
		t.Errorf("CO2eG = %v, want %v", got, want)
	}
	if got, want := f.WaterL(kwh), kwh*(0.5+1.2*3.6737); !near(got, want) {
		t.Errorf("WaterL = %v, want %v", got, want)
	}
	if f.WaterZone != "FRA" {
		t.Errorf("WaterZone = %q, want FRA", f.WaterZone)
	}
	// A country absent from the water table uses the world average.
	f = Resolve(Config{Country: "KEN"})
	if f.WaterZone != WorldZone || !near(f.OffsiteWaterLPerKWh, 3.908) {
		t.Errorf("KEN water = %v %q, want world", f.OffsiteWaterLPerKWh, f.WaterZone)
	}
}

func TestLookupTDP(t *testing.T) {
	tests := []struct {
		model   string
		ok      bool
		watts   float64
		matched string
	}{
		{"AMD EPYC 7302 16-Core Processor", true, 155, "AMD EPYC 7302"},
		{"AMD EPYC 7302P 16-Core Processor", true, 155, "AMD EPYC 7302P"},
		{"AMD EPYC", false, 0, ""},
		{"", false, 0, ""},
		{"Some Unknown Chip 1234", false, 0, ""},
	}
	for _, tt := range tests {
		got, ok := LookupTDP(tt.model)
		if ok != tt.ok || (ok && (got.Watts != tt.watts || got.Matched != tt.matched)) {
			t.Errorf("LookupTDP(%q) = %+v, %v; want %v %q %v", tt.model, got, ok, tt.watts, tt.matched, tt.ok)
		}
	}
	// An Intel string as /proc/cpuinfo prints it finds a row of the same model.
	got, ok := LookupTDP("Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz")
	if !ok || !strings.Contains(got.Matched, "6148") || got.Watts <= 0 {
		t.Errorf("LookupTDP(Xeon Gold 6148) = %+v, %v", got, ok)
	}
}

func TestCloudCPU(t *testing.T) {
	c, ok := CloudCPUPower("aws", "Cascade Lake")
	if !ok || !near(c.MinWatts, 0.6902978319127387) || !near(c.MaxWatts, 4.063193520161689) {
		t.Errorf("aws Cascade Lake = %+v %v", c, ok)
	}
	avg, ok := CloudCPUPower("gcp", "")
	if !ok || avg.Architecture != "average" || avg.MinWatts <= 0 || avg.MaxWatts <= avg.MinWatts {
		t.Errorf("gcp average = %+v %v", avg, ok)
	}
	if _, ok := CloudCPUPower("ovh", ""); ok {
		t.Error("unknown provider accepted")
	}
	for model, want := range map[string]string{
		"AMD EPYC 7R13 Processor":                        "EPYC 3rd Gen",
		"AMD EPYC 9R14 96-Core Processor":                "EPYC 4th Gen",
		"Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz": "Cascade Lake",
		"Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz":  "Ice Lake",
		"AMD EPYC": "",
	} {
		if got := CloudArchitecture(model); got != want {
			t.Errorf("CloudArchitecture(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestTablesParse(t *testing.T) {
	tb, err := loadTables()
	if err != nil {
		t.Fatal(err)
	}
	cpus, err := cpuTDPTable()
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.mixes) != 50 || len(cpus) < 4000 || len(tb.regions) < 80 || len(tb.countries) < 400 {
		t.Errorf("table sizes: mixes %d cpus %d regions %d countries %d", len(tb.mixes), len(cpus), len(tb.regions), len(tb.countries))
	}
}

func BenchmarkResolve(b *testing.B) {
	c := Config{Provider: "aws", Region: "eu-west-1"}
	b.ResetTimer()
	for range b.N {
		_ = Resolve(c)
	}
}
