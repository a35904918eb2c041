package main

import (
	"errors"
	"fmt"
	"os"
)

//trace:span
func run(args []string) error {
	if len(args) > 5 {
		return errors.New("too many")
	}
	return nil
}

func main() {
	if err := run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer fmt.Println("bye")
	func() {
		os.Exit(0) // inside a literal: left alone
	}()
}
