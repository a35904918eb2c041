package rules

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// List writes a table of rules for `tracegen rules`: name, provider,
// operation, stream kind and what each rule matches, in rule order.
func List(w io.Writer, rules []*Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPROVIDER\tOPERATION\tSTREAM\tDESCRIPTION")
	for _, r := range rules {
		provider, op := r.Spec.Provider, r.Spec.Operation
		switch {
		case r.Spec.Span != "":
			provider, op = "-", r.Spec.Span+" span"
		case r.Client != "":
			provider, op = "-", "http client"
		case provider == "":
			provider = "(by " + r.Spec.ProviderOf + ")"
		}
		stream := r.Spec.Stream
		if stream == "" {
			stream = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, provider, op, stream, r.Doc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Matched functions (go/types full names):")
	for _, r := range rules {
		for _, f := range r.Funcs {
			fmt.Fprintf(w, "  %-26s %s\n", r.Name, f)
		}
		for _, f := range []string{r.Stream.Next, r.Stream.Recv, r.Stream.Events, r.Stream.Close} {
			if f != "" {
				fmt.Fprintf(w, "  %-26s %s (stream)\n", r.Name, f)
			}
		}
	}
	return nil
}
