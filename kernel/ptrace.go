package kernel

import (
	"encoding/binary"
	"fmt"
	"log/slog"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// ptrec's machine-dependent ptrace extensions (requests >= PT_FIRSTMACH that
// FreeBSD leaves free; documented as ptrec's ABI).
const (
	// PT_PTREC_GETDELTA returns (in Out) the memory delta of the process
	// since its previous PT_PTREC_GETDELTA, encoded by EncodeDelta. data is
	// the gap of machine.Memory.CollectDelta, 0 to PtrecMaxDeltaGap: 0
	// reports exactly the bytes that changed, a larger gap merges changed
	// bytes fewer than gap apart into one range. addr is a page budget: 0
	// collects every changed page; n > 0 collects at most n of them, lowest
	// addresses first, leaves the others for the next call and returns how
	// many are left (so a debugger fetches a large delta in bounded pieces).
	// A guest debugger, which gets the delta in its memory, passes its
	// buffer instead (guestDelta).
	PT_PTREC_GETDELTA = abi.PT_PTREC_GETDELTA
	// PT_PTREC_GETBASES returns fs_base and gs_base of the thread (16 bytes).
	PT_PTREC_GETBASES = abi.PT_PTREC_GETBASES
	// PT_PTREC_ICOUNT returns the thread's retired-instruction count.
	PT_PTREC_ICOUNT = abi.PT_PTREC_ICOUNT
	// PT_PTREC_GETSTOP returns (in Out, abi.PtrecStopSize bytes) what a
	// debugger asks at every stop, in one request: the thread's struct
	// ptrace_lwpinfo as PT_LWPINFO with data = abi.PtraceLwpinfoSize
	// returns it, its struct reg as PT_GETREGS, and fs_base and gs_base as
	// PT_PTREC_GETBASES (abi.PtrecStopRegOff, abi.PtrecStopBasesOff). addr
	// and data are ignored. A 32-bit tracer gets EINVAL (the layout is the
	// amd64 one only).
	PT_PTREC_GETSTOP = abi.PT_PTREC_GETSTOP
)

// guestDelta is PT_PTREC_GETDELTA for a tracer with memory (a guest
// debugger), whose addr is its buffer: data is the buffer's size in bytes,
// at least PtrecDeltaPageBytes; the delta is collected with gap
// PtrecGuestDeltaGap over at most data/PtrecDeltaPageBytes changed pages
// (their encoding always fits), written at addr, and the call returns its
// length in bytes (0: nothing changed is left). The buffer is checked
// before anything is collected, so EFAULT loses no change.
func guestDelta(p *Process, r *PtraceRequest) (PtraceResult, error) {
	if r.Data < PtrecDeltaPageBytes {
		return PtraceResult{}, abi.EINVAL
	}
	if p.mem == nil {
		return PtraceResult{}, nil
	}
	pages := min(int64(p.mem.DirtyPages()), r.Data/PtrecDeltaPageBytes)
	if pages == 0 {
		return PtraceResult{}, nil
	}
	// Probe a byte in every page of the largest output and its last one.
	size := uint64(pages * PtrecDeltaPageBytes)
	for off := uint64(0); off < size; off += machine.PageSize {
		if err := r.Mem.WriteAt(r.Addr+off, []byte{0}); err != nil {
			return PtraceResult{}, abi.EFAULT
		}
	}
	if err := r.Mem.WriteAt(r.Addr+size-1, []byte{0}); err != nil {
		return PtraceResult{}, abi.EFAULT
	}
	out, _ := AppendDeltaMax(nil, p.mem, PtrecGuestDeltaGap, int(pages))
	if len(out) > 0 {
		if err := r.Mem.WriteAt(r.Addr, out); err != nil {
			return PtraceResult{}, abi.EFAULT // checked above: not reached
		}
	}
	return PtraceResult{Ret: int64(len(out))}, nil
}

// PtrecDeltaPageBytes bounds the encoding of one changed page in a delta
// (EncodeDelta with a gap of at least 16: at most 241 ranges of 16-byte
// headers and 4096-16·240 changed bytes); PtrecGuestDeltaGap is the gap of
// a guest debugger's PT_PTREC_GETDELTA.
const (
	PtrecDeltaPageBytes = machine.PageSize + 16
	PtrecGuestDeltaGap  = 16
)

// PtrecMaxDeltaGap is the largest gap PT_PTREC_GETDELTA accepts, and
// PtrecMaxDeltaPages the largest page budget.
const (
	PtrecMaxDeltaGap   = machine.PageSize
	PtrecMaxDeltaPages = 1 << 30
)

// tdbStepSyscall is a ptrec-private td_dbgflags bit: the thread executed a
// syscall instruction with PSL_T set. amd64's syscall handler clears PSL_T
// at entry and the SIGTRAP (TRAP_TRACE) is raised after syscallret, so the
// step ends on the instruction after the syscall (FREEBSD-PTRACE.md §8).
const tdbStepSyscall DbgFlag = 0x10000

// PtraceCaller is who makes a request: a guest thread, or a debugger outside
// the machine (T nil), as process P.
type PtraceCaller struct {
	P     *Process
	T     *Thread
	ILP32 bool // the caller is a 32-bit process (COMPAT_FREEBSD32 layouts)
}

// TracerMem is the tracer's side of a transfer: the guest tracer's memory,
// or a buffer of an outside debugger.
type TracerMem interface {
	ReadAt(addr uint64, b []byte) error
	WriteAt(addr uint64, b []byte) error
}

// BufferMem is TracerMem over a Go slice: address a is b[a].
type BufferMem []byte

// ReadAt implements TracerMem.ReadAt.
func (m BufferMem) ReadAt(addr uint64, b []byte) error {
	if addr > uint64(len(m)) || uint64(len(b)) > uint64(len(m))-addr {
		return abi.EFAULT
	}
	copy(b, m[addr:])
	return nil
}

// WriteAt implements TracerMem.WriteAt.
func (m BufferMem) WriteAt(addr uint64, b []byte) error {
	if addr > uint64(len(m)) || uint64(len(b)) > uint64(len(m))-addr {
		return abi.EFAULT
	}
	copy(m[addr:], b)
	return nil
}

// PtraceRequest is one kern_ptrace call. In holds the structure sys_ptrace
// copied in (struct reg, fpreg, dbreg, ptrace_io_desc, ptrace_vm_entry) in
// the caller's layout; Mem is the tracer memory PT_IO, PT_GETLWPLIST and
// PT_VM_ENTRY move data to and from.
type PtraceRequest struct {
	Op   int
	Pid  int32
	Addr uint64
	Data int64
	In   []byte
	Mem  TracerMem
	// Buf, if not nil, is the caller's buffer for the structure copied out:
	// when it has room, Out is Buf[:n] (a caller that reuses one Buf makes
	// requests without allocating; Out is then valid until Buf's next use).
	Buf []byte
}

// outBuf returns n bytes for a request's output: r.Buf's storage when it has
// room, else a fresh slice.
func (r *PtraceRequest) outBuf(n int) []byte {
	if cap(r.Buf) >= n {
		return r.Buf[:n]
	}
	return make([]byte, n)
}

// PtraceResult is the value returned (td_retval[0]) and the structure to
// copy out (Out), if any.
type PtraceResult struct {
	Ret int64
	Out []byte
}

// PtraceTrace is the structured form of the seed's KTR trace points.
type PtraceTrace struct {
	Op     int
	Pid    int32
	Tid    int32
	Addr   uint64
	Data   int64
	Errno  abi.Errno
	Detail string
}

// Ptrace is kern_ptrace: the lookup, the visibility and debug checks, the
// permission switch and the request switch, in the seed's order.
func (k *Kernel) Ptrace(c PtraceCaller, r *PtraceRequest) (PtraceResult, error) {
	var td2 *Thread
	res, err := k.ptrace(c, r, &td2)
	if k.Observer != nil || k.log != nil {
		// The seed's CTR points, after the request (a deferred closure
		// cost a recorder's every request more than the rest of the
		// lookup).
		k.ktr(r, td2, err)
	}
	return res, err
}

// ptrace is Ptrace without the trace point; *td2p is the thread the request
// resolved to (nil if it failed before that).
func (k *Kernel) ptrace(c PtraceCaller, r *PtraceRequest, td2p **Thread) (res PtraceResult, err error) {
	var td2 *Thread
	req := r.Op
	curp := c.P

	// Look up the target: the caller itself, a pid, or a thread id.
	var p *Process
	var tid int32
	if req == abi.PT_TRACE_ME {
		p = curp
	} else if r.Pid <= abi.PID_MAX {
		if p = k.pfind(r.Pid); p == nil {
			if req == PT_PTREC_GETSYSLOG {
				return k.zombieSyslog(c, r) // the log outlives its process (syslog.go)
			}
			return res, abi.ESRCH
		}
	} else {
		t := k.tdfind(r.Pid)
		if t == nil {
			return res, abi.ESRCH
		}
		p, td2, tid = t.p, t, r.Pid
		*td2p = td2
	}
	if p.flag&P_WEXIT != 0 {
		return res, abi.ESRCH
	}
	if err := k.pCansee(curp, p); err != nil {
		return res, err
	}
	if err := k.pCandebug(curp, p); err != nil {
		return res, err
	}
	if p.flag&P_SYSTEM != 0 {
		return res, abi.EINVAL
	}
	if td2 == nil {
		if p.flag&P_STOPPED_TRACE != 0 && p.xthread != nil {
			td2 = p.xthread
		} else {
			td2 = p.firstThread()
		}
		if td2 == nil {
			return res, abi.ESRCH
		}
		tid = td2.Tid
		*td2p = td2
	}
	wrap32 := c.ILP32
	// Every guest is a 64-bit process, so a 32-bit tracer is never "safe".
	safe := false

	if err := k.ptraceCheck(c, p, tid, req); err != nil {
		return res, err
	}

	switch req {
	case abi.PT_TRACE_ME:
		p.flag |= P_TRACED
		if p.flag&P_PPWAIT != 0 {
			p.flag |= P_PPTRACE
		}
		p.oppid = p.pptr.Pid
		return res, nil

	case abi.PT_ATTACH:
		p.flag |= P_TRACED
		p.oppid = p.pptr.Pid
		if p.pptr != curp {
			k.reparent(p, curp)
		}
		k.ptraceResume(p, td2, req, int32(abi.SIGSTOP))
		return res, nil

	case abi.PT_CLEARSTEP:
		td2.cpu.SetFlags(td2.cpu.Flags() &^ machine.FlagTF)
		return res, nil

	case abi.PT_SETSTEP:
		td2.cpu.SetFlags(td2.cpu.Flags() | machine.FlagTF)
		return res, nil

	case abi.PT_SUSPEND:
		td2.dbgflags |= TDB_SUSPEND
		return res, nil

	case abi.PT_RESUME:
		td2.dbgflags &^= TDB_SUSPEND
		return res, nil

	case abi.PT_FOLLOW_FORK:
		if r.Data != 0 {
			p.flag |= P_FOLLOWFORK
		} else {
			p.flag &^= P_FOLLOWFORK
		}
		return res, nil

	case abi.PT_STEP, abi.PT_CONTINUE, abi.PT_TO_SCE, abi.PT_TO_SCX, abi.PT_SYSCALL, abi.PT_DETACH, abi.PT_KILL:
		data := r.Data
		if req == abi.PT_KILL {
			data = int64(abi.SIGKILL)
		}
		if data < 0 || data > abi.SIG_MAXSIG {
			return res, abi.EINVAL
		}
		switch req {
		case abi.PT_STEP:
			td2.cpu.SetFlags(td2.cpu.Flags() | machine.FlagTF)
		case abi.PT_CONTINUE, abi.PT_TO_SCE, abi.PT_TO_SCX, abi.PT_SYSCALL:
			if r.Addr != 1 {
				td2.cpu.RIP = r.Addr
			}
			switch req {
			case abi.PT_TO_SCE:
				p.stops |= S_PT_SCE
			case abi.PT_TO_SCX:
				p.stops |= S_PT_SCX
			case abi.PT_SYSCALL:
				p.stops |= S_PT_SCE | S_PT_SCX
			}
		case abi.PT_DETACH:
			// Clear P_TRACED before reparenting, so the detached
			// process is not left on the debugger's orphan list.
			p.flag &^= P_TRACED | P_WAITED | P_FOLLOWFORK
			if p.oppid != p.pptr.Pid {
				p.pptr.pending.take(int32(abi.SIGCHLD))
				pp := k.realParent(p)
				k.reparent(p, pp)
				if pp == k.initp {
					p.sigparent = int32(abi.SIGCHLD)
				}
			}
			p.oppid = 0
			p.stops = 0
			p.sclog = nil // the syscall log is the debugger's
		}
		k.ptraceResume(p, td2, req, int32(data))
		return res, nil

	case abi.PT_WRITE_I, abi.PT_WRITE_D:
		td2.dbgflags |= TDB_USERWR
		var b [4]byte
		putLE32(b[:], uint32(r.Data))
		n, _ := k.forceAccess(p, r.Addr, b[:], true)
		if n != 4 {
			return res, abi.ENOMEM
		}
		return res, nil

	case abi.PT_READ_I, abi.PT_READ_D:
		var b [4]byte
		n, _ := k.forceAccess(p, r.Addr, b[:], false)
		if n != 4 {
			return res, abi.ENOMEM
		}
		res.Ret = int64(int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24))
		return res, nil

	case abi.PT_IO:
		return k.ptraceIO(p, td2, r, wrap32)

	case abi.PT_GETREGS:
		return k.getRegs(td2, wrap32, r), nil

	case abi.PT_SETREGS:
		if wrap32 && !safe {
			return res, abi.EINVAL
		}
		td2.dbgflags |= TDB_USERWR
		return res, k.setRegs(td2, r.In)

	case abi.PT_GETFPREGS:
		var fx [512]byte
		td2.cpu.FXSave(&fx)
		if wrap32 {
			var f abi.FPReg
			f.Unmarshal(fx[:])
			f32 := abi.FPReg32FromFXSAVE(&f, 0x33, 0x2b)
			out := make([]byte, abi.FPReg32Size)
			f32.Marshal(out)
			return PtraceResult{Out: out}, nil
		}
		return PtraceResult{Out: fx[:]}, nil

	case abi.PT_SETFPREGS:
		if wrap32 && !safe {
			return res, abi.EINVAL
		}
		if len(r.In) < abi.FPRegSize {
			return res, abi.EFAULT
		}
		td2.dbgflags |= TDB_USERWR
		var fx [512]byte
		copy(fx[:], r.In)
		// set_fpregs: mxcsr_mask is ANDed with the CPU's mask.
		var cur [512]byte
		td2.cpu.FXSave(&cur)
		copy(fx[28:32], cur[28:32])
		if err := td2.cpu.FXRstor(&fx); err != nil {
			return res, abi.EINVAL
		}
		return res, nil

	case abi.PT_GETDBREGS:
		var d abi.DBReg
		for i := 0; i < 8; i++ {
			if i != 4 && i != 5 {
				d.Dr[i] = td2.cpu.DR[i]
			}
		}
		if wrap32 {
			d32 := abi.DBReg32Of(&d)
			out := make([]byte, abi.DBReg32Size)
			d32.Marshal(out)
			return PtraceResult{Out: out}, nil
		}
		out := make([]byte, abi.DBRegSize)
		d.Marshal(out)
		return PtraceResult{Out: out}, nil

	case abi.PT_SETDBREGS:
		if wrap32 && !safe {
			return res, abi.EINVAL
		}
		td2.dbgflags |= TDB_USERWR
		return res, setDbregs(td2, r.In)

	case abi.PT_LWPINFO:
		return k.lwpinfo(td2, r, wrap32)

	case abi.PT_GETNUMLWPS:
		res.Ret = int64(p.liveThreads())
		return res, nil

	case abi.PT_GETLWPLIST:
		if r.Data <= 0 {
			return res, abi.EINVAL
		}
		n := 0
		var buf []byte
		for _, t := range p.threads {
			if t.exited || int64(n) >= r.Data {
				continue
			}
			buf = appendU32(buf, uint32(t.Tid))
			n++
		}
		if r.Mem == nil {
			return res, abi.EFAULT
		}
		if err := r.Mem.WriteAt(r.Addr, buf); err != nil {
			return res, abi.EFAULT
		}
		res.Ret = int64(n)
		return res, nil

	case abi.PT_VM_TIMESTAMP:
		res.Ret = int64(p.vm.timestamp)
		return res, nil

	case abi.PT_VM_ENTRY:
		return k.vmEntry(p, r, wrap32)

	default:
		if req >= abi.PT_FIRSTMACH {
			return k.cpuPtrace(p, td2, r, wrap32)
		}
		return res, abi.EINVAL
	}
}

