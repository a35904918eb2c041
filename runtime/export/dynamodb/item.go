package dynamodb

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tracegen-dev/tracegen/runtime/record"
)

// ConversationAttr is the span attribute whose value becomes the item's
// conversation_id, the partition key of the conversation index.
const ConversationAttr = "gen_ai.conversation.id"

// maxItemBytes keeps items under DynamoDB's 400 KB limit: a span whose
// JSON form is larger is stored without its captured input and output
// (content_dropped is then true).
const maxItemBytes = 350 << 10

type item = map[string]types.AttributeValue

func pk(id record.TraceID) string { return "TRACE#" + hex.EncodeToString(id[:]) }

// skPrefix is the sort-key prefix of an application's spans.
func skPrefix(identifier string) string { return "SPAN#" + identifier + "#" }

func sortKey(identifier string, r *record.Record) string {
	us := r.Start.UnixMicro()
	return fmt.Sprintf("%s%017x#%s", skPrefix(identifier), max(us, 0), hex.EncodeToString(r.SpanID[:]))
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// num is a DynamoDB number; NaN and infinities, which it cannot hold,
// become strings as in the JSONL form.
func num(f float64) types.AttributeValue {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return str(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(f, 'g', -1, 64)}
}

func integer(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// toItem builds the item of r (see the package documentation).
func (e *Exporter) toItem(r *record.Record) item {
	it := item{
		"pk":                  str(pk(r.TraceID)),
		"sk":                  str(sortKey(e.cfg.Identifier, r)),
		"identifier":          str(e.cfg.Identifier),
		"trace_id":            str(hex.EncodeToString(r.TraceID[:])),
		"span_id":             str(hex.EncodeToString(r.SpanID[:])),
		"span_name":           str(r.Name),
		"span_kind":           str(r.Kind.String()),
		"span_status":         str(r.Status.String()),
		"started_at":          str(r.Start.UTC().Format(time.RFC3339Nano)),
		"ended_at":            str(r.End.UTC().Format(time.RFC3339Nano)),
		"duration_ms":         num(float64(r.End.Sub(r.Start)) / float64(time.Millisecond)),
		"attributes":          attrMap(r.Inherited, r.Attrs),
		"resource_attributes": attrMap(r.Resource, nil),
		"impact":              impactMap(&r.Impact),
	}
	if r.ParentSpanID.IsValid() {
		it["parent_span_id"] = str(hex.EncodeToString(r.ParentSpanID[:]))
	}
	if r.RemoteParent {
		it["remote_parent"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if r.Type != record.TypeNone {
		it["span_type"] = str(r.Type.String())
	}
	if r.StatusMsg != "" {
		it["status_message"] = str(r.StatusMsg)
	}
	if len(r.Events) > 0 {
		evs := make([]types.AttributeValue, len(r.Events))
		for i, ev := range r.Events {
			evs[i] = &types.AttributeValueMemberM{Value: item{
				"name":       str(ev.Name),
				"time":       str(ev.Time.UTC().Format(time.RFC3339Nano)),
				"attributes": attrMap(ev.Attrs, nil),
			}}
		}
		it["events"] = &types.AttributeValueMemberL{Value: evs}
	}
	if len(r.Tags) > 0 {
		tags := make([]types.AttributeValue, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = str(t)
		}
		it["tags"] = &types.AttributeValueMemberL{Value: tags}
	}
	if len(r.Input)+len(r.Output) > 0 && len(r.AppendJSON(nil)) > maxItemBytes {
		it["content_dropped"] = &types.AttributeValueMemberBOOL{Value: true}
	} else {
		if len(r.Input) > 0 {
			it["input"] = attrMap(r.Input, nil)
		}
		if len(r.Output) > 0 {
			it["output"] = attrMap(r.Output, nil)
		}
	}
	if v, ok := r.Lookup(ConversationAttr); ok && v.String() != "" {
		it["conversation_id"] = str(v.String())
	}
	if !e.cfg.NoTTL {
		it["expire_at"] = integer(r.Start.Add(e.cfg.TTL).Unix())
	}
	return it
}

// attrMap merges base and over into one map attribute, a later value of a
// key winning, as in the JSONL form.
func attrMap(base, over []record.Attr) types.AttributeValue {
	m := make(item, len(base)+len(over))
	for _, list := range [2][]record.Attr{base, over} {
		for _, a := range list {
			m[a.Key] = valueAttr(a.Value)
		}
	}
	return &types.AttributeValueMemberM{Value: m}
}

// valueAttr maps a span value to a DynamoDB value: strings, numbers and
// booleans as such, other values (slices, maps, structs) through their
// JSON form as lists and maps.
func valueAttr(v record.Value) types.AttributeValue {
	switch v.Kind() {
	case record.ValueString:
		return str(v.Str())
	case record.ValueInt64:
		return integer(v.Int64())
	case record.ValueFloat64:
		return num(v.Float64())
	case record.ValueBool:
		return &types.AttributeValueMemberBOOL{Value: v.Bool()}
	}
	var x any
	if err := json.Unmarshal(record.AppendValue(nil, v), &x); err != nil {
		return str(v.String())
	}
	return jsonAttr(x)
}

func jsonAttr(x any) types.AttributeValue {
	switch x := x.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}
	case string:
		return str(x)
	case float64:
		return num(x)
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, v := range x {
			l[i] = jsonAttr(v)
		}
		return &types.AttributeValueMemberL{Value: l}
	case map[string]any:
		m := make(item, len(x))
		for k, v := range x {
			m[k] = jsonAttr(v)
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	return str(fmt.Sprint(x))
}

func impactMap(im *record.Impact) types.AttributeValue {
	m := item{
		"energy_kwh": num(im.EnergyKWh),
		"co2e_g":     num(im.CO2eG),
		"water_l":    num(im.WaterL),
	}
	if im.EnergySource != "" {
		m["energy_source"] = str(im.EnergySource)
	}
	j := item{}
	for i, v := range im.Joules {
		if v != 0 {
			j[record.EnergySource(i).String()] = num(v)
		}
	}
	if len(j) > 0 {
		m["energy_j"] = &types.AttributeValueMemberM{Value: j}
	}
	return &types.AttributeValueMemberM{Value: m}
}

// fromItem rebuilds a record from an item. Attributes come back sorted by
// key, with inherited ones among the span's own (the item merges them);
// integral numbers come back as int64, others as float64, lists as []any
// and maps as map[string]any.
func fromItem(it item) (*record.Record, error) {
	r := &record.Record{}
	var err error
	if r.TraceID, err = traceID(getS(it, "trace_id")); err != nil {
		return nil, err
	}
	if r.SpanID, err = spanID(getS(it, "span_id")); err != nil {
		return nil, err
	}
	if p := getS(it, "parent_span_id"); p != "" {
		if r.ParentSpanID, err = spanID(p); err != nil {
			return nil, err
		}
	}
	if b, ok := it["remote_parent"].(*types.AttributeValueMemberBOOL); ok {
		r.RemoteParent = b.Value
	}
	r.Name = getS(it, "span_name")
	r.Kind = parseName(getS(it, "span_kind"), record.KindConsumer, record.Kind.String)
	r.Type = parseName(getS(it, "span_type"), record.TypeTask, record.Type.String)
	r.Status = parseName(getS(it, "span_status"), record.StatusError, record.Status.String)
	r.StatusMsg = getS(it, "status_message")
	if r.Start, err = time.Parse(time.RFC3339Nano, getS(it, "started_at")); err != nil {
		return nil, fmt.Errorf("started_at: %w", err)
	}
	if r.End, err = time.Parse(time.RFC3339Nano, getS(it, "ended_at")); err != nil {
		return nil, fmt.Errorf("ended_at: %w", err)
	}
	r.Attrs = attrsOf(it["attributes"])
	r.Resource = attrsOf(it["resource_attributes"])
	r.Input = attrsOf(it["input"])
	r.Output = attrsOf(it["output"])
	if l, ok := it["tags"].(*types.AttributeValueMemberL); ok {
		for _, t := range l.Value {
			if s, ok := t.(*types.AttributeValueMemberS); ok {
				r.Tags = append(r.Tags, s.Value)
			}
		}
	}
	if l, ok := it["events"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			m, ok := v.(*types.AttributeValueMemberM)
			if !ok {
				continue
			}
			ev := record.Event{Name: getS(m.Value, "name"), Attrs: attrsOf(m.Value["attributes"])}
			ev.Time, _ = time.Parse(time.RFC3339Nano, getS(m.Value, "time"))
			r.Events = append(r.Events, ev)
		}
	}
	if m, ok := it["impact"].(*types.AttributeValueMemberM); ok {
		r.Impact = impactOf(m.Value)
	}
	return r, nil
}

func impactOf(m item) record.Impact {
	f := func(k string) float64 {
		x, _ := plain(m[k]).(float64)
		if n, ok := plain(m[k]).(int64); ok {
			x = float64(n)
		}
		return x
	}
	im := record.Impact{EnergyKWh: f("energy_kwh"), CO2eG: f("co2e_g"), WaterL: f("water_l"), EnergySource: getS(m, "energy_source")}
	if j, ok := m["energy_j"].(*types.AttributeValueMemberM); ok {
		for i := range record.NumEnergySources {
			switch x := plain(j.Value[i.String()]).(type) {
			case float64:
				im.Joules[i] = x
			case int64:
				im.Joules[i] = float64(x)
			}
		}
	}
	return im
}

func getS(it item, k string) string {
	if s, ok := it[k].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// parseName finds the value in 0..last whose String is s (the zero value
// when none is).
func parseName[T ~uint8](s string, last T, name func(T) string) T {
	for v := T(0); v <= last; v++ {
		if name(v) == s {
			return v
		}
	}
	return 0
}

func traceID(s string) (record.TraceID, error) {
	var id record.TraceID
	if b, err := hex.DecodeString(s); err != nil || len(b) != len(id) {
		return id, fmt.Errorf("trace_id %q: want 32 hex digits", s)
	} else {
		copy(id[:], b)
	}
	return id, nil
}

func spanID(s string) (record.SpanID, error) {
	var id record.SpanID
	if b, err := hex.DecodeString(s); err != nil || len(b) != len(id) {
		return id, fmt.Errorf("span id %q: want 16 hex digits", s)
	} else {
		copy(id[:], b)
	}
	return id, nil
}

func attrsOf(v types.AttributeValue) []record.Attr {
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok || len(m.Value) == 0 {
		return nil
	}
	attrs := make([]record.Attr, 0, len(m.Value))
	for k, v := range m.Value {
		attrs = append(attrs, record.Attr{Key: k, Value: record.AnyValue(plain(v))})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
	return attrs
}

// plain turns a DynamoDB value into a Go value (see fromItem).
func plain(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = plain(x)
		}
		return l
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, x := range v.Value {
			m[k] = plain(x)
		}
		return m
	}
	return nil
}
