// Package record is ptrec's recorder: a debugger of the emulated kernel, built
// on the kernel's FreeBSD ptrace exactly as an outside tracer would be. It
// spawns the program traced, follows forks, stops it where the stop policy
// says, and writes every request, stop, memory delta and host input to a
// trace.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Stop policies.
const (
	// StopsSyscallLog (the default) has the kernel log every syscall with
	// its arguments and result (PT_PTREC_SYSLOG) instead of stopping for
	// each, and fetches the log (PT_PTREC_GETSYSLOG) at every stop: at
	// signals, exec, fork, exit and exit_group, and at the entry of the
	// syscall after every SyslogBatch logged ones. The trace has every
	// syscall and its result (syscalls events) at a fraction of the cost of
	// a stop per syscall, as rr's syscall buffering.
	StopsSyscallLog = "syscall-log"
	// StopsSyscall stops at every syscall's entry (PT_TO_SCE), at signals,
	// exec, fork and exit: one stop per syscall. The entry stop has the
	// syscall code, narg and argument registers, and comes before the
	// syscall has any effect, so exit_group and a blocking syscall are seen
	// too; the syscall's result shows in the registers and memory delta of
	// the next stop. exec and fork still stop at their exit (the exec and
	// fork stops), as in FreeBSD.
	StopsSyscall = "syscall"
	// StopsSyscallBoth stops at every syscall's entry and exit
	// (PT_SYSCALL), as FreeBSD's truss does: two stops per syscall.
	StopsSyscallBoth = "syscall-entry-exit"
	StopsSignal      = "signal" // only signals and process events
	StopsStep        = "step"   // every instruction
)

// Options configures a recording.
type Options struct {
	Path  string // host path of the program
	Argv  []string
	Envp  []string
	Stops string // StopsSyscallLog (default), StopsSyscall, StopsSyscallBoth, StopsSignal or StopsStep
	// SyslogBatch is the number of logged syscalls after which the policy
	// StopsSyscallLog stops (0: DefaultSyslogBatch), and SyslogPages the
	// number of changed pages after which it stops at the next syscall
	// entry (0: DefaultSyslogPages).
	SyslogBatch int
	SyslogPages int
	Host        kernel.Host
	Facts       kernel.HostFacts
	// Untraced runs the program without tracing it (`ptrec run`): no stops,
	// no trace events but host inputs, and guest debuggers can trace it.
	Untraced bool
	// NoFollowFork leaves forked children untraced (PT_FOLLOW_FORK is not
	// requested), so a guest debugger can trace its own children; they are
	// still recorded through the Host boundary and replay reproduces them.
	NoFollowFork bool
	Warn         io.Writer    // unimplemented-syscall warnings
	Strict       bool         // unimplemented syscalls are fatal
	Logger       *slog.Logger // ptrace debug log, nil for none
	// MaxInsns ends the run after this many instructions (0: no limit).
	MaxInsns uint64
	// Interrupted, if set, is polled between stops; when it returns true the
	// guest is killed and the trace is finished.
	Interrupted func() bool
	// FlushEvents and FlushInsns bound what a killed recording loses: when
	// the sink is a Flusher, it is flushed after this many events or this
	// many instructions since the last flush, whichever comes first (0:
	// DefaultFlushEvents, DefaultFlushInsns). Both count guest progress, not
	// wall time, so the trace's bytes stay a function of the run.
	FlushEvents uint64
	FlushInsns  uint64
	// DeltaPages is the page budget of each PT_PTREC_GETDELTA (0:
	// DefaultDeltaPages).
	DeltaPages int
}

// Defaults for Options.FlushEvents and Options.FlushInsns.
const (
	DefaultFlushEvents = 4096
	DefaultFlushInsns  = 1 << 26
)

// DeltaGap is the gap the recorder asks PT_PTREC_GETDELTA for: changed
// bytes fewer than DeltaGap apart are logged as one range, which costs less
// than a range header (an address and a length) per few bytes.
const DeltaGap = 16

// DefaultSyslogBatch is the default Options.SyslogBatch: a stop every 4096
// syscalls bounds the log (4096 × 88 bytes) and costs little.
const DefaultSyslogBatch = 4096

