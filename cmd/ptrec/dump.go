package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
)

type dumpOptions struct {
	json     bool
	kind     string
	pid      int32
	from, to string
}

// position is an event number ("N" or "#N") or an instruction count ("@N")
// given to --from or --to.
type position struct {
	set    bool
	icount bool
	n      uint64
}

func parsePosition(flag, s string) (position, error) {
	if s == "" {
		return position{}, nil
	}
	p := position{set: true}
	num := strings.TrimPrefix(s, "#")
	if strings.HasPrefix(s, "@") {
		p.icount, num = true, s[1:]
	}
	n, err := strconv.ParseUint(num, 0, 64)
	if err != nil {
		return p, usageError{fmt.Sprintf("--%s %q: want an event number N or an instruction count @N", flag, s)}
	}
	p.n = n
	return p, nil
}

// after reports whether ev lies beyond p (for --to).
func (p position) after(ev *format.Event) bool {
	if !p.set {
		return false
	}
	if p.icount {
		return ev.Icount > p.n
	}
	return ev.Seq > p.n
}

func newDumpCmd(s streams) *cobra.Command {
	o := &dumpOptions{}
	cmd := &cobra.Command{
		Use:     "dump [flags] TRACE",
		Short:   "Print every event of a trace, one per line",
		Example: `  $ ptrec dump --json t.ptrec | head`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runDump(s, o, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "one JSON object per line")
	cmd.Flags().StringVar(&o.kind, "kind", "", "only events of this kind: request, stop, memdelta, input or exit")
	cmd.Flags().Int32Var(&o.pid, "pid", 0, "only events of this process (or thread)")
	cmd.Flags().StringVar(&o.from, "from", "", "start at event N, or at the first event at or after instruction count @N")
	cmd.Flags().StringVar(&o.to, "to", "", "stop after event N, or after the last event at or before instruction count @N")
	return cmd
}

func runDump(s streams, o *dumpOptions, path string) error {
	from, err := parsePosition("from", o.from)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	to, err := parsePosition("to", o.to)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	switch o.kind {
	case "", "request", "stop", "memdelta", "input", "exit":
	default:
		return &statusError{code: exitTrouble, err: fmt.Errorf("--kind must be request, stop, memdelta, input or exit, not %q", o.kind)}
	}
	rd, err := format.Open(path)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	defer rd.Close()
	if from.set {
		if from.icount {
			err = rd.SeekIcount(from.n)
		} else {
			err = rd.SeekEvent(from.n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &statusError{code: exitTrouble, err: err}
		}
	}
	enc := json.NewEncoder(s.out)
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &statusError{code: exitTrouble, err: err}
		}
		if to.after(ev) {
			return nil
		}
		if (o.kind != "" && ev.Kind.String() != o.kind) || (o.pid != 0 && ev.Pid != o.pid && ev.Tid != o.pid) {
			continue
		}
		m := eventMap(ev)
		if o.json {
			if err := enc.Encode(m); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(s.out, eventLine(ev))
	}
}

// eventMap is the JSON form of an event.
func eventMap(ev *format.Event) map[string]any {
	m := map[string]any{"seq": ev.Seq, "kind": ev.Kind.String(), "icount": ev.Icount, "pid": ev.Pid, "tid": ev.Tid}
	switch ev.Kind {
	case format.KindRequest:
		q := ev.Request
		m["request"] = abi.PtraceRequestName(int(q.Op))
		m["op"] = q.Op
		m["target"] = q.Pid
		m["addr"] = q.Addr
		m["data"] = q.Data
		m["result"] = q.Result
		m["errno"] = abi.Errno(q.Errno).Name()
		if q.Errno == 0 {
			m["errno"] = ""
		}
		m["in_bytes"] = len(q.In)
		m["out_bytes"] = len(q.Out)
	case format.KindStop:
		st := ev.Stop
		ws := abi.WaitStatus(st.Status)
		m["status"] = st.Status
		m["wait"] = ws.String()
		m["signal"] = 0
		if ws.Stopped() {
			m["signal"] = int(ws.StopSignal())
		} else if ws.Signaled() {
			m["signal"] = int(ws.Signal())
		}
		m["lwp_event"] = st.Event
		m["lwp_flags"] = st.Flags
		m["flags"] = lwpFlagNames(st.Flags)
		m["si_signo"] = st.Signo
		m["si_code"] = st.Code
		m["si_addr"] = st.SigAddr
		m["child_pid"] = st.ChildPid
		m["syscall_code"] = st.SyscallCode
		m["syscall"] = ""
		if st.Flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 {
			m["syscall"] = abi.SyscallName(int(st.SyscallCode))
		}
		m["syscall_narg"] = st.SyscallNarg
		m["rip"] = st.Regs[format.RegRIP]
		m["rax"] = st.Regs[format.RegRAX]
	case format.KindMemDelta:
		n := 0
		for _, r := range ev.Mem.Ranges {
			n += len(r.Data)
		}
		m["ranges"] = len(ev.Mem.Ranges)
		m["bytes"] = n
	case format.KindInput:
		in := ev.Input
		m["op"] = kernel.HostOp(in.Op).String()
		m["path"] = in.Path
		m["handle"] = in.Handle
		m["args"] = in.Args
		m["ret"] = in.Ret
		m["errno"] = ""
		if in.Errno != 0 {
			m["errno"] = abi.Errno(in.Errno).Name()
		}
		m["in_bytes"] = len(in.In)
		m["out_bytes"] = len(in.Out)
	case format.KindExit:
		m["status"] = ev.Exit.Status
		m["reason"] = ev.Exit.Reason
	case format.KindSyscalls:
		recs := make([]map[string]any, len(ev.Syscalls.Records))
		for i := range ev.Syscalls.Records {
			r := &ev.Syscalls.Records[i]
			narg := max(0, min(abi.SyscallNarg(int(r.Code)), len(r.Args)))
			recs[i] = map[string]any{"tid": r.Tid, "icount": r.Icount, "syscall": abi.SyscallName(int(r.Code)),
				"syscall_code": r.Code, "args": r.Args[:narg], "ret": r.Ret, "errno": syscallErrno(r),
				"no_return": r.Flags&kernel.SyscallNoReturn != 0, "rip": r.RIP}
		}
		m["syscalls"] = recs
	}
	return m
}

// syscallErrno is the errno name of a logged syscall's failure, or "".
func syscallErrno(r *format.Syscall) string {
	if r.Flags&kernel.SyscallNoReturn == 0 && r.Ret < 0 && r.Ret >= -4095 {
		return abi.Errno(-r.Ret).Name()
	}
	return ""
}

// syscallText is a logged syscall as the text dump shows it:
// tid:name(args) = ret [ERRNO] @icount.
func syscallText(r *format.Syscall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%s(", r.Tid, abi.SyscallName(int(r.Code)))
	narg := max(0, min(abi.SyscallNarg(int(r.Code)), len(r.Args)))
	for i, a := range r.Args[:narg] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%#x", a)
	}
	if r.Flags&kernel.SyscallNoReturn != 0 {
		fmt.Fprintf(&b, ") no return @%d", r.Icount)
		return b.String()
	}
	fmt.Fprintf(&b, ") = %d", r.Ret)
	if e := syscallErrno(r); e != "" {
		b.WriteString(" " + e)
	}
	fmt.Fprintf(&b, " @%d", r.Icount)
	return b.String()
}

func lwpFlagNames(f int32) []string {
	names := []struct {
		bit  int32
		name string
	}{{abi.PL_FLAG_SCE, "SCE"}, {abi.PL_FLAG_SCX, "SCX"}, {abi.PL_FLAG_EXEC, "EXEC"}, {abi.PL_FLAG_SI, "SI"},
		{abi.PL_FLAG_FORKED, "FORKED"}, {abi.PL_FLAG_CHILD, "CHILD"}}
	out := []string{}
	for _, n := range names {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// eventLine is the text form of an event.
func eventLine(ev *format.Event) string {
	head := fmt.Sprintf("#%d @%d %-8s pid=%d", ev.Seq, ev.Icount, ev.Kind, ev.Pid)
	switch ev.Kind {
	case format.KindRequest:
		q := ev.Request
		s := fmt.Sprintf("%s %s(%d, %#x, %d) = %d", head, abi.PtraceRequestName(int(q.Op)), q.Pid, q.Addr, q.Data, q.Result)
		if q.Errno != 0 {
			s += " " + abi.Errno(q.Errno).Name()
		}
		return s
	case format.KindStop:
		st := ev.Stop
		s := fmt.Sprintf("%s tid=%d %s flags=%v", head, ev.Tid, abi.WaitStatus(st.Status), lwpFlagNames(st.Flags))
		if st.Flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 {
			s += fmt.Sprintf(" syscall=%s/%d", abi.SyscallName(int(st.SyscallCode)), st.SyscallNarg)
		}
		if st.Signo != 0 {
			s += fmt.Sprintf(" si=%s code=%d addr=%#x", abi.Signal(st.Signo), st.Code, st.SigAddr)
		}
		if st.ChildPid != 0 {
			s += fmt.Sprintf(" child=%d", st.ChildPid)
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
		s += fmt.Sprintf(" handle=%d args=%v in=%d → ret=%d out=%d", in.Handle, in.Args, len(in.In), in.Ret, len(in.Out))
		if in.Errno != 0 {
			s += " " + abi.Errno(in.Errno).Name()
		}
		return s
	case format.KindExit:
		return fmt.Sprintf("%s %s (%s)", head, abi.WaitStatus(ev.Exit.Status), ev.Exit.Reason)
	case format.KindSyscalls:
		// One line per event, as for every kind: the records follow in
		// order, separated by "; ".
		var b strings.Builder
		fmt.Fprintf(&b, "%s %d:", head, len(ev.Syscalls.Records))
		for i := range ev.Syscalls.Records {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteByte(' ')
			b.WriteString(syscallText(&ev.Syscalls.Records[i]))
		}
		return b.String()
	}
	return head
}
