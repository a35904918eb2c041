package generics

import "context"

// Number is a constraint.
type Number interface{ ~int | ~float64 }

// Sum adds numbers.
//
//trace:span
func Sum[T Number](xs ...T) (total T) {
	for _, x := range xs {
		total += x
	}
	return
}

// Stack is a generic stack.
type Stack[T any] struct{ items []T }

// Push pushes.
//
//trace:span
func (s *Stack[T]) Push(ctx context.Context, v T) {
	s.items = append(s.items, v)
}

// Pop pops.
//
//trace:tool output
func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

// Pair has two type parameters.
type Pair[K comparable, V any] struct {
	k K
	v V
}

// Get returns the value.
//
//trace:span name=pair.get
func (p Pair[K, V]) Get(k K) (V, error) {
	var zero V
	if k != p.k {
		return zero, errNotFound
	}
	return p.v, nil
}

type notFound struct{}

func (notFound) Error() string { return "not found" }

var errNotFound error = notFound{}
