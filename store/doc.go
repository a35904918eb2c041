// Package store keeps the spans of many runs in one SQLite file, so that
// `tracegen traces`, `tracegen report` and `tracegen view` can list, filter
// and summarize them without reading JSON again, and so that `tracegen
// collect` can receive spans from running programs over OTLP/HTTP.
//
// The model: a store is a table of traces. Each row holds one trace's spans
// as the jsonl exporter writes them (runtime/record's encoding, one line per
// span: spans received as OTLP are converted to it first; compressed), the fields a
// report needs packed by package report, and a summary (start, duration,
// root span, counts, tokens, energy, CO2e, water, models, session) for
// lists. Filters are answered from an inverted index: for every span name,
// status, type, tag, model, attribute key and scalar attribute value
// (own, inherited and resource), the sorted list of the traces that hold a
// span carrying it. A filtered list intersects those lists and reads only
// the rows it shows. Ingesting decodes lines with package report's decoder
// on every CPU while one goroutine writes; a span already stored (same trace
// id and span id) is skipped, so ingesting a file twice adds nothing.
//
// The store uses modernc.org/sqlite (pure Go, no cgo). Only the tracegen
// command links it: instrumented programs write JSONL or OTLP and never
// import this package.
package store