// DefaultSyslogPages is the default Options.SyslogPages: the kernel keeps
// the original of each page changed since the last delta, so stopping
// once 4096 pages (16 MiB) changed bounds that memory.
const DefaultSyslogPages = 4096

// DefaultDeltaPages is the default page budget of each PT_PTREC_GETDELTA: a
// stop whose delta spans more pages fetches it in pieces of at most this
// many pages, each logged as its request and its own MemDelta event, so the
// recorder (and replay) never hold a large delta at once.
const DefaultDeltaPages = 256

// maxDeltaBuf is the largest delta buffer the recorder keeps for the next
// request: one piece of DefaultDeltaPages pages fits.
const maxDeltaBuf = 2 << 20

// Flusher is implemented by sinks that can make everything written so far
// durable (format.Writer ends its chunk).
type Flusher interface {
	Flush() error
}

// Result is how a run ended.
type Result struct {
	Status int32  // wait status of the initial process
	Reason string // "exited", "signaled", "interrupted", "limit"
	Icount uint64
	Events uint64
}

// Sink receives the events of a recording (a format.Writer, or nothing for
// `ptrec run`). As with format.Writer, the recorder may reuse an event's
// payloads once Write returns: a sink that keeps them must copy them.
type Sink interface {
	Write(ev *format.Event) error
}

// discard is the Sink of `ptrec run`.
type discard struct{}

func (discard) Write(*format.Event) error { return nil }

// MaxInsnsFact is the header fact holding --max-insns, when set.
const MaxInsnsFact = "max_insns"

// CPUFact is the header fact naming the emulated CPU model the trace was
// recorded on (machine.CPUSignature).
const CPUFact = "cpu"

// Header returns the trace header for o.
func Header(o Options, program string) format.Header {
	f := o.Facts
	h := format.Header{Program: program, Path: o.Path, Argv: o.Argv, Envp: o.Envp, Cwd: f.Cwd, Stops: stops(o)}
	for _, kv := range f.Pairs() { // uname, ids, then the guest's limits
		h.Facts = append(h.Facts, format.Fact{Key: kv[0], Value: kv[1]})
	}
	h.Facts = append(h.Facts, format.Fact{Key: CPUFact, Value: machine.CPUSignature()})
	if o.MaxInsns != 0 {
		// The limit decides where the guest stops: replay needs it.
		h.Facts = append(h.Facts, format.Fact{Key: MaxInsnsFact, Value: strconv.FormatUint(o.MaxInsns, 10)})
	}
	return h
}

func stops(o Options) string {
	if o.Stops == "" {
		return StopsSyscallLog
	}
	return o.Stops
}

// FactsFromHeader recovers the host facts a trace was recorded with.
func FactsFromHeader(h format.Header) kernel.HostFacts {
	pairs := make([][2]string, len(h.Facts))
	for i, kv := range h.Facts {
		pairs[i] = [2]string{kv.Key, kv.Value}
	}
	return kernel.HostFactsFromPairs(h.Cwd, pairs)
}

// loggingHost wraps the real host and logs every call as an input event.
type loggingHost struct {
	real kernel.Host
	k    *kernel.Kernel
	sink Sink
	err  error
}

func (h *loggingHost) Call(c *kernel.HostCall) kernel.HostReply {
	r := h.real.Call(c)
	if h.err == nil {
		ev := &format.Event{Kind: format.KindInput, Input: &format.Input{
			Op: uint16(c.Op), Path: c.Path, Handle: c.Handle, Args: append([]int64(nil), c.Args...),
			In: append([]byte(nil), c.In...), Ret: r.Ret, Errno: int32(r.Errno), Out: r.Out,
		}}
		if h.k != nil {
			ev.Icount = h.k.Icount()
			if t := h.k.Running(); t != nil {
				// The thread whose syscall asked: diff attributes
				// the input to it (a blocking syscall completes
				// long after its entry, among other threads').
				ev.Pid, ev.Tid = t.Process().Pid, t.Tid
			}
		}
		h.err = h.sink.Write(ev)
	}
	return r
}

