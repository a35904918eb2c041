// Package allwork is the workload of BenchmarkAllOverhead: small functions
// calling each other, each doing a few hundred nanoseconds of work (building
// a key, hashing it, scoring its parts), as ordinary application code does.
// The same file, with its package clause renamed and instrumented by
// `tracegen -all`, is package allwork/traced; TestTracedIsCurrent keeps the
// two in step.
package allwork

import (
	"context"
	"strconv"
)

// Calls is the number of functions Run calls per item (process, key,
// checksum, score and one weigh per part), the traced calls per item under
// -all.
const Calls = 4 + parts

const parts = 4

// Run processes n items and returns a digest of the results, so that the
// work cannot be optimised away.
func Run(ctx context.Context, n int) uint64 {
	var d uint64
	var s scorer
	for i := range n {
		d ^= process(ctx, &s, i)
	}
	return d
}

func process(ctx context.Context, s *scorer, i int) uint64 {
	k := key(i)
	return checksum(k) ^ s.score(ctx, k)
}

// keyLen is the length of a key.
const keyLen = 256

// key builds a key from i.
func key(i int) []byte {
	b := make([]byte, 0, keyLen+16)
	for len(b) < keyLen {
		b = strconv.AppendInt(b, int64(i), 36)
		b = append(b, '/')
		i = i*7 + 3
	}
	return b[:keyLen]
}

// checksum is FNV-1a over b.
func checksum(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// scorer keeps a running total of the weights it has seen.
type scorer struct{ total uint64 }

func (s *scorer) score(ctx context.Context, k []byte) uint64 {
	n := len(k) / parts
	var v uint64
	for p := range parts {
		v += s.weigh(k[p*n : (p+1)*n])
	}
	return v
}

func (s *scorer) weigh(b []byte) uint64 {
	var w uint64
	for i, c := range b {
		w = w*31 + uint64(c)*uint64(i+1)
		w ^= w >> 29
	}
	s.total += w
	return w
}