// ptraceCheck is the seed's permission switch.
func (k *Kernel) ptraceCheck(c PtraceCaller, p *Process, tid int32, req int) error {
	curp := c.P
	switch req {
	case abi.PT_TRACE_ME:
		if p.flag&P_TRACED != 0 {
			return abi.EBUSY
		}
		if p.pptr == k.initp {
			return abi.EPERM
		}
		return nil
	case abi.PT_ATTACH:
		if p == curp {
			return abi.EINVAL
		}
		if p.flag&P_TRACED != 0 {
			return abi.EBUSY
		}
		if curp.flag&P_TRACED != 0 {
			for pp := curp.pptr; pp != nil; pp = pp.pptr {
				if pp == p {
					return abi.EINVAL
				}
			}
		}
		return nil
	case abi.PT_CLEARSTEP:
		if c.T != nil && c.T.Tid == tid {
			return nil
		}
	}
	if p.flag&P_TRACED == 0 {
		return abi.EPERM
	}
	if p.pptr != curp {
		return abi.EBUSY
	}
	if p.flag&(P_STOPPED_SIG|P_STOPPED_TRACE) == 0 || p.flag&P_WAITED == 0 {
		return abi.EBUSY
	}
	return nil
}

// pCansee is p_cansee: there are no jails and uids are visible to all.
func (k *Kernel) pCansee(cur, p *Process) error { return nil }

