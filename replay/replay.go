// Package replay re-executes a trace deterministically: it rebuilds the
// kernel and machine from the trace header, answers every host call from the
// recorded inputs, re-issues the recorder's ptrace requests and checks each
// result, stop and memory delta against the recording. The first difference
// is a divergence.
package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// ErrDivergence is wrapped by every *Divergence.
var ErrDivergence = errors.New("replay diverged")

// Divergence describes the first point where re-execution disagreed with
// the trace.
type Divergence struct {
	Seq    uint64 // event number in the trace
	Icount uint64 // instruction count of the replay at that point
	Tid    int32  // the thread that was running (0 if unknown)
	PC     uint64 // its pc
	Symbol string // the pc symbolized from the recorded executable
	What   string // what differs
	Want   string // the recording
	Got    string // the replay
}

func (d *Divergence) Error() string {
	where := ""
	if d.Tid != 0 {
		where = fmt.Sprintf(", thread %d at pc %#x", d.Tid, d.PC)
		if d.Symbol != "" {
			where += " in " + d.Symbol
		}
	}
	return fmt.Sprintf("replay diverged at event #%d (instruction %d%s): %s: recorded %s, replayed %s", d.Seq, d.Icount, where, d.What, d.Want, d.Got)
}

// Unwrap lets errors.Is(err, ErrDivergence) work.
func (d *Divergence) Unwrap() error { return ErrDivergence }

// Options configures a replay.
type Options struct {
	Stdout, Stderr io.Writer // where the guest's output is echoed (nil: discarded)
	// Progress, if set, is called as a long run moves forward with the
	// instructions done and the trace's total (0 if unknown).
	Progress func(done, total uint64)
}

// Result is the end of a verified replay.
type Result struct {
	Status int32 // the recorded (and replayed) exit status
	Icount uint64
	Events uint64
}

// stream is the trace with one event of look-ahead.
type stream struct {
	r     *format.Reader
	next  *format.Event
	err   error
	taken uint64 // events taken: the number of the next event
}

// seek positions the stream so that the next event is number pos.
func (s *stream) seek(pos uint64) error {
	s.next, s.err, s.taken = nil, nil, pos
	if err := s.r.SeekEvent(pos); err != nil {
		s.err = err
		return err
	}
	return nil
}

func (s *stream) peek() (*format.Event, error) {
	if s.next == nil && s.err == nil {
		s.next, s.err = s.r.Next()
	}
	return s.next, s.err
}

func (s *stream) take() (*format.Event, error) {
	ev, err := s.peek()
	if ev != nil {
		s.taken++
	}
	s.next = nil
	return ev, err
}

// Replayer re-executes one trace. It is not safe for concurrent use.
type Replayer struct {
	opts   Options
	s      *stream
	k      *kernel.Kernel
	tracer *kernel.Process
	child  *kernel.Process
	err    error // first divergence or read error seen inside a host call
	echoed uint64
	loop   loopState

	kreq     kernel.PtraceRequest // the request being replayed, and its output buffer
	reqBuf   [1024]byte
	sysBuf   []byte // PT_PTREC_GETSYSLOG's output, reused from one to the next
	deltaBuf []byte // PT_PTREC_GETDELTA's, the same

	hdr    format.Header
	events uint64            // events in the trace
	files  map[string][]byte // executables the guest loaded, by path
	auxv   []byte            // the initial process's auxiliary vector
	dbg    debugger
}

// loopState is the tracer loop's state between events: what a checkpoint
// saves besides the kernel and the stream position.
type loopState struct {
	needWait   bool
	waited     kernel.WaitResult
	lastDelta  []byte
	lastSyslog []byte   // the last PT_PTREC_GETSYSLOG output, until its syscalls event
	refs       stopRefs // requests logged by reference to the next stop
	res        Result
	done       bool // the exit event was processed
}

// replayHost answers the kernel's host calls from the trace.
type replayHost struct{ r *Replayer }

