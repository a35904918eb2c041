// Package resource detects what a process runs on, as OpenTelemetry
// resource attributes: the host (host.name, host.id, host.arch, os.type),
// the process (process.pid, process.executable.name and .path,
// process.runtime.name, .version and .description), the container
// (container.id, from /proc/self/cgroup or, under cgroup v2, from
// /proc/self/mountinfo), the Kubernetes pod (k8s.pod.name, k8s.pod.uid,
// k8s.namespace.name, k8s.node.name, k8s.container.name, from the
// downward-API variables users set, see [Detect]) and the cloud
// (cloud.provider, cloud.region, cloud.platform, from the location
// settings of package impact).
//
// Detection reads a few small files and variables, never the network,
// and never the command line or the environment wholesale (they may hold
// credentials). Package trace runs it once per process, at the first span,
// and puts the result in every record's Resource, beneath
// OTEL_RESOURCE_ATTRIBUTES and Config.Resource, which win.
package resource

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tracegen-dev/tracegen/runtime/impact"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Kubernetes variables read by Detect, in order of preference for each
// attribute. The K8S_ names are the ones the OpenTelemetry documentation
// suggests mapping the downward API to, and the OTEL_RESOURCE_ATTRIBUTES_
// names those the OpenTelemetry Operator injects; both are read anywhere.
// The short names common in Helm charts (POD_NAME, POD_NAMESPACE,
// NODE_NAME, and MY_POD_NAME and so on) are read only inside Kubernetes
// (KUBERNETES_SERVICE_HOST set), as other tools use them too (Jenkins sets
// NODE_NAME).
var (
	EnvPodName       = []string{"K8S_POD_NAME", "OTEL_RESOURCE_ATTRIBUTES_POD_NAME"}
	EnvPodUID        = []string{"K8S_POD_UID", "OTEL_RESOURCE_ATTRIBUTES_POD_UID"}
	EnvNamespace     = []string{"K8S_NAMESPACE_NAME", "K8S_NAMESPACE"}
	EnvNodeName      = []string{"K8S_NODE_NAME", "OTEL_RESOURCE_ATTRIBUTES_NODE_NAME"}
	EnvContainerName = []string{"K8S_CONTAINER_NAME"}

	EnvPodNameInCluster   = []string{"POD_NAME", "MY_POD_NAME"}
	EnvPodUIDInCluster    = []string{"POD_UID", "MY_POD_UID"}
	EnvNamespaceInCluster = []string{"POD_NAMESPACE", "MY_POD_NAMESPACE"}
	EnvNodeNameInCluster  = []string{"NODE_NAME", "MY_NODE_NAME"}
)

// EnvDetect switches detection off when "off" (or false, 0): only
// process.pid and process.executable.name are kept.
const EnvDetect = "TRACEGEN_RESOURCE_DETECT"

// Source is what Detect reads; the zero value of a field means the real
// one.
type Source struct {
	// Root is prefixed to the files read (/etc/machine-id,
	// /proc/self/cgroup, ...); "" means "/".
	Root string
	// Getenv reads variables; nil means os.Getenv.
	Getenv func(string) string
	// Hostname returns the host name; nil means os.Hostname.
	Hostname func() (string, error)
}

// Detect returns the resource attributes of this process. Inside
// Kubernetes (KUBERNETES_SERVICE_HOST set), the pod name defaults to the
// host name and the namespace to the service account's namespace file
// when no variable gives them.
func Detect(src Source) []record.Attr {
	if src.Getenv == nil {
		src.Getenv = os.Getenv
	}
	if src.Hostname == nil {
		src.Hostname = os.Hostname
	}
	if src.Root == "" {
		src.Root = "/"
	}
	exe := "go"
	if len(os.Args) > 0 {
		exe = filepath.Base(os.Args[0])
	}
	attrs := []record.Attr{record.Int("process.pid", os.Getpid()), record.String("process.executable.name", exe)}
	switch strings.ToLower(strings.TrimSpace(src.Getenv(EnvDetect))) {
	case "off", "false", "0", "no":
		return attrs
	}
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			attrs = append(attrs, record.String(k, v))
		}
	}
	if path, err := os.Executable(); err == nil {
		add("process.executable.path", path)
	}
	add("process.runtime.name", "go")
	add("process.runtime.version", runtime.Version())
	add("process.runtime.description", "go version "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	host, _ := src.Hostname()
	add("host.name", host)
	add("host.id", src.machineID())
	add("host.arch", hostArch(runtime.GOARCH))
	add("os.type", runtime.GOOS)
	add("container.id", src.containerID())
	attrs = append(attrs, src.kubernetes(host)...)
	attrs = append(attrs, cloud(src.Getenv)...)
	return attrs
}

func (s Source) read(path string) []byte {
	b, err := os.ReadFile(filepath.Join(s.Root, path))
	if err != nil {
		return nil
	}
	return b
}

