package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/export/otlp" // doctor shows where otlp would send
	"github.com/tracegen-dev/tracegen/runtime/resource"
)

// doctorExporters prints the exporters and where each would send spans in
// this environment. The list is that of this tracegen binary: an
// instrumented program links the built-in exporters and those its package
// main imports, which doctor cannot see, so optional exporters are listed
// with the import that links them. Endpoints are shown without user
// information or query, and header values never (only their names).
func doctorExporters(w io.Writer, getenv func(string) string) {
	lookup := func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
	selected := map[string]bool{}
	var unknown []string
	for _, n := range strings.Split(getenv("TRACEGEN_EXPORTER"), ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		selected[n] = true
		if _, ok := export.Lookup(n); !ok {
			unknown = append(unknown, n)
		}
	}
	names := export.Names()
	for _, n := range []string{"otlp", "prometheus", "dogstatsd"} {
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(w, "exporters:\t(those of this tracegen binary; a program has the built-in ones and the optional ones its package main imports)")
	fmt.Fprintln(w, "  name\tlinked\tselected\twould reach")
	for _, n := range names {
		linked := "built-in"
		if export.LinkPath(n) != "" {
			linked = "optional, not in tracegen"
			if contains(export.Names(), n) {
				linked = "optional, in tracegen"
			}
		}
		sel := "no"
		if selected[n] {
			sel = "yes"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", n, linked, sel, destination(n, getenv, lookup))
	}
	for _, n := range unknown {
		fmt.Fprintf(w, "  %s\tunknown\tyes\tTRACEGEN_EXPORTER names no exporter %q\n", n, n)
	}
	if len(selected) == 0 {
		fmt.Fprintln(w, "  (TRACEGEN_EXPORTER unset: tracing off)")
	}
	fmt.Fprintf(w, "  optional ones are linked by\timport _ %q in package main\n", strings.TrimSuffix(export.LinkPath("otlp"), "otlp")+"<name>")
}

// destination says where exporter name would send spans.
func destination(name string, getenv func(string) string, lookup func(string) (string, bool)) string {
	switch name {
	case "none":
		return "nowhere (tracing off)"
	case "stdout":
		if strings.EqualFold(getenv("TRACEGEN_STDOUT"), "stderr") {
			return "span tree on stderr"
		}
		return "span tree on stdout"
	case "json":
		if strings.EqualFold(getenv("TRACEGEN_JSON"), "stdout") {
			return "JSON lines on stdout"
		}
		return "JSON lines on stderr"
	case "jsonl":
		p := getenv("TRACEGEN_JSONL_PATH")
		if p == "" {
			p = export.DefaultJSONLPath
		}
		return "file " + p
	case "memory":
		return "in-process ring (tracegen view, tests)"
	case "otlp":
		cfg, err := otlp.ConfigFromEnv(lookup)
		ep := cfg.Endpoint
		if ep == "" {
			ep = otlp.DefaultEndpoint
		}
		s := otlp.RedactURL(ep)
		if cfg.Protocol != "" {
			s += " (" + cfg.Protocol + ")"
		}
		if len(cfg.Headers) > 0 {
			keys := make([]string, 0, len(cfg.Headers))
			for k := range cfg.Headers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			s += "; headers " + strings.Join(keys, ", ") + " (values hidden)"
		}
		if err != nil {
			s += "; " + strings.ReplaceAll(err.Error(), "\n", "; ")
		}
		return s
	case "prometheus":
		a := metrics.PrometheusAddrFromEnv()
		if a == "off" {
			return "nothing served (TRACEGEN_PROMETHEUS_ADDR=off)"
		}
		return "serves http://" + a + "/metrics"
	case "dogstatsd":
		return "DogStatsD datagrams to " + metrics.DogStatsDAddrFromEnv()
	}
	return "(its own settings)"
}

// doctorResource prints the resource a program would detect here.
func doctorResource(w io.Writer, getenv func(string) string) {
	fmt.Fprintln(w, "resource:\t(detected; OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME come on top)")
	for _, a := range resource.Detect(resource.Source{Getenv: getenv}) {
		switch a.Key {
		case "process.pid", "process.executable.name", "process.executable.path":
			continue // tracegen's own, not the program's
		}
		fmt.Fprintf(w, "  %s\t%s\n", a.Key, a.Value.String())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
