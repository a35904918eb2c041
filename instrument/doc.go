// Package instrument finds //trace: directives and LLM rule matches in Go
// packages and rewrites them so that each annotated function, and each call
// into a known LLM client, opens and ends a span through the tracegen runtime.
//
// The rewrite is a pure function of a package's files (plus, for rule matches,
// their type information): Run never writes to disk. The tracegen command
// decides whether the result replaces the file (in place), is printed as a
// diff, is only compared (-check), or is placed in a build overlay.
//
// # Model
//
// Every file is first stripped of earlier instrumentation (StripSource), then
// instrumented again, and the result is compared with the bytes on disk. So a
// second run changes nothing, and a file whose annotations were added, removed
// or changed comes out Changed (which is how -check finds stale files).
//
// The rewrite is text insertion at positions found with go/ast: bytes outside
// the edited spots are never touched, comments stay where they are, and no
// printer reformats the user's code. For a traced function the edits are:
//
//	func Load(ctx context.Context, id string) (_ *Doc, err error) {
//		span := tracegenLoad.Start(ctx)
//		defer span.Return(&err)
//		...
//	}
//
//	//tracegen:generated
//	var (
//		//tracegen:was results=" (*Doc, error) "
//		tracegenLoad = tracegen.Define("store.Load")
//	)
//
// Each traced function's span name and options are one package-level
// definition, built once, in a block at the end of its file; its name is
// tracegen followed by the function's (Type_Method for methods, Func_func2
// for a function literal), made unique against the package's own names
// without looking at other files' output, so files can be rewritten alone.
// The runtime is imported under an alias that no file of the package spells
// (tracegen, else tracegen2, ...), and the local names (span, err, ctx) are
// ones that appear nowhere in the function, so nothing is shadowed. A
// context.Context parameter (found through the file's name for the context
// package, first one if several, any position) becomes the parent; it is not
// rebound, so the function and its callees see the very context the caller
// passed (callees nest through the goroutine's current span). With the
// rebind key the parameter is rebound to the span's context (ctx, span :=
// tracegenLoad.StartContext(ctx)), for code beneath that reads the span
// from its context (OpenTelemetry instrumentation, goroutines started by
// libraries). Without a named context parameter (none, blank or unnamed),
// Begin parents the span on the goroutine's current span and the signature
// keeps its parameters. The error result (the last result when its
// type is error) is named if needed so the deferred Return sees what the
// function returns, through bare returns, gotos and panics alike. Return
// never calls recover: a panic unwinds the function as without tracing.
//
// In-place output is gofmt-clean when the input is, and no generated line is
// wider than 100 columns. Function bodies written on one line get their
// statements on separate lines. Where a signature or a layout had to change,
// a //tracegen:was marker above the function's definition keeps the original
// text (code generated before v0.2 has it on the first generated line), and added imports carry a //tracegen:generated doc
// comment: StripSource reads these to restore the exact original bytes. When
// goimports (or gopls on save) has merged the generated import into the import
// block, StripSource still recognises it by its tracegen alias, provided
// nothing but generated code uses it, so a later run never instruments twice.
//
// Overlay output (tracegen go build|test|run|vet) keeps every original token
// at its file, line and column as the compiler sees them: the file starts with
// a //line directive naming the original, the generated statements sit on a
// line of their own between //line directives that give them the brace's line
// and put the rest of that line back where it was, mid-line edits are followed
// by a /*line :L:C*/ comment, and the import goes on the package clause line.
// Compiler errors, stack traces and runtime.Caller report the user's positions. A file already instrumented in place is built
// as it is when up to date, and reported as an error when it is stale.
//
// # Directives
//
// A //trace:<verb> line in a function's doc comment traces it; on the line
// directly above a statement it traces the first function literal starting on
// that statement's line. Verbs: span, llm, tool, agent, chain, task, ignore.
// Keys: name=, kind=, attr.<k>=, inherit.<k>=, input, output, rebind, agent=, model=,
// tags=a,b; values may be "double-quoted" (Go escapes) or `back-quoted`.
// An unquoted attr./inherit. value that reads as an integer, a float or
// true/false is passed as that type (attr.retries=3); quoted values are strings.
// Mistakes are *Error values at the exact file:line:col, and a package with
// any error has no file changed.
//
// # What else is rewritten
//
//   - go statements directly in a traced function: go f(x) becomes
//     go tracegen.Fork(span, f)(x): Fork records span and returns f itself,
//     so the goroutine runs f unwrapped (its stack traces are the program's),
//     its spans nest under span, and x is still evaluated by the caller. Builtins are left alone, and so are
//     functions that may be generic and uninstantiated: without type
//     information that means package-qualified calls (go pkg.F(x)) and
//     same-package generic functions; modules whose go directive predates
//     go1.18 get no Fork at all.
//   - package main with any instrumentation: func main gets defer
//     tracegen.Stop(), and os.Exit(x) directly in main (not in nested function
//     literals) becomes tracegen.Exit(x); when that leaves the os import
//     unused it becomes import _ "os".
//   - with Config.Calls, calls chosen by the CallRewriter in type-checked
//     packages become wrapper calls (see CallRewriter).
//   - with Config.All, every function and method with a body except init,
//     functions marked //trace:ignore, _test.go files and generated files.
//     Function literals are traced only when annotated. Also left out:
//     String, Error, GoString and Format methods (exporters call them while
//     recording spans) and functions under //go:nosplit, //go:linkname and
//     similar compiler directives. A directive still traces any of these.
package instrument
