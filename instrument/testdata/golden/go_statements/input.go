package gostatements

import (
	"sync"
	"time"
)

func work(wg *sync.WaitGroup, n int) { defer wg.Done() }

func generic[T any](wg *sync.WaitGroup, v T) { defer wg.Done() }

type worker struct{ wg sync.WaitGroup }

func (w *worker) run(n int) { defer w.wg.Done() }

//trace:span
func fanOut(n int) {
	var wg sync.WaitGroup
	ch := make(chan int, 1)
	wg.Add(5)
	go work(&wg, n)
	go func(i int) {
		defer wg.Done()
		ch <- i
	}(n)
	go generic(&wg, n)
	go generic[string](&wg, "x")
	w := &worker{}
	w.wg.Add(1)
	go w.run(n)
	fs := []func(){func() { wg.Done() }}
	go fs[0]()
	go close(ch)
	go time.Sleep(time.Millisecond)
	go println("builtin")
	wg.Done()
	wg.Wait()
	w.wg.Wait()
}
