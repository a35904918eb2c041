package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"unicode/utf8"
)

// Formats are the output formats of Write.
var Formats = []string{"text", "markdown", "json", "html"}

// document is what the text, markdown and html formats print: a title and
// sections of notes and one table each. Reports and diffs build one; the
// json format prints the typed value instead.
type document struct {
	Title    string
	Notes    []string
	Sections []section
}

type section struct {
	Title string
	Notes []string
	Table *table
}

// table is a grid of cells; Right marks the columns aligned right
// (numbers). Bars, when set, hold one fraction in [0,1] per row, which the
// html format draws beside the row.
type table struct {
	Header []string
	Right  []bool
	Rows   [][]string
	Bars   []float64
}

// Options control what Write prints.
type Options struct {
	Format string // one of Formats; "" is text
	Top    int    // rows per table in text, markdown and html (0: all)
}

// WriteReport writes r in the format o names.
func WriteReport(w io.Writer, r *Report, o Options) error {
	if o.Format == "json" {
		return writeJSON(w, r)
	}
	return writeDoc(w, reportDoc(r, o.Top), o.Format)
}

// WriteDiff writes d in the format o names.
func WriteDiff(w io.Writer, d *Diff, o Options) error {
	if o.Format == "json" {
		return writeJSON(w, d)
	}
	return writeDoc(w, diffDoc(d, o.Top), o.Format)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeDoc(w io.Writer, d *document, format string) error {
	switch format {
	case "", "text":
		return writeText(w, d)
	case "markdown":
		return writeMarkdown(w, d)
	case "html":
		return writeHTML(w, d)
	}
	return fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats, ", "))
}

// writeText prints aligned tables for a terminal.
func writeText(w io.Writer, d *document) error {
	var b strings.Builder
	b.WriteString(d.Title + "\n")
	for _, n := range d.Notes {
		b.WriteString(n + "\n")
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "\n%s\n", s.Title)
		for _, n := range s.Notes {
			b.WriteString("  " + n + "\n")
		}
		if s.Table != nil {
			writeTextTable(&b, s.Table)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTextTable(b *strings.Builder, t *table) {
	width := make([]int, len(t.Header))
	for _, row := range append([][]string{t.Header}, t.Rows...) {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(row []string) {
		var l strings.Builder
		l.WriteString("  ")
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				l.WriteString("  ")
			}
			if i < len(t.Right) && t.Right[i] {
				l.WriteString(pad + c)
			} else {
				l.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(t.Header)
	for _, row := range t.Rows {
		line(row)
	}
}

// writeMarkdown prints GitHub-flavoured markdown, for $GITHUB_STEP_SUMMARY
// and pull-request comments.
func writeMarkdown(w io.Writer, d *document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", d.Title)
	for _, n := range d.Notes {
		b.WriteString(mdEscape(n) + "\n\n")
	}
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "### %s\n\n", s.Title)
		for _, n := range s.Notes {
			b.WriteString("- " + mdEscape(n) + "\n")
		}
		if len(s.Notes) > 0 {
			b.WriteString("\n")
		}
		if t := s.Table; t != nil {
			b.WriteString("| " + strings.Join(mdCells(t.Header), " | ") + " |\n|")
			for i := range t.Header {
				if i < len(t.Right) && t.Right[i] {
					b.WriteString("---:|")
				} else {
					b.WriteString("---|")
				}
			}
			b.WriteString("\n")
			for _, row := range t.Rows {
				b.WriteString("| " + strings.Join(mdCells(row), " | ") + " |\n")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = strings.ReplaceAll(mdEscape(c), "|", `\|`)
	}
	return out
}

// mdEscape keeps names such as my_func or *T from turning into emphasis,
// and text between backquotes as code.
var mdEscaper = strings.NewReplacer("*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")

func mdEscape(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = mdEscaper.Replace(parts[i])
	}
	return strings.Join(parts, "`")
}

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"right": func(t *table, i int) bool { return i < len(t.Right) && t.Right[i] },
	"pct":   func(f float64) template.CSS { return template.CSS(fmt.Sprintf("width:%.1f%%", 100*f)) },
}).Parse(htmlSource))

// writeHTML prints one self-contained page: styles inline, no script, no
// request to any other place.
func writeHTML(w io.Writer, d *document) error {
	return htmlTemplate.Execute(w, d)
}