// Session is a running recording (or a plain run when its sink discards).
type Session struct {
	opts   Options
	k      *kernel.Kernel
	tracer *kernel.Process
	child  *kernel.Process
	sink   Sink
	host   *loggingHost
	// interrupted: Options.Interrupted said so and the run is being ended
	// (every guest process killed; the loop reaps them).
	interrupted bool
	events      uint64

	// Events reused by every request and stop (the sink keeps no payload).
	kreq       kernel.PtraceRequest
	stopBuf    [abi.PtrecStopSize]byte // PT_PTREC_GETSTOP's output
	stopBase   [abi.PtrecStopSize]byte // and what the stop event says of it
	deltaBuf   []byte
	req        format.Request
	reqEv      format.Event
	stop       format.Stop
	stopEv     format.Event
	md         format.MemDelta
	mdEv       format.Event
	sysEvent   format.Event
	patchBuf   []byte
	flusher    Flusher // the sink, if it flushes
	flushEv    uint64  // events since the last flush
	flushIc    uint64  // instruction count at the last flush
	flushN     uint64  // events between flushes
	flushInsn  uint64  // instructions between flushes
	deltaPages int     // page budget of a PT_PTREC_GETDELTA
	syslog     int     // the syscall log's batch, 0 when the policy does not log
	syslogPgs  int     // the syscall log's page budget
	sysBuf     []byte  // output of PT_PTREC_GETSYSLOG
	sysEv      format.Syscalls
}

// Record runs the program to the end, writing the trace to sink (nil: a
// plain run).
func Record(o Options, sink Sink) (Result, error) {
	if sink == nil {
		sink = discard{}
	}
	s := &Session{opts: o, sink: sink, flushN: o.FlushEvents, flushInsn: o.FlushInsns, deltaPages: o.DeltaPages}
	if s.deltaPages <= 0 {
		s.deltaPages = DefaultDeltaPages
	}
	if s.flushN == 0 {
		s.flushN = DefaultFlushEvents
	}
	if s.flushInsn == 0 {
		s.flushInsn = DefaultFlushInsns
	}
	s.flusher, _ = sink.(Flusher)
	s.host = &loggingHost{real: o.Host, sink: s}
	kcfg := kernel.Config{Host: s.host, Facts: o.Facts, Logger: o.Logger, Warn: o.Warn, Strict: o.Strict, MaxInsns: o.MaxInsns}
	if o.Interrupted != nil {
		// Also between scheduling slices, so that a guest computing
		// without stops ends too; the PtraceKillAll marker then carries
		// the count, where replay's kernel stops as well.
		kcfg.Interrupt = func(uint64) bool { return !s.interrupted && o.Interrupted() }
	}
	s.k = kernel.New(kcfg)
	s.host.k = s.k
	s.tracer = s.k.NewTracerProcess("ptrec")
	child, err := s.k.Spawn(s.tracer, kernel.SpawnOptions{Path: o.Path, Argv: o.Argv, Envp: o.Envp, TraceMe: !o.Untraced})
	if err != nil {
		return Result{}, err
	}
	s.child = child
	return s.loop()
}

// Write implements Sink for the host logger, counting events and flushing
// the sink periodically (see Options.FlushEvents).
func (s *Session) Write(ev *format.Event) error {
	s.events++
	if err := s.sink.Write(ev); err != nil {
		return err
	}
	if s.flusher == nil {
		return nil
	}
	s.flushEv++
	if s.flushEv >= s.flushN || ev.Icount >= s.flushIc+s.flushInsn {
		s.flushEv, s.flushIc = 0, ev.Icount
		return s.flusher.Flush()
	}
	return nil
}

// request makes one ptrace request as the tracer and logs it. The output,
// when the kernel copies one out, is in buf if it fits (valid until buf's
// next use).
func (s *Session) request(op int, pid int32, addr uint64, data int64, buf []byte) (kernel.PtraceResult, error) {
	r := &s.kreq
	*r = kernel.PtraceRequest{Op: op, Pid: pid, Addr: addr, Data: data, Buf: buf}
	res, err := s.k.Ptrace(kernel.PtraceCaller{P: s.tracer}, r)
	out, ret := res.Out, res.Ret
	switch op {
	case kernel.PT_PTREC_GETDELTA:
		// The delta itself is the MemDelta event that follows; the
		// result is the pages left, or (without a page budget, as
		// earlier ptrec asked) the delta's length.
		out = nil
		if addr == 0 {
			ret = int64(len(res.Out))
		}
	case kernel.PT_PTREC_GETSYSLOG:
		// The records are the syscalls event that follows; the result
		// is their number.
		out = nil
	}
	return res, s.logRequest(op, pid, addr, data, ret, out, err)
}

