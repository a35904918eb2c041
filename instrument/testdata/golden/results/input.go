package results

import (
	"errors"
	"strconv"
)

//trace:span
func unnamed(s string) (int, error) {
	return strconv.Atoi(s)
}

//trace:span
func named(s string) (n int, err error) {
	n, err = strconv.Atoi(s)
	return
}

//trace:span
func blankError() (_ int, _ error) {
	return 0, errors.New("x")
}

//trace:span
func onlyError() error {
	if err := check(); err != nil {
		return err
	}
	return nil
}

//trace:span
func noError() (string, int) {
	return "a", 1
}

//trace:span
func shadowed() (err error) {
	if err := check(); err != nil {
		return err
	}
	return
}

//trace:span
func grouped() (a, b int, err error) {
	return 1, 2, nil
}

// err is a package-level name: the rewriter must not shadow it.
var err = errors.New("package level")

//trace:span
func usesOuterErr() error {
	return err
}

func check() error { return nil }
