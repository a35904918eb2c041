// Package bench holds the runtime benchmarks: BenchmarkCompareOTel runs the
// same workload (a parent span and a child span with two attributes,
// exported through a batching pipeline to a sink that discards) through
// tracegen and through the OpenTelemetry Go SDK, BenchmarkDisabled
// measures the cost of instrumentation when no exporter is configured, and
// BenchmarkExport sends spans to a local OTLP/HTTP receiver through
// tracegen's otlp exporter and through the SDK's otlptracehttp exporter.
//
//	go test -run '^$' -bench . -benchmem -count 3 ./bench/
package bench