// logRequest writes the request event of a request the recorder made, with
// the result and output to log; it returns the request's error, or the
// sink's.
func (s *Session) logRequest(op int, pid int32, addr uint64, data, ret int64, out []byte, err error) error {
	s.req = format.Request{Op: int32(op), Pid: pid, Addr: addr, Data: data, Result: ret, Out: out}
	ev := &s.reqEv
	*ev = format.Event{Kind: format.KindRequest, Icount: s.k.Icount(), Pid: pid, Request: &s.req}
	if err != nil {
		var e abi.Errno
		if !errors.As(err, &e) {
			return err
		}
		s.req.Errno = int32(e)
	}
	if werr := s.Write(ev); werr != nil {
		return werr
	}
	return err
}

// getStop asks what the stop of pid is (PT_PTREC_GETSTOP: its thread's
// ptrace_lwpinfo, registers and fs/gs bases in one request), fills the stop
// event from the answer and logs the request, its output by reference to
// that stop event (docs/FORMAT.md): only the bytes the stop does not carry
// (pl_tdname, usually) are logged.
func (s *Session) getStop(pid int32, stop *format.Stop) (abi.PtraceLwpinfo, error) {
	r := &s.kreq
	*r = kernel.PtraceRequest{Op: kernel.PT_PTREC_GETSTOP, Pid: pid, Buf: s.stopBuf[:]}
	res, err := s.k.Ptrace(kernel.PtraceCaller{P: s.tracer}, r)
	if err == nil && len(res.Out) != abi.PtrecStopSize {
		err = fmt.Errorf("returned %d bytes", len(res.Out))
	}
	if err != nil {
		if lerr := s.logRequest(kernel.PT_PTREC_GETSTOP, pid, 0, 0, res.Ret, res.Out, err); lerr != err {
			return abi.PtraceLwpinfo{}, lerr
		}
		return abi.PtraceLwpinfo{}, fmt.Errorf("record: PT_PTREC_GETSTOP: %w", err)
	}
	out := res.Out
	pl := parseLwpinfo(out)
	*stop = stopOf(&pl, stop.Status)
	stop.Regs = RegsRecord(out[abi.PtrecStopRegOff:], out[abi.PtrecStopBasesOff:])
	base := &s.stopBase
	StopInfo(base[:], pl.Lwpid, stop)
	return pl, s.logRequest(kernel.PT_PTREC_GETSTOP, pid, 0, 0, res.Ret, s.patch(base[:], out), nil)
}

// patch returns the by-reference form of a request's output full: nil when
// base (rebuilt from the stop event) is full, else the AppendPatch of full
// against base if shorter than full, else full itself (logged literally).
func (s *Session) patch(base, full []byte) []byte {
	s.patchBuf = kernel.AppendPatch(s.patchBuf[:0], base, full)
	switch {
	case len(s.patchBuf) == 0:
		return nil
	case len(s.patchBuf) < len(full):
		return s.patchBuf
	}
	return full
}

// parseLwpinfo reads the fields of a struct ptrace_lwpinfo
// (abi.PtraceLwpinfoSize bytes) that a stop event records, without the
// allocations of abi.PtraceLwpinfo.Unmarshal (pl_tdname).
func parseLwpinfo(b []byte) abi.PtraceLwpinfo {
	_ = b[abi.PtraceLwpinfoSize-1]
	u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	return abi.PtraceLwpinfo{Lwpid: int32(u32(0)), Event: int32(u32(4)), Flags: int32(u32(8)),
		Siginfo:  abi.FBSDSiginfo{Signo: int32(u32(48)), Code: int32(u32(56)), Addr: binary.LittleEndian.Uint64(b[72:])},
		ChildPid: int32(u32(148)), SyscallCode: u32(152), SyscallNarg: int32(u32(156))}
}

// stopOf is what a stop event of wait status status records of a
// ptrace_lwpinfo.
func stopOf(pl *abi.PtraceLwpinfo, status int32) format.Stop {
	st := format.Stop{Status: status, Event: pl.Event, Flags: pl.Flags, ChildPid: pl.ChildPid, SyscallCode: pl.SyscallCode, SyscallNarg: uint32(pl.SyscallNarg)}
	if pl.Flags&abi.PL_FLAG_SI != 0 {
		st.Signo, st.Code, st.SigAddr = pl.Siginfo.Signo, pl.Siginfo.Code, pl.Siginfo.Addr
	}
	return st
}

