// Command gcheavy is an allocation-heavy workload: it builds and discards
// binary trees, maps, slices and strings, calls runtime.GC explicitly and
// uses finalizers, so the emulated kernel sees heavy
// mmap/munmap/madvise traffic, GC worker threads and signal-based
// preemption. Output is a deterministic checksum of the computed data.
package main

import (
	"fmt"
	"hash/fnv"
	"runtime"
	"sort"
	"strconv"
)

type node struct {
	l, r *node
	v    int
}

func build(d, v int) *node {
	if d == 0 {
		return &node{v: v}
	}
	return &node{l: build(d-1, 2*v), r: build(d-1, 2*v+1), v: v}
}

func (n *node) sum() int {
	if n == nil {
		return 0
	}
	return n.v + n.l.sum() + n.r.sum()
}

func main() {
	h := fnv.New64a()
	put := func(s string) { h.Write([]byte(s)); h.Write([]byte{'\n'}) }

	// Trees: many short-lived, one long-lived.
	long := build(16, 1)
	total := 0
	for i := 0; i < 40; i++ {
		t := build(12, i)
		total += t.sum()
		if i%10 == 0 {
			runtime.GC()
		}
	}
	put(strconv.Itoa(total))
	put(strconv.Itoa(long.sum()))

	// Maps and strings.
	m := map[string][]int{}
	for i := 0; i < 200000; i++ {
		k := "k" + strconv.Itoa(i%5000)
		m[k] = append(m[k], i)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys[:5] {
		put(fmt.Sprint(k, len(m[k]), m[k][len(m[k])-1]))
	}
	m = nil
	runtime.GC()

	// Large slices that get freed.
	var keep [][]byte
	for i := 0; i < 200; i++ {
		b := make([]byte, 1<<16+i)
		for j := range b {
			b[j] = byte(i + j)
		}
		if i%20 == 0 {
			keep = append(keep, b)
		}
	}
	s := 0
	for _, b := range keep {
		for _, c := range b {
			s += int(c)
		}
	}
	put(strconv.Itoa(s))

	// Finalizers run after GC (count only).
	done := make(chan int, 100)
	for i := 0; i < 100; i++ {
		p := new([64]byte)
		runtime.SetFinalizer(p, func(*[64]byte) { done <- 1 })
	}
	fin := 0
	for tries := 0; tries < 100 && fin < 100; tries++ {
		runtime.GC()
		for len(done) > 0 {
			fin += <-done
		}
	}
	fmt.Printf("finalizers ran=%d\n", fin)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("gc cycles>=5: %v\n", ms.NumGC >= 5)
	fmt.Printf("tree total=%d long=%d slices=%d\n", total, long.sum(), s)
	fmt.Printf("checksum=%016x\n", h.Sum64())
}