// pCandebug is p_candebug: self, or the same credentials without set-id,
// or root.
func (k *Kernel) pCandebug(cur, p *Process) error {
	if cur == p {
		return nil
	}
	if cur.cred.Euid == 0 {
		if p.flag&P_INEXEC != 0 {
			return abi.EBUSY
		}
		return nil
	}
	tc, pc := cur.cred, p.cred
	if pc.Euid != tc.Euid || pc.Ruid != tc.Euid || pc.Suid != tc.Euid {
		return abi.EPERM
	}
	if !groupSubset(pc, tc) {
		return abi.EPERM
	}
	if p.flag&P_SUGID != 0 {
		return abi.EPERM
	}
	if p.flag&P_INEXEC != 0 {
		return abi.EBUSY
	}
	return nil
}

func groupSubset(target, cur Credentials) bool {
	has := func(g uint32) bool {
		if g == cur.Egid {
			return true
		}
		for _, x := range cur.Groups {
			if x == g {
				return true
			}
		}
		return false
	}
	if !has(target.Egid) || !has(target.Rgid) || !has(target.Sgid) {
		return false
	}
	for _, g := range target.Groups {
		if !has(g) {
			return false
		}
	}
	return true
}

// ptraceResume is the seed's "sendsig" tail of the resume requests.
func (k *Kernel) ptraceResume(p *Process, td2 *Thread, req int, data int32) {
	p.xsig = data
	p.xthread = nil
	if p.flag&(P_STOPPED_SIG|P_STOPPED_TRACE) != 0 {
		td2.dbgflags &^= TDB_XSIG
		td2.xsig = data
		if td2.stopKind == stopSyscall || td2.stopKind == stopChild {
			// Fixed FreeBSD: a signal given at a syscall, exec or
			// fork stop is not lost. It is queued now, flagged so it
			// is not reported again (KSI_PTRACE); SIGKILL ends the
			// process before the syscall runs.
			td2.xsig = 0
			switch {
			case data == int32(abi.SIGKILL):
				k.exitProcess(p, waitSignaled(data, false))
				return
			case data > 0 && data <= abi.NSIG:
				td2.pending.add(Siginfo{Signo: data, Code: abi.SI_USER, Pid: p.pptr.Pid, Uid: p.pptr.cred.Ruid, ptrace: true}, false)
			}
		}
		if req == abi.PT_DETACH {
			for _, t := range p.threads {
				t.dbgflags &^= TDB_SUSPEND
			}
		}
		p.flag &^= P_STOPPED_TRACE | P_STOPPED_SIG | P_WAITED
		k.resumeProcess(p)
		if req == abi.PT_ATTACH {
			k.postSignal(p, nil, Siginfo{Signo: data, Code: abi.SI_USER, Pid: p.pptr.Pid})
		}
	} else if data != 0 {
		k.postSignal(p, nil, Siginfo{Signo: data, Code: abi.SI_USER})
	}
}