func (h replayHost) Call(c *kernel.HostCall) kernel.HostReply {
	r := h.r
	if r.err != nil {
		return kernel.HostReply{Errno: abi.EIO}
	}
	ev, err := r.s.peek()
	if err != nil {
		r.err = fmt.Errorf("replay: reading trace: %w", err)
		return kernel.HostReply{Errno: abi.EIO}
	}
	if ev.Kind != format.KindInput {
		r.diverge(ev, "host call", ev.Kind.String()+" event", describeCall(c))
		return kernel.HostReply{Errno: abi.EIO}
	}
	r.s.take()
	in := ev.Input
	echo := ev.Seq >= r.echoed
	if echo {
		r.echoed = ev.Seq + 1
	}
	if kernel.HostOp(in.Op) != c.Op || in.Path != c.Path || in.Handle != c.Handle || !equalArgs(in.Args, c.Args) || !bytes.Equal(in.In, c.In) {
		r.diverge(ev, "host call", describeInput(in), describeCall(c))
		return kernel.HostReply{Errno: abi.EIO}
	}
	if c.Op == kernel.HostWrite && in.Errno == 0 {
		var w io.Writer
		switch c.Handle {
		case 1:
			w = r.opts.Stdout
		case 2:
			w = r.opts.Stderr
		}
		if w != nil && echo && in.Ret > 0 && in.Ret <= int64(len(c.In)) {
			w.Write(c.In[:in.Ret])
		}
	}
	if c.Op == kernel.HostReadFile && in.Errno == 0 && r.files[c.Path] == nil {
		r.files[c.Path] = in.Out // executables, for symbols
	}
	return kernel.HostReply{Ret: in.Ret, Errno: abi.Errno(in.Errno), Out: in.Out}
}

func equalArgs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describeCall(c *kernel.HostCall) string {
	return fmt.Sprintf("%s(path=%q handle=%d args=%v in=%d bytes)", c.Op, c.Path, c.Handle, c.Args, len(c.In))
}

func describeInput(in *format.Input) string {
	return fmt.Sprintf("%s(path=%q handle=%d args=%v in=%d bytes)", kernel.HostOp(in.Op), in.Path, in.Handle, in.Args, len(in.In))
}

func (r *Replayer) diverge(ev *format.Event, what, want, got string) {
	if r.err != nil {
		return
	}
	seq := uint64(0)
	if ev != nil {
		seq = ev.Seq
	}
	ic := uint64(0)
	if r.k != nil {
		ic = r.k.Icount()
	}
	d := &Divergence{Seq: seq, Icount: ic, What: what, Want: want, Got: got}
	if r.k != nil {
		t := r.k.CurrentThread()
		if t == nil && ev != nil && ev.Tid != 0 {
			t = r.k.Thread(ev.Tid)
		}
		if t == nil && r.child != nil && len(r.child.Threads()) > 0 {
			t = r.child.Threads()[0]
		}
		if t != nil && t.CPU() != nil {
			d.Tid, d.PC = t.Tid, t.CPU().RIP
			d.Symbol = r.Symbolize(d.PC)
		}
	}
	r.err = d
}

// New prepares a replay of the trace read by rd.
func New(rd *format.Reader, o Options) (*Replayer, error) {
	// The stream looks at one event at a time: syscall records need not
	// be allocated per event.
	rd.ReuseSyscallRecords()
	r := &Replayer{opts: o, s: &stream{r: rd}, hdr: rd.Header(), events: rd.Info().Events, files: make(map[string][]byte)}
	h := r.hdr
	pairs := make([][2]string, len(h.Facts))
	for i, kv := range h.Facts {
		pairs[i] = [2]string{kv.Key, kv.Value}
		// A trace records the emulated CPU it ran on; another CPU model
		// would make the guest take other paths (CPUID, AT_HWCAP).
		if kv.Key == "cpu" && kv.Value != machine.CPUSignature() {
			return nil, fmt.Errorf("replay: the trace was recorded on another emulated CPU model (cpu %s, this ptrec has %s): re-record it with this ptrec", kv.Value, machine.CPUSignature())
		}
	}
	facts := kernel.HostFactsFromPairs(h.Cwd, pairs)
	var maxInsns uint64
	for _, kv := range h.Facts {
		if kv.Key == "max_insns" { // record.MaxInsnsFact
			maxInsns, _ = strconv.ParseUint(kv.Value, 10, 64)
		}
	}
	r.k = kernel.New(kernel.Config{Host: replayHost{r}, Facts: facts, MaxInsns: maxInsns, Interrupt: r.killedHere})
	r.tracer = r.k.NewTracerProcess("ptrec")
	child, err := r.k.Spawn(r.tracer, kernel.SpawnOptions{Path: h.Path, Argv: h.Argv, Envp: h.Envp, TraceMe: true})
	if r.err != nil {
		return nil, r.err
	}
	if err != nil {
		return nil, fmt.Errorf("replay: the recorded program does not load: %w", err)
	}
	r.child = child
	r.auxv = readAuxv(child)
	r.loop.needWait = true
	r.dbg.init(r)
	return r, nil
}

