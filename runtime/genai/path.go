package genai

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// step is one element of a compiled path: a field or map key (name), every
// element of a slice (all), or one element (index).
type step struct {
	name  string
	all   bool
	index int // -1 when not an index step
}

var pathCache sync.Map // string -> []step

// compilePath turns "Choices[].FinishReason" into steps; the result is cached.
// Malformed paths (already rejected by the rules package) compile to nil and
// read nothing.
func compilePath(p string) []step {
	if v, ok := pathCache.Load(p); ok {
		return v.([]step)
	}
	var steps []step
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" {
			steps = nil
			break
		}
		steps = append(steps, step{name: name, index: -1})
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil
			}
			if idx == "" {
				steps = append(steps, step{all: true, index: -1})
			} else if n, err := strconv.Atoi(idx); err == nil && n >= 0 {
				steps = append(steps, step{index: n})
			} else {
				return nil
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	pathCache.Store(p, steps)
	return steps
}

// indirect follows pointers and interfaces; it returns an invalid Value for nil.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// walk applies steps to v and calls found for every value reached. It never
// panics: a step that does not fit the value ends that branch.
func walk(v reflect.Value, steps []step, found func(reflect.Value)) {
	v = indirect(v)
	if !v.IsValid() {
		return
	}
	if len(steps) == 0 {
		found(v)
		return
	}
	s := steps[0]
	switch {
	case s.all:
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), steps[1:], found)
			}
		}
	case s.index >= 0:
		if (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && s.index < v.Len() {
			walk(v.Index(s.index), steps[1:], found)
		}
	default:
		switch v.Kind() {
		case reflect.Struct:
			if f := v.FieldByName(s.name); f.IsValid() {
				walk(f, steps[1:], found)
			}
		case reflect.Map:
			if v.Type().Key().Kind() == reflect.String {
				k := reflect.New(v.Type().Key()).Elem()
				k.SetString(s.name)
				if e := v.MapIndex(k); e.IsValid() {
					walk(e, steps[1:], found)
				}
			}
		}
	}
}

// readInt returns the first integer found at any of the paths.
func readInt(v reflect.Value, paths []string) (n int64, ok bool) {
	for _, p := range paths {
		walk(v, compilePath(p), func(x reflect.Value) {
			if ok {
				return
			}
			n, ok = intOf(x)
		})
		if ok {
			return n, true
		}
	}
	return 0, false
}

func intOf(x reflect.Value) (int64, bool) {
	x = indirect(x)
	if !x.IsValid() {
		return 0, false
	}
	switch x.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(x.Uint()), true
	case reflect.Float32, reflect.Float64:
		return int64(x.Float()), true
	case reflect.Struct:
		// Optional wrappers such as param.Opt[int64] keep the number in Value.
		if f := x.FieldByName("Value"); f.IsValid() {
			return intOf(f)
		}
	}
	return 0, false
}

// readString returns the first non-empty string found at any of the paths.
func readString(v reflect.Value, paths []string) string {
	var out string
	for _, p := range paths {
		walk(v, compilePath(p), func(x reflect.Value) {
			if out == "" {
				out = stringOf(x)
			}
		})
		if out != "" {
			return out
		}
	}
	return ""
}

// readStrings returns every non-empty string found at the paths.
func readStrings(v reflect.Value, paths []string) []string {
	var out []string
	for _, p := range paths {
		walk(v, compilePath(p), func(x reflect.Value) {
			if s := stringOf(x); s != "" {
				out = append(out, s)
			}
		})
	}
	return out
}

func stringOf(x reflect.Value) string {
	x = indirect(x)
	if !x.IsValid() {
		return ""
	}
	switch x.Kind() {
	case reflect.String:
		return x.String()
	case reflect.Struct:
		if f := x.FieldByName("Value"); f.IsValid() {
			return stringOf(f)
		}
	}
	return ""
}

// readAny returns what the path reaches, as an interface value, when it can
// be exported (content capture only).
func readAny(v reflect.Value, p string) any {
	var vals []any
	walk(v, compilePath(p), func(x reflect.Value) {
		if x.CanInterface() {
			vals = append(vals, x.Interface())
		}
	})
	switch len(vals) {
	case 0:
		return nil
	case 1:
		return vals[0]
	}
	return vals
}
