package session

import (
	"container/list"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tracegen-dev/tracegen/runtime/record"
	"github.com/tracegen-dev/tracegen/runtime/trace"
)

// Attribute keys set by this package.
const (
	AttrSessionID      = "session.id"
	AttrUserID         = "user.id"
	AttrConversationID = "gen_ai.conversation.id"
	AttrMetadataPrefix = "session.metadata." // + metadata key
)

// MaxTracked bounds how many sessions' latest LLM spans are remembered;
// the least recently used session is forgotten first.
const MaxTracked = 10000

// SpanRef identifies a finished span.
type SpanRef struct {
	TraceID record.TraceID
	SpanID  record.SpanID
	Name    string
	End     time.Time
}

// tracker remembers the latest LLM span per session id (LRU-bounded).
type tracker struct {
	mu    sync.Mutex
	max   int
	order *list.List // of string session ids, front = most recent
	items map[string]*list.Element
	last  map[string]SpanRef
}

func newTracker(max int) *tracker {
	return &tracker{max: max, order: list.New(), items: map[string]*list.Element{}, last: map[string]SpanRef{}}
}

var sessions = newTracker(MaxTracked)

func (t *tracker) touch(id string) {
	if e, ok := t.items[id]; ok {
		t.order.MoveToFront(e)
		return
	}
	t.items[id] = t.order.PushFront(id)
	for t.order.Len() > t.max {
		old := t.order.Back()
		t.order.Remove(old)
		oid := old.Value.(string)
		delete(t.items, oid)
		delete(t.last, oid)
	}
}

func (t *tracker) record(id string, r *record.Record) {
	if r.Type != record.TypeLLM {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.last[id]; ok && prev.End.After(r.End) {
		return
	}
	t.touch(id)
	t.last[id] = SpanRef{TraceID: r.TraceID, SpanID: r.SpanID, Name: r.Name, End: r.End}
}

func (t *tracker) latest(id string) (SpanRef, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ref, ok := t.last[id]
	if ok {
		t.touch(id)
	}
	return ref, ok
}

type stateKey struct{}

// WithSession returns a copy of ctx under which every span carries
// session.id=id, user.id=userID and session.metadata.<key>=value for each
// metadata entry (empty ids are left out: WithSession(ctx, "", user, nil)
// only names the user), and under which the session's latest LLM span is
// tracked for Feedback. Values pass through TRACEGEN_PII redaction like any
// attribute, so a user id that is an email is masked or hashed too.
func WithSession(ctx context.Context, id, userID string, metadata map[string]any) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	attrs := make([]record.Attr, 0, 2+len(metadata))
	if id != "" {
		attrs = append(attrs, record.String(AttrSessionID, id))
	}
	if userID != "" {
		attrs = append(attrs, record.String(AttrUserID, userID))
	}
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, record.Any(AttrMetadataPrefix+k, metadata[k]))
	}
	ctx = trace.ContextWithInherited(ctx, attrs...)
	if id != "" {
		ctx = trace.ContextWithEndObserver(ctx, func(r *record.Record) { sessions.record(id, r) })
		ctx = context.WithValue(ctx, stateKey{}, id)
	}
	return ctx
}

// WithConversation returns a copy of ctx under which every span carries
// gen_ai.conversation.id=id. Feedback in a conversation without a session
// rates the conversation's latest LLM span.
func WithConversation(ctx context.Context, id string) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if id == "" {
		return ctx
	}
	ctx = trace.ContextWithInherited(ctx, record.String(AttrConversationID, id))
	if _, ok := ctx.Value(stateKey{}).(string); !ok {
		key := "conversation:" + id
		ctx = trace.ContextWithEndObserver(ctx, func(r *record.Record) { sessions.record(key, r) })
		ctx = context.WithValue(ctx, stateKey{}, key)
	}
	return ctx
}

// IDFromContext returns the session id of ctx ("" when none).
func IDFromContext(ctx context.Context) string {
	for _, a := range trace.InheritedFromContext(ctx) {
		if a.Key == AttrSessionID {
			return a.Value.Str()
		}
	}
	return ""
}

// LatestLLMSpan returns the latest LLM span that ended in session id.
func LatestLLMSpan(id string) (SpanRef, bool) { return sessions.latest(id) }

// ErrNoSession is returned by Feedback when ctx has no session or
// conversation.
var ErrNoSession = fmt.Errorf("session: no session or conversation in context")

// ErrNoLLMSpan is returned when the session has no finished LLM span to
// rate; the feedback is still recorded, without a target.
var ErrNoLLMSpan = fmt.Errorf("session: no finished LLM span to rate")