// Kernel returns the kernel being replayed.
func (r *Replayer) Kernel() *kernel.Kernel { return r.k }

// Run replays to the end, verifying every event.
func (r *Replayer) Run() (Result, error) {
	r.k.SetReplayStop(kernel.ReplayStop{})
	if _, err := r.forward(stopNone); err != nil {
		return r.loop.res, err
	}
	return r.loop.res, nil
}

// stopWhy says why forward returned.
type stopWhy uint8

const (
	stoppedKernel stopWhy = iota // a kernel replay stop (position or slot hit)
	stoppedEvent                 // the event stop position was reached
	stoppedEnd                   // the trace's exit event was processed
)

// stopNone is an event position never reached.
const stopNone = ^uint64(0)

// forward runs the tracer loop until the kernel stops for the replay (the
// stop conditions set on r.k), the stream reaches event stopEvent, or the
// trace ends.
func (r *Replayer) forward(stopEvent uint64) (stopWhy, error) {
	l := &r.loop
	if l.done {
		return stoppedEnd, nil
	}
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.s.taken >= stopEvent {
			return stoppedEvent, nil
		}
		ev, err := r.s.peek()
		if err == io.EOF {
			return 0, fmt.Errorf("replay: trace ends without an exit event (truncated recording)")
		}
		if err != nil {
			return 0, fmt.Errorf("replay: reading trace: %w", err)
		}
		if ev.Kind == format.KindInput {
			if !l.needWait {
				r.diverge(ev, "host call", describeInput(ev.Input), "no host call")
				continue
			}
		}
		// The recorder ended the run early right here (interrupted, or a
		// limit reached): no guest instruction ran before its kill.
		killNow := ev.Kind == format.KindRequest && ev.Request.Op == kernel.PtraceKillAll && ev.Icount == r.k.Icount()
		if l.needWait && ev.Kind != format.KindExit && !killNow {
			// As the recorder: WNOWAIT, so an exited process stays a
			// zombie for the requests logged before its exit (its
			// syscall log) and is reaped at its stop event.
			w, err := r.k.Wait4(r.tracer, -1, abi.WALL|abi.WNOWAIT)
			if err == nil && abi.WaitStatus(w.Status).Stopped() {
				_, err = r.k.Wait4(r.tracer, w.Pid, abi.WALL|abi.WNOHANG)
			}
			if errors.Is(err, kernel.ErrInsnLimit) || errors.Is(err, kernel.ErrInterrupted) {
				// The recording's --max-insns, or its interrupt between
				// two slices (killedHere): the marker follows.
				l.needWait = false
				continue
			}
			if r.err != nil {
				return 0, r.err
			}
			if errors.Is(err, kernel.ErrReplayStop) {
				return stoppedKernel, nil
			}
			if errors.Is(err, kernel.ErrNoDebugSlot) {
				return 0, err
			}
			if err != nil {
				ev, _ := r.s.peek()
				r.diverge(ev, "wait4", "a stop", err.Error())
				return 0, r.err
			}
			l.waited = w
			l.needWait = false
			continue
		}
		r.s.take()
		l.res.Events++
		switch ev.Kind {
		case format.KindRequest:
			q := ev.Request
			if q.Op == kernel.PtraceKillAll {
				if ev.Icount != r.k.Icount() {
					r.diverge(ev, "early end of the recording", fmt.Sprintf("at instruction %d", ev.Icount), fmt.Sprintf("at instruction %d", r.k.Icount()))
					continue
				}
				r.k.KillAll()
				l.needWait = true
				continue
			}
			req := &r.kreq
			*req = kernel.PtraceRequest{Op: int(q.Op), Pid: q.Pid, Addr: q.Addr, Data: q.Data, In: q.In}
			switch q.Op {
			case kernel.PT_PTREC_GETDELTA:
				// A delta is kept in the loop state until its event,
				// which follows at once (a checkpoint in between copies
				// it, debugger.checkpoint).
				req.Buf = r.deltaBuf[:0]
			case kernel.PT_PTREC_GETSYSLOG:
				// Kept until its event too, which follows at once: a
				// checkpoint in between copies it (debugger.checkpoint).
				req.Buf = r.sysBuf[:0]
			default:
				// The output is compared (or copied into the loop state)
				// before the next request: one buffer serves them all.
				req.Buf = r.reqBuf[:]
			}
			got, err := r.k.Ptrace(kernel.PtraceCaller{P: r.tracer}, req)
			errno, isErrno := err.(abi.Errno)
			if err != nil && !isErrno {
				// A wrapped errno; the variable errors.As fills escapes,
				// so it is declared only here, not at every request.
				var e abi.Errno
				if !errors.As(err, &e) {
					return 0, err
				}
				errno = e
			}
			out, ret := got.Out, got.Ret
			if q.Op == kernel.PT_PTREC_GETDELTA {
				l.lastDelta = got.Out
				if cap(got.Out) <= maxDeltaBuf {
					r.deltaBuf = got.Out[:0]
				}
				out = nil
				if q.Addr == 0 { // no page budget: the result logged is the length
					ret = int64(len(got.Out))
				}
			}
			if q.Op == kernel.PT_PTREC_GETSYSLOG {
				l.lastSyslog = got.Out // compared at the syscalls event
				r.sysBuf = got.Out[:0]
				out = nil
			}
			if errno == 0 && q.Errno == 0 && ret == q.Result && byReference(q, out) {
				// Compared byte for byte at the stop event it refers to.
				if !l.refs.add(ev, out) {
					r.diverge(ev, abi.PtraceRequestName(int(q.Op))+" result", "a stop event after it", "another "+abi.PtraceRequestName(int(q.Op)))
				}
				continue
			}
			if int32(errno) != q.Errno || ret != q.Result || !bytes.Equal(out, q.Out) {
				r.diverge(ev, abi.PtraceRequestName(int(q.Op))+" result",
					fmt.Sprintf("ret=%d errno=%s out=%x", q.Result, abi.Errno(q.Errno).Name(), q.Out),
					fmt.Sprintf("ret=%d errno=%s out=%x", ret, errno.Name(), out))
				continue
			}
			switch int(q.Op) {
			case abi.PT_CONTINUE, abi.PT_SYSCALL, abi.PT_STEP, abi.PT_TO_SCE, abi.PT_TO_SCX, abi.PT_KILL, abi.PT_DETACH:
				l.needWait = true
			}
		case format.KindStop:
			if l.waited.Pid != ev.Pid || l.waited.Status != ev.Stop.Status {
				r.diverge(ev, "stop", fmt.Sprintf("pid %d status %#x", ev.Pid, ev.Stop.Status), fmt.Sprintf("pid %d status %#x", l.waited.Pid, l.waited.Status))
				continue
			}
			if !abi.WaitStatus(ev.Stop.Status).Stopped() {
				r.k.Wait4(r.tracer, ev.Pid, abi.WALL|abi.WNOHANG) // reap it
				l.needWait = true
				if ev.Pid == r.child.Pid {
					l.res.Status = ev.Stop.Status
				}
			}
			if r.k.Icount() != ev.Icount {
				r.diverge(ev, "instruction count at stop", fmt.Sprint(ev.Icount), fmt.Sprint(r.k.Icount()))
			}
			if req, want, got := l.refs.check(ev); req != nil {
				q := req.Request
				r.diverge(req, abi.PtraceRequestName(int(q.Op))+" result", fmt.Sprintf("out=%x", want), fmt.Sprintf("out=%x", got))
				continue
			}
		case format.KindMemDelta:
			if !sameDelta(ev.Mem.Ranges, l.lastDelta) {
				n := 0
				for _, m := range ev.Mem.Ranges {
					n += 16 + len(m.Data)
				}
				r.diverge(ev, "memory delta", fmt.Sprintf("%d bytes", n), fmt.Sprintf("%d bytes", len(l.lastDelta)))
			}
		case format.KindSyscalls:
			r.checkSyscalls(ev, l.lastSyslog)
			l.lastSyslog = nil
		case format.KindExit:
			if req := l.refs.pending(); req != nil {
				r.diverge(req, abi.PtraceRequestName(int(req.Request.Op))+" result", "a stop event after it", "the exit event")
				continue
			}
			if ev.Exit.Status != l.res.Status && ev.Exit.Reason != "interrupted" {
				r.diverge(ev, "exit status", fmt.Sprintf("%#x", ev.Exit.Status), fmt.Sprintf("%#x", l.res.Status))
				continue
			}
			l.res.Status = ev.Exit.Status
			l.res.Icount = r.k.Icount()
			l.done = true
			if r.err != nil {
				return 0, r.err
			}
			return stoppedEnd, nil
		case format.KindInput:
			r.diverge(ev, "host call", describeInput(ev.Input), "no host call")
		}
	}
}