// ptracestop stops the process for its debugger: FreeBSD's ptracestop.
// The thread resumes (checkSignals → afterStop) when the debugger resumes it.
func (k *Kernel) ptracestop(t *Thread, sig abi.Signal, kind stopKind) {
	p := t.p
	t.dbgflags |= TDB_XSIG
	t.xsig = int32(sig)
	t.stopKind = kind
	if kind != stopSignal {
		// Fixed FreeBSD: no stale siginfo at non-signal stops.
		t.dbgksi = Siginfo{}
	}
	p.xsig = int32(sig)
	p.xthread = t
	p.flag |= P_STOPPED_SIG | P_STOPPED_TRACE
	p.flag &^= P_WAITED
	for _, o := range p.threads {
		k.removeRunnable(o)
	}
	k.notifyParent(p, abi.CLD_TRAPPED, int32(sig))
}

// stopevent is the procfs-style stop of the seed: the process is held at
// event until ContinueStopEvent.
func (k *Kernel) stopevent(p *Process, event uint32, val uint32) {
	p.step = true
	p.stype = event
	if event != S_EXIT {
		p.xsig = int32(val) // S_EXIT keeps the exit status (seed)
	}
	p.xthread = nil
	if k.log != nil {
		k.log.Debug("stopevent", slog.Int("pid", int(p.Pid)), slog.Uint64("event", uint64(event)), slog.Uint64("val", uint64(val)))
	}
	for _, t := range p.threads {
		k.removeRunnable(t)
	}
}

