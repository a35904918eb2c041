package export

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/record"
)

// JSON writes each record as one JSON line (see record.Record.AppendJSON)
// to a stream, stderr by default. A batch is written with one Write call.
type JSON struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewJSON returns an exporter writing JSON lines to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Export writes records, one line each.
func (j *JSON) Export(_ context.Context, records []*record.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.buf[:0]
	for _, r := range records {
		b = r.AppendJSON(b)
		b = append(b, '\n')
	}
	if cap(b) <= 1<<20 {
		j.buf = b
	}
	if _, err := j.w.Write(b); err != nil {
		return fmt.Errorf("json exporter: %w", err)
	}
	return nil
}

// Shutdown does nothing; the stream belongs to the caller.
func (j *JSON) Shutdown(context.Context) error { return nil }

// ReleasesRecords reports true: records are encoded during Export.
func (j *JSON) ReleasesRecords() bool { return true }

// JSONL appends one JSON line per record to a file. The file is opened on
// the first export (so a program that records nothing creates nothing),
// with O_APPEND, and lines go out in whole-line writes: each write(2)
// carries one or more complete lines, at most jsonlChunk bytes unless a
// single line is longer. An O_APPEND write to a local file is atomic, so
// several processes appending to the same file never interleave within a
// line.
//
// JSONL implements Idler: when the pipeline goes idle the file is closed,
// and the next Export opens it again, in append mode, so an idle program
// holds no file descriptor and the bytes written are the same as with one
// long-lived descriptor. (A file renamed or removed while the exporter is
// idle is created anew at the next export, as log rotation expects.)
type JSONL struct {
	path string

	mu      sync.Mutex
	f       *os.File
	openErr error // sticky: the first failure to open, or "already shut down"
	buf     []byte
	opens   int // how many times the file was opened (tests)
}

// jsonlChunk bounds one write: large enough to batch many spans into one
// system call, small enough to stay far from short-write territory.
const jsonlChunk = 64 << 10

// DefaultJSONLPath is the file TRACEGEN_EXPORTER=jsonl writes when
// TRACEGEN_JSONL_PATH is not set, relative to the working directory.
const DefaultJSONLPath = "tracegen.jsonl"

// NewJSONL returns an exporter appending to path.
func NewJSONL(path string) *JSONL { return &JSONL{path: path} }

// ReleasesRecords reports true: records are encoded during Export.
func (j *JSONL) ReleasesRecords() bool { return true }

// Path returns the file the exporter appends to.
func (j *JSONL) Path() string { return j.path }

// Export appends records to the file.
func (j *JSONL) Export(_ context.Context, records []*record.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil && j.openErr == nil {
		j.open()
	}
	if j.openErr != nil {
		return j.openErr
	}
	b := j.buf[:0]
	for _, r := range records {
		start := len(b)
		b = r.AppendJSON(b)
		b = append(b, '\n')
		if len(b) > jsonlChunk && start > 0 {
			// The new line does not fit: write the complete lines before it.
			if err := j.write(b[:start]); err != nil {
				return err
			}
			b = append(b[:0], b[start:]...)
		}
	}
	err := j.write(b)
	if cap(b) <= 4*jsonlChunk {
		j.buf = b[:0]
	}
	return err
}

// open opens the file in append mode; a failure is sticky. j.mu is held.
func (j *JSONL) open() error {
	j.f, j.openErr = os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	j.opens++
	if j.openErr != nil {
		j.openErr = fmt.Errorf("jsonl exporter: %w", j.openErr)
	}
	return j.openErr
}

func (j *JSONL) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("jsonl exporter: %s: %w", j.path, err)
	}
	return nil
}

// Idle closes the file; the next Export reopens it in append mode.
func (j *JSONL) Idle(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closeFile()
}

// Shutdown closes the file; later exports fail.
func (j *JSONL) Shutdown(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil && j.opens == 0 {
		return nil
	}
	err := j.closeFile()
	j.openErr = fmt.Errorf("jsonl exporter: %s: already shut down", j.path)
	return err
}

func (j *JSONL) closeFile() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("jsonl exporter: %w", err)
	}
	return nil
}
