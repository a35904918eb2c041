// Package view serves tracegen's trace viewer: one page (plain HTML, CSS
// and JavaScript embedded in the binary, no network) that reads a JSON API
// of a store.
//
// The model: [Handler] answers the page's static files and the API under
// /api/ (documented in docs/view.md): the trace list with filters, one
// trace in waterfall order, the report of the store (package report's JSON
// schema, tracegen.report/v1) and the values each filter can take. The API
// holds no state but a cache of the unfiltered report, kept while the
// store's generation (which every ingest raises) is unchanged, so a page
// over a store that `tracegen collect` is filling shows new traces.
package view

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tracegen-dev/tracegen/report"
	"github.com/tracegen-dev/tracegen/store"
)

//go:embed static
var static embed.FS

// Handler serves the viewer of one store.
type Handler struct {
	store *store.Store
	mux   *http.ServeMux

	mu        sync.Mutex
	reportGen int64
	report    []byte // the unfiltered report's JSON at reportGen
}

// New returns the viewer of s.
func New(s *store.Store) *Handler {
	h := &Handler{store: s, mux: http.NewServeMux(), reportGen: -1}
	files, _ := fs.Sub(static, "static")
	h.mux.Handle("GET /", http.FileServerFS(files))
	h.mux.HandleFunc("GET /api/traces", h.traces)
	h.mux.HandleFunc("GET /api/traces/{id}", h.trace)
	h.mux.HandleFunc("GET /api/report", h.reportJSON)
	h.mux.HandleFunc("GET /api/values", h.values)
	h.mux.HandleFunc("GET /api/store", h.info)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, apiError{err.Error()})
}

// shorthands are query parameters that stand for a filter of that kind.
var shorthands = []string{"name", "trace", "type", "status", "tag", "has", "model", "session", "conversation"}

// filters reads the filters of a request: filter=key=value (repeatable,
// as tracegen traces -filter reads them), the shorthands name=, session=,
// model=, status=, ... and attr=key=value. Empty values are ignored.
func filters(r *http.Request) ([]store.Filter, error) {
	q := r.URL.Query()
	var specs []string
	for _, v := range q["filter"] {
		specs = append(specs, v)
	}
	for _, k := range shorthands {
		for _, v := range q[k] {
			if v != "" {
				specs = append(specs, k+"="+v)
			}
		}
	}
	for _, v := range q["attr"] {
		if v != "" {
			specs = append(specs, "attr:"+v)
		}
	}
	var out []store.Filter
	for _, s := range specs {
		f, err := store.ParseFilter(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func intParam(r *http.Request, name string, def, limit int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > limit {
		return 0, errors.New(name + ": want a number from 0 to " + strconv.Itoa(limit))
	}
	return n, nil
}

// traces is GET /api/traces.
func (h *Handler) traces(w http.ResponseWriter, r *http.Request) {
	fs, err := filters(r)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	limit, err := intParam(r, "limit", store.DefaultLimit, 1000)
	if err == nil && limit == 0 {
		limit = store.DefaultLimit
	}
	offset := 0
	if err == nil {
		offset, err = intParam(r, "offset", 0, 1<<30)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	list, err := h.store.Traces(r.Context(), store.Query{Filters: fs, Limit: limit, Offset: offset})
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// trace is GET /api/traces/{id}.
func (h *Handler) trace(w http.ResponseWriter, r *http.Request) {
	t, err := h.store.Trace(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, err)
	case errors.Is(err, store.ErrBadID):
		fail(w, http.StatusBadRequest, err)
	case err != nil:
		fail(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, t)
	}
}

// reportJSON is GET /api/report: the report of the traces that match the
// filters (of every trace without filters), tracegen report's JSON.
func (h *Handler) reportJSON(w http.ResponseWriter, r *http.Request) {
	fs, err := filters(r)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	if len(fs) > 0 {
		b, err := h.buildReport(r.Context(), fs)
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		writeRaw(w, b)
		return
	}
	gen, err := h.store.Generation(r.Context())
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reportGen != gen {
		b, err := h.buildReport(r.Context(), nil)
		if err != nil {
			fail(w, http.StatusInternalServerError, err)
			return
		}
		h.report, h.reportGen = b, gen
	}
	writeRaw(w, h.report)
}

func writeRaw(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (h *Handler) buildReport(ctx context.Context, fs []store.Filter) ([]byte, error) {
	spans, err := h.store.Spans(ctx, fs)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := report.WriteReport(&b, report.Summarize(spans), report.Options{Format: "json"}); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// values is GET /api/values?kind=name|model|session|status|type|tag|has|attr[&key=K][&limit=N].
func (h *Handler) values(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, key := q.Get("kind"), q.Get("key")
	switch kind {
	case "session":
		kind, key = "attr", store.KeySession
	case "conversation":
		kind, key = "attr", store.KeyConversation
	case "attr":
		if key == "" {
			fail(w, http.StatusBadRequest, errors.New("kind=attr needs key="))
			return
		}
	}
	limit, err := intParam(r, "limit", 200, 10000)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	vals, err := h.store.Values(r.Context(), kind, key, limit)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, vals)
}

// storeInfo is the body of GET /api/store.
type storeInfo struct {
	Path   string `json:"path"`
	Traces int64  `json:"traces"`
	Spans  int64  `json:"spans"`
}

// info is GET /api/store.
func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	traces, spans, err := h.store.Counts(r.Context())
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, storeInfo{Path: h.store.Path(), Traces: traces, Spans: spans})
}