// SetStopEvents sets the procfs stop-event mask (PIOCBIS): the process will
// be held at each S_* event in mask.
func (k *Kernel) SetStopEvents(p *Process, mask uint32) {
	p.stops = p.stops&^sAllStops | mask&sAllStops
}

// StopEvent reports whether p is held in stopevent() and at which event.
func (k *Kernel) StopEvent(p *Process) (held bool, event uint32) { return p.step, p.stype }

// ContinueStopEvent releases a process held in stopevent() (PIOCCONT).
func (k *Kernel) ContinueStopEvent(p *Process) {
	if !p.step {
		return
	}
	p.step = false
	p.stype = 0
	k.resumeProcess(p)
}

// getRegs is fill_regs.
func (k *Kernel) getRegs(t *Thread, wrap32 bool, req *PtraceRequest) PtraceResult {
	c := t.cpu
	g := &c.Regs
	if wrap32 {
		r := abi.Reg32{
			Edi: uint32(g[machine.RDI]), Esi: uint32(g[machine.RSI]), Ebp: uint32(g[machine.RBP]),
			Ebx: uint32(g[machine.RBX]), Edx: uint32(g[machine.RDX]), Ecx: uint32(g[machine.RCX]),
			Eax: uint32(g[machine.RAX]), Eip: uint32(c.RIP), Cs: 0x33, Eflags: uint32(c.Flags()),
			Esp: uint32(g[machine.RSP]), Ss: 0x2b,
		}
		out := req.outBuf(abi.Reg32Size)
		r.Marshal(out)
		return PtraceResult{Out: out}
	}
	r := RegsOf(t)
	out := req.outBuf(abi.RegSize)
	r.Marshal(out)
	return PtraceResult{Out: out}
}

// RegsOf returns the thread's registers as FreeBSD's struct reg.
func RegsOf(t *Thread) abi.Reg {
	c := t.cpu
	g := &c.Regs
	return abi.Reg{
		R15: g[machine.R15], R14: g[machine.R14], R13: g[machine.R13], R12: g[machine.R12],
		R11: g[machine.R11], R10: g[machine.R10], R9: g[machine.R9], R8: g[machine.R8],
		Rdi: g[machine.RDI], Rsi: g[machine.RSI], Rbp: g[machine.RBP], Rbx: g[machine.RBX],
		Rdx: g[machine.RDX], Rcx: g[machine.RCX], Rax: g[machine.RAX],
		Rip: c.RIP, Cs: 0x33, Rflags: c.Flags(), Rsp: g[machine.RSP], Ss: 0x2b,
	}
}

// pslUserChange is PSL_USERCHANGE: the rflags bits a debugger may change.
const pslUserChange = 0x00254DD5

// setRegs is set_regs with its EFL_SECURE and CS checks.
func (k *Kernel) setRegs(t *Thread, in []byte) error {
	if len(in) < abi.RegSize {
		return abi.EFAULT
	}
	var r abi.Reg
	r.Unmarshal(in)
	c := t.cpu
	rflags := r.Rflags & 0xffffffff
	if (rflags^c.Flags())&^pslUserChange != 0 {
		return abi.EINVAL
	}
	if r.Cs&3 != 3 || r.Cs != 0x33 {
		return abi.EINVAL
	}
	g := &c.Regs
	g[machine.R15], g[machine.R14], g[machine.R13], g[machine.R12] = r.R15, r.R14, r.R13, r.R12
	g[machine.R11], g[machine.R10], g[machine.R9], g[machine.R8] = r.R11, r.R10, r.R9, r.R8
	g[machine.RDI], g[machine.RSI], g[machine.RBP], g[machine.RBX] = r.Rdi, r.Rsi, r.Rbp, r.Rbx
	g[machine.RDX], g[machine.RCX], g[machine.RAX] = r.Rdx, r.Rcx, r.Rax
	g[machine.RSP] = r.Rsp
	c.RIP = r.Rip
	c.SetFlags(rflags)
	return nil
}

// setDbregs is set_dbregs with its validity checks.
func setDbregs(t *Thread, in []byte) error {
	if len(in) < abi.DBRegSize {
		return abi.EFAULT
	}
	var d abi.DBReg
	d.Unmarshal(in)
	dr7 := d.Dr[7]
	for i := 0; i < 4; i++ {
		if abi.DR7Access(dr7, i) == 2 {
			return abi.EINVAL
		}
	}
	if d.Dr[6]>>32 != 0 || dr7>>32 != 0 {
		return abi.EINVAL
	}
	for i := 0; i < 4; i++ {
		if abi.DR7Enabled(dr7, i) && d.Dr[i] >= 0x0000800000000000 {
			return abi.EINVAL
		}
	}
	for i := 0; i < 8; i++ {
		if i != 4 && i != 5 {
			t.cpu.DR[i] = d.Dr[i]
		}
	}
	return nil
}

