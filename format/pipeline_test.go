package format

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// step is one call of a scripted Writer session.
type step struct {
	ev    *Event // Write ev
	flush bool   // Flush
	reset bool   // Reset onto a new buffer
}

// bigPayload is reproducible content of n bytes: runs of a few byte values
// (compressible, as memory is) or random bytes.
func bigPayload(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	if rng.IntN(2) == 0 {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := 0; i < n; {
		v, run := byte(rng.IntN(4)), 1+rng.IntN(300)
		for ; run > 0 && i < n; run-- {
			b[i] = v
			i++
		}
	}
	return b
}

// genScript makes a random session from seed: genEvents' stream with large
// memory deltas and inputs mixed in (some content repeated, so dedup'd;
// some over maxQueuedPayload when huge is set), Flushes and Resets.
func genScript(seed uint64, n int, huge bool) []step {
	rng := rand.New(rand.NewPCG(seed, 77))
	var shared [][]byte
	for i := 0; i < 3; i++ {
		shared = append(shared, bigPayload(rng, MemBlobThreshold+rng.IntN(1<<20)))
	}
	big := func() []byte {
		switch r := rng.IntN(10); {
		case r < 3:
			return bytes.Clone(shared[rng.IntN(len(shared))])
		case r == 3 && huge:
			return bigPayload(rng, maxQueuedPayload+1+rng.IntN(1<<20))
		case r < 6:
			return bigPayload(rng, MemBlobThreshold+rng.IntN(2<<20))
		}
		return bigPayload(rng, DefaultBlobThreshold+rng.IntN(MemBlobThreshold))
	}
	var s []step
	for _, ev := range genEvents(seed, n) {
		switch r := rng.IntN(100); {
		case r < 8:
			s = append(s, step{ev: &Event{Kind: KindMemDelta, Icount: ev.Icount, Pid: 7, Tid: 7,
				Mem: &MemDelta{Ranges: []MemRange{{Addr: 0x10000, Data: big()}}}}})
		case r < 12:
			s = append(s, step{ev: &Event{Kind: KindInput, Icount: ev.Icount, Pid: 7, Tid: 8,
				Input: &Input{Op: 3, Path: "/data", Handle: 4, Out: big()}}})
		case r < 15:
			s = append(s, step{flush: true})
		case r == 15:
			s = append(s, step{reset: true})
		}
		s = append(s, step{ev: ev})
	}
	return s
}

// scribble overwrites every byte payload of ev, as a caller that reuses its
// buffers once Write returns does.
func scribble(ev *Event) {
	junk := func(b []byte) {
		for i := range b {
			b[i] ^= 0xa5
		}
	}
	switch {
	case ev.Request != nil:
		junk(ev.Request.In)
		junk(ev.Request.Out)
	case ev.Input != nil:
		junk(ev.Input.In)
		junk(ev.Input.Out)
	case ev.Mem != nil:
		for _, r := range ev.Mem.Ranges {
			junk(r.Data)
		}
	}
}

// runScript plays s on a Writer made with opts and returns the bytes of
// each trace (one more per Reset) and the final stats. With reuse, it
// scribbles over each event's payloads once Write returns.
func runScript(t *testing.T, s []step, reuse bool, opts ...WriterOption) ([][]byte, WriterStats) {
	t.Helper()
	bufs := []*bytes.Buffer{new(bytes.Buffer)}
	w, err := NewWriter(bufs[0], testHeader(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range s {
		switch {
		case st.flush:
			err = w.Flush()
		case st.reset:
			bufs = append(bufs, new(bytes.Buffer))
			err = w.Reset(bufs[len(bufs)-1], Header{Program: fmt.Sprint("reset ", i)}, opts...)
		default:
			err = w.Write(st.ev)
			if reuse {
				scribble(st.ev)
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, b := range bufs {
		out = append(out, b.Bytes())
	}
	return out, w.Stats()
}

// TestConcurrentSameBytes: a concurrent Writer writes exactly the bytes of
// a synchronous one, whatever its number of workers, the chunk size, the
// Flushes and Resets, large, dedup'd and huge blobs, and a caller that
// reuses its payloads once Write returns.
func TestConcurrentSameBytes(t *testing.T) {
	cases := []struct {
		seed    uint64
		n       int
		huge    bool
		workers []int
		opts    []WriterOption
	}{
		{seed: 1, n: 300, workers: []int{1, 2, 4}},
		{seed: 2, n: 300, huge: true, workers: []int{2}},
		{seed: 3, n: 400, workers: []int{1, 3}, opts: []WriterOption{WithChunkSize(1)}},
		{seed: 4, n: 400, workers: []int{2, 8}, opts: []WriterOption{WithChunkSize(200), WithBlobThreshold(0)}},
		{seed: 5, n: 600, workers: []int{2}, opts: []WriterOption{WithChunkSize(4096), WithBlobThreshold(1)}},
	}
	for _, c := range cases {
		sync := append([]WriterOption{WithConcurrency(0)}, c.opts...)
		want, wantSt := runScript(t, genScript(c.seed, c.n, c.huge), false, sync...)
		for _, workers := range c.workers {
			t.Run(fmt.Sprintf("seed%d/workers%d", c.seed, workers), func(t *testing.T) {
				opts := append([]WriterOption{WithConcurrency(workers)}, c.opts...)
				got, gotSt := runScript(t, genScript(c.seed, c.n, c.huge), true, opts...)
				if len(got) != len(want) {
					t.Fatalf("%d traces, want %d", len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("trace %d: %d bytes, synchronous writer %d; first difference at %d",
							i, len(got[i]), len(want[i]), firstDiff(got[i], want[i]))
					}
				}
				if gotSt != wantSt {
					t.Errorf("stats %+v, synchronous %+v", gotSt, wantSt)
				}
			})
		}
		// The traces are whole: the last one reads back as its events.
		r := openBytes(t, want[len(want)-1])
		if _, err := readAll(r); err != nil || r.Info().Truncated {
			t.Fatalf("seed %d: last trace: %v, info %+v", c.seed, err, r.Info())
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// callGuard is an underlying writer that fails the test when it is called
// outside a Writer method (the Writer writes from its caller's goroutine
// only).
type callGuard struct {
	t      *testing.T
	buf    bytes.Buffer
	inCall atomic.Bool
	bad    atomic.Int32
}

func (g *callGuard) Write(p []byte) (int, error) {
	if !g.inCall.Load() {
		g.bad.Add(1)
	}
	return g.buf.Write(p)
}

func (g *callGuard) call(f func() error) error {
	g.inCall.Store(true)
	defer g.inCall.Store(false)
	return f()
}

// TestConcurrentFlush: after Flush every event written so far is in the
// file (a reader of the unfinished file sees them all), the underlying
// writer is called only from inside Writer methods, and the queue stays
// within its bounds.
func TestConcurrentFlush(t *testing.T) {
	s := genScript(9, 400, true)
	g := &callGuard{t: t}
	var w *Writer
	if err := g.call(func() (err error) { w, err = NewWriter(g, testHeader(), WithConcurrency(2)); return err }); err != nil {
		t.Fatal(err)
	}
	var written []*Event
	for i, st := range s {
		if st.reset {
			continue
		}
		if st.flush {
			if err := g.call(w.Flush); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(openBytes(t, g.buf.Bytes()))
			if err != nil || len(got) != len(written) {
				t.Fatalf("step %d: after Flush the file has %d events (%v), want %d", i, len(got), err, len(written))
			}
			if len(got) > 0 && !reflect.DeepEqual(got[len(got)-1], written[len(written)-1]) {
				t.Fatalf("step %d: last event after Flush differs", i)
			}
			continue
		}
		if err := g.call(func() error { return w.Write(st.ev) }); err != nil {
			t.Fatal(err)
		}
		written = append(written, st.ev)
		p := w.p
		p.mu.Lock()
		nq, nb, kept := len(p.q), p.bytes, p.kept
		p.mu.Unlock()
		if nq > maxQueuedJobs || nb > maxQueuedBytes || kept > maxRetained {
			t.Fatalf("step %d: %d frames, %d bytes queued, %d kept", i, nq, nb, kept)
		}
		time.Sleep(time.Duration(i%3) * 100 * time.Microsecond) // let workers finish between calls
	}
	if err := g.call(w.Close); err != nil {
		t.Fatal(err)
	}
	if n := g.bad.Load(); n != 0 {
		t.Fatalf("%d writes to the underlying writer outside Writer calls", n)
	}
	got, err := readAll(openBytes(t, g.buf.Bytes()))
	if err != nil || !reflect.DeepEqual(got, written) {
		t.Fatalf("read back %d events (%v), wrote %d", len(got), err, len(written))
	}
}

// failWriter accepts limit bytes, then fails.
type failWriter struct {
	limit int
	err   error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return len(p), nil
	}
	n := f.limit
	f.limit = 0
	return n, f.err
}

// TestConcurrentWriteErrors: an error of the underlying writer reaches the
// caller (at the Write, Flush or Close that writes the frame, at the latest
// Close) and every call after it; it is never lost, in either mode.
func TestConcurrentWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	s := genScript(11, 300, false)
	// The file size, to fail at points all over it.
	full, _ := runScript(t, s, false, WithConcurrency(0))
	total := 0
	for _, b := range full {
		total += len(b)
	}
	for _, workers := range []int{0, 2} {
		for _, limit := range []int{0, 20, 200, total / 7, total / 3, total / 2, total - 40} {
			t.Run(fmt.Sprintf("workers%d/limit%d", workers, limit), func(t *testing.T) {
				fw := &failWriter{limit: limit, err: boom}
				w, err := NewWriter(fw, testHeader(), WithConcurrency(workers))
				if err != nil {
					if limit < 1000 && errors.Is(err, boom) {
						return // the file header did not fit
					}
					t.Fatal(err)
				}
				var first error
				for _, st := range genScript(11, 300, false) {
					switch {
					case st.reset:
						continue
					case st.flush:
						err = w.Flush()
					default:
						err = w.Write(st.ev)
					}
					if err != nil && first == nil {
						first = err
					}
					if first != nil && err == nil {
						t.Fatalf("a call after the error %v succeeded", first)
					}
				}
				cerr := w.Close()
				if first == nil {
					first = cerr
				}
				if !errors.Is(first, boom) || !errors.Is(cerr, boom) {
					t.Fatalf("first error %v, Close %v; want %v", first, cerr, boom)
				}
				if err := w.Flush(); !errors.Is(err, ErrClosed) {
					t.Fatalf("Flush after Close: %v", err)
				}
			})
		}
	}
	// An error found while Reset writes out the old trace's frames is
	// returned by Reset, which still starts the new trace.
	fw := &failWriter{limit: 1000, err: boom}
	w, err := NewWriter(fw, testHeader(), WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	big := bigPayload(rand.New(rand.NewPCG(1, 1)), 1<<20)
	if err := w.Write(&Event{Kind: KindInput, Input: &Input{Out: big}}); err != nil {
		t.Fatal(err) // queued, not yet written
	}
	var buf bytes.Buffer
	if err := w.Reset(&buf, testHeader()); !errors.Is(err, boom) {
		t.Fatalf("Reset: %v, want %v", err, boom)
	}
	evs := genEvents(3, 40)
	for _, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(openBytes(t, buf.Bytes())); err != nil || len(got) != len(evs) {
		t.Fatalf("trace after Reset: %d events, %v", len(got), err)
	}
}

// TestConcurrentNoLeak: Close and Reset stop the workers, and a Writer
// left without Close holds no goroutine once its queued frames are
// compressed.
func TestConcurrentNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s := genScript(13, 200, false)
	var open []*Writer
	for _, end := range []string{"close", "reset", "flush", "abandon", "fail"} {
		var dst io.Writer = io.Discard
		if end == "fail" {
			dst = &failWriter{limit: 5000, err: io.ErrClosedPipe}
		}
		w, err := NewWriter(dst, testHeader(), WithConcurrency(3))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range s {
			if st.ev != nil {
				w.Write(st.ev)
			}
		}
		switch end {
		case "close", "fail":
			w.Close()
		case "reset":
			if err := w.Reset(io.Discard, testHeader(), WithConcurrency(0)); err != nil {
				t.Fatal(err)
			}
			w.Close()
		case "flush":
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			open = append(open, w)
		case "abandon":
			open = append(open, w)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(open)
}

// TestConcurrentAllocs: a concurrent Writer reuses its buffers — writing
// page-run memory deltas (a blob each) allocates nothing per event once it
// has warmed up, apart from a worker goroutine now and then.
func TestConcurrentAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow under -short")
	}
	w, err := NewWriter(io.Discard, testHeader(), WithConcurrency(2))
	if err != nil {
		t.Fatal(err)
	}
	data := bigPayload(rand.New(rand.NewPCG(5, 5)), 256<<10)
	ranges := []MemRange{{Addr: 0x10000, Data: data}}
	md := &MemDelta{Ranges: ranges}
	ev := &Event{Kind: KindMemDelta, Pid: 1, Tid: 1, Mem: md}
	i := 0
	write := func() {
		i++
		data[i%len(data)]++ // new content: a new blob
		ev.Icount = uint64(i)
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		write()
	}
	const runs = 500
	allocs := testing.AllocsPerRun(runs, write)
	if allocs > 0.5 {
		t.Errorf("%.2f allocations per Write", allocs)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWriterConcurrency compares a synchronous and a concurrent
// Writer on the recorder-like stream of BenchmarkWriter and on 1 MiB
// memory deltas (the pieces of a large exit delta).
func BenchmarkWriterConcurrency(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	var deltas []*Event
	for i := 0; i < 32; i++ {
		deltas = append(deltas, &Event{Kind: KindMemDelta, Icount: uint64(i), Pid: 1, Tid: 1,
			Mem: &MemDelta{Ranges: []MemRange{{Addr: uint64(i) << 20, Data: bigPayload(rng, 1<<20)}}}})
	}
	streams := []struct {
		name string
		evs  []*Event
	}{{"events", benchEvents(benchN)}, {"deltas", deltas}}
	for _, s := range streams {
		for _, workers := range []int{0, 1, 2} {
			b.Run(fmt.Sprintf("%s/workers%d", s.name, workers), func(b *testing.B) {
				var raw uint64
				b.ReportAllocs()
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					w, err := NewWriter(io.Discard, testHeader(), WithConcurrency(workers))
					if err != nil {
						b.Fatal(err)
					}
					for _, ev := range s.evs {
						if err := w.Write(ev); err != nil {
							b.Fatal(err)
						}
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
					raw = w.Stats().RawBytes
				}
				b.SetBytes(int64(raw))
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// rewrite reads the trace file and writes its events again with opts,
// ending chunks where the file does (the recorder flushes now and then),
// and returns the new file.
func rewrite(t *testing.T, file []byte, opts ...WriterOption) []byte {
	t.Helper()
	r := openBytes(t, file)
	starts := map[uint64]bool{}
	for _, c := range r.chunks[1:] {
		starts[c.firstSeq] = true
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, r.Header(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if starts[ev.Seq] {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestConcurrentGoldenTraces: the recorded golden traces, read and written
// again, come out byte for byte as they are, from a synchronous and from a
// concurrent Writer.
func TestConcurrentGoldenTraces(t *testing.T) {
	files, err := filepath.Glob("../testdata/traces/*.ptrec")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden traces: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			file, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{0, 2} {
				if got := rewrite(t, file, WithConcurrency(workers)); !bytes.Equal(got, file) {
					t.Errorf("workers %d: %d bytes, the file %d; first difference at %d", workers, len(got), len(file), firstDiff(got, file))
				}
			}
		})
	}
}
