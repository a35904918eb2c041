package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// schemaVersion is stored in the meta table; Open refuses other versions.
const schemaVersion = "2"

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS traces (
	id            INTEGER PRIMARY KEY,
	trace_id      BLOB NOT NULL UNIQUE,
	start         INTEGER NOT NULL, -- Unix ns of the earliest span's start
	end           INTEGER NOT NULL, -- Unix ns of the latest span's end
	root          TEXT NOT NULL,    -- the root span's name
	spans         INTEGER NOT NULL,
	errors        INTEGER NOT NULL,
	llm_calls     INTEGER NOT NULL,
	input_tokens  INTEGER NOT NULL,
	output_tokens INTEGER NOT NULL,
	energy_kwh    REAL NOT NULL,    -- over root spans (a span includes its children's)
	co2e_g        REAL NOT NULL,
	water_l       REAL NOT NULL,
	models        TEXT NOT NULL,    -- distinct models of its LLM calls, comma-separated
	session       TEXT NOT NULL     -- the first session.id
);
CREATE INDEX IF NOT EXISTS traces_start ON traces (start);
-- The spans of a trace, apart from its summary so that lists read small
-- rows and reports read no JSON.
CREATE TABLE IF NOT EXISTS trace_spans (
	id     INTEGER PRIMARY KEY, -- traces.id
	meta   BLOB NOT NULL,       -- per span: span id, parent id, start (8 bytes each)
	packed BLOB NOT NULL        -- per span: report.Spans.AppendPacked
);
CREATE TABLE IF NOT EXISTS trace_bodies (
	id   INTEGER PRIMARY KEY, -- traces.id
	body BLOB NOT NULL        -- per span: its JSONL line and a newline; S2-compressed (body.go)
);
CREATE TABLE IF NOT EXISTS postings (
	key    TEXT PRIMARY KEY, -- see keys.go
	traces BLOB NOT NULL     -- sorted trace row ids, delta uvarints
);
`

// Store is an open store file. Its methods are safe for concurrent use;
// writes are serialized.
type Store struct {
	db   *sql.DB
	path string
	wmu  sync.Mutex // one writer at a time
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// IsStore reports whether path names a SQLite database file (rather than
// spans in JSONL or OTLP/JSON).
func IsStore(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, sqliteMagic)
}

// Open opens the store at path, creating it when it does not exist.
func Open(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"page_size(65536)", "journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "cache_size(-131072)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %v", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %v", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	if _, err := s.db.Exec(schema); err != nil {
		return err
	}
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		_, err = s.db.Exec(`INSERT INTO meta (key, value) VALUES ('schema', ?)`, schemaVersion)
		return err
	case err != nil:
		return err
	case v != schemaVersion:
		return fmt.Errorf("schema version %s, this tracegen reads version %s: ingest the runs' files into a new store", v, schemaVersion)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Counts returns the number of traces and spans stored.
func (s *Store) Counts(ctx context.Context) (traces, spans int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(spans), 0) FROM traces`).Scan(&traces, &spans)
	return traces, spans, err
}

// Generation returns a number that changes whenever an ingest (in this
// process or another) adds spans: a cache of a query is good while it is
// the same.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'), 0)`).Scan(&g)
	return g, err
}