// ptraceIO is PT_IO: proc_rwmem between the tracee and the tracer's buffer.
func (k *Kernel) ptraceIO(p *Process, td2 *Thread, r *PtraceRequest, wrap32 bool) (PtraceResult, error) {
	var d abi.PtraceIoDesc
	if wrap32 {
		if len(r.In) < abi.PtraceIoDesc32Size {
			return PtraceResult{}, abi.EFAULT
		}
		d.Unmarshal32(r.In)
	} else {
		if len(r.In) < abi.PtraceIoDescSize {
			return PtraceResult{}, abi.EFAULT
		}
		d.Unmarshal(r.In)
	}
	var write bool
	switch d.Op {
	case abi.PIOD_READ_D, abi.PIOD_READ_I:
	case abi.PIOD_WRITE_D, abi.PIOD_WRITE_I:
		write = true
		td2.dbgflags |= TDB_USERWR
	default:
		return PtraceResult{}, abi.EINVAL
	}
	if r.Mem == nil {
		return PtraceResult{}, abi.EFAULT
	}
	const maxIO = 1 << 30
	if d.Len > maxIO {
		d.Len = maxIO
	}
	done, err := k.procRWMem(p, r.Mem, &d, write)
	// piod_len -= uio_resid, also after a fault part-way (the seed); the
	// syscall layer copies the structure out only on success.
	d.Len = done
	var out []byte
	if wrap32 {
		out = make([]byte, abi.PtraceIoDesc32Size)
		d.Marshal32(out)
	} else {
		out = make([]byte, abi.PtraceIoDescSize)
		d.Marshal(out)
	}
	return PtraceResult{Out: out}, err
}

// procRWMem is proc_rwmem for PT_IO: it moves d.Len bytes between the
// tracee at d.Offs (copy-on-write for writes, so text can take a
// breakpoint; decoded code is invalidated) and the tracer's buffer at
// d.Addr, and returns how many bytes it moved before any fault (EFAULT).
func (k *Kernel) procRWMem(p *Process, mem TracerMem, d *abi.PtraceIoDesc, write bool) (uint64, error) {
	done := uint64(0)
	var buf [4096]byte
	for done < d.Len {
		n := min(d.Len-done, uint64(len(buf)))
		chunk := buf[:n]
		if write {
			if err := mem.ReadAt(d.Addr+done, chunk); err != nil {
				return done, abi.EFAULT
			}
			m, _ := k.forceAccess(p, d.Offs+done, chunk, true)
			done += uint64(m)
			if uint64(m) < n {
				return done, abi.EFAULT
			}
		} else {
			m, _ := k.forceAccess(p, d.Offs+done, chunk, false)
			if m > 0 {
				if err := mem.WriteAt(d.Addr+done, chunk[:m]); err != nil {
					return done, abi.EFAULT
				}
			}
			done += uint64(m)
			if uint64(m) < n {
				return done, abi.EFAULT
			}
		}
	}
	return done, nil
}

// lwpinfo is PT_LWPINFO.
func (k *Kernel) lwpinfo(t *Thread, r *PtraceRequest, wrap32 bool) (PtraceResult, error) {
	data := r.Data
	max, siEnd := int64(abi.PtraceLwpinfoSize), int64(abi.PtraceLwpinfoSiginfoEnd)
	if wrap32 {
		max, siEnd = abi.PtraceLwpinfo32Size, abi.PtraceLwpinfo32SiginfoEnd
	}
	if data <= 0 || data > max {
		return PtraceResult{}, abi.EINVAL
	}
	pl := LwpinfoOf(t)
	if data < siEnd {
		pl.Flags &^= abi.PL_FLAG_SI
		pl.Siginfo = abi.FBSDSiginfo{}
	}
	var out []byte
	if wrap32 {
		out = r.outBuf(abi.PtraceLwpinfo32Size)
		pl.Marshal32(out)
	} else {
		out = r.outBuf(abi.PtraceLwpinfoSize)
		pl.Marshal(out)
	}
	return PtraceResult{Out: out[:data]}, nil
}

// LwpinfoOf fills a struct ptrace_lwpinfo for t (with PL_FLAG_SI whenever
// siginfo is available).
func LwpinfoOf(t *Thread) abi.PtraceLwpinfo {
	pl := abi.PtraceLwpinfo{Lwpid: t.Tid, Tdname: t.name}
	if t.dbgflags&TDB_XSIG != 0 {
		pl.Event = abi.PL_EVENT_SIGNAL
		if t.dbgksi.Signo != 0 {
			pl.Flags |= abi.PL_FLAG_SI
			si := t.dbgksi
			pl.Siginfo = abi.FBSDSiginfo{Signo: si.Signo, Errno: si.Errno, Code: si.Code, Pid: si.Pid, Uid: si.Uid,
				Status: si.Status, Addr: si.Addr, Value: si.Value, Trapno: si.Trapno}
		}
	}
	if t.dbgflags&TDB_SCE != 0 {
		pl.Flags |= abi.PL_FLAG_SCE
	} else if t.dbgflags&TDB_SCX != 0 {
		pl.Flags |= abi.PL_FLAG_SCX
	}
	if t.dbgflags&TDB_EXEC != 0 {
		pl.Flags |= abi.PL_FLAG_EXEC
	}
	if t.dbgflags&TDB_FORK != 0 {
		pl.Flags |= abi.PL_FLAG_FORKED
		pl.ChildPid = t.dbgForked
	}
	if t.dbgflags&TDB_CHILD != 0 {
		pl.Flags |= abi.PL_FLAG_CHILD
	}
	pl.Sigmask = abi.Sigset(t.sigmask)
	pl.Siglist = abi.Sigset(t.pending.set() | t.p.pending.set())
	if t.inSyscall {
		pl.SyscallCode = t.sc.code
		pl.SyscallNarg = int32(t.sc.narg)
	}
	return pl
}