// byReference reports whether q, a successful request whose output out was
// got, logged its output by reference to the stop event that follows (the
// recorder's PT_PTREC_GETSTOP, and PT_LWPINFO and PT_GETREGS of earlier
// ptrec, docs/FORMAT.md): then q.Out is a kernel.AppendPatch against what
// the stop says, shorter than the output. Outputs logged literally are
// exactly as long as out.
func byReference(q *format.Request, out []byte) bool {
	switch q.Op {
	case abi.PT_LWPINFO:
		return len(out) == abi.PtraceLwpinfoSize && len(q.Out) < len(out)
	case abi.PT_GETREGS:
		return len(out) == abi.RegSize && len(q.Out) < len(out)
	case abi.PT_PTREC_GETSTOP:
		return len(out) == abi.PtrecStopSize && len(q.Out) < len(out)
	}
	return false
}

// stopRefs holds the by-reference requests made since the last stop event,
// with what replay got for them. Arrays, so a checkpoint's copy of the loop
// state is a snapshot.
type stopRefs struct {
	lwp, reg, stop *format.Event
	lwpOut         [abi.PtraceLwpinfoSize]byte
	regOut         [abi.RegSize]byte
	stopOut        [abi.PtrecStopSize]byte
}

func (s *stopRefs) add(ev *format.Event, out []byte) bool {
	if ev.Request.Op == abi.PT_PTREC_GETSTOP {
		if s.stop != nil {
			return false
		}
		s.stop = ev
		copy(s.stopOut[:], out)
		return true
	}
	if ev.Request.Op == abi.PT_LWPINFO {
		if s.lwp != nil {
			return false
		}
		s.lwp = ev
		copy(s.lwpOut[:], out)
		return true
	}
	if s.reg != nil {
		return false
	}
	s.reg = ev
	copy(s.regOut[:], out)
	return true
}