// machineID is /etc/machine-id (systemd), else D-Bus's copy.
func (s Source) machineID() string {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if id := strings.TrimSpace(string(s.read(p))); id != "" {
			return id
		}
	}
	return ""
}

// hostArch maps GOARCH to the host.arch values of the conventions.
func hostArch(goarch string) string {
	switch goarch {
	case "386":
		return "x86"
	case "arm":
		return "arm32"
	case "ppc64", "ppc64le":
		return "ppc64"
	}
	return goarch
}

func (s Source) containerID() string {
	if id := containerFromCgroup(s.read("/proc/self/cgroup")); id != "" {
		return id
	}
	return containerFromMountinfo(s.read("/proc/self/mountinfo"))
}

// containerFromCgroup finds the id in the cgroup paths of
// /proc/self/cgroup (cgroup v1, and v2 when the namespace is not private):
// the last path element, with a runtime prefix ("docker-",
// "cri-containerd-", "crio-", "libpod-") and a ".scope" suffix removed,
// when it is 64 hex digits.
func containerFromCgroup(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		last := parts[2][strings.LastIndexByte(parts[2], '/')+1:]
		last = strings.TrimSuffix(last, ".scope")
		if i := strings.LastIndexAny(last, "-:"); i >= 0 {
			last = last[i+1:]
		}
		if isContainerID(last) {
			return last
		}
	}
	return ""
}

// containerFromMountinfo finds the id under cgroup v2, where
// /proc/self/cgroup says only "0::/": the container runtime bind-mounts
// files of the container's own directory (/etc/hostname, /etc/hosts,
// /etc/resolv.conf), whose source path holds the id after a "containers"
// or "overlay-containers" element (Docker, Podman, CRI-O).
func containerFromMountinfo(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		switch f[4] {
		case "/etc/hostname", "/etc/hosts", "/etc/resolv.conf":
		default:
			continue
		}
		elems := strings.Split(f[3], "/")
		for i := 0; i+1 < len(elems); i++ {
			if (elems[i] == "containers" || elems[i] == "overlay-containers") && isContainerID(elems[i+1]) {
				return elems[i+1]
			}
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s Source) kubernetes(host string) []record.Attr {
	first := func(names []string) string {
		for _, n := range names {
			if v := strings.TrimSpace(s.Getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	pod, uid, ns, node := first(EnvPodName), first(EnvPodUID), first(EnvNamespace), first(EnvNodeName)
	if s.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		for _, f := range []struct {
			dst   *string
			names []string
		}{{&pod, EnvPodNameInCluster}, {&uid, EnvPodUIDInCluster}, {&ns, EnvNamespaceInCluster}, {&node, EnvNodeNameInCluster}} {
			if *f.dst == "" {
				*f.dst = first(f.names)
			}
		}
		if pod == "" {
			pod = host
		}
		if ns == "" {
			ns = strings.TrimSpace(string(s.read("/var/run/secrets/kubernetes.io/serviceaccount/namespace")))
		}
	}
	var attrs []record.Attr
	for _, kv := range [][2]string{
		{"k8s.pod.name", pod}, {"k8s.pod.uid", uid}, {"k8s.namespace.name", ns},
		{"k8s.node.name", node}, {"k8s.container.name", first(EnvContainerName)},
	} {
		if kv[1] != "" {
			attrs = append(attrs, record.String(kv[0], kv[1]))
		}
	}
	return attrs
}

// cloud returns cloud.provider and cloud.region as package impact resolves
// them (TRACEGEN_CLOUD_PROVIDER and TRACEGEN_CLOUD_REGION, else what the
// managed runtimes set, AWS_REGION among them), and cloud.platform for the
// managed runtimes it recognises.
func cloud(getenv func(string) string) []record.Attr {
	c, _ := impact.ConfigFromEnv(getenv) // its errors are reported by the energy code
	var attrs []record.Attr
	if c.Provider == "" {
		return nil
	}
	attrs = append(attrs, record.String("cloud.provider", c.Provider))
	if c.Region != "" {
		attrs = append(attrs, record.String("cloud.region", c.Region))
	}
	platform := ""
	switch {
	case getenv("AWS_LAMBDA_FUNCTION_NAME") != "":
		platform = "aws_lambda"
	case strings.HasPrefix(getenv("AWS_EXECUTION_ENV"), "AWS_ECS"):
		platform = "aws_ecs"
	case getenv("K_SERVICE") != "" && c.Provider == "gcp":
		platform = "gcp_cloud_run"
	case getenv("FUNCTION_TARGET") != "" && c.Provider == "gcp":
		platform = "gcp_cloud_functions"
	case getenv("WEBSITE_SITE_NAME") != "" && c.Provider == "azure":
		platform = "azure_app_service"
	}
	if platform != "" {
		attrs = append(attrs, record.String("cloud.platform", platform))
	}
	return attrs
}
