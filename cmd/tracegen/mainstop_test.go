package main

import (
	"bytes"
	"go/format"
	"strings"
	"testing"
)

func TestAddStop(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // "" when addStop leaves the file alone
	}{
		{
			name: "plain main",
			src:  "package main\n\nfunc main() {\n\tprintln(1)\n}\n",
			want: "package main; import tracegen \"github.com/tracegen-dev/tracegen/runtime/trace\"\n\nfunc main() { defer tracegen.Stop();\n\tprintln(1)\n}\n",
		},
		{
			name: "os.Exit in main flushes first, not in closures",
			src:  "package main\n\nimport \"os\"\n\nfunc main() {\n\tdefer func() { os.Exit(2) }()\n\tif len(os.Args) > 1 {\n\t\tos.Exit(1)\n\t}\n}\n",
			want: "package main; import tracegen \"github.com/tracegen-dev/tracegen/runtime/trace\"\n\nimport \"os\"\n\nfunc main() { defer tracegen.Stop();\n\tdefer func() { os.Exit(2) }()\n\tif len(os.Args) > 1 {\n\t\ttracegen.Exit(1)\n\t}\n}\n",
		},
		{
			name: "renamed os and a taken alias",
			src:  "package main\n\nimport sys \"os\"\n\nvar tracegen = 1\n\nfunc main() { sys.Exit(tracegen) }\n",
			want: "package main; import tracegen_ \"github.com/tracegen-dev/tracegen/runtime/trace\"\n\nimport sys \"os\"\n\nvar tracegen = 1\n\nfunc main() { defer tracegen_.Stop(); tracegen_.Exit(tracegen) }\n",
		},
		{
			name: "local variable shadows the alias",
			src:  "package main\n\nfunc main() {\n\ttracegen := 1\n\t_ = tracegen\n}\n",
			want: "package main; import tracegen_ \"github.com/tracegen-dev/tracegen/runtime/trace\"\n\nfunc main() { defer tracegen_.Stop();\n\ttracegen := 1\n\t_ = tracegen\n}\n",
		},
		{name: "not package main", src: "package lib\n\nfunc main() {}\n"},
		{name: "no func main", src: "package main\n\nfunc helper() {}\n"},
		{name: "method named main", src: "package main\n\ntype T struct{}\n\nfunc (T) main() {}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, ok, err := addStop("main.go", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if ok {
					t.Fatalf("changed a file it should leave alone:\n%s", out)
				}
				return
			}
			if !ok || string(out) != tt.want {
				t.Fatalf("addStop:\n%s\nwant:\n%s", out, tt.want)
			}
			// Same number of lines, and still valid Go.
			if bytes.Count(out, []byte("\n")) != strings.Count(tt.src, "\n") {
				t.Errorf("line count changed")
			}
			if _, err := format.Source(out); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
	if _, _, err := addStop("bad.go", []byte("package main\nfunc main() {")); err == nil {
		t.Error("syntax error: want an error")
	}
}