func (s *stopRefs) pending() *format.Event {
	if s.lwp != nil {
		return s.lwp
	}
	if s.reg != nil {
		return s.reg
	}
	return s.stop
}

// check rebuilds the outputs of the pending requests from stop event ev and
// their patches and compares them with what replay got; it returns the first
// request that differs (nil if none) with the two outputs.
func (s *stopRefs) check(ev *format.Event) (req *format.Event, want, got []byte) {
	lwp, reg, stop := s.lwp, s.reg, s.stop
	s.lwp, s.reg, s.stop = nil, nil, nil
	if stop != nil {
		var b [abi.PtrecStopSize]byte
		stopLwpinfo(b[:], ev.Tid, ev.Stop)
		rg := stopReg(&ev.Stop.Regs)
		rg.Marshal(b[abi.PtrecStopRegOff:])
		binary.LittleEndian.PutUint64(b[abi.PtrecStopBasesOff:], ev.Stop.Regs[format.RegFSBase])
		if !kernel.ApplyPatch(b[:], stop.Request.Out) || b != s.stopOut {
			return stop, bytes.Clone(b[:]), bytes.Clone(s.stopOut[:])
		}
	}
	if lwp != nil {
		var b [abi.PtraceLwpinfoSize]byte
		stopLwpinfo(b[:], ev.Tid, ev.Stop)
		if !kernel.ApplyPatch(b[:], lwp.Request.Out) || b != s.lwpOut {
			return lwp, bytes.Clone(b[:]), bytes.Clone(s.lwpOut[:])
		}
	}
	if reg != nil {
		var b [abi.RegSize]byte
		rg := stopReg(&ev.Stop.Regs)
		rg.Marshal(b[:])
		if !kernel.ApplyPatch(b[:], reg.Request.Out) || b != s.regOut {
			return reg, bytes.Clone(b[:]), bytes.Clone(s.regOut[:])
		}
	}
	return nil, nil, nil
}

