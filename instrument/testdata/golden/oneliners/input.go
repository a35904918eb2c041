package oneliners

type T struct{ name string }

//trace:span
func (t T) Name() string { return t.name }

//trace:span
func empty() {}

//trace:span
func two() (int, error) { x := 1; return x, nil }

//trace:span
func trailing() int { return 1 } // after the body

//trace:span
func spaced() int {   return 3   }

//trace:span
func stmtOnBraceLine() int { x := 2
	return x
}
