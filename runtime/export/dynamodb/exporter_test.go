package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/export"
	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// conversation starts the spans of one conversation through the real
// pipeline: an agent span carrying the conversation id (inherited by its
// children), an LLM call with an event and an error, a tool call, and n
// more steps, so that the trace takes several BatchWriteItem requests.
func conversation(id, tool string, n int) {
	ctx, agent := trace.Start(context.Background(), "agent.Run", trace.TypeAgent, trace.KindServer,
		trace.WithInherited(ConversationAttr, id), trace.WithTags("prod"))
	_, llm := trace.Start(ctx, "chat gpt-4o-mini", trace.TypeLLM, trace.KindClient,
		trace.WithAttr("gen_ai.request.model", "gpt-4o-mini"))
	llm.SetAttr("gen_ai.usage.input_tokens", 12)
	llm.SetAttr("temperature", 0.25)
	llm.SetAttr("stop", []string{"\n", "END"})
	llm.RecordInput("prompt", "hello")
	llm.RecordError(errors.New("rate limited"))
	llm.End()
	_, tl := trace.Start(ctx, "tool."+tool, trace.TypeTool, trace.WithAttr("tool.name", tool))
	tl.SetStatus(record.StatusOK, "")
	tl.End()
	for i := range n {
		_, s := trace.Start(ctx, "step", trace.WithAttr("i", i))
		s.End()
	}
	agent.End()
}

// TestTraces writes spans of two conversations through the span pipeline
// to dynalite and reads them back by trace, by conversation (the index),
// by conversation and attribute, and by attribute alone (a scan), each
// compared field by field with what a memory exporter got.
func TestTraces(t *testing.T) {
	url := startDynalite(t)
	var log syncBuffer
	exp, err := New(Config{Table: "spans", Endpoint: url, CreateTable: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	mem := export.NewMemory(1000)
	trace.Configure(trace.Config{IgnoreEnv: true, ServiceName: "svc", Exporters: []export.Exporter{exp, mem}})
	conversation("conv-1", "search", 40)
	conversation("conv-2", "calc", 0)
	trace.Stop()

	all := mem.Spans()
	if st := exp.Stats(); st.Sent != uint64(len(all)) || st.Dropped+st.Failed != 0 || st.Requests < uint64(len(all)/BatchSize) {
		t.Fatalf("stats %+v for %d spans; log:\n%s", st, len(all), log.String())
	}
	if log.String() != "" {
		t.Errorf("warnings: %s", log.String())
	}
	roots := mem.Spans(export.NameIs("agent.Run"))
	if len(roots) != 2 {
		t.Fatalf("%d agent spans", len(roots))
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    Filter
		want []export.Filter
	}{
		{"trace", Filter{TraceID: roots[0].TraceID}, []export.Filter{export.TraceIs(roots[0].TraceID)}},
		{"conversation", Filter{ConversationID: "conv-2"}, []export.Filter{export.AttrIs(ConversationAttr, "conv-2")}},
		{"conversation and attribute", Filter{ConversationID: "conv-1", Attrs: map[string]any{"gen_ai.request.model": "gpt-4o-mini"}},
			[]export.Filter{export.AttrIs(ConversationAttr, "conv-1"), export.HasAttr("gen_ai.request.model")}},
		{"trace and attribute", Filter{TraceID: roots[0].TraceID, Attrs: map[string]any{"i": 7}},
			[]export.Filter{export.TraceIs(roots[0].TraceID), export.AttrIs("i", 7)}},
		{"attribute alone", Filter{Attrs: map[string]any{"tool.name": "calc"}}, []export.Filter{export.AttrIs("tool.name", "calc")}},
		{"no match", Filter{ConversationID: "conv-3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exp.Traces(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var want []*record.Record
			if tc.want != nil {
				want = sorted(mem.Spans(tc.want...))
			}
			if len(got) != len(want) || len(want) == 0 && tc.want != nil {
				t.Fatalf("%d spans, want %d", len(got), len(want))
			}
			for i := range want {
				if d := diff(got[i], want[i]); d != "" {
					t.Errorf("span %d (%s): %s", i, want[i].Name, d)
				}
			}
		})
	}
}

func sorted(recs []*record.Record) []*record.Record {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b *record.Record) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(string(a.SpanID[:]), string(b.SpanID[:]))
	})
	return recs
}

