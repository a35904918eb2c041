package trace

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// Context scopes: attributes and end observers attached to a context rather
// than to a span, for APIs such as session.WithSession that run before any
// span exists. Every span started under such a context, and every span
// beneath those (through contexts or the goroutine's current span), gets
// the scope's attributes as inherited attributes when it ends, and the
// scope's observers see its record. Scopes nest: an inner scope's value for
// a key wins over an outer one's; a span's own attributes still win on
// output.

type scopeKey struct{}

// scopesUsed turns the end hook on once a scope exists, so that programs
// without scopes pay nothing at span end.
var scopesUsed atomic.Bool

type scope struct {
	outer     *scope
	attrs     []record.Attr
	observers []func(*record.Record)
}

// ContextWithInherited returns a copy of ctx whose spans, and all spans
// beneath them, carry attrs as inherited attributes.
func ContextWithInherited(ctx context.Context, attrs ...record.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	scopesUsed.Store(true)
	return context.WithValue(ctx, scopeKey{}, &scope{outer: scopeOf(ctx), attrs: slices.Clone(attrs)})
}

// ContextWithEndObserver returns a copy of ctx under which f is called
// with the record of every span that ends (spans beneath included), after
// its attributes are final and before exporters see it. f runs on the
// goroutine that ends the span; it must be fast, must not block and must
// treat the record as read-only and not keep it.
func ContextWithEndObserver(ctx context.Context, f func(*record.Record)) context.Context {
	if f == nil {
		return ctx
	}
	scopesUsed.Store(true)
	return context.WithValue(ctx, scopeKey{}, &scope{outer: scopeOf(ctx), observers: []func(*record.Record){f}})
}

// InheritedFromContext returns the scope attributes of ctx, outer scopes
// first (a later entry for a key wins).
func InheritedFromContext(ctx context.Context) []record.Attr {
	var chain []*scope
	for sc := scopeOf(ctx); sc != nil; sc = sc.outer {
		chain = append(chain, sc)
	}
	var out []record.Attr
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].attrs...)
	}
	return out
}

func scopeOf(ctx context.Context) *scope {
	if ctx == nil {
		return nil
	}
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	return sc
}

func init() { onSpanEnd(applyScope) }

// applyScope finds the innermost scope of s (its start context, else its
// ancestors' start contexts) and applies it to r.
func applyScope(s *Span, r *record.Record) {
	if !scopesUsed.Load() {
		return
	}
	var sc *scope
	for c, n := s, 0; c != nil && n < maxChain; c, n = c.parent, n+1 {
		if c.parentCtx == nil {
			continue
		}
		// A span started directly from its parent's context: the parent's
		// own start context is searched on the next step; skip the walk.
		if p, ok := c.parentCtx.(*Span); ok && p == c.parent {
			continue
		}
		if sc = scopeOf(c.parentCtx); sc != nil {
			break
		}
	}
	if sc == nil {
		return
	}
	var chain []*scope
	for x := sc; x != nil; x = x.outer {
		chain = append(chain, x)
	}
	var merged []record.Attr
	for i := len(chain) - 1; i >= 0; i-- {
		for _, a := range chain[i].attrs {
			a = s.p.redactAttr(a)
			if j := slices.IndexFunc(merged, func(x record.Attr) bool { return x.Key == a.Key }); j >= 0 {
				merged[j] = a
			} else {
				merged = append(merged, a)
			}
		}
	}
	if len(merged) > 0 {
		// A new slice: children may share the old one's array.
		out := make([]record.Attr, 0, len(r.Inherited)+len(merged))
		for _, a := range r.Inherited {
			if !slices.ContainsFunc(merged, func(x record.Attr) bool { return x.Key == a.Key }) {
				out = append(out, a)
			}
		}
		r.Inherited = append(out, merged...)
	}
	for _, x := range chain {
		for _, f := range x.observers {
			observe(s.p, f, r)
		}
	}
}

// observe calls f and turns a panic into one logged line: an observer must
// never break the program it observes.
func observe(p *pipeline, f func(*record.Record), r *record.Record) {
	defer func() {
		if v := recover(); v != nil {
			p.logf("span end observer panicked: %v", v)
		}
	}()
	f(r)
}
