package variadic

import (
	"context"
	"fmt"
)

//trace:span input
func join(ctx context.Context, sep string, parts ...string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += sep
		}
		out += p
	}
	return out
}

//trace:span
func logf(format string, args ...any) {
	go fmt.Printf(format, args...)
	fmt.Println(join(context.Background(), ",", "a", "b"))
}
