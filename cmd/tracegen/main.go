package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes, as gofmt's and go vet's: they only ever move upward during a
// run, so CI can tell "regenerate" (1) from "broken" (2).
const (
	exitOK      = 0 // everything done, or up to date
	exitChanged = 1 // -check or -diff found files that would change, and nothing else went wrong
	exitError   = 2 // a bad directive, a load failure, a bad rules file, bad usage, a setup problem
)

// options holds the parsed command-line flags.
type options struct {
	check bool
	diff  bool
	strip bool
	all   bool
	verb  bool
	tags  string
	rules string
	deps  bool
}

// app is one invocation of the command: its flags, streams and exit status.
type app struct {
	opts   options
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	dir    string // working directory ("" = process working directory)
	code   int
}

// exitAtLeast raises the exit status; it never lowers it.
func (a *app) exitAtLeast(code int) {
	if code > a.code {
		a.code = code
	}
}

// logf prints a message with the "tracegen: " prefix on stderr.
func (a *app) logf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "tracegen: "+format+"\n", args...)
}

// errorf prints a message and raises the exit status to code.
func (a *app) errorf(code int, format string, args ...any) {
	a.logf(format, args...)
	a.exitAtLeast(code)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks a bad command line; run prints the usage hint and exits 2.
var errUsage = errors.New("usage")

// errSilent marks an error already reported (and the exit status already raised).
var errSilent = errors.New("already reported")

const usageText = `usage: tracegen [flags] [packages]          rewrite packages in place (default ".")
       tracegen [flags] go build|test|run|vet [go flags and arguments]
       tracegen rules                             list the built-in LLM call rules
       tracegen doctor                            report which energy sensors work here
       tracegen report [flags] FILE...|DB         summarize spans: cost per function, test, model; budgets; diffs
       tracegen traces [flags] FILE...|DB         list traces with filters, show one; -db ingests files into a store
       tracegen collect [-http addr] [-db DB]     receive spans over OTLP/HTTP into a store
       tracegen view [-http addr] FILE...|DB      browse traces in a local web page
       tracegen version                           print the version

Functions whose doc comment holds a //trace: directive get a span. Flags go
before the packages or the subcommand. Run 'go doc github.com/tracegen-dev/tracegen/cmd/tracegen'
for the manual.

Flags:
`

// newFlagSet declares the flags on a fresh FlagSet bound to o.
func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tracegen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.check, "check", false, "write nothing; exit 1 and list the files that are not up to date")
	fs.BoolVar(&o.diff, "diff", false, "write nothing; print a unified diff of the changes")
	fs.BoolVar(&o.strip, "strip", false, "remove all tracegen instrumentation, restoring the original bytes")
	fs.BoolVar(&o.all, "all", false, "trace every function and method with a body (except init, tests, generated files, //trace:ignore)")
	fs.BoolVar(&o.verb, "v", false, "say what was done to each file")
	fs.StringVar(&o.tags, "tags", "", "comma-separated build tags used when loading packages")
	fs.StringVar(&o.rules, "rules", "", "YAML `file` of extra LLM call rules")
	fs.BoolVar(&o.deps, "deps", true, "tracegen go: also route the LLM SDK calls of dependency packages (frameworks, libraries) through spans, in the overlay")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	return fs
}

// run is the whole command; it returns the process exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := newFlagSet(&a.opts, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError // the flag package already printed the problem and the usage
	}
	rest := fs.Args()
	err := a.dispatch(rest)
	if errors.Is(err, errSilent) {
		a.exitAtLeast(exitError)
	} else if errors.Is(err, errUsage) {
		fmt.Fprintln(stderr, "run 'tracegen -help' for usage")
		a.exitAtLeast(exitError)
	} else if err != nil {
		a.errorf(exitError, "%v", err)
	}
	return a.code
}

// dispatch picks the mode from the first non-flag argument.
func (a *app) dispatch(rest []string) error {
	if err := a.validateFlags(); err != nil {
		return err
	}
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch sub {
	case "go":
		if err := a.noRewriteOnlyFlags("go"); err != nil {
			return err
		}
		return a.goCommand(rest[1:])
	case "version", "rules", "doctor":
		if err := a.noFlags(sub); err != nil {
			return err
		}
		if len(rest) > 1 {
			a.logf("%s takes no arguments, got %q", sub, strings.Join(rest[1:], " "))
			return errUsage
		}
		switch sub {
		case "version":
			fmt.Fprintf(a.stdout, "tracegen %s\n", version())
			return nil
		case "rules":
			return a.rulesCommand()
		default:
			return a.doctorCommand()
		}
	case "report", "traces", "collect", "view":
		if err := a.noFlags(sub); err != nil {
			return err
		}
		switch sub {
		case "report":
			return a.reportCommand(rest[1:])
		case "traces":
			return a.tracesCommand(rest[1:])
		case "collect":
			return a.collectCommand(rest[1:])
		default:
			return a.viewCommand(rest[1:])
		}
	case "help":
		newFlagSet(&options{}, a.stdout).Usage()
		return nil
	}
	if len(rest) == 0 {
		rest = []string{"."}
	}
	for _, p := range rest {
		if strings.HasPrefix(p, "-") {
			a.logf("flag %s must come before the packages", p)
			return errUsage
		}
	}
	return a.rewrite(rest)
}

// validateFlags rejects combinations that make no sense.
func (a *app) validateFlags() error {
	o := a.opts
	if o.strip && o.all {
		a.logf("-strip and -all cannot be used together: -strip removes all instrumentation")
		return errUsage
	}
	if o.rules != "" {
		if err := a.checkRulesFile(o.rules); err != nil {
			return err
		}
	}
	return nil
}

// noRewriteOnlyFlags rejects the flags that only make sense for in-place rewriting.
func (a *app) noRewriteOnlyFlags(sub string) error {
	flags := []struct {
		name string
		set  bool
	}{{"-check", a.opts.check}, {"-diff", a.opts.diff}, {"-strip", a.opts.strip}}
	for _, f := range flags {
		if f.set {
			a.logf("flag %s cannot be used with '%s': overlay builds never write the source tree", f.name, sub)
			return errUsage
		}
	}
	return nil
}

// noFlags rejects any flag for subcommands that take none.
func (a *app) noFlags(sub string) error {
	if a.opts != (options{deps: true}) { // deps defaults to true
		a.logf("'%s' takes no flags", sub)
		return errUsage
	}
	return nil
}
