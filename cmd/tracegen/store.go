package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/store"
	"github.com/tracegen-dev/tracegen/store/view"
)

// filterList is the repeatable -filter flag.
type filterList []store.Filter

func (f *filterList) String() string { return fmt.Sprint([]store.Filter(*f)) }

func (f *filterList) Set(v string) error {
	x, err := store.ParseFilter(v)
	if err != nil {
		return err
	}
	*f = append(*f, x)
	return nil
}

// parseFlags parses a subcommand's flags, turning -help into a nil error
// with done set.
func (a *app) parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	fs.SetOutput(a.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, errSilent
	}
	return false, nil
}

// openInputs opens the store named by inputs (one store file) or, for span
// files (JSONL, OTLP/JSON, "-"), ingests them into a temporary store that
// close removes. Unreadable inputs and lines are printed as file:line:
// message and raise the exit status to 2; the rest is used.
func (a *app) openInputs(ctx context.Context, sub string, inputs []string) (*store.Store, func(), error) {
	if len(inputs) == 0 {
		a.logf("%s: no input (name a store, span files, or - for stdin)", sub)
		return nil, nil, errUsage
	}
	for _, in := range inputs {
		if store.IsStore(in) {
			if len(inputs) > 1 {
				a.logf("%s: %s is a store: name it alone, or ingest the other files into it first (tracegen traces -db %s FILE...)", sub, in, in)
				return nil, nil, errUsage
			}
			s, err := store.Open(in)
			if err != nil {
				return nil, nil, err
			}
			return s, func() { s.Close() }, nil
		}
	}
	dir, err := os.MkdirTemp("", "tracegen-store-")
	if err != nil {
		return nil, nil, err
	}
	s, err := store.Open(filepath.Join(dir, "traces.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	closeAll := func() { s.Close(); os.RemoveAll(dir) }
	if _, err := a.ingest(ctx, s, inputs); err != nil {
		closeAll()
		return nil, nil, err
	}
	return s, closeAll, nil
}

// ingest adds span files to s, printing their problems.
func (a *app) ingest(ctx context.Context, s *store.Store, files []string) (*store.Result, error) {
	res, err := s.IngestFiles(ctx, files, a.stdin)
	if err != nil {
		return nil, err
	}
	a.reportProblems(res.Problems)
	return res, nil
}

const tracesUsage = `usage: tracegen traces [-filter key=value ...] [-format human|json] [-limit N] [-offset N] FILE...|DB
       tracegen traces -trace ID [-format human|json] FILE...|DB
       tracegen traces -db DB FILE...

Lists the traces of span files (JSONL, OTLP/JSON, '-' for stdin) or of a
store, newest first, or shows one trace as a tree. With -db, ingests the
files into the store DB (created when missing; a span already there is
skipped) and prints what was added.

Filters (each must match some span of a trace): name=, trace=, type=,
status=, tag=, has=KEY, model=, session=, conversation=, and KEY=VALUE for
any attribute (attr:KEY=VALUE when KEY is one of those words).

Flags:
`

// tracesCommand is `tracegen traces`.
func (a *app) tracesCommand(args []string) error {
	var (
		filters       filterList
		format, trace string
		db            string
		limit, offset int
	)
	fs := flag.NewFlagSet("tracegen traces", flag.ContinueOnError)
	fs.Var(&filters, "filter", "show traces with a span that matches `key=value` (repeatable)")
	fs.StringVar(&format, "format", "human", "output `format`: human or json")
	fs.StringVar(&trace, "trace", "", "show the trace with this `id` as a tree")
	fs.StringVar(&db, "db", "", "ingest the files into this store `file` and print what was added")
	fs.IntVar(&limit, "limit", store.DefaultLimit, "list at most `N` traces")
	fs.IntVar(&offset, "offset", 0, "skip the first `N` traces of the list")
	fs.Usage = func() { fmt.Fprint(a.stderr, tracesUsage); fs.PrintDefaults() }
	if done, err := a.parseFlags(fs, args); done {
		return err
	}
	if format != "human" && format != "json" {
		a.logf("traces: unknown -format %q (known: human, json)", format)
		return errUsage
	}
	ctx := context.Background()
	if db != "" {
		return a.ingestInto(ctx, db, fs.Args(), format)
	}
	s, closeStore, err := a.openInputs(ctx, "traces", fs.Args())
	if err != nil {
		return err
	}
	defer closeStore()
	if trace != "" {
		t, err := s.Trace(ctx, trace)
		if err != nil {
			return err
		}
		if format == "json" {
			return writeIndented(a.stdout, t)
		}
		printTrace(a.stdout, t)
		return nil
	}
	list, err := s.Traces(ctx, store.Query{Filters: filters, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	if format == "json" {
		return writeIndented(a.stdout, list)
	}
	printList(a.stdout, list)
	return nil
}

// ingestInto is `tracegen traces -db DB FILE...`.
func (a *app) ingestInto(ctx context.Context, db string, files []string, format string) error {
	if len(files) == 0 {
		a.logf("traces: -db needs files to ingest")
		return errUsage
	}
	s, err := store.Open(db)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := a.ingest(ctx, s, files)
	if err != nil {
		return err
	}
	if format == "json" {
		return writeIndented(a.stdout, res)
	}
	fmt.Fprintf(a.stdout, "%s: %d spans read, %d added, %d already stored; %d traces created or extended\n",
		db, res.Read, res.Added, res.Duplicates, res.Traces)
	return nil
}

func writeIndented(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func joulesOf(kwh float64) float64 { return kwh * 3.6e6 }

// printList prints a trace list as an aligned table.
func printList(w interface{ Write([]byte) (int, error) }, l *store.TraceList) {
	fmt.Fprintf(w, "%d traces match", l.Total)
	if len(l.Traces) < int(l.Total) {
		fmt.Fprintf(w, "; %d–%d shown, newest first", l.Offset+1, l.Offset+len(l.Traces))
	}
	fmt.Fprintln(w)
	if len(l.Traces) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "trace\tstart\tduration\tspans\terrors\ttokens\tenergy (J)\tCO2e (g)\troot\t")
	for _, t := range l.Traces {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%.4g\t%.4g\t%s\t\n", t.TraceID, t.Start.Format("2006-01-02 15:04:05.000"),
			formatMS(t.DurationMS), t.Spans, t.Errors, t.InputTokens+t.OutputTokens, joulesOf(t.EnergyKWh), t.CO2eG, t.Root)
	}
	tw.Flush()
}

func formatMS(ms float64) string {
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Microsecond).String()
}

// printTrace prints one trace as an indented tree.
func printTrace(w interface{ Write([]byte) (int, error) }, t *store.Trace) {
	m := &t.Summary
	fmt.Fprintf(w, "trace %s: %s, %d spans, %d errors, %s, %.4g J, %.4g g CO2e, %.4g L water, %d tokens\n",
		m.TraceID, m.Root, m.Spans, m.Errors, formatMS(m.DurationMS), joulesOf(m.EnergyKWh), m.CO2eG, m.WaterL,
		m.InputTokens+m.OutputTokens)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "span\tstatus\tstart\tduration\tself energy (J)\tself CO2e (g)\ttokens\tmodel\t")
	for _, s := range t.Spans {
		name := strings.Repeat("  ", s.Depth) + s.Name
		if s.Expensive {
			name += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t+%s\t%s\t%.4g\t%.4g\t%d\t%s\t\n", name, s.Status, formatMS(s.OffsetMS), formatMS(s.DurationMS),
			joulesOf(s.Self.EnergyKWh), s.Self.CO2eG, s.InputTokens+s.OutputTokens, s.Model)
	}
	tw.Flush()
	if t.Expensive != "" {
		fmt.Fprintln(w, "* the span that cost the most itself (energy, else tokens)")
	}
}

// serve listens on addr and serves h until SIGINT or SIGTERM; ready is
// called with the address once listening.
func (a *app) serve(addr string, h http.Handler, ready func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	ready(l.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

const collectUsage = `usage: tracegen collect [-http 127.0.0.1:4318] [-db tracegen.db]

Receives spans over OTLP/HTTP (POST /v1/traces, application/x-protobuf or
application/json, gzip allowed) from running programs and stores them in
the store DB until interrupted. Point a program at it with
OTEL_EXPORTER_OTLP_ENDPOINT=http://ADDRESS. A span already stored is
skipped.

Flags:
`

// collectCommand is `tracegen collect`.
func (a *app) collectCommand(args []string) error {
	var addr, db string
	fs := flag.NewFlagSet("tracegen collect", flag.ContinueOnError)
	fs.StringVar(&addr, "http", "127.0.0.1:4318", "listen on this `address`")
	fs.StringVar(&db, "db", "tracegen.db", "store `file` (created when missing)")
	fs.Usage = func() { fmt.Fprint(a.stderr, collectUsage); fs.PrintDefaults() }
	if done, err := a.parseFlags(fs, args); done {
		return err
	}
	if fs.NArg() > 0 {
		a.logf("collect takes no arguments, got %q", strings.Join(fs.Args(), " "))
		return errUsage
	}
	s, err := store.Open(db)
	if err != nil {
		return err
	}
	defer s.Close()
	rc := store.NewReceiver(s)
	rc.Logf = a.logf
	err = a.serve(addr, rc, func(l net.Addr) {
		a.logf("collecting spans into %s: OTEL_EXPORTER_OTLP_ENDPOINT=http://%s", db, l)
	})
	req, spans, added := rc.Counts()
	a.logf("collect: %d requests, %d spans received, %d added to %s", req, spans, added, db)
	return err
}

const viewUsage = `usage: tracegen view [-http 127.0.0.1:0] FILE...|DB

Serves a page on the address (a free port by default) that lists the traces
of span files or of a store with filters, draws one trace as a waterfall
with each span's energy, CO2e, water and tokens, and summarizes the report.
It prints the URL and serves until interrupted. The page needs no network.

Flags:
`

// viewCommand is `tracegen view`.
func (a *app) viewCommand(args []string) error {
	var addr string
	fs := flag.NewFlagSet("tracegen view", flag.ContinueOnError)
	fs.StringVar(&addr, "http", "127.0.0.1:0", "listen on this `address`")
	fs.Usage = func() { fmt.Fprint(a.stderr, viewUsage); fs.PrintDefaults() }
	if done, err := a.parseFlags(fs, args); done {
		return err
	}
	s, closeStore, err := a.openInputs(context.Background(), "view", fs.Args())
	if err != nil {
		return err
	}
	defer closeStore()
	traces, spans, err := s.Counts(context.Background())
	if err != nil {
		return err
	}
	return a.serve(addr, view.New(s), func(l net.Addr) {
		a.logf("viewing %d traces (%d spans) at http://%s/", traces, spans, l)
	})
}

// storeSpans reads a store's spans for tracegen report.
func storeSpans(path string) *report.Spans {
	s, err := store.Open(path)
	if err != nil {
		sp := report.NewSpans()
		sp.Problems = []report.Problem{{File: path, Message: err.Error()}}
		sp.Inputs = []report.Input{{File: path}}
		return sp
	}
	defer s.Close()
	sp, err := s.Spans(context.Background(), nil)
	if err != nil {
		sp = report.NewSpans()
		sp.Problems = []report.Problem{{File: path, Message: err.Error()}}
		sp.Inputs = []report.Input{{File: path}}
	}
	return sp
}
