package instrument

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mergeImportsLikeGoimports rewrites the generated import declarations the way
// goimports (and gopls on save) do: into the first import block, with the
// marker comment left behind on a line of its own.
func mergeImportsLikeGoimports(t *testing.T, src string) string {
	t.Helper()
	i := strings.Index(src, "\n\n"+importMarker)
	if i < 0 {
		t.Fatal("no generated import")
	}
	end := strings.Index(src[i+2:], "\n")
	marker := src[i+2 : i+2+end]
	rest := src[i+2+end+1:]
	nl := strings.Index(rest, "\n")
	spec := strings.TrimPrefix(rest[:nl], "import ")
	src = src[:i] + rest[nl:]
	close := strings.Index(src, "\n)\n")
	if close < 0 {
		t.Fatal("no import block")
	}
	return src[:close] + "\n\n\t" + marker + "\n\n\t" + spec + src[close:]
}

func TestStripAfterGoimports(t *testing.T) {
	for _, name := range []string{"closures", "main_exit", "ctx_params", "variadic"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "golden", name, "want.go.golden"))
			if err != nil {
				t.Fatal(err)
			}
			input, err := os.ReadFile(filepath.Join("testdata", "golden", name, "input.go"))
			if err != nil {
				t.Fatal(err)
			}
			merged := mergeImportsLikeGoimports(t, string(want))
			back, err := StripSource([]byte(merged))
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != string(input) {
				t.Fatalf("strip after goimports:\n%s\nwant\n%s", back, input)
			}
			// Instrumenting the merged file again gives the canonical form, not a second layer.
			again, errs := instrumentOne(t, merged, Config{})
			if len(errs) > 0 || again != string(want) {
				t.Fatalf("re-instrumenting after goimports (errors %v):\n%s", errs, again)
			}
		})
	}
}

func TestStripKeepsUsersOwnImport(t *testing.T) {
	src := `package p

import (
	"fmt"

	tracegen "github.com/tracegen-dev/tracegen/runtime/trace"
)

//tracegen:generated
import tracegen2 "github.com/tracegen-dev/tracegen/runtime/trace"

//trace:span
func f() {
	span := tracegen2.Begin("p.f")
	defer func() { span.Finish(nil, recover()) }()
	fmt.Println(tracegen.Current())
}
`
	back, err := StripSource([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(back), `tracegen "github.com/tracegen-dev/tracegen/runtime/trace"`) || strings.Contains(string(back), "tracegen2") {
		t.Fatalf("strip removed the user's import or kept ours:\n%s", back)
	}
}
