package diff

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
)

// summarizeSyscall makes the item of one record of a syscalls event: it
// aligns by its syscall code, compares on its arguments, result, pc and
// flags, and at control level on its pc and whether (and how) it failed.
// Only hashes, the pc and the result are kept; the arguments are read again
// from the trace for the records a report describes.
//
// The arguments are the syscall's own (its narg registers; all six for a
// number without an entry): the record has all six argument registers, and
// those a syscall does not take hold whatever the caller left there.
func summarizeSyscall(it *item, r *format.Syscall, ig Ignore) {
	sig, full, ctl, args := newHasher(), newHasher(), newHasher(), newHasher()
	it.sys, it.flags, it.rip, it.rax = r.Code, int32(r.Flags), r.RIP, uint64(r.Ret)
	sig.u(uint64(format.KindSyscalls))
	sig.u(uint64(r.Code))
	for _, a := range r.Args[:syscallNarg(r.Code)] {
		args.u(a)
	}
	it.aux = uint64(args)
	full.u(uint64(r.Code))
	full.u(uint64(r.Flags))
	full.u(it.aux)
	full.u(uint64(r.Ret))
	full.u(r.RIP)
	// The thread id is not compared: the alignment pairs threads.
	if ig&IgnoreAddresses == 0 {
		ctl.u(r.RIP)
	}
	// A success value is data (a byte count that follows from what was
	// written, a pid, an address, or something derived from ignored
	// inputs); a failure is a different path.
	ctl.u(uint64(errnoOf(r.Ret, r.Flags)))
	it.sig, it.full, it.ctl = uint64(sig), uint64(full), uint64(ctl)
}

// errnoOf is the error a syscall result reports (0 for a success or a
// syscall that does not return).
func errnoOf(ret int64, flags uint32) abi.Errno {
	if flags&kernel.SyscallNoReturn == 0 && ret < 0 && ret >= -4095 {
		return abi.Errno(-ret)
	}
	return 0
}

// syscallNarg is the number of argument registers syscall code takes: six
// for a number without an entry, whose count is unknown.
func syscallNarg(code uint32) int {
	if !abi.SyscallValid(int(code)) {
		return len(format.Syscall{}.Args)
	}
	return max(0, min(abi.SyscallNarg(int(code)), len(format.Syscall{}.Args)))
}

// syscallCall is a record's syscall with its arguments: "write(1, 0x4010f0, 6)".
// Small values print in decimal (descriptors, counts, flags, AT_FDCWD),
// others in hex (addresses).
func syscallCall(r *format.Syscall) string {
	var b strings.Builder
	b.WriteString(abi.SyscallName(int(r.Code)))
	b.WriteByte('(')
	for i, a := range r.Args[:syscallNarg(r.Code)] {
		if i > 0 {
			b.WriteString(", ")
		}
		if v := int64(a); v > -65536 && v < 65536 {
			b.WriteString(strconv.FormatInt(v, 10))
		} else {
			fmt.Fprintf(&b, "%#x", a)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// syscallResult is a record's result as it follows the call: "= 12",
// "= -5 (EIO)", "= 0x7f0000001000", "(no return)".
func syscallResult(ret int64, flags uint32) string {
	switch {
	case flags&kernel.SyscallNoReturn != 0:
		return "(no return)"
	case errnoOf(ret, flags) != 0:
		return fmt.Sprintf("= %d (%s)", ret, errnoOf(ret, flags).Name())
	case ret > 0xffffffff:
		return fmt.Sprintf("= %#x", ret)
	}
	return "= " + strconv.FormatInt(ret, 10)
}

// syscallText is a record as a report shows it: "write(1, 0x4010f0, 6) = 6".
func syscallText(r *format.Syscall) string {
	return syscallCall(r) + " " + syscallResult(r.Ret, r.Flags)
}

// recordLine is the context line of record i of the syscalls event ev.
func recordLine(ev *format.Event, i int) string {
	r := &ev.Syscalls.Records[i]
	return fmt.Sprintf("#%d[%d] @%d syscall pid=%d tid=%d %s rip=%#x", ev.Seq, i, r.Icount, ev.Pid, r.Tid, syscallText(r), r.RIP)
}

// readRecord reads record sub of the syscalls event seq of the trace at path.
func readRecord(path string, seq uint64, sub uint32) (*format.Syscall, error) {
	rd, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if err := rd.SeekEvent(seq); err != nil {
		return nil, err
	}
	ev, err := rd.Next()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	if ev.Seq != seq || ev.Kind != format.KindSyscalls || ev.Syscalls == nil || uint64(sub) >= uint64(len(ev.Syscalls.Records)) {
		return nil, fmt.Errorf("event %d is not a syscalls event with a record %d", seq, sub)
	}
	r := ev.Syscalls.Records[sub]
	return &r, nil
}

// syscallChanged says what differs between two aligned records x and y of
// the same syscall: the call and both results ("write(1, 0x4010f0, 6) = 6
// vs = -5 (EIO)", the call again when its arguments differ), then the pc
// and the instructions since the thread's previous syscall or stop when
// they differ.
func syscallChanged(x, y *item, rx, ry *format.Syscall) string {
	s := syscallText(rx)
	cx, cy := syscallCall(rx), syscallCall(ry)
	switch {
	case cx != cy:
		s += " vs " + syscallText(ry)
	case rx.Ret != ry.Ret || rx.Flags != ry.Flags:
		s += " vs " + syscallResult(ry.Ret, ry.Flags)
	}
	var parts []string
	if rx.RIP != ry.RIP {
		parts = append(parts, fmt.Sprintf("pc %#x vs %#x", rx.RIP, ry.RIP))
	}
	if x.dIcount != y.dIcount {
		parts = append(parts, fmt.Sprintf("%d vs %d instructions since the thread's previous syscall or stop", x.dIcount, y.dIcount))
	}
	if cx == cy && rx.Ret == ry.Ret && rx.Flags == ry.Flags && len(parts) == 0 {
		// Everything a record is compared on is shown above, so only
		// a hash collision gets here; a detail is never empty.
		parts = append(parts, "details differ")
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// syscallSummary says what differs between two aligned records for the
// summary, from the items alone: "result 12 vs -5 (EIO)", "arguments differ".
func syscallSummary(x, y *item) string {
	var parts []string
	if x.aux != y.aux {
		parts = append(parts, "arguments differ")
	}
	if x.rax != y.rax || x.flags != y.flags {
		parts = append(parts, "result "+strings.TrimPrefix(syscallResult(int64(x.rax), uint32(x.flags)), "= ")+" vs "+strings.TrimPrefix(syscallResult(int64(y.rax), uint32(y.flags)), "= "))
	}
	if x.rip != y.rip {
		parts = append(parts, fmt.Sprintf("pc %#x vs %#x", x.rip, y.rip))
	}
	if x.dIcount != y.dIcount {
		parts = append(parts, fmt.Sprintf("%d vs %d instructions before it", x.dIcount, y.dIcount))
	}
	if len(parts) == 0 {
		return "details differ"
	}
	return strings.Join(parts, ", ")
}
