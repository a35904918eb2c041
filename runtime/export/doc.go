// Package export defines the [Exporter] interface through which finished
// spans leave the process, and the built-in exporters: none, stdout (a
// human-readable tree), json (JSON lines on a stream), jsonl (a file that
// several processes may append to), memory (a bounded ring that tests and
// programs can query) and tee (several exporters at once).
//
// The span pipeline in runtime/trace batches finished spans and calls
// Export from a single goroutine; exporters therefore need no locking of
// their own unless they are also called directly by user code (Memory is
// safe for concurrent use because tests read it while spans are exported).
//
// Exporters are found by name through an open registry ([Register]):
// TRACEGEN_EXPORTER=stdout,jsonl builds one exporter per name. A package
// that adds an exporter registers it from an init func, and a program links
// it with a blank import. The metrics exporters are such packages,
// runtime/export/prometheus and runtime/export/dogstatsd (they link client
// libraries), runtime/export/otlp and runtime/export/otel (modules of their
// own, the second handing spans to the program's OpenTelemetry SDK); naming one in
// a binary that does not link it prints the import to add ([LinkPath],
// [NotLinkedError]).
//
// Writing an exporter takes a few lines:
//
//	type counter struct{ n int }
//
//	func (c *counter) Export(ctx context.Context, recs []*record.Record) error {
//		c.n += len(recs)
//		return nil
//	}
//
//	func (c *counter) Shutdown(ctx context.Context) error { return nil }
package export
