package store

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tracegen-dev/tracegen/report"
)

// Attribute keys with a filter name of their own.
const (
	KeySession      = report.KeySession        // session.id
	KeyConversation = "gen_ai.conversation.id" // runtime/session.AttrConversationID
)

// Filter selects traces: a trace matches when one of its spans matches.
// The kinds are those of the runtime's memory exporter (runtime/export:
// NameIs, TraceIs, TypeIs, StatusIs, HasTag, HasAttr, AttrIs) plus model,
// session and conversation, shorthands for the attributes that name them.
type Filter struct {
	Kind  string // one of FilterKinds
	Key   string // the attribute key, for "attr" and "has"
	Value string
}

// FilterKinds are the kinds of Filter, as the -filter flag and the API
// spell them (kind=value; an attribute is key=value or attr:key=value).
var FilterKinds = []string{"name", "trace", "type", "status", "tag", "has", "model", "session", "conversation", "attr"}

// ParseFilter parses key=value: name=, trace=, type=, status=, tag=,
// has= (an attribute key), model=, session=, conversation=, and any other
// key as an attribute (attr:key=value names an attribute whose key is one
// of those words).
func ParseFilter(s string) (Filter, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return Filter{}, fmt.Errorf("filter %q: want key=value", s)
	}
	if a, found := strings.CutPrefix(k, "attr:"); found {
		if a == "" {
			return Filter{}, fmt.Errorf("filter %q: no attribute key after attr:", s)
		}
		return Filter{Kind: "attr", Key: a, Value: v}, nil
	}
	switch k {
	case "name", "tag", "model":
		return Filter{Kind: k, Value: v}, nil
	case "session":
		return Filter{Kind: "attr", Key: KeySession, Value: v}, nil
	case "conversation":
		return Filter{Kind: "attr", Key: KeyConversation, Value: v}, nil
	case "has":
		return Filter{Kind: k, Key: v}, nil
	case "trace":
		if b, err := hex.DecodeString(v); err != nil || len(b) != 16 {
			return Filter{}, fmt.Errorf("filter %q: a trace id is 32 hex digits", s)
		}
		return Filter{Kind: k, Value: strings.ToLower(v)}, nil
	case "type":
		switch v {
		case "llm", "tool", "agent", "chain", "task":
			return Filter{Kind: k, Value: v}, nil
		}
		return Filter{}, fmt.Errorf("filter %q: type is llm, tool, agent, chain or task", s)
	case "status":
		switch v {
		case "unset", "ok", "error":
			return Filter{Kind: k, Value: v}, nil
		}
		return Filter{}, fmt.Errorf("filter %q: status is unset, ok or error", s)
	}
	return Filter{Kind: "attr", Key: k, Value: v}, nil
}

// String returns the filter as ParseFilter reads it.
func (f Filter) String() string {
	switch f.Kind {
	case "attr":
		for _, k := range FilterKinds {
			if f.Key == k {
				return "attr:" + f.Key + "=" + f.Value
			}
		}
		return f.Key + "=" + f.Value
	case "has":
		return "has=" + f.Key
	}
	return f.Kind + "=" + f.Value
}

// postingKey is the key of the inverted index that answers f ("" for a
// trace filter, which the traces table answers).
func (f Filter) postingKey() string {
	switch f.Kind {
	case "name":
		return keyName + f.Value
	case "type":
		return keyType + f.Value
	case "status":
		return keyStatus + f.Value
	case "tag":
		return keyTag + f.Value
	case "model":
		return keyModel + f.Value
	case "has":
		return keyHas + f.Key
	case "attr":
		return keyAttr + f.Key + "\x00" + f.Value
	}
	return ""
}

// Posting key prefixes: one letter and '=' per kind.
const (
	keyName   = "n="
	keyType   = "y="
	keyStatus = "s="
	keyTag    = "g="
	keyModel  = "m="
	keyHas    = "h="
	keyAttr   = "a=" // + key + NUL + value
)

// maxIndexedValue is the longest attribute value the index holds: longer
// ones (prompts, documents) are found by has= only.
const maxIndexedValue = 256
