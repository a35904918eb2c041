package main

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/export/metrics"
	"github.com/tracegen-dev/tracegen/runtime/resource"
)

// doctorExporters prints the exporters and where each would send spans in
// this environment. The list is that of this tracegen binary: an
// instrumented program links the built-in exporters and those its package
// main imports, which doctor cannot see, so optional exporters are listed
// with the import that links them. Endpoints are shown without user
// information or query, and header values never (only their names).
func doctorExporters(w io.Writer, getenv func(string) string) {
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
	fmt.Fprintln(w, "exporters:\t(a program has the built-in ones, and the optional ones if its package main imports them: doctor cannot see which)")
	fmt.Fprintln(w, "  name\tlinked\tselected\twould reach")
	for _, n := range names {
		linked := "built-in"
		if export.LinkPath(n) != "" {
			linked = "optional"
		}
		sel := "no"
		if selected[n] {
			sel = "yes"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", n, linked, sel, destination(n, getenv))
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
func destination(name string, getenv func(string) string) string {
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
		return otlpDestination(getenv)
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

// otlpDestination is where the otlp exporter would post spans, by the
// OpenTelemetry specification's rules for the variables (which the
// exporter follows; tracegen does not link it, to keep the tool's module
// graph free of it): the TRACES_ endpoint as it is, else the general one
// with /v1/traces appended, else http://localhost:4318/v1/traces. User
// information and query are hidden, and of the headers only names shown.
func otlpDestination(getenv func(string) string) string {
	ep := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	if ep == "" {
		if base := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")); base != "" {
			ep = strings.TrimRight(base, "/") + "/v1/traces"
		} else {
			ep = "http://localhost:4318/v1/traces"
		}
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return "(not an http:// or https:// URL with a host: the exporter would refuse it)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	s := u.String()
	proto := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if proto == "" {
		proto = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	if proto != "" {
		s += " (" + proto + ")"
	}
	h := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS"))
	if h == "" {
		h = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_HEADERS"))
	}
	var keys []string
	for _, kv := range strings.Split(h, ",") {
		if k, _, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) != "" {
			keys = append(keys, strings.TrimSpace(k))
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		s += "; headers " + strings.Join(keys, ", ") + " (values hidden)"
	}
	return s
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