// StopInfo writes to b[:abi.PtrecStopSize] the PT_PTREC_GETSTOP output that
// a stop event of thread tid carries: StopLwpinfo, the struct reg of the
// stop's registers (StopReg), fs_base, and a zero gs_base. (replay has the
// same function; they must agree.)
func StopInfo(b []byte, tid int32, st *format.Stop) {
	StopLwpinfo(b, tid, st)
	r := StopReg(&st.Regs)
	r.Marshal(b[abi.PtrecStopRegOff:])
	binary.LittleEndian.PutUint64(b[abi.PtrecStopBasesOff:], st.Regs[format.RegFSBase])
	binary.LittleEndian.PutUint64(b[abi.PtrecStopBasesOff+8:], 0)
}

// StopLwpinfo writes to b[:abi.PtraceLwpinfoSize] the struct
// ptrace_lwpinfo that a stop event of thread tid carries: lwpid, event,
// flags, si_signo, si_code, si_addr, child pid, syscall code and narg; every
// other byte is zero. (replay has the same function; they must agree.)
func StopLwpinfo(b []byte, tid int32, st *format.Stop) {
	pl := abi.PtraceLwpinfo{Lwpid: tid, Event: st.Event, Flags: st.Flags, ChildPid: st.ChildPid,
		SyscallCode: st.SyscallCode, SyscallNarg: int32(st.SyscallNarg),
		Siginfo: abi.FBSDSiginfo{Signo: st.Signo, Code: st.Code, Addr: st.SigAddr}}
	pl.Marshal(b)
}

// StopReg is the struct reg of a stop event's registers (RegsRecord's
// inverse).
func StopReg(r *format.Regs) abi.Reg {
	return abi.Reg{R15: r[0], R14: r[1], R13: r[2], R12: r[3], R11: r[4], R10: r[5], R9: r[6], R8: r[7],
		Rdi: r[8], Rsi: r[9], Rbp: r[10], Rbx: r[11], Rdx: r[12], Rcx: r[13], Rax: r[14],
		Trapno: uint32(r[15]), Fs: uint16(r[16]), Gs: uint16(r[17]), Err: uint32(r[18]), Es: uint16(r[19]), Ds: uint16(r[20]),
		Rip: r[21], Cs: r[22], Rflags: r[23], Rsp: r[24], Ss: r[25]}
}

// killAll ends the run early: it logs the PtraceKillAll marker, so replay
// kills at the same point, then kills every guest process.
func (s *Session) killAll() error {
	ev := &format.Event{Kind: format.KindRequest, Icount: s.k.Icount(), Request: &format.Request{Op: kernel.PtraceKillAll}}
	if err := s.Write(ev); err != nil {
		return err
	}
	s.k.KillAll()
	return nil
}

