module github.com/tracegen-dev/tracegen/runtime/export/otlp

go 1.23

require (
	github.com/tracegen-dev/tracegen/runtime v0.0.0
	go.opentelemetry.io/proto/otlp v1.5.0
	go.uber.org/goleak v1.3.0
	google.golang.org/protobuf v1.36.5
)

// Development: the runtime is the module two directories up. A release tags
// runtime/vX.Y.Z and runtime/export/otlp/vX.Y.Z and sets the requirement
// above; replace directives apply only in this module.
replace github.com/tracegen-dev/tracegen/runtime => ../..
