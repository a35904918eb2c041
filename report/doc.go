// Package report turns the spans of a run into the figures a team asks of
// CI: what each function, test and model cost in calls, time, tokens,
// joules, grams of CO2e and litres of water, whether that is within budget,
// and what changed against another run.
//
// The model: [Read] decodes spans from files written by the jsonl or json
// exporter (runtime/record's one object per line) and from OTLP/JSON
// (ExportTraceServiceRequest objects, one per line as the Collector's file
// exporter writes them, or one per file), on every CPU, keeping only what a
// report needs, and records every unreadable input or line as a [Problem]
// while reading on. [Summarize] groups the spans by span name (a function),
// model, test, session, project and application. Because the runtime rolls a
// span's energy up into its parent, and a parent's duration covers its
// children's, wall time, energy, CO2e and water of a group are summed over
// its top spans only (those whose parent is not in the group), while calls,
// errors and tokens are summed over every span: nothing is counted twice.
// The [Provenance] of a report says which sensors measured the energy, which
// factor turned it into CO2e and water, and which method estimated the LLM
// calls. [ParseBudgets] and [Check] compare the totals with limits.
// [Compare] puts the reports of several base runs against several head runs:
// medians with their range, a change flagged only when the ranges do not
// overlap, and a change over a threshold reported as a [Regression].
// [WriteReport] and [WriteDiff] print text, markdown, json or html.
//
// The package reads spans; it never links the rewriter or golang.org/x/tools.
package report
