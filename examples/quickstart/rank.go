package main

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sort"
)

// embeddingRounds sets how much work embed does per text: enough that the
// ranking step is the CPU-heavy part of the run (about a second).
const embeddingRounds = 1_200_000

// rank orders docs by similarity to query, computing a local embedding of
// each: the CPU-heavy step of the agent.
//
//trace:task name=quickstart.rank
func rank(query string, docs []string) []string {
	q := embed(query)
	type scored struct {
		doc   string
		score float64
	}
	s := make([]scored, len(docs))
	for i, d := range docs {
		s[i] = scored{d, cosine(q, embed(d))}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].score > s[j].score })
	out := make([]string, 0, 3)
	for _, x := range s[:min(3, len(s))] {
		out = append(out, x.doc)
	}
	return out
}

// embed turns text into a unit vector by repeated hashing: a stand-in for a
// local embedding model that costs real CPU time.
func embed(text string) [8]float64 {
	sum := sha256.Sum256([]byte(text))
	for i := 0; i < embeddingRounds; i++ {
		sum = sha256.Sum256(sum[:])
	}
	var v [8]float64
	var norm float64
	for i := range v {
		v[i] = float64(binary.LittleEndian.Uint32(sum[i*4:])) / math.MaxUint32
		norm += v[i] * v[i]
	}
	for i := range v {
		v[i] /= math.Sqrt(norm)
	}
	return v
}

// cosine is the cosine similarity of two unit vectors.
func cosine(a, b [8]float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
