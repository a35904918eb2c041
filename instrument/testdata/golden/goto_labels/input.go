package gotolabels

//trace:span
func retry(n int) (tries int, err error) {
again:
	tries++
	if tries < n {
		goto again
	}
outer:
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if j == 1 {
				continue outer
			}
			if i == 2 {
				break outer
			}
		}
	}
	return
}

//trace:span
func labelFirst() {
L:
	for {
		break L
	}
}