// vmEntry is PT_VM_ENTRY (ptrace_vm_entry).
func (k *Kernel) vmEntry(p *Process, r *PtraceRequest, wrap32 bool) (PtraceResult, error) {
	var e abi.PtraceVmEntry
	if wrap32 {
		if len(r.In) < abi.PtraceVmEntry32Size {
			return PtraceResult{}, abi.EFAULT
		}
		e.Unmarshal32(r.In)
	} else {
		if len(r.In) < abi.PtraceVmEntrySize {
			return PtraceResult{}, abi.EFAULT
		}
		e.Unmarshal(r.In)
	}
	regions := p.vm.regions
	idx := int(e.Entry)
	if idx < 0 || idx > len(regions) {
		return PtraceResult{}, abi.EINVAL
	}
	if idx == len(regions) {
		return PtraceResult{}, abi.ENOENT
	}
	reg := regions[idx]
	e.Entry = int32(idx + 1)
	e.Timestamp = p.vm.timestamp
	e.Start = reg.Start
	e.End = reg.End - 1
	e.Offset = reg.Offset
	e.Prot = uint32(reg.Prot)
	e.Fileid = -1
	e.Fsid = ^uint32(0)
	pathlen := e.Pathlen
	if pathlen != 0 {
		e.Pathlen = 0
		if reg.Path != "" {
			e.Fileid = reg.FileID
			e.Fsid = reg.FsID
			need := uint32(len(reg.Path) + 1)
			e.Pathlen = need
			if need > pathlen {
				return PtraceResult{}, abi.ENAMETOOLONG
			}
			if r.Mem == nil {
				return PtraceResult{}, abi.EFAULT
			}
			if err := r.Mem.WriteAt(e.Path, append([]byte(reg.Path), 0)); err != nil {
				return PtraceResult{}, abi.EFAULT
			}
		}
	}
	var out []byte
	if wrap32 {
		out = make([]byte, abi.PtraceVmEntry32Size)
		e.Marshal32(out)
	} else {
		out = make([]byte, abi.PtraceVmEntrySize)
		e.Marshal(out)
	}
	return PtraceResult{Out: out}, nil
}

// cpuPtrace is the machine-dependent handler (cpu_ptrace) plus ptrec's
// extensions.
func (k *Kernel) cpuPtrace(p *Process, t *Thread, r *PtraceRequest, wrap32 bool) (PtraceResult, error) {
	req := r.Op
	if !wrap32 && (req == abi.PT_FIRSTMACH || req == abi.PT_FIRSTMACH+1) {
		req += 2 // old aliases of PT_GETXSTATE/PT_SETXSTATE
	}
	switch req {
	case abi.PT_GETXSTATE, abi.PT_SETXSTATE:
		return k.xstatePtrace(p, t, r)
	case abi.PT_I386_GETXMMREGS:
		if !wrap32 {
			break
		}
		var fx [512]byte
		t.cpu.FXSave(&fx)
		return PtraceResult{Out: fx[:]}, nil
	case abi.PT_I386_SETXMMREGS:
		if !wrap32 {
			break
		}
		if len(r.In) < 512 {
			return PtraceResult{}, abi.EFAULT
		}
		var fx [512]byte
		copy(fx[:], r.In)
		if err := t.cpu.FXRstor(&fx); err != nil {
			return PtraceResult{}, abi.EINVAL
		}
		return PtraceResult{}, nil
	case PT_PTREC_GETDELTA:
		if r.Mem != nil {
			return guestDelta(p, r)
		}
		if r.Data < 0 || r.Data > PtrecMaxDeltaGap || r.Addr > PtrecMaxDeltaPages {
			return PtraceResult{}, abi.EINVAL
		}
		out, left := AppendDeltaMax(r.Buf[:0], p.mem, int(r.Data), int(r.Addr))
		return PtraceResult{Out: out, Ret: int64(left)}, nil
	case PT_PTREC_GETBASES:
		out := r.outBuf(16)
		putLE64(out, t.cpu.FSBase)
		putLE64(out[8:], t.cpu.GSBase)
		return PtraceResult{Out: out}, nil
	case PT_PTREC_ICOUNT:
		return PtraceResult{Ret: int64(t.cpu.Icount)}, nil
	case PT_PTREC_GETSTOP:
		if wrap32 {
			return PtraceResult{}, abi.EINVAL
		}
		out := r.outBuf(abi.PtrecStopSize)
		pl := LwpinfoOf(t)
		pl.Marshal(out)
		reg := RegsOf(t)
		reg.Marshal(out[abi.PtrecStopRegOff:])
		putLE64(out[abi.PtrecStopBasesOff:], t.cpu.FSBase)
		putLE64(out[abi.PtrecStopBasesOff+8:], t.cpu.GSBase)
		return PtraceResult{Out: out}, nil
	case PT_PTREC_SYSLOG, PT_PTREC_GETSYSLOG:
		return k.syslogPtrace(p, r)
	}
	return PtraceResult{}, abi.EINVAL
}

