package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/impact"
	_ "github.com/tracegen-dev/tracegen/runtime/impact/live" // doctor shows the live intensity
	"github.com/tracegen-dev/tracegen/runtime/sensor"
	"github.com/tracegen-dev/tracegen/runtime/sensor/nvmlgpu"
)

// doctorCommand implements `tracegen doctor`: report which energy sensors work here.
func (a *app) doctorCommand() error {
	switch runDoctor(nil, a.stdout, a.stderr) {
	case 0:
		return nil
	case 2:
		return errUsage
	default:
		return errSilent
	}
}

// doctorWindow is how long doctor measures.
const doctorWindow = 300 * time.Millisecond

// doctorGetenv reads the environment and TRACEGEN_ENV_FILE, as programs
// do; tests replace it.
var doctorGetenv = export.Getenv

// runDoctor prints which energy sensors work on this machine and why the
// others do not, the location, grid intensity, PUE and water factors the
// runtime would use, and the energy settings in effect. It probes exactly as
// an instrumented program does (same environment variables), plus NVML,
// which the tracegen command links even though programs only do with the
// tracegen_nvml tag. It exits 0; 2 for arguments (it takes none).
func runDoctor(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "tracegen: doctor takes no arguments, got %q\n", strings.Join(args, " "))
		return 2
	}
	getenv := doctorGetenv
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()

	if sensor.Disabled(getenv) {
		fmt.Fprintf(w, "energy:\toff (%s=%s): programs sample no energy\n", sensor.EnvEnergy, getenv(sensor.EnvEnergy))
	}
	opts, errs := sensor.OptionsFromEnv(getenv)
	for _, err := range errs {
		fmt.Fprintf(stderr, "tracegen: %v\n", err)
	}
	nvmlForPrograms := true
	if !opts.NoGPU {
		opts.OpenGPU = func() (sensor.GPU, error) {
			g, err := nvmlgpu.Open()
			if err != nil {
				return nil, err
			}
			return g, nil
		}
		nvmlForPrograms = false
	}
	m := sensor.NewMeter(opts)
	defer m.Close()

	fmt.Fprintln(w, "sensors:")
	for _, p := range m.Probes() {
		if p.Name == "host" {
			continue
		}
		ok := "no"
		if p.OK {
			ok = "yes"
		}
		detail := p.Detail
		if p.Name == "nvml" && !p.OK && !opts.NoGPU {
			if gpus, lib := sensor.NVIDIAHint(); gpus > 0 || lib != "" {
				detail += fmt.Sprintf(" (found %d GPU(s) in /proc/driver/nvidia, library %q)", gpus, lib)
			}
			if !nvmlgpu.Available {
				detail += "; this tracegen was built without cgo"
			}
		}
		if p.Name == "nvml" && p.OK && !nvmlForPrograms {
			detail += "; programs measure it only when built with -tags tracegen_nvml"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", p.Name, ok, detail)
	}
	// A short measurement proves the counters move (and shows the power).
	t0 := time.Now()
	m.Read(t0)
	time.Sleep(doctorWindow)
	if rd := m.Read(time.Now()); rd.Err != nil {
		fmt.Fprintf(w, "  reading\tno\t%v\n", rd.Err)
	} else if rd.MachineJ > 0 {
		fmt.Fprintf(w, "  reading\tyes\tmachine drew %.1f W over %v (RAPL)\n", rd.MachineJ/rd.Elapsed.Seconds(), rd.Elapsed.Round(time.Millisecond))
	}
	h := m.Host()
	fmt.Fprintf(w, "energy source:\t%s\n", m.Source())
	fmt.Fprintf(w, "host:\t%q, %d socket(s), %d logical CPUs, %.1f GB memory\n", h.CPUName, h.Sockets, h.Threads, float64(h.MemoryBytes)/(1<<30))
	c := m.CPU()
	fmt.Fprintf(w, "cpu model:\t%.2f W idle, %.2f W busy per logical CPU (%s)\n", c.MinW, c.MaxW, c.Source)

	cfg, errs := impact.ConfigFromEnv(getenv)
	for _, err := range errs {
		fmt.Fprintf(stderr, "tracegen: %v\n", err)
	}
	f := impact.Resolve(cfg)
	if live := impact.LiveFromEnv(getenv); live != nil && cfg.GridIntensity == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		f = live(ctx, cfg)
		cancel()
	}
	fmt.Fprintln(w, "impact:")
	loc := f.Location
	if cfg.Detected != "" {
		loc += " (detected from " + cfg.Detected + ")"
	}
	fmt.Fprintf(w, "  location\t%s\n", loc)
	fmt.Fprintf(w, "  intensity\t%g gCO2e/kWh\t%s\n", f.Intensity.GCO2ePerKWh, f.Intensity.Source)
	fmt.Fprintf(w, "  pue\t%g\t%s\n", f.PUE, f.PUESource)
	fmt.Fprintf(w, "  water\t%g L/kWh on-site + %g L/kWh off-site\tWUE %s; off-site: electricity mix %s (EcoLogits)\n", f.WUE, f.OffsiteWaterLPerKWh, wueSource(cfg), f.WaterZone)
	for _, n := range f.Notes {
		fmt.Fprintf(w, "  note\t%s\n", n)
	}
	doctorExporters(w, getenv)
	doctorResource(w, getenv)
	if path, err := export.EnvFile(); path != "" {
		fmt.Fprintf(w, "env file:\t%s\n", path)
		if err != nil {
			fmt.Fprintf(stderr, "tracegen: %v\n", err)
		}
	}
	fmt.Fprintln(w, "settings:")
	for _, k := range []string{sensor.EnvEnergy, "TRACEGEN_SAMPLE_INTERVAL", "TRACEGEN_ENERGY_BUDGET", sensor.EnvRAPLRoot, sensor.EnvCPUTDP, sensor.EnvGPU,
		impact.EnvGridIntensity, impact.EnvCloudProvider, impact.EnvCloudRegion, impact.EnvCountry, impact.EnvPUE, impact.EnvWUE} {
		v := getenv(k)
		if v == "" {
			v = "(unset)"
		}
		fmt.Fprintf(w, "  %s\t%s\n", k, v)
	}
	return 0
}

func wueSource(c impact.Config) string {
	if c.WUE > 0 {
		return impact.EnvWUE
	}
	return "default 0 (set " + impact.EnvWUE + ")"
}
