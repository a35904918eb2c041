package store

import (
	"encoding/binary"
	"errors"
	"slices"
)

// A posting list is the sorted, distinct row ids of the traces that hold a
// key, stored as the first id and then the gaps, each a uvarint: traces
// ingested together have consecutive ids, so most gaps take one byte.

func encodePostings(b []byte, ids []int64) []byte {
	prev := int64(0)
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id-prev))
		prev = id
	}
	return b
}

var errPostings = errors.New("malformed posting list")

func decodePostings(b []byte, ids []int64) ([]int64, error) {
	prev := int64(0)
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errPostings
		}
		prev += int64(d)
		ids = append(ids, prev)
		b = b[n:]
	}
	return ids, nil
}

// mergeSorted returns the sorted union of two sorted lists of distinct ids.
func mergeSorted(a, b []int64) []int64 {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	if a[len(a)-1] < b[0] { // the common case: new traces after old ones
		return append(a, b...)
	}
	out := make([]int64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// intersectSorted returns the ids in both sorted lists.
func intersectSorted(a, b []int64) []int64 {
	var out []int64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// sortedDistinct sorts ids and removes repeats.
func sortedDistinct(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
