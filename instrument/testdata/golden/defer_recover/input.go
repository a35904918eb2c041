package deferrecover

import "fmt"

//trace:span
func safe() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	panic("boom")
}

//trace:span
func repanic() {
	defer fmt.Println("deferred")
	panic(fmt.Sprint("again"))
}

//trace:span
func deferredClose(c interface{ Close() error }) (err error) {
	defer func() {
		if cerr := c.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return nil
}
