package resource

import (
	"os"
	"runtime"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string // "" : must be absent
	}{
		{"docker-v1", nil, map[string]string{
			"container.id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"host.id":      "4e2b5c0d9a8f4f7c8e1d2c3b4a596877", "k8s.pod.name": "", "cloud.provider": "",
		}},
		{"docker-v2", nil, map[string]string{
			"container.id": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", "host.id": "",
		}},
		{"podman-v2", nil, map[string]string{
			"container.id": "1111111111222222222233333333334444444444555555555566666666667777",
		}},
		{"k8s-containerd", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "K8S_NODE_NAME": "node-7",
			"OTEL_RESOURCE_ATTRIBUTES_POD_UID": "2c48913c-b29f-11e7-9350-020000ff0001"}, map[string]string{
			"container.id":       "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff0123",
			"k8s.pod.name":       "myhost", // the pod's host name
			"k8s.namespace.name": "payments",
			"k8s.node.name":      "node-7",
			"k8s.pod.uid":        "2c48913c-b29f-11e7-9350-020000ff0001",
		}},
		{"k8s-containerd", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "K8S_POD_NAME": "api-5d8f",
			"POD_NAMESPACE": "shop", "K8S_CONTAINER_NAME": "api"}, map[string]string{
			"k8s.pod.name": "api-5d8f", "k8s.namespace.name": "shop", "k8s.container.name": "api",
		}},
		{"host", map[string]string{"K8S_POD_NAME": "outside", "NODE_NAME": "jenkins-agent", "POD_NAMESPACE": "x"}, map[string]string{
			"container.id": "", "host.id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "k8s.pod.name": "outside", "k8s.namespace.name": "",
			"k8s.node.name": "", // the short names count only inside Kubernetes
		}},
		{"k8s-containerd", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "MY_POD_NAME": "web-1", "NODE_NAME": "n2"}, map[string]string{
			"k8s.pod.name": "web-1", "k8s.node.name": "n2", "k8s.namespace.name": "payments",
		}},
		{"host", map[string]string{"TRACEGEN_CLOUD_PROVIDER": "aws", "AWS_REGION": "eu-west-3"}, map[string]string{
			"cloud.provider": "aws", "cloud.region": "eu-west-3", "cloud.platform": "",
		}},
		{"host", map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_EXECUTION_ENV": "AWS_Lambda_go1.x", "AWS_REGION": "us-east-1"}, map[string]string{
			"cloud.provider": "aws", "cloud.region": "us-east-1", "cloud.platform": "aws_lambda",
		}},
		{"host", map[string]string{"TRACEGEN_CLOUD_PROVIDER": "gcp", "TRACEGEN_CLOUD_REGION": "europe-west9", "K_SERVICE": "svc"}, map[string]string{
			"cloud.provider": "gcp", "cloud.region": "europe-west9", "cloud.platform": "gcp_cloud_run",
		}},
		{"host", map[string]string{EnvDetect: "off"}, map[string]string{
			"host.name": "", "host.id": "", "process.runtime.name": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attrs(Detect(Source{
				Root:     "testdata/" + tt.name,
				Getenv:   func(k string) string { return tt.env[k] },
				Hostname: func() (string, error) { return "myhost", nil },
			}))
			for k, want := range tt.want {
				v, ok := got[k]
				if want == "" && ok {
					t.Errorf("%s = %q, want it absent", k, v)
				} else if want != "" && v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
			if got["process.pid"] == "" || got["process.executable.name"] == "" {
				t.Errorf("process attributes missing: %v", got)
			}
			if tt.env[EnvDetect] == "" {
				if got["process.runtime.version"] != runtime.Version() || got["host.name"] != "myhost" || got["os.type"] != runtime.GOOS {
					t.Errorf("runtime %q host %q os %q", got["process.runtime.version"], got["host.name"], got["os.type"])
				}
			}
		})
	}
}

func TestContainerIDFormats(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ line, want string }{
		{"0::/system.slice/docker-" + id + ".scope", id},
		{"4:cpu:/kubepods/besteffort/pod123/crio-" + id, id},
		{"5:memory:/ecs/task-1/" + id, id},
		{"0::/machine.slice/libpod-" + id + ".scope/container", ""}, // nested: not the last element
		{"0::/user.slice", ""},
		{"3:cpu:/docker/" + id[:63], ""},
	}
	for _, tt := range tests {
		if got := containerFromCgroup([]byte(tt.line + "\n")); got != tt.want {
			t.Errorf("containerFromCgroup(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestDetectHere(t *testing.T) {
	got := attrs(Detect(Source{}))
	if h, _ := os.Hostname(); h != "" && got["host.name"] != h {
		t.Errorf("host.name = %q, want %q", got["host.name"], h)
	}
	if id, err := os.ReadFile("/etc/machine-id"); err == nil && len(id) > 1 && got["host.id"] == "" {
		t.Error("host.id missing though /etc/machine-id is readable")
	}
}

func attrs(as []record.Attr) map[string]string {
	m := map[string]string{}
	for _, a := range as {
		m[a.Key] = a.Value.String()
	}
	return m
}
