package format

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// benchEvents is a recorder-like stream: syscall stops with a few registers
// changing, page-sized memory deltas, ptrace requests and host inputs.
func benchEvents(n int) []*Event {
	rng := rand.New(rand.NewPCG(1, 2))
	page := make([]byte, 4096)
	var regs Regs
	var evs []*Event
	var ic uint64
	for i := 0; i < n; i++ {
		ic += uint64(rng.IntN(5000))
		ev := &Event{Icount: ic, Pid: 100, Tid: 100}
		switch i % 4 {
		case 0:
			regs[RegRIP] += uint64(rng.IntN(200))
			regs[RegRAX] = uint64(rng.IntN(400))
			regs[RegRSP] = 0x7fffffffe000 - uint64(rng.IntN(64))*8
			ev.Kind, ev.Stop = KindStop, &Stop{Status: 0x57f, Event: 1, Flags: 0x400, SyscallCode: uint32(rng.IntN(300)), SyscallNarg: 3, Regs: regs}
		case 1:
			for j := 0; j < 16; j++ {
				page[rng.IntN(len(page))] = byte(rng.Uint32())
			}
			ev.Kind, ev.Mem = KindMemDelta, &MemDelta{Ranges: []MemRange{{Addr: 0x7fffffffd000, Data: bytes.Clone(page)}}}
		case 2:
			ev.Kind, ev.Request = KindRequest, &Request{Op: 33, Pid: 100, Addr: 0x1000, Result: 0, Out: make([]byte, 216)}
		case 3:
			out := make([]byte, rng.IntN(512))
			ev.Kind, ev.Input = KindInput, &Input{Op: 2, Path: "/etc/hosts", Handle: 3, Args: []int64{0, 512}, Ret: int64(len(out)), Out: out}
		}
		evs = append(evs, ev)
	}
	return evs
}

const benchN = 20000

func BenchmarkWriter(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []WriterOption
	}{{"zstd", nil}, {"none", []WriterOption{WithCompression(false)}}} {
		b.Run(c.name, func(b *testing.B) {
			evs := benchEvents(benchN)
			var st WriterStats
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w, err := NewWriter(io.Discard, testHeader(), c.opts...)
				if err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					if err := w.Write(ev); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				st = w.Stats()
				if i == 0 {
					b.SetBytes(int64(st.RawBytes))
				}
			}
			b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.RawBytes)/float64(st.FileBytes), "ratio")
		})
	}
}

func BenchmarkReader(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []WriterOption
	}{{"zstd", nil}, {"none", []WriterOption{WithCompression(false)}}} {
		b.Run(c.name, func(b *testing.B) {
			file := writeTrace(b, testHeader(), benchEvents(benchN), c.opts...)
			r := openBytes(b, file)
			b.SetBytes(int64(r.Info().RawBytes))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.SeekEvent(0)
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != benchN {
					b.Fatalf("read %d events", n)
				}
			}
			b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkWriterSyscalls writes syscalls events as the recorder's default
// policy makes them: batches of 4096 records of a loop of a few syscalls
// (a read/write/getppid mix whose arguments and results vary a little).
func BenchmarkWriterSyscalls(b *testing.B) {
	const batch, batches = 4096, 8
	rng := rand.New(rand.NewPCG(3, 4))
	evs := make([]*Event, batches)
	var ic uint64
	for i := range evs {
		recs := make([]Syscall, batch)
		for j := range recs {
			ic += 50 + uint64(rng.IntN(20))
			code := []uint32{0, 1, 110}[j%3]
			recs[j] = Syscall{Tid: 100000, Code: code, Icount: ic, RIP: 0x401000 + uint64(code)*16,
				Args: [6]uint64{3, 0x7ffd0000 + uint64(rng.IntN(4))*8, 512}, Ret: int64(rng.IntN(513))}
		}
		evs[i] = &Event{Kind: KindSyscalls, Icount: ic, Pid: 3, Syscalls: &Syscalls{Records: recs}}
	}
	for _, c := range []struct {
		name string
		opts []WriterOption
	}{{"zstd", nil}, {"none", []WriterOption{WithCompression(false)}}} {
		b.Run(c.name, func(b *testing.B) {
			w, err := NewWriter(io.Discard, testHeader(), c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := w.Write(evs[i%batches]); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/syscall")
			b.ReportMetric(float64(w.Stats().FileBytes)/float64(b.N*batch), "bytes/syscall")
		})
	}
}
