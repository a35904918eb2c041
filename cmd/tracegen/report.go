package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/store"
)

const reportUsage = `usage: tracegen report [-format text|markdown|json|html] [-top N] [-budget key=value,...] FILE...|DB
       tracegen report -base RUN [-base RUN ...] -head RUN [-head RUN ...] [-fail-over 10%%] [-format ...]

Summarizes spans written by the jsonl or json exporter, or OTLP/JSON; '-' reads
stdin; a store (tracegen traces -db, tracegen collect) is read alone. A RUN is
a file, a store, or several files separated by commas. Exit status: 0,
1 when over a budget or a -fail-over threshold, 2 when an input cannot be read
or holds a malformed line (each printed as file:line: message) or for bad usage.

Budget keys: ` + "%s" + `
Diff measures: ` + "%s" + `

Flags:
`

// exitOver is report's status for a total over its budget or a change over
// its -fail-over threshold (go vet's 1: "found something").
const exitOver = exitChanged

// runList is a repeatable flag: each value is one run (files split at commas).
type runList [][]string

func (r *runList) String() string { return fmt.Sprint([][]string(*r)) }

func (r *runList) Set(v string) error {
	var files []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return errors.New("no file")
	}
	*r = append(*r, files)
	return nil
}

// reportCommand is `tracegen report`.
func (a *app) reportCommand(args []string) error {
	var (
		format, budget, failOver string
		top                      int
		base, head               runList
	)
	fs := flag.NewFlagSet("tracegen report", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.StringVar(&format, "format", "text", "output `format`: "+strings.Join(report.Formats, ", "))
	fs.IntVar(&top, "top", 10, "rows per table in text, markdown and html (0: all)")
	fs.StringVar(&budget, "budget", "", "exit 1 when a total is over its limit: `key=value,...`")
	fs.Var(&base, "base", "a base `run` for a diff (repeat for several runs)")
	fs.Var(&head, "head", "a head `run` for a diff (repeat for several runs)")
	fs.StringVar(&failOver, "fail-over", "", "with -base/-head, exit 1 when a measure rises by more than this: `10%` or measure=pct,...")
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, reportUsage, strings.Join(report.BudgetKeys(), ", "), strings.Join(report.Measures, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errSilent
	}
	if !slices.Contains(report.Formats, format) {
		a.logf("report: unknown -format %q (known: %s)", format, strings.Join(report.Formats, ", "))
		return errUsage
	}
	opts := report.Options{Format: format, Top: top}
	if len(base) > 0 || len(head) > 0 {
		return a.reportDiff(fs, base, head, failOver, budget, opts)
	}
	if failOver != "" {
		a.logf("report: -fail-over needs -base and -head")
		return errUsage
	}
	if fs.NArg() == 0 {
		a.logf("report: no input (name files, or - for stdin)")
		return errUsage
	}
	var budgets []report.Budget
	if budget != "" {
		var err error
		if budgets, err = report.ParseBudgets(budget); err != nil {
			a.logf("report: %v", err)
			return errUsage
		}
	}
	spans, err := a.readSpans(fs.Args())
	if err != nil {
		return err
	}
	r := report.Summarize(spans)
	if budgets != nil {
		r.Budget = report.Check(&r.Totals, budgets)
	}
	if err := report.WriteReport(a.stdout, r, opts); err != nil {
		return err
	}
	a.reportProblems(r.Problems)
	for _, v := range r.Budget {
		if v.Over {
			a.errorf(exitOver, "%s", v)
		}
	}
	return nil
}

// reportDiff is `tracegen report -base ... -head ...`.
func (a *app) reportDiff(fs *flag.FlagSet, base, head runList, failOver, budget string, opts report.Options) error {
	switch {
	case len(base) == 0 || len(head) == 0:
		a.logf("report: a diff needs both -base and -head")
		return errUsage
	case fs.NArg() > 0:
		a.logf("report: with -base and -head, name no other input (got %s)", strings.Join(fs.Args(), " "))
		return errUsage
	case budget != "":
		a.logf("report: -budget applies to one run; run the report of the head alone to check it")
		return errUsage
	}
	var th report.Thresholds
	if failOver != "" {
		var err error
		if th, err = report.ParseThresholds(failOver); err != nil {
			a.logf("report: %v", err)
			return errUsage
		}
	}
	summarize := func(runs runList) ([]*report.Report, error) {
		out := make([]*report.Report, len(runs))
		for i, files := range runs {
			spans, err := a.readSpans(files)
			if err != nil {
				return nil, err
			}
			out[i] = report.Summarize(spans)
		}
		return out, nil
	}
	b, err := summarize(base)
	if err != nil {
		return err
	}
	h, err := summarize(head)
	if err != nil {
		return err
	}
	d := report.Compare(b, h, th)
	if err := report.WriteDiff(a.stdout, d, opts); err != nil {
		return err
	}
	a.reportProblems(d.Problems)
	for _, r := range d.Regressions {
		a.errorf(exitOver, "%s", r)
	}
	return nil
}

// reportProblems prints each unreadable input or line as go vet does,
// file:line: message, and raises the exit status to 2.
func (a *app) reportProblems(probs []report.Problem) {
	for _, p := range probs {
		fmt.Fprintln(a.stderr, p)
		a.exitAtLeast(exitError)
	}
}

// readSpans reads the spans of a run: span files, or one store.
func (a *app) readSpans(files []string) (*report.Spans, error) {
	for _, f := range files {
		if store.IsStore(f) {
			if len(files) > 1 {
				a.logf("report: %s is a store: name it alone, or ingest the other files into it (tracegen traces -db %s FILE...)", f, f)
				return nil, errUsage
			}
			return storeSpans(f), nil
		}
	}
	return report.Read(files, a.stdin), nil
}