func (s *Session) loop() (Result, error) {
	o := s.opts
	resume := abi.PT_TO_SCE
	switch stops(o) {
	case StopsSyscallLog:
		resume = abi.PT_CONTINUE
		s.syslog, s.syslogPgs = o.SyslogBatch, o.SyslogPages
		if s.syslog <= 0 {
			s.syslog = DefaultSyslogBatch
		}
		if s.syslogPgs <= 0 {
			s.syslogPgs = DefaultSyslogPages
		}
	case StopsSyscallBoth:
		resume = abi.PT_SYSCALL
	case StopsSignal:
		resume = abi.PT_CONTINUE
	case StopsStep:
		resume = abi.PT_STEP
	case StopsSyscall:
	default:
		return Result{}, fmt.Errorf("record: unknown stop policy %q", o.Stops)
	}
	res := Result{Reason: "exited"}
	interrupt := func() error {
		s.interrupted = true
		res.Reason = "interrupted"
		return s.killAll()
	}
	for {
		if s.host.err != nil {
			return res, s.host.err
		}
		if !s.interrupted && o.Interrupted != nil && o.Interrupted() {
			if err := interrupt(); err != nil {
				return res, err
			}
		}
		// WNOWAIT: an exited process stays a zombie until its syscall
		// log is fetched (s.reap).
		w, err := s.k.Wait4(s.tracer, -1, abi.WALL|abi.WNOWAIT)
		if errors.Is(err, abi.ECHILD) {
			break
		}
		if errors.Is(err, kernel.ErrInsnLimit) {
			res.Reason = "limit"
			if err := s.killAll(); err != nil {
				return res, err
			}
			continue
		}
		if errors.Is(err, kernel.ErrInterrupted) {
			if err := interrupt(); err != nil {
				return res, err
			}
			continue
		}
		if err != nil {
			return res, err
		}
		st := abi.WaitStatus(w.Status)
		stop := &s.stop
		*stop = format.Stop{Status: w.Status}
		ev := &s.stopEv
		*ev = format.Event{Kind: format.KindStop, Pid: w.Pid, Stop: stop}
		if err := s.reap(w); err != nil {
			return res, err
		}
		if !st.Stopped() {
			ev.Icount = s.k.Icount()
			if err := s.Write(ev); err != nil {
				return res, err
			}
			if w.Pid == s.child.Pid {
				res.Status = w.Status
				if st.Signaled() && res.Reason == "exited" {
					res.Reason = "signaled"
				}
			}
			continue
		}
		// A stop: ask what it is, like any debugger.
		pl, err := s.getStop(w.Pid, stop)
		if err != nil {
			return res, err
		}
		ev.Tid = pl.Lwpid
		delta, err := s.delta(w.Pid)
		if err != nil {
			return res, err
		}
		ev.Icount = s.k.Icount()
		if err := s.Write(ev); err != nil {
			return res, err
		}
		for {
			if err := s.writeDelta(w.Pid, pl.Lwpid, delta.Out); err != nil {
				return res, err
			}
			if delta.Ret == 0 {
				break
			}
			if delta, err = s.delta(w.Pid); err != nil { // the next piece
				return res, err
			}
		}
		if s.syslog > 0 {
			if err := s.syscalls(w.Pid); err != nil {
				return res, err
			}
		}
		if !o.NoFollowFork && (pl.Flags&abi.PL_FLAG_EXEC != 0 || pl.Flags&abi.PL_FLAG_CHILD != 0) {
			if _, err := s.request(abi.PT_FOLLOW_FORK, w.Pid, 0, 1, nil); err != nil {
				return res, fmt.Errorf("record: PT_FOLLOW_FORK: %w", err)
			}
		}
		if s.syslog > 0 && pl.Flags&(abi.PL_FLAG_EXEC|abi.PL_FLAG_CHILD) != 0 {
			// A new tracee (the program, or a child we follow) starts
			// logging; after an exec this only repeats the request.
			if _, err := s.request(kernel.PT_PTREC_SYSLOG, w.Pid, uint64(s.syslogPgs), int64(s.syslog), nil); err != nil {
				return res, fmt.Errorf("record: PT_PTREC_SYSLOG: %w", err)
			}
		}
		sig := int64(0)
		if pl.Flags&abi.PL_FLAG_SI != 0 && pl.Flags&abi.PL_FLAG_CHILD == 0 {
			sig = int64(st.StopSignal())
			if abi.Signal(sig) == abi.SIGTRAP && pl.Siginfo.Code == abi.TRAP_TRACE && resume == abi.PT_STEP {
				sig = 0 // our own single step
			}
		}
		if s.interrupted {
			if _, err := s.request(abi.PT_KILL, w.Pid, 1, 0, nil); err != nil && !errors.Is(err, abi.ESRCH) {
				return res, err
			}
			continue
		}
		if _, err := s.request(resume, w.Pid, 1, sig, nil); err != nil {
			return res, fmt.Errorf("record: %s: %w", abi.PtraceRequestName(resume), err)
		}
	}
	res.Icount = s.k.Icount()
	exit := &format.Event{Kind: format.KindExit, Icount: s.k.Icount(), Pid: s.child.Pid, Exit: &format.Exit{Status: res.Status, Reason: res.Reason}}
	if err := s.Write(exit); err != nil {
		return res, err
	}
	res.Events = s.events
	return res, s.host.err
}