// diff compares a record read back with the one exported: every field,
// attributes as the merged, sorted set the table holds.
func diff(got, want *record.Record) string {
	var d []string
	check := func(field string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	check("trace", got.TraceID, want.TraceID)
	check("span", got.SpanID, want.SpanID)
	check("parent", got.ParentSpanID, want.ParentSpanID)
	check("name", got.Name, want.Name)
	check("kind", got.Kind, want.Kind)
	check("type", got.Type, want.Type)
	check("status", got.Status, want.Status)
	check("status message", got.StatusMsg, want.StatusMsg)
	check("start", got.Start.UnixNano(), want.Start.UnixNano())
	check("end", got.End.UnixNano(), want.End.UnixNano())
	check("attributes", attrText(got.Attrs, nil), attrText(want.Inherited, want.Attrs))
	check("resource", attrText(got.Resource, nil), attrText(want.Resource, nil))
	check("input", attrText(got.Input, nil), attrText(want.Input, nil))
	check("tags", got.Tags, want.Tags)
	check("events", len(got.Events), len(want.Events))
	for i := range min(len(got.Events), len(want.Events)) {
		check("event name", got.Events[i].Name, want.Events[i].Name)
		check("event time", got.Events[i].Time.UnixNano(), want.Events[i].Time.UnixNano())
		check("event attributes", attrText(got.Events[i].Attrs, nil), attrText(want.Events[i].Attrs, nil))
	}
	check("impact", got.Impact, want.Impact)
	return strings.Join(d, "; ")
}

// attrText is the merged attribute set as sorted key=JSON pairs.
func attrText(base, over []record.Attr) string {
	m := map[string]string{}
	for _, list := range [][]record.Attr{base, over} {
		for _, a := range list {
			m[a.Key] = string(record.AppendValue(nil, a.Value))
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, m[k])
	}
	return b.String()
}

// TestMissingTable: without CreateTable, writes to a table that does not
// exist fail at once (no retry can fix that), are counted, and give one
// warning naming the variable that creates it.
func TestMissingTable(t *testing.T) {
	url := startDynalite(t)
	var log syncBuffer
	exp, err := New(Config{Table: "absent", Endpoint: url, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{exp}, ErrorLog: &log})
	for range 3 {
		conversation("c", "t", 30)
		if err := trace.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	trace.Stop()
	st := exp.Stats()
	if st.Failed != 3*33 || st.Sent != 0 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	l := lines(log.String())
	if len(l) != 1 || !strings.Contains(l[0], "table absent") || !strings.Contains(l[0], "TRACEGEN_DYNAMODB_CREATE_TABLE=true") {
		t.Errorf("log %q: want one line naming the table and the variable", l)
	}
}

// TestEndpointDown: with nothing listening, the program's spans never wait
// for the network, the queue stays bounded (drops counted), Shutdown
// returns within its deadline, and there is one warning line, without the
// secret key.
func TestEndpointDown(t *testing.T) {
	fakeAWS(t)
	var log syncBuffer
	exp, err := New(Config{Table: "spans", Endpoint: "http://" + freeAddr(t), QueueSize: 50,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Attempts: 3, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{exp}, ShutdownTimeout: time.Second, ErrorLog: &log})
	begin := time.Now()
	for range 20 {
		conversation("c", "t", 20)
	}
	spent := time.Since(begin)
	trace.Stop()
	total := time.Since(begin)
	st := exp.Stats()
	if st.Sent != 0 || st.Dropped == 0 || st.Failed == 0 || st.Dropped+st.Failed != 20*23 {
		t.Errorf("stats %+v: want every one of %d spans dropped or failed, some of each", st, 20*23)
	}
	if spent > time.Second || total > 3*time.Second {
		t.Errorf("spans took %v, shutdown done after %v", spent, total)
	}
	l := lines(log.String())
	if len(l) != 1 || strings.Contains(log.String(), "tracegen-test-secret") {
		t.Errorf("log %q: want one line, without the secret", l)
	}
}

func TestNotLinkedNameIsLinked(t *testing.T) {
	if export.LinkPath("dynamodb") != "github.com/tracegen-dev/tracegen/runtime/export/dynamodb" {
		t.Errorf("LinkPath(dynamodb) = %q", export.LinkPath("dynamodb"))
	}
	f, ok := export.Lookup("dynamodb")
	if !ok {
		t.Fatal("dynamodb is not registered")
	}
	t.Setenv("TRACEGEN_DYNAMODB_TABLE", "")
	if _, err := f(); !errors.Is(err, ErrConfig) {
		t.Errorf("factory without a table: %v, want ErrConfig", err)
	}
	t.Setenv("TRACEGEN_DYNAMODB_TABLE", "t")
	e, err := f()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.(*Exporter); !ok {
		t.Errorf("factory made a %T", e)
	}
}

// TestLargeContent: a span whose captured content would pass DynamoDB's
// 400 KB item limit (which dynalite enforces too) is written without it,
// rather than failing its whole batch; a small one keeps its input.
func TestLargeContent(t *testing.T) {
	url := startDynalite(t)
	var log syncBuffer
	exp, err := New(Config{Table: "spans", Endpoint: url, CreateTable: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	// No content limit, so the 500 KB input reaches the exporter whole
	// (with the default 64 KiB limit it would fit in an item).
	trace.Configure(trace.Config{IgnoreEnv: true, Exporters: []export.Exporter{exp}, ErrorLog: &log,
		Limits: trace.SpanLimits{ContentLength: -1}})
	ctx, root := trace.Start(context.Background(), "root")
	_, big := trace.Start(ctx, "big")
	big.RecordInput("prompt", strings.Repeat("x", 500<<10))
	big.End()
	_, small := trace.Start(ctx, "small")
	small.RecordInput("prompt", "hi")
	small.End()
	root.End()
	trace.Stop()
	if st := exp.Stats(); st.Sent != 3 || st.Failed+st.Dropped != 0 {
		t.Fatalf("stats %+v; log:\n%s", st, log.String())
	}
	recs, err := exp.Traces(context.Background(), Filter{TraceID: root.TraceID()})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	for _, r := range recs {
		inputs[r.Name] = attrText(r.Input, nil)
	}
	if want := map[string]string{"root": "", "big": "", "small": `prompt="hi" `}; fmt.Sprint(inputs) != fmt.Sprint(want) {
		t.Errorf("inputs %q, want %q", inputs, want)
	}
}
