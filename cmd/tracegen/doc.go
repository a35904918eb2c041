/*
Tracegen makes Go programs observable by rewriting their source: every
function whose doc comment holds a //trace: directive opens and ends a span
through the tracegen runtime (github.com/tracegen-dev/tracegen/runtime/trace),
which nests spans through context.Context and goroutines, measures energy and
ships the spans to an exporter.

	//trace:agent name=planner model="gpt-4o mini" tags=prod,eu
	func Plan(ctx context.Context, goal string) (Plan, error) { ... }

Usage:

	tracegen [flags] [packages]                      rewrite in place (default ".")
	tracegen [flags] go build|test|run|vet [args]    build with an overlay; the tree is untouched
	tracegen rules                                   list the built-in LLM call rules
	tracegen doctor                                  report which energy sensors work here
	tracegen version                                 print the version
	tracegen report [flags] FILE...|DB               summarize spans: cost per function, test, model; budgets; diffs
	tracegen traces [flags] FILE...|DB               list traces with filters, show one; -db ingests into a store
	tracegen collect [-http addr] [-db DB]           receive spans over OTLP/HTTP into a store
	tracegen view [-http addr] FILE...|DB            browse traces in a local web page

Flags go before the packages or the subcommand. Packages are go command
patterns (./..., example.com/m/pkg). To name a package directory called go,
rules, doctor or version, write it as ./go and so on.

# In place, with go generate

Add the tool to the module once (this also adds the require of the runtime
module that the instrumented code needs, and the tool's own requirements,
which need go 1.26), then put a go:generate line in each package:

	go get -tool github.com/tracegen-dev/tracegen/cmd/tracegen@latest

	//go:generate go tool tracegen

A library, or any module that must keep its go line, requires only the
runtime (go 1.23) and runs a pinned tracegen, which leaves its go.mod alone:

	go get github.com/tracegen-dev/tracegen/runtime@VERSION

	//go:generate go run github.com/tracegen-dev/tracegen/cmd/tracegen@VERSION

go generate runs tracegen in the package directory, so it rewrites that
package. The generated code is one or two lines at the top of each traced
function, gofmt-clean, and commits like any other code. Running tracegen again
changes nothing; adding, changing or removing a directive updates the
instrumentation; -strip takes it all out and gives back the original bytes.

Files are written atomically (a temporary file in the same directory, with
the original's permissions, renamed over it) and only when their bytes change.
If any file of a package has an error, no file of that package is written.

# Reports

	tracegen report [-format text|markdown|json|html] [-top N] [-budget key=value,...] FILE...
	tracegen report -base RUN ... -head RUN ... [-fail-over 10%]

summarizes spans written by the jsonl or json exporter, or OTLP/JSON ('-' is
stdin): totals, the top functions and models, tables per function, model,
test, session, project and application, and where the figures came from.
-budget co2e_g=5,energy_kwh=0.01,tokens=100000,errors=0 exits 1 with one line
per exceeded budget. With -base and -head (each repeatable, one run each; a
run of several files is a,b) it prints the change per function, test and model
as medians with their range; -fail-over 10% exits 1 on an increase beyond it.
A malformed line is reported as file:line: message and the rest is read; the
exit status is then 2. docs/cli.md has the details and the JSON schema. A
store (below) is read alone, as a run of its own.

# The store, collect and view

	tracegen traces -db traces.db FILE...
	tracegen traces [-filter key=value ...] [-format human|json] [-limit N] [-offset N] FILE...|DB
	tracegen traces -trace ID [-format human|json] FILE...|DB
	tracegen collect [-http 127.0.0.1:4318] [-db tracegen.db]
	tracegen view [-http 127.0.0.1:0] FILE...|DB

A store is one SQLite file of traces. traces -db ingests span files into it
(JSONL, OTLP/JSON, '-' for stdin; several at once); a span already stored,
by trace id and span id, is skipped, so ingesting a file twice adds nothing.
traces lists the traces of a store, or of span files read into a temporary
one, newest first; -filter takes name=, trace=, type=, status=, tag=,
has=KEY, model=, session=, conversation= and KEY=VALUE for any attribute
(attr:KEY=VALUE when KEY is one of those words), and a trace is listed when
each filter matches one of its spans. -trace shows one trace as a tree with
the span that cost the most itself marked.

collect receives OTLP/HTTP (POST /v1/traces, application/x-protobuf or
application/json, gzip allowed) from programs whose
OTEL_EXPORTER_OTLP_ENDPOINT points at it, and stores what it receives until
interrupted. view serves a page on the address (it prints the URL) that
lists, filters and draws traces as waterfalls with each span's energy, CO2e,
water and tokens; the page is embedded and needs no network. Its JSON API is
in docs/view.md.

# Overlay builds

	tracegen go build ./...
	tracegen -all go test ./...
	tracegen go run ./cmd/server

run the real go command with -overlay= pointing at instrumented copies of the
files, inserted right after the subcommand. The source tree is not touched.
Instrumented copies keep every original line number (through //line
directives), so stack traces, runtime.Caller and compiler errors name the
user's own file and line.

The packages instrumented are those of the main module (the module of the
working directory, or of -C dir) whose .go files hold a //trace: directive or
import an LLM SDK that a rule names; with -all, every package of the main
module. Packages of other modules (dependencies) get only their LLM SDK
calls rewritten, when they import a package a rule names (see -deps).
Workspaces (go.work) are not consulted: only the main module's own
directories are, and dependencies are not rewritten in a workspace.

A package main of the main module that has no directive itself, built while
other packages are traced, still needs to flush its spans at exit: its copy
gets a deferred trace.Stop at the top of func main, and os.Exit calls in main
become trace.Exit (which flushes first). Every line keeps its number.

Copies are cached by content under $TRACEGEN_CACHE (default: tracegen in the
user cache directory, see os.UserCacheDir). A package directory whose files,
go.mod, flags and tracegen binary are unchanged is not rewritten again, and
directories without a directive are only read, never loaded or type-checked.
The cache is safe to delete at any time; entries unused for 5 days are
removed automatically.

For go run and go test, when TRACEGEN_EXPORTER is not set in the
environment (or is empty), tracegen sets TRACEGEN_EXPORTER=stdout for the child, so spans
print as a tree on the terminal with no configuration (the embedded default).
Set TRACEGEN_EXPORTER yourself (jsonl, json, memory, none, ...) to take over;
other TRACEGEN_* variables keep the default (TRACEGEN_STDOUT=stderr moves the
tree to stderr, keeping the program's stdout clean for a pipe). go build and
go vet get nothing.

Go has no exit hook, so for go test tracegen also adds, through the overlay
only, a file tracegen_testmain_test.go to every package of the main module
that has tests and no TestMain of its own: its TestMain runs the tests, then
flushes the spans (tracegen.Stop) before the test binary exits. A package
with its own TestMain keeps it; call trace.Stop there to get the last spans.

The exit status is the go command's.

# Requirements

Instrumented code imports the runtime, so the module being instrumented must
require the runtime module, github.com/tracegen-dev/tracegen/runtime (go get
-tool of the command requires it too). When it does not, tracegen writes
nothing, exits 2 and prints the fix, to run in the module root, with the
version this tracegen was built with (latest for a development build):

	go get github.com/tracegen-dev/tracegen/runtime@VERSION

and, to run tracegen as a tool of the module:

	go get -tool github.com/tracegen-dev/tracegen/cmd/tracegen@VERSION

# Directives

A line //trace:<verb> [key=value ...] in the doc comment of a function or
method (generic ones too). Verbs: span, llm, tool, agent, chain, task, and
ignore (never trace, also under -all). Keys: name=, kind= (internal, server,
client, producer, consumer), attr.<key>=<value>, inherit.<key>=<value>,
input, output, agent=, model=, tags=a,b. Values with spaces are quoted:
model="gpt-4o mini". A malformed directive is reported as file:line:col:
message and nothing of its package is written.

# Flags

	-check
		Write nothing. List the files that are not up to date (a directive
		added, removed or changed since the last run, or never instrumented)
		and exit 1; exit 0 when everything is up to date. For CI.
	-diff
		Write nothing; print a unified diff (a/ and b/ prefixes, as git
		and patch -p1 read them) of what would change. Exits 1 when it
		printed a diff, 0 when nothing would change.
	-strip
		Remove all tracegen instrumentation, restoring the exact original bytes.
	-all
		Trace every function and method with a body, except init, functions
		in _test.go files, generated files and those marked //trace:ignore.
	-v
		Say on stderr what was done to each file.
	-tags list
		Comma-separated build tags used when loading packages. In overlay
		builds, -tags given to the go command is used too.
	-rules file.yaml
		Extra LLM call rules, added to the built-in ones (tracegen rules
		lists those; the schema is in docs/llm.md). A problem in the file
		is reported as file:line:col: keyword: message, and exits 2.
	-deps=false
		In overlay builds, do not rewrite the LLM SDK calls of dependency
		packages (frameworks, libraries of other modules). By default they
		are rewritten too, in the overlay, and modules of the module cache
		with a rewritten file are built from hard-linked shadows through
		an alternate go.mod (-modfile); see README.md.

-check, -diff and -strip only apply to in-place rewriting; with go they are
a usage error.

# Exit status

As gofmt's and go vet's, so CI can tell "regenerate" from "broken":
0: done, or up to date. 1: -check or -diff found files that would change,
and nothing else went wrong. 2: an error: a bad directive (printed as
file:line:col: message), a package that does not load, a bad rules file,
bad usage, or a setup problem (missing require, no go.mod). With go, the go
command's own status (1 when tests fail), or 2 when tracegen could not
prepare the build.

# Examples

Instrument the package in the current directory, then check in CI that it
stays up to date:

	tracegen
	tracegen -check ./...

See what -all would do to a whole module, without writing:

	tracegen -all -diff ./...

Take the instrumentation out again:

	tracegen -strip ./...

Run the quickstart with spans printed on the terminal:

	go run ./cmd/tracegen go run ./examples/quickstart

Run a module's tests with every function traced, writing spans as JSON lines:

	TRACEGEN_EXPORTER=jsonl tracegen -all go test ./...
*/
package main