// reap consumes what a WNOWAIT wait reported: a stop is waited for (the
// requests at a stop need it), and an exited process, before it is reaped,
// gives the syscalls it logged since its last stop (a process killed by
// SIGKILL never stops; threads may run on after another's last stop):
// PT_PTREC_GETSYSLOG on the zombie, a ptrec extension (kernel/syslog.go).
func (s *Session) reap(w kernel.WaitResult) error {
	if !abi.WaitStatus(w.Status).Stopped() && s.syslog > 0 && !s.opts.Untraced {
		// ESRCH (logged): a child we do not trace has no log for us.
		if err := s.syscalls(w.Pid); err != nil && !errors.Is(err, abi.ESRCH) {
			return err
		}
	}
	w2, err := s.k.Wait4(s.tracer, w.Pid, abi.WALL|abi.WNOHANG)
	if err == nil && w2 != w {
		err = fmt.Errorf("reported %+v, then %+v", w, w2)
	}
	if err != nil {
		return fmt.Errorf("record: wait4 %d: %w", w.Pid, err)
	}
	return nil
}

// delta asks for (the next piece of) the memory delta of pid.
func (s *Session) delta(pid int32) (kernel.PtraceResult, error) {
	d, err := s.request(kernel.PT_PTREC_GETDELTA, pid, uint64(s.deltaPages), DeltaGap, s.deltaBuf)
	if err != nil {
		return d, fmt.Errorf("record: PT_PTREC_GETDELTA: %w", err)
	}
	if cap(d.Out) <= maxDeltaBuf {
		s.deltaBuf = d.Out[:0] // reused by the next piece or stop
	}
	return d, nil
}

// syscalls fetches the syscall log of pid and logs it as a syscalls event
// (none when it is empty).
func (s *Session) syscalls(pid int32) error {
	d, err := s.request(kernel.PT_PTREC_GETSYSLOG, pid, 0, 0, s.sysBuf)
	if err != nil {
		return fmt.Errorf("record: PT_PTREC_GETSYSLOG: %w", err)
	}
	if len(d.Out) == 0 {
		return nil
	}
	if cap(d.Out) <= maxDeltaBuf {
		s.sysBuf = d.Out[:0]
	}
	ev := &s.sysEv
	ev.Records = ev.Records[:0]
	kernel.DecodeSyscallLog(d.Out, func(r *kernel.SyscallRecord) {
		ev.Records = append(ev.Records, format.Syscall{Tid: r.Tid, Code: r.Code, Flags: r.Flags, Icount: r.Icount, RIP: r.RIP, Args: r.Args, Ret: r.Ret})
	})
	e := &s.sysEvent
	*e = format.Event{Kind: format.KindSyscalls, Icount: s.k.Icount(), Pid: pid, Syscalls: ev}
	return s.Write(e)
}

// writeDelta logs a PT_PTREC_GETDELTA output as a MemDelta event (none
// for an empty delta).
func (s *Session) writeDelta(pid, tid int32, out []byte) error {
	if len(out) == 0 {
		return nil
	}
	md := &s.md
	md.Ranges = md.Ranges[:0]
	kernel.DecodeDelta(out, func(addr uint64, data []byte) {
		md.Ranges = append(md.Ranges, format.MemRange{Addr: addr, Data: data})
	})
	ev := &s.mdEv
	*ev = format.Event{Kind: format.KindMemDelta, Icount: s.k.Icount(), Pid: pid, Tid: tid, Mem: md}
	err := s.Write(ev)
	clear(md.Ranges) // keep no guest bytes alive
	return err
}

// RegsRecord builds a trace register record from struct reg bytes and the
// fs/gs bases.
func RegsRecord(reg, bases []byte) format.Regs {
	var r abi.Reg
	var out format.Regs
	if len(reg) < abi.RegSize {
		return out
	}
	r.Unmarshal(reg)
	out = format.Regs{r.R15, r.R14, r.R13, r.R12, r.R11, r.R10, r.R9, r.R8, r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rcx, r.Rax,
		uint64(r.Trapno), uint64(r.Fs), uint64(r.Gs), uint64(r.Err), uint64(r.Es), uint64(r.Ds), r.Rip, r.Cs, r.Rflags, r.Rsp, r.Ss}
	if len(bases) >= 8 {
		for i := 0; i < 8; i++ {
			out[format.RegFSBase] |= uint64(bases[i]) << (8 * i)
		}
	}
	return out
}
