package diff

import (
	"fmt"
	"io"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
)

// context returns up to n events (requests left out) on each side of seq
// in the trace at path, the event at seq marked with ">". A syscalls event
// is one line per record, and sub >= 0 marks record sub of event seq
// instead of the event.
func context(path string, seq, sub int64, n int) ([]string, error) {
	if seq < 0 || n < 0 {
		return nil, nil
	}
	rd, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	rd.ReuseSyscallRecords() // lines are made before the next event
	// Requests outnumber the other events by about five to one.
	from := uint64(max(seq-int64(8*n+8), 0))
	if err := rd.SeekEvent(from); err != nil {
		return nil, err
	}
	var before []string
	var out []string
	after := -1
	for after < n {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if ev.Kind == format.KindRequest && ev.Seq != uint64(seq) {
			continue
		}
		// The event's lines: one per record of a syscalls event (unless
		// the event itself is marked), else one.
		recs := ev.Kind == format.KindSyscalls && ev.Syscalls != nil && !(ev.Seq == uint64(seq) && sub < 0)
		lines, mark := 1, -1
		if recs {
			lines = len(ev.Syscalls.Records)
		}
		switch {
		case ev.Seq > uint64(seq):
			mark = -2 // all after
		case ev.Seq == uint64(seq) && recs:
			mark = int(min(max(sub, 0), int64(lines)))
		case ev.Seq == uint64(seq):
			mark = 0
		}
		if mark == lines {
			// No such record: mark the event.
			out = append(before, "> "+Line(ev))
			after = 0
			continue
		}
		// Of the records before the marked line only the last n show.
		first := 0
		switch {
		case recs && mark == -1:
			first = max(lines-n, 0)
		case recs && mark >= 0:
			first = max(mark-n, 0)
		}
		for i := first; i < lines && after < n; i++ {
			var line string
			if recs {
				line = recordLine(ev, i)
			} else {
				line = Line(ev)
			}
			switch {
			case mark == -2 || mark >= 0 && i > mark:
				out = append(out, "  "+line)
				after++
			case i == mark:
				out = append(before, "> "+line)
				after = 0
			default:
				before = append(before, "  "+line)
				if len(before) > n {
					before = before[1:]
				}
			}
		}
	}
	return out, nil
}

// Line is a one-line description of an event.
func Line(ev *format.Event) string {
	head := fmt.Sprintf("#%d @%d %s pid=%d", ev.Seq, ev.Icount, ev.Kind, ev.Pid)
	switch ev.Kind {
	case format.KindRequest:
		q := ev.Request
		return fmt.Sprintf("%s %s(%d, %#x, %d) = %d", head, abi.PtraceRequestName(int(q.Op)), q.Pid, q.Addr, q.Data, q.Result)
	case format.KindStop:
		st := ev.Stop
		s := fmt.Sprintf("%s tid=%d %s", head, ev.Tid, abi.WaitStatus(st.Status))
		switch {
		case st.Flags&abi.PL_FLAG_SCE != 0:
			s += " syscall entry " + abi.SyscallName(int(st.SyscallCode))
		case st.Flags&abi.PL_FLAG_SCX != 0:
			s += fmt.Sprintf(" syscall exit %s = %d", abi.SyscallName(int(st.SyscallCode)), int64(st.Regs[format.RegRAX]))
		}
		if st.Signo != 0 {
			s += fmt.Sprintf(" si=%s", abi.Signal(st.Signo))
		}
		if abi.WaitStatus(st.Status).Stopped() {
			s += fmt.Sprintf(" rip=%#x", st.Regs[format.RegRIP])
		}
		return s
	case format.KindMemDelta:
		n := 0
		for _, r := range ev.Mem.Ranges {
			n += len(r.Data)
		}
		return fmt.Sprintf("%s %d ranges, %d bytes", head, len(ev.Mem.Ranges), n)
	case format.KindInput:
		in := ev.Input
		s := fmt.Sprintf("%s %s", head, kernel.HostOp(in.Op))
		if in.Path != "" {
			s += fmt.Sprintf(" %q", in.Path)
		}
		s += fmt.Sprintf(" args=%v → ret=%d", in.Args, in.Ret)
		if in.Errno != 0 {
			s += " " + abi.Errno(in.Errno).Name()
		}
		if len(in.Out) > 0 {
			s += fmt.Sprintf(" out=%x", in.Out[:min(len(in.Out), 16)])
			if len(in.Out) > 16 {
				s += "…"
			}
		}
		if len(in.In) > 0 {
			s += fmt.Sprintf(" in=%q", in.In[:min(len(in.In), 32)])
		}
		return s
	case format.KindExit:
		return fmt.Sprintf("%s %s (%s)", head, abi.WaitStatus(ev.Exit.Status), ev.Exit.Reason)
	case format.KindSyscalls:
		if ev.Syscalls != nil {
			return fmt.Sprintf("%s %d records", head, len(ev.Syscalls.Records))
		}
	}
	return head
}
