package store

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// A trace's body (its spans' JSONL lines, each ending in a newline) is
// stored compressed as one S2 block. JSON lines of spans shrink about
// fivefold, and S2 compresses at a few GB/s on one core: cheaper than
// writing the bytes saved twice (once to the write-ahead log, once at the
// checkpoint), which is what an ingest otherwise spends most of its time on.

// packBody returns the stored form of body, in buf when it is large
// enough.
func packBody(buf, body []byte) []byte {
	return s2.Encode(buf[:cap(buf)], body)
}

// unpackBody returns the JSONL lines of a stored body.
func unpackBody(stored []byte) ([]byte, error) {
	body, err := s2.Decode(nil, stored)
	if err != nil {
		return nil, fmt.Errorf("stored spans: %v", err)
	}
	return body, nil
}
