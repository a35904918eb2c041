package export

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

func TestTreeWaitsForRootAndIndents(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTree(&buf)
	root := rec("main", 1, 1, 0)
	root.Kind = record.KindServer
	child := rec("ask", 1, 2, 1, record.String("model", "gpt x"))
	child.Kind, child.Type = record.KindClient, record.TypeLLM
	child.Status, child.StatusMsg = record.StatusError, "rate limited"
	child.Input = []record.Attr{record.String("prompt", "line1\nline2")}
	child.Output = []record.Attr{record.Int("tokens", 3)}
	child.Impact = record.Impact{EnergyKWh: 0.0000012, CO2eG: 0.41, WaterL: 0.0031, EnergySource: "ecologits"}
	child.Events = []record.Event{{Name: "exception", Attrs: []record.Attr{record.String("exception.type", "*errors.errorString"), record.String("exception.message", "rate limited")}}}
	grand := rec("tool", 1, 3, 2, record.Bool("ok", true))
	grand.Tags = []string{"a", "b"}

	// Children end first; nothing is printed until the root ends.
	if err := tr.Export(context.Background(), []*record.Record{grand, child}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("printed before the root ended:\n%s", buf.String())
	}
	if err := tr.Export(context.Background(), []*record.Record{root}); err != nil {
		t.Fatal(err)
	}
	want := `main [server] 2.50ms unset span=01010000 trace=01010000
  ask [client/llm] 2.50ms error "rate limited" span=02010000 model="gpt x" energy=1.2mWh co2e=410mg water=3.1mL (ecologits)
      input prompt: line1
        line2
      output tokens: 3
      ! exception.type=*errors.errorString exception.message="rate limited"
    tool [internal] 2.50ms unset span=03010000 ok=true tags=a,b
`
	if got := buf.String(); got != want {
		t.Errorf("tree:\n%s\nwant:\n%s", got, want)
	}
}

func TestTreeOrphansAndBound(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTree(&buf)
	tr.SetBufferLimit(2)
	// Three spans of a trace whose root never ends: the bound forces them out.
	_ = tr.Export(context.Background(), []*record.Record{rec("a", 2, 2, 1), rec("b", 2, 3, 2), rec("c", 2, 4, 1)})
	out := buf.String()
	if !strings.Contains(out, "(orphan) a [internal]") || !strings.Contains(out, "\n  b [internal]") || !strings.Contains(out, "(orphan) c") {
		t.Errorf("bounded buffer did not print orphans:\n%s", out)
	}
	buf.Reset()
	_ = tr.Export(context.Background(), []*record.Record{rec("lonely", 3, 5, 9)})
	if buf.Len() != 0 {
		t.Fatal("printed a child before shutdown")
	}
	_ = tr.Shutdown(context.Background())
	if !strings.HasPrefix(buf.String(), "(orphan) lonely [internal]") {
		t.Errorf("shutdown did not print the orphan:\n%s", buf.String())
	}
}

func TestTreeRemoteParentIsLocalRoot(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTree(&buf)
	r := rec("handler", 4, 1, 7)
	r.RemoteParent = true
	_ = tr.Export(context.Background(), []*record.Record{r})
	if !strings.HasPrefix(buf.String(), "handler [internal]") {
		t.Errorf("span with a remote parent not printed as a root:\n%s", buf.String())
	}
}
