package initandall

import "sort"

var ready bool

func init() { ready = true }

//trace:ignore
func hot(x int) int { return x * 2 }

func Sorted(xs []int) []int {
	sort.Ints(xs)
	return xs
}

type byLen []string

func (b byLen) Len() int           { return len(b) }
func (b byLen) Less(i, j int) bool { return len(b[i]) < len(b[j]) }
func (b byLen) Swap(i, j int)      { b[i], b[j] = b[j], b[i] }

func empty() {}

//trace:llm model=gpt-4o
func ask(q string) (string, error) { return q, nil }
