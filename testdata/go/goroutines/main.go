// Command goroutines exercises the Go scheduler on the emulated kernel:
// many goroutines (futex, sched_yield, multiple OS threads), buffered and
// unbuffered channels, select, sync.WaitGroup, sync.Mutex, sync/atomic,
// time.Timer/time.After and time.Sleep (nanosleep, epoll/timers in the
// netpoller). Output is deterministic: only totals are printed.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	runtime.GOMAXPROCS(4)

	// Fan-out/fan-in pipeline over unbuffered channels.
	const n = 1000
	src := make(chan int)
	sq := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range src {
				sq <- v * v
			}
		}()
	}
	go func() {
		for i := 1; i <= n; i++ {
			src <- i
		}
		close(src)
	}()
	go func() { wg.Wait(); close(sq) }()
	sum := 0
	for v := range sq {
		sum += v
	}
	fmt.Printf("pipeline sum of squares=%d (want %d)\n", sum, n*(n+1)*(2*n+1)/6)

	// Mutex vs atomic counters from many goroutines.
	var mu sync.Mutex
	var locked int
	var atom atomic.Int64
	var wg2 sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				locked++
				mu.Unlock()
				atom.Add(2)
				if i%100 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg2.Wait()
	fmt.Printf("mutex=%d atomic=%d\n", locked, atom.Load())

	// Buffered channel as a semaphore, and select with a timer.
	sem := make(chan struct{}, 3)
	var maxIn, in atomic.Int32
	var wg3 sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg3.Add(1)
		go func() {
			defer wg3.Done()
			sem <- struct{}{}
			c := in.Add(1)
			for {
				m := maxIn.Load()
				if c <= m || maxIn.CompareAndSwap(m, c) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			in.Add(-1)
			<-sem
		}()
	}
	wg3.Wait()
	fmt.Printf("semaphore max concurrent<=3: %v\n", maxIn.Load() <= 3)

	never := make(chan int)
	start := time.Now()
	select {
	case <-never:
		fmt.Println("impossible")
	case <-time.After(20 * time.Millisecond):
		fmt.Printf("timer fired after >=20ms: %v\n", time.Since(start) >= 20*time.Millisecond)
	}
	t := time.NewTimer(time.Hour)
	fmt.Printf("timer stopped before firing: %v\n", t.Stop())

	tick := time.NewTicker(5 * time.Millisecond)
	ticks := 0
	for range tick.C {
		ticks++
		if ticks == 3 {
			break
		}
	}
	tick.Stop()
	fmt.Printf("ticks=%d\n", ticks)

	ok := sum == n*(n+1)*(2*n+1)/6 && locked == 50000 && atom.Load() == 100000 && maxIn.Load() <= 3
	if !ok {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	fmt.Println("ok")
}
