module github.com/tracegen-dev/tracegen/testdata/propagate

go 1.23

require (
	github.com/tracegen-dev/tracegen/runtime v0.0.0
	github.com/tracegen-dev/tracegen/runtime/export/otlp v0.0.0
)

require (
	github.com/NVIDIA/go-nvml v0.12.0-4 // indirect
	github.com/go-ole/go-ole v1.2.6 // indirect
	github.com/lufia/plan9stats v0.0.0-20211012122336-39d0f177ccd0 // indirect
	github.com/power-devops/perfstat v0.0.0-20210106213030-5aafc221ea8c // indirect
	github.com/shirou/gopsutil/v4 v4.24.5 // indirect
	github.com/shoenig/go-m1cpu v0.1.6 // indirect
	github.com/tklauser/go-sysconf v0.3.12 // indirect
	github.com/tklauser/numcpus v0.6.1 // indirect
	github.com/yusufpapurcu/wmi v1.2.4 // indirect
	go.opentelemetry.io/proto/otlp v1.5.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
	google.golang.org/protobuf v1.36.5 // indirect
)

replace (
	github.com/tracegen-dev/tracegen/runtime => ../../runtime
	github.com/tracegen-dev/tracegen/runtime/export/otlp => ../../runtime/export/otlp
)
