package replay

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"ptrec/format"
	"ptrec/kernel"
)

// syslogBenchTrace is a trace of syscalls events as the recorder's default
// policy writes them (batches of 4096 records of a read/write/getppid loop
// whose arguments and results vary a little), with what the replayed
// kernel's PT_PTREC_GETSYSLOG returns for each event.
func syslogBenchTrace(b testing.TB, batches int) (trace []byte, got [][]byte, records int) {
	const batch = 4096
	rng := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, format.Header{Program: "bench", Path: "/bench", Argv: []string{"bench"}, Envp: []string{}, Cwd: "/", Stops: "syscall-log"})
	if err != nil {
		b.Fatal(err)
	}
	var ic uint64
	for i := 0; i < batches; i++ {
		recs := make([]format.Syscall, batch)
		out := make([]byte, batch*kernel.SyscallRecordSize)
		for j := range recs {
			ic += 50 + uint64(rng.IntN(20))
			code := []uint32{0, 1, 110}[j%3]
			recs[j] = format.Syscall{Tid: 100000, Code: code, Icount: ic, RIP: 0x401000 + uint64(code)*16,
				Args: [6]uint64{3, 0x7ffd0000 + uint64(rng.IntN(4))*8, 512}, Ret: int64(rng.IntN(513))}
			s := &recs[j]
			k := kernel.SyscallRecord{Tid: s.Tid, Code: s.Code, Flags: s.Flags, Icount: s.Icount, RIP: s.RIP, Args: s.Args, Ret: s.Ret}
			k.Marshal(out[j*kernel.SyscallRecordSize:])
		}
		if err := w.Write(&format.Event{Kind: format.KindSyscalls, Icount: ic, Pid: 3, Syscalls: &format.Syscalls{Records: recs}}); err != nil {
			b.Fatal(err)
		}
		got = append(got, out)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), got, batches * batch
}

// BenchmarkCheckSyscalls is replay's own cost per logged syscall: reading
// a syscalls event from the trace (decompressing and decoding its
// records) and verifying each record against the replayed kernel's log.
// The recorder's counterpart is format's BenchmarkWriterSyscalls plus
// kernel.DecodeSyscallLog. It must not allocate per syscall.
func BenchmarkCheckSyscalls(b *testing.B) {
	const batches = 16
	trace, got, n := syslogBenchTrace(b, batches)
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		b.Fatal(err)
	}
	rd.ReuseSyscallRecords()
	r := &Replayer{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rd.SeekEvent(0); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < batches; j++ {
			ev, err := rd.Next()
			if err != nil {
				b.Fatal(err)
			}
			r.checkSyscalls(ev, got[j])
			if r.err != nil {
				b.Fatal(r.err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/syscall")
}

// TestSameSyscall checks sameSyscall against kernel.SyscallRecord's
// Unmarshal: a record is the same as its marshalled form, and a change of
// any one field (or of any byte of a field) makes it differ.
func TestSameSyscall(t *testing.T) {
	base := format.Syscall{Tid: 100001, Code: 1, Flags: kernel.SyscallNoReturn, Icount: 0x123456789a, RIP: 0x401234,
		Args: [6]uint64{3, 0x7ffd0000, 512, 4, 5, 6}, Ret: -9}
	marshal := func(s *format.Syscall) []byte {
		b := make([]byte, kernel.SyscallRecordSize)
		k := kernel.SyscallRecord{Tid: s.Tid, Code: s.Code, Flags: s.Flags, Icount: s.Icount, RIP: s.RIP, Args: s.Args, Ret: s.Ret}
		k.Marshal(b)
		return b
	}
	edits := []struct {
		name string
		edit func(s *format.Syscall, bit uint)
	}{
		{"tid", func(s *format.Syscall, bit uint) { s.Tid ^= 1 << (bit % 32) }},
		{"code", func(s *format.Syscall, bit uint) { s.Code ^= 1 << (bit % 32) }},
		{"flags", func(s *format.Syscall, bit uint) { s.Flags ^= 1 << (bit % 32) }},
		{"icount", func(s *format.Syscall, bit uint) { s.Icount ^= 1 << bit }},
		{"rip", func(s *format.Syscall, bit uint) { s.RIP ^= 1 << bit }},
		{"arg0", func(s *format.Syscall, bit uint) { s.Args[0] ^= 1 << bit }},
		{"arg1", func(s *format.Syscall, bit uint) { s.Args[1] ^= 1 << bit }},
		{"arg2", func(s *format.Syscall, bit uint) { s.Args[2] ^= 1 << bit }},
		{"arg3", func(s *format.Syscall, bit uint) { s.Args[3] ^= 1 << bit }},
		{"arg4", func(s *format.Syscall, bit uint) { s.Args[4] ^= 1 << bit }},
		{"arg5", func(s *format.Syscall, bit uint) { s.Args[5] ^= 1 << bit }},
		{"ret", func(s *format.Syscall, bit uint) { s.Ret ^= 1 << bit }},
	}
	if !sameSyscall(&base, marshal(&base)) {
		t.Fatal("a record differs from its own marshalled form")
	}
	for _, e := range edits {
		for bit := uint(0); bit < 64; bit += 7 {
			s := base
			e.edit(&s, bit)
			g := marshal(&s)
			if sameSyscall(&base, g) || sameSyscall(&s, marshal(&base)) {
				t.Errorf("%s bit %d changed: still the same", e.name, bit)
			}
			if !sameSyscall(&s, g) {
				t.Errorf("%s bit %d changed: differs from its own marshalled form", e.name, bit)
			}
			var k kernel.SyscallRecord
			k.Unmarshal(g)
			if u := (format.Syscall{Tid: k.Tid, Code: k.Code, Flags: k.Flags, Icount: k.Icount, RIP: k.RIP, Args: k.Args, Ret: k.Ret}); u != s {
				t.Errorf("%s bit %d: Unmarshal gives %+v, want %+v", e.name, bit, u, s)
			}
		}
	}
}
