package replay

import (
	"bytes"
	"fmt"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
)

// checkSyscalls compares a syscalls event with what the replayed kernel
// logged (got, the PT_PTREC_GETSYSLOG output before it) and reports the
// first syscall that differs: its position, and the recorded and replayed
// syscall with arguments and result.
func (r *Replayer) checkSyscalls(ev *format.Event, got []byte) {
	want := ev.Syscalls.Records
	n := len(got) / kernel.SyscallRecordSize
	if n == len(want) {
		// The common case: marshal the recorded ones and compare bytes.
		b := r.sysCmp[:0]
		if cap(b) < len(got) {
			b = make([]byte, len(got))
		}
		b = b[:len(got)]
		for i := range want {
			w := &want[i]
			rec := kernel.SyscallRecord{Tid: w.Tid, Code: w.Code, Flags: w.Flags, Icount: w.Icount, RIP: w.RIP, Args: w.Args, Ret: w.Ret}
			rec.Marshal(b[i*kernel.SyscallRecordSize:])
		}
		r.sysCmp = b
		if bytes.Equal(b, got) {
			return
		}
	}
	var rec kernel.SyscallRecord
	for i := 0; i < min(n, len(want)); i++ {
		rec.Unmarshal(got[i*kernel.SyscallRecordSize:])
		g := format.Syscall{Tid: rec.Tid, Code: rec.Code, Flags: rec.Flags, Icount: rec.Icount, RIP: rec.RIP, Args: rec.Args, Ret: rec.Ret}
		if g != want[i] {
			r.diverge(ev, fmt.Sprintf("syscall %d of %d in the log", i+1, len(want)), describeSyscall(&want[i]), describeSyscall(&g))
			return
		}
	}
	if n != len(want) {
		r.diverge(ev, "syscalls logged", fmt.Sprintf("%d", len(want)), fmt.Sprintf("%d", n))
	}
}

// describeSyscall is a syscall record as a divergence shows it.
func describeSyscall(s *format.Syscall) string {
	return fmt.Sprintf("tid %d %s(%#x, %#x, %#x, %#x, %#x, %#x) = %d at instruction %d, rip %#x",
		s.Tid, abi.SyscallName(int(s.Code)), s.Args[0], s.Args[1], s.Args[2], s.Args[3], s.Args[4], s.Args[5], s.Ret, s.Icount, s.RIP)
}
