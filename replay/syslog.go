package replay

import (
	"encoding/binary"
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
	for i := 0; i < min(n, len(want)); i++ {
		if sameSyscall(&want[i], got[i*kernel.SyscallRecordSize:]) {
			continue
		}
		var rec kernel.SyscallRecord
		rec.Unmarshal(got[i*kernel.SyscallRecordSize:])
		g := format.Syscall{Tid: rec.Tid, Code: rec.Code, Flags: rec.Flags, Icount: rec.Icount, RIP: rec.RIP, Args: rec.Args, Ret: rec.Ret}
		r.diverge(ev, fmt.Sprintf("syscall %d of %d in the log", i+1, len(want)), describeSyscall(&want[i]), describeSyscall(&g))
		return
	}
	if n != len(want) {
		r.diverge(ev, "syscalls logged", fmt.Sprintf("%d", len(want)), fmt.Sprintf("%d", n))
	}
}

// sameSyscall reports whether the marshalled kernel.SyscallRecord g (its
// first SyscallRecordSize bytes) has w's fields: the comparison of
// unmarshalling it, without building the record.
func sameSyscall(w *format.Syscall, g []byte) bool {
	g = g[:kernel.SyscallRecordSize]
	le := binary.LittleEndian
	return le.Uint64(g[0:]) == uint64(uint32(w.Tid))|uint64(w.Code)<<32 &&
		le.Uint32(g[8:]) == w.Flags &&
		le.Uint64(g[16:]) == w.Icount &&
		le.Uint64(g[24:]) == w.RIP &&
		le.Uint64(g[32:]) == w.Args[0] &&
		le.Uint64(g[40:]) == w.Args[1] &&
		le.Uint64(g[48:]) == w.Args[2] &&
		le.Uint64(g[56:]) == w.Args[3] &&
		le.Uint64(g[64:]) == w.Args[4] &&
		le.Uint64(g[72:]) == w.Args[5] &&
		le.Uint64(g[80:]) == uint64(w.Ret)
}

// describeSyscall is a syscall record as a divergence shows it.
func describeSyscall(s *format.Syscall) string {
	d := fmt.Sprintf("tid %d %s(%#x, %#x, %#x, %#x, %#x, %#x) = %d at instruction %d, rip %#x",
		s.Tid, abi.SyscallName(int(s.Code)), s.Args[0], s.Args[1], s.Args[2], s.Args[3], s.Args[4], s.Args[5], s.Ret, s.Icount, s.RIP)
	if s.Flags == kernel.SyscallNoReturn {
		d += ", no return"
	} else if s.Flags != 0 {
		d += fmt.Sprintf(", flags %#x", s.Flags)
	}
	return d
}