// EncodeDelta collects the memory delta of mem since the previous call, with
// ranges merged across gaps shorter than gap (machine.Memory.CollectDelta),
// as a sequence of (addr u64, len u64, bytes).
func EncodeDelta(mem *machine.Memory, gap int) []byte {
	out, _ := AppendDeltaMax(nil, mem, gap, 0)
	return out
}

// AppendDeltaMax is EncodeDelta appending to out, over at most maxPages of
// the changed pages (0: all, machine.Memory.CollectDeltaPiecesMax); it
// returns the delta and how many changed pages are left.
func AppendDeltaMax(out []byte, mem *machine.Memory, gap, maxPages int) ([]byte, int) {
	if mem == nil {
		return out, 0
	}
	n := mem.DirtyPages()
	if maxPages > 0 {
		n = min(n, maxPages)
	}
	if n >= 64 && cap(out)-len(out) < n*(machine.PageSize+16) {
		// A large delta: size it once rather than grow it by doubling
		// (most of a page's bytes, one range header per page).
		out = append(make([]byte, 0, len(out)+n*(machine.PageSize+16)), out...)
	}
	hdr := -1 // offset of the current range's header
	patch := func() {
		if hdr >= 0 {
			putLE64(out[hdr+8:], uint64(len(out)-hdr-16))
		}
	}
	left := mem.CollectDeltaPiecesMax(gap, maxPages, func(addr uint64, data []byte, start bool) {
		if start {
			patch()
			hdr = len(out)
			out = appendU64(out, addr)
			out = appendU64(out, 0)
		}
		out = append(out, data...)
	})
	patch()
	return out, left
}

// DecodeDelta calls fn for each range of an EncodeDelta encoding; it stops at
// malformed input and reports whether the input was well formed.
func DecodeDelta(b []byte, fn func(addr uint64, data []byte)) bool {
	for len(b) > 0 {
		if len(b) < 16 {
			return false
		}
		addr, n := le64(b), le64(b[8:])
		b = b[16:]
		if n > uint64(len(b)) {
			return false
		}
		fn(addr, b[:n])
		b = b[n:]
	}
	return true
}

// AppendPatch appends to dst the bytes of full that differ from base (both
// the same length) as runs of (uvarint skip, uvarint length, bytes), skip
// counting from the end of the previous run; runs closer than 4 bytes are
// merged. ApplyPatch(base, patch) rebuilds full. A recorder logs a request's
// output this way against what its stop event already says.
func AppendPatch(dst, base, full []byte) []byte {
	base = base[:len(full)]
	last := 0
	for i := 0; i < len(full); {
		// Skip what is equal: 32 bytes (one memequal), 8 or 1 at a time.
		if len(full)-i >= 32 && string(full[i:i+32]) == string(base[i:i+32]) {
			i += 32
			continue
		}
		if len(full)-i >= 8 && le64(full[i:]) == le64(base[i:]) {
			i += 8
			continue
		}
		if full[i] == base[i] {
			i++
			continue
		}
		j, same := i+1, 0
		for ; j < len(full) && same < 4; j++ {
			if full[j] == base[j] {
				same++
			} else {
				same = 0
			}
		}
		j -= same
		dst = binary.AppendUvarint(dst, uint64(i-last))
		dst = binary.AppendUvarint(dst, uint64(j-i))
		dst = append(dst, full[i:j]...)
		last, i = j, j
	}
	return dst
}

// ApplyPatch overwrites base with an AppendPatch patch; it reports whether
// the patch was well formed and fitted base.
func ApplyPatch(base, patch []byte) bool {
	pos := uint64(0)
	for len(patch) > 0 {
		skip, n1 := binary.Uvarint(patch)
		if n1 <= 0 {
			return false
		}
		l, n2 := binary.Uvarint(patch[n1:])
		if n2 <= 0 {
			return false
		}
		patch = patch[n1+n2:]
		if skip > uint64(len(base))-pos || l > uint64(len(base))-pos-skip || l > uint64(len(patch)) {
			return false
		}
		pos += skip
		copy(base[pos:], patch[:l])
		pos += l
		patch = patch[l:]
	}
	return true
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// ktr emits the structured form of the seed's CTR trace points.
func (k *Kernel) ktr(r *PtraceRequest, td2 *Thread, err error) {
	if k.Observer == nil && k.log == nil {
		return
	}
	ev := PtraceTrace{Op: r.Op, Pid: r.Pid, Addr: r.Addr, Data: r.Data}
	if td2 != nil {
		ev.Tid = td2.Tid
		ev.Detail = fmt.Sprintf("stops=%#x flags=%#x", td2.p.stops, uint32(td2.p.flag))
	}
	if err != nil {
		ev.Errno = errnoOf(err)
	}
	if k.Observer != nil {
		k.Observer(ev)
	}
	if k.log != nil {
		k.log.Debug("ptrace", slog.String("req", abi.PtraceRequestName(r.Op)), slog.Int("pid", int(r.Pid)),
			slog.Int("tid", int(ev.Tid)), slog.Uint64("addr", r.Addr), slog.Int64("data", r.Data),
			slog.String("errno", ev.Errno.Name()), slog.String("detail", ev.Detail))
	}
}
