package diff_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"ptrec/diff"
	"ptrec/format"
	"ptrec/kernel/abi"
)

// writeSynthetic writes a trace of n events: alternating syscall entry and
// exit stops of one thread, with an extra syscall every `every` stops when
// every > 0 (so the two traces need real alignment).
func writeSynthetic(b *testing.B, path string, n, every int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, format.Header{Program: "synthetic", Stops: "syscall"})
	if err != nil {
		b.Fatal(err)
	}
	ic := uint64(0)
	for i := 0; i < n; i++ {
		code := uint32(i/2%7 + 1)
		if every > 0 && i%every == every-1 {
			code = 39
		}
		flags := int32(abi.PL_FLAG_SCE)
		if i%2 == 1 {
			flags = abi.PL_FLAG_SCX
		}
		ic += 100
		ev := &format.Event{Kind: format.KindStop, Icount: ic, Pid: 3, Tid: 100000,
			Stop: &format.Stop{Status: 0x57f, Flags: flags, SyscallCode: code, Regs: format.Regs{format.RegRIP: 0x401000 + uint64(code)}}}
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDiff compares two traces of 10^6 events that differ by an
// inserted syscall every 100000 events, beside the time to read both.
func BenchmarkDiff(b *testing.B) {
	dir := b.TempDir()
	pa, pb := filepath.Join(dir, "a.ptrec"), filepath.Join(dir, "b.ptrec")
	const n = 1_000_000
	writeSynthetic(b, pa, n, 0)
	writeSynthetic(b, pb, n, 100_000)
	b.Run("read-both", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, p := range []string{pa, pb} {
				rd, err := format.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := rd.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				rd.Close()
			}
		}
		b.ReportMetric(2*n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("diff", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rep, err := diff.Compare(pa, pb, diff.Options{Context: 3})
			if err != nil {
				b.Fatal(err)
			}
			if rep.Same {
				b.Fatal("traces compare the same")
			}
		}
		b.ReportMetric(2*n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// writeSyslog writes a syscall-log trace of n syscalls of one thread: a
// syscalls event of batch records at a stop at the entry of every
// batch+1st syscall, as the recorder does, with an extra syscall every
// `every` syscalls when every > 0.
func writeSyslog(b testing.TB, path string, n, batch, every int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, format.Header{Program: "synthetic", Stops: "syscall-log"})
	if err != nil {
		b.Fatal(err)
	}
	ic := uint64(0)
	recs := make([]format.Syscall, 0, batch)
	flush := func() {
		ev := &format.Event{Kind: format.KindStop, Icount: ic, Pid: 3, Tid: 100000,
			Stop: &format.Stop{Status: 0x57f, Flags: abi.PL_FLAG_SCE, SyscallCode: 1, Regs: format.Regs{format.RegRIP: 0x401001}}}
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		ev = &format.Event{Kind: format.KindSyscalls, Icount: ic, Pid: 3, Syscalls: &format.Syscalls{Records: recs}}
		if err := w.Write(ev); err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
	}
	add := func(r format.Syscall) {
		ic += 100
		r.Tid, r.Icount = 100000, ic
		recs = append(recs, r)
		if len(recs) == batch {
			ic += 100
			flush()
		}
	}
	for i := 0; i < n; i++ {
		if every > 0 && i%every == every-1 {
			add(format.Syscall{Code: 39, RIP: 0x401027, Ret: 3})
		}
		code := uint32(i%7 + 1)
		add(format.Syscall{Code: code, RIP: 0x401000 + uint64(code), Args: [6]uint64{1, 0x404000, uint64(i % 13)}, Ret: int64(i % 13)})
	}
	if len(recs) > 0 {
		flush()
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDiffSyslog compares two syscall-log traces of 10^6 syscalls in
// batches of 4096 that differ by an inserted syscall every 100000: each
// record is an item, put back in execution order.
func BenchmarkDiffSyslog(b *testing.B) {
	dir := b.TempDir()
	pa, pb := filepath.Join(dir, "a.ptrec"), filepath.Join(dir, "b.ptrec")
	const n = 1_000_000
	writeSyslog(b, pa, n, 4096, 0)
	writeSyslog(b, pb, n, 4096, 100_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := diff.Compare(pa, pb, diff.Options{Context: 3})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Same || rep.First == nil || rep.First.What != "only in B" || rep.First.Syscall != "getpid" || rep.Summary.OnlyB != n/100_000 || rep.Summary.OnlyA != 0 {
			b.Fatalf("first difference %+v, summary %+v, want the inserted getpids only in B", rep.First, rep.Summary)
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "syscalls/s")
}
