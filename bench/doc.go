// Package bench holds the runtime benchmarks: BenchmarkCompareOTel runs the
// same workload (a parent span and a child span with two attributes,
// exported through a batching pipeline to a sink that discards) through
// tracegen and through the OpenTelemetry Go SDK, and BenchmarkDisabled
// measures the cost of instrumentation when no exporter is configured.
//
//	go test -run '^$' -bench . -benchmem -count 3 ./bench/
package bench
