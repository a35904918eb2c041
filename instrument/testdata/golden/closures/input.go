package closures

import (
	"context"
	"errors"
)

//trace:agent name=planner
func plan(ctx context.Context, steps []string) error {
	//trace:tool name=step
	run := func(ctx context.Context, s string) error {
		if s == "" {
			return errors.New("empty step")
		}
		return nil
	}
	// not traced: no directive on the line above
	check := func(s string) bool { return s != "" }
	for _, s := range steps {
		if !check(s) {
			continue
		}
		if err := run(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

var handler = func() {
	//trace:span
	inner := func() int { return 1 }
	_ = inner()
}

func apply(f func() error) error { return f() }

func wrapped() error {
	//trace:task
	return apply(func() error {
		return nil
	})
}