// stopLwpinfo is record.StopLwpinfo: the struct ptrace_lwpinfo that stop
// event carries, every byte it does not carry zero.
func stopLwpinfo(b []byte, tid int32, st *format.Stop) {
	pl := abi.PtraceLwpinfo{Lwpid: tid, Event: st.Event, Flags: st.Flags, ChildPid: st.ChildPid,
		SyscallCode: st.SyscallCode, SyscallNarg: int32(st.SyscallNarg),
		Siginfo: abi.FBSDSiginfo{Signo: st.Signo, Code: st.Code, Addr: st.SigAddr}}
	pl.Marshal(b)
}

// stopReg is record.StopReg: the struct reg of a stop event's registers.
func stopReg(r *format.Regs) abi.Reg {
	return abi.Reg{R15: r[0], R14: r[1], R13: r[2], R12: r[3], R11: r[4], R10: r[5], R9: r[6], R8: r[7],
		Rdi: r[8], Rsi: r[9], Rbp: r[10], Rbx: r[11], Rdx: r[12], Rcx: r[13], Rax: r[14],
		Trapno: uint32(r[15]), Fs: uint16(r[16]), Gs: uint16(r[17]), Err: uint32(r[18]), Es: uint16(r[19]), Ds: uint16(r[20]),
		Rip: r[21], Cs: r[22], Rflags: r[23], Rsp: r[24], Ss: r[25]}
}

// maxDeltaBuf is the largest delta buffer replay keeps for the next
// PT_PTREC_GETDELTA (a piece of the recorder's default 256 pages fits).
const maxDeltaBuf = 2 << 20

// sameDelta reports whether the recorded ranges are exactly the delta the
// replayed kernel returned (kernel.EncodeDelta's encoding), without
// building the encoding of the recorded ones.
func sameDelta(want []format.MemRange, got []byte) bool {
	i := 0
	ok := kernel.DecodeDelta(got, func(addr uint64, data []byte) {
		if i < len(want) && want[i].Addr == addr && bytes.Equal(want[i].Data, data) {
			i++
			return
		}
		i = len(want) + 1 // a mismatch: never equal again
	})
	return ok && i == len(want)
}

func appendRange(b []byte, addr uint64, data []byte) []byte {
	for i := 0; i < 8; i++ {
		b = append(b, byte(addr>>(8*i)))
	}
	n := uint64(len(data))
	for i := 0; i < 8; i++ {
		b = append(b, byte(n>>(8*i)))
	}
	return append(b, data...)
}

// readAuxv reads the auxiliary vector from a freshly exec'd process's stack:
// argc, argv, NULL, envp, NULL, then (type, value) pairs up to AT_NULL.
func readAuxv(p *kernel.Process) []byte {
	ts := p.Threads()
	if len(ts) == 0 {
		return nil
	}
	mem := p.Memory()
	sp := ts[0].CPU().Regs[4]
	word := func(a uint64) (uint64, bool) {
		var b [8]byte
		if n, _ := mem.ReadForce(a, b[:]); n != 8 {
			return 0, false
		}
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56, true
	}
	argc, ok := word(sp)
	if !ok || argc > 1<<20 {
		return nil
	}
	a := sp + 8*(argc+2)
	for i := 0; i < 1<<20; i++ {
		v, ok := word(a)
		if !ok {
			return nil
		}
		a += 8
		if v == 0 {
			break
		}
	}
	var out []byte
	for i := 0; i < 64; i++ {
		t, ok1 := word(a)
		v, ok2 := word(a + 8)
		if !ok1 || !ok2 {
			return nil
		}
		out = appendRange(out, t, nil)[:len(out)+8]
		out = appendRange(out, v, nil)[:len(out)+8]
		a += 16
		if t == 0 {
			break
		}
	}
	return out
}

// Auxv returns the recorded program's auxiliary vector (as /proc/PID/auxv).
func (r *Replayer) Auxv() []byte { return r.auxv }

// killedHere is the replay kernel's Config.Interrupt: the recorder was
// interrupted between two scheduling slices at instruction icount when the
// next event is its PtraceKillAll marker at that count (every input before
// it has been consumed by then).
func (r *Replayer) killedHere(icount uint64) bool {
	ev, err := r.s.peek()
	return err == nil && ev.Kind == format.KindRequest && ev.Request.Op == kernel.PtraceKillAll && ev.Icount == icount
}
