package replay_test

import (
	"flag"
	"math/rand"
	"runtime"
	"sort"
	"testing"
	"time"

	"ptrec/format"
	"ptrec/replay"
)

var (
	benchTrace = flag.String("replay.trace", "", "trace for TestReverseStepLatency (e.g. debugme.musl 25000000: 1.25e8 instructions)")
	benchRatio = flag.Float64("replay.ratio", 0, "checkpoint memory cap as a multiple of the guest's peak resident memory (0: the default)")
	benchN     = flag.Int("replay.points", 60, "random points TestReverseStepLatency measures")
)

// TestReverseStepLatency measures reverse-stepi latency at random points of
// a long trace, and the memory the checkpoints hold. It runs only with
// -replay.trace=FILE:
//
//	ptrec record -o /tmp/big.ptrec -- testdata/bin/debugme.musl 25000000
//	go test ./replay -run ReverseStepLatency -replay.trace=/tmp/big.ptrec -v
func TestReverseStepLatency(t *testing.T) {
	if *benchTrace == "" {
		t.Skip("needs -replay.trace=FILE")
	}
	rd, err := format.Open(*benchTrace)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	r, err := replay.New(rd, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.SetCheckpointRatio(*benchRatio)
	var multiples []float64
	memory := func(when string) {
		pages, overhead, rss, peak := r.CheckpointMemory()
		m := float64(pages+overhead) / float64(peak)
		multiples = append(multiples, m)
		t.Logf("%s: %d checkpoints hold %.1f MiB of pages beyond the guest's + %.1f MiB kernel copies = %.2fx the guest's peak resident %.1f MiB (%.2fx its current %.1f MiB)",
			when, len(r.Checkpoints()), mib(pages), mib(overhead), m, mib(peak), float64(pages+overhead)/float64(rss), mib(rss))
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	start := time.Now()
	if err := r.GotoIcount(^uint64(0) >> 1); err != nil {
		t.Fatal(err)
	}
	end := r.Where().Icount
	t.Logf("forward to the end: %d instructions in %v, %d checkpoints", end, time.Since(start), len(r.Checkpoints()))
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("checkpoint memory: %.1f MiB heap above the start", float64(ms.HeapInuse-base)/(1<<20))
	memory("at the end")
	rng := rand.New(rand.NewSource(1))
	var lat []time.Duration
	for i := 0; i < *benchN; i++ {
		k := 1 + uint64(rng.Int63n(int64(end-1)))
		if err := r.GotoIcount(k); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		r.SetDirection(replay.Reverse)
		err := r.Step(1)
		r.SetDirection(replay.Forward)
		lat = append(lat, time.Since(t0))
		if err != nil {
			t.Fatal(err)
		}
		if r.Where().Icount != k-1 {
			t.Fatalf("rstep 1 from @%d: at @%d", k, r.Where().Icount)
		}
		pages, overhead, _, peak := r.CheckpointMemory()
		multiples = append(multiples, float64(pages+overhead)/float64(peak))
	}
	sort.Float64s(multiples)
	t.Logf("checkpoint memory over the random points: median %.2fx, max %.2fx the guest's peak resident memory", multiples[len(multiples)/2], multiples[len(multiples)-1])
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("reverse-stepi latency over %d random points: median %v, p99 %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("checkpoints: %d, heap above the start %.1f MiB", len(r.Checkpoints()), float64(ms.HeapInuse-base)/(1<<20))
	memory("after the random points")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// BenchmarkSyscallLog records syscall-heavy guests under the default policy
// (the syscall log) and replays the trace, reporting the time and the
// allocations per guest syscall of each: replay's cost per syscall
// (re-running the guest, reading the syscalls events and verifying every
// record) next to the recorder's. Compare the two ns/syscall; allocs/op
// counts the setup (kernel, executable, trace), allocs/syscall must stay
// far below 1.
func BenchmarkSyscallLog(b *testing.B) {
	for _, g := range []struct {
		name     string
		prog     string
		args     []string
		syscalls float64
	}{
		{"getppid", "spin.musl", []string{"sys", "200000"}, 200000},
		{"pipe", "bench_sys.musl", []string{"50"}, 150000},
	} {
		trace := recordTrace(b, g.prog, g.args...)
		b.Run(g.name+"/record", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				recordTrace(b, g.prog, g.args...)
			}
			perSyscall(b, g.syscalls)
		})
		b.Run(g.name+"/replay", func(b *testing.B) {
			b.ReportAllocs()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for i := 0; i < b.N; i++ {
				if _, err := newReplayer(b, trace).Run(); err != nil {
					b.Fatal(err)
				}
			}
			runtime.ReadMemStats(&ms1)
			perSyscall(b, g.syscalls)
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N)/g.syscalls, "allocs/syscall")
		})
	}
}

func perSyscall(b *testing.B, syscalls float64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/syscalls, "ns/syscall")
}
