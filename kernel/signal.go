package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Special handler values.
const (
	sigDFL = 0
	sigIGN = 1
)

// SigAction is a signal disposition (the kernel's struct k_sigaction).
type SigAction struct {
	handler  uint64
	flags    uint64
	restorer uint64
	mask     uint64
}

// stackT is a sigaltstack.
type stackT struct {
	sp    uint64
	flags int32
	size  uint64
}

// Siginfo is a queued signal's information (Linux siginfo_t fields).
type Siginfo struct {
	Signo  int32
	Errno  int32
	Code   int32
	Pid    int32
	Uid    uint32
	Status int32
	Addr   uint64 // fault address (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP)
	Value  uint64 // sigval
	Trapno int32  // the machine trap number (FreeBSD's si_trapno)

	// ptrace marks a signal the debugger passed when resuming (FreeBSD's
	// KSI_PTRACE): it is delivered without being reported again.
	ptrace bool
}

// marshalLinux writes the 128-byte Linux siginfo_t.
func (si *Siginfo) marshalLinux(b []byte) {
	clear(b[:128])
	putLE32(b[0:], uint32(si.Signo))
	putLE32(b[4:], uint32(si.Errno))
	putLE32(b[8:], uint32(si.Code))
	switch abi.Signal(si.Signo) {
	case abi.SIGSEGV, abi.SIGBUS, abi.SIGILL, abi.SIGFPE, abi.SIGTRAP:
		if si.Code > 0 && si.Code < abi.SI_KERNEL {
			putLE64(b[16:], si.Addr)
			return
		}
	case abi.SIGCHLD:
		putLE32(b[16:], uint32(si.Pid))
		putLE32(b[20:], si.Uid)
		putLE32(b[24:], uint32(si.Status))
		return
	}
	putLE32(b[16:], uint32(si.Pid))
	putLE32(b[20:], si.Uid)
	putLE64(b[24:], si.Value)
}

// sigQueue holds pending signals: one entry per standard signal, every
// instance of a real-time signal, in arrival order.
type sigQueue struct {
	items []Siginfo
}

func (q *sigQueue) has(sig int32) bool {
	for i := range q.items {
		if q.items[i].Signo == sig {
			return true
		}
	}
	return false
}

func (q *sigQueue) add(si Siginfo, head bool) {
	if si.Signo < int32(abi.SIGRTMIN) && q.has(si.Signo) {
		return
	}
	if head {
		q.items = append([]Siginfo{si}, q.items...)
		return
	}
	q.items = append(q.items, si)
}

func (q *sigQueue) take(sig int32) (Siginfo, bool) {
	for i := range q.items {
		if q.items[i].Signo == sig {
			si := q.items[i]
			q.items = append(q.items[:i], q.items[i+1:]...)
			return si, true
		}
	}
	return Siginfo{}, false
}

func (q *sigQueue) set() uint64 {
	var m uint64
	for _, si := range q.items {
		m |= sigbit(si.Signo)
	}
	return m
}

func sigbit(sig int32) uint64 {
	if sig < 1 || sig > abi.NSIG {
		return 0
	}
	return 1 << uint(sig-1)
}

const unblockable = 1<<(abi.SIGKILL-1) | 1<<(abi.SIGSTOP-1)

// defaultIgnored reports whether sig's default action is to ignore it.
func defaultIgnored(sig int32) bool {
	switch abi.Signal(sig) {
	case abi.SIGCHLD, abi.SIGURG, abi.SIGWINCH, abi.SIGCONT:
		return true
	}
	return false
}

func isStopSignal(sig int32) bool {
	switch abi.Signal(sig) {
	case abi.SIGSTOP, abi.SIGTSTP, abi.SIGTTIN, abi.SIGTTOU:
		return true
	}
	return false
}

// ignored reports whether p discards sig on arrival.
func (p *Process) ignored(sig int32) bool {
	if sig == int32(abi.SIGKILL) || sig == int32(abi.SIGSTOP) {
		return false
	}
	a := p.sigacts[sig]
	return a.handler == sigIGN || (a.handler == sigDFL && defaultIgnored(sig) && sig != int32(abi.SIGCONT))
}

func (p *Process) resetSignalsOnExec() {
	for i := range p.sigacts {
		if p.sigacts[i].handler != sigIGN {
			p.sigacts[i] = SigAction{}
		} else {
			p.sigacts[i].flags, p.sigacts[i].mask, p.sigacts[i].restorer = 0, 0, 0
		}
	}
}

// postSignal sends a signal to a process (t == nil) or to one of its threads:
// FreeBSD's tdsendsignal.
func (k *Kernel) postSignal(p *Process, t *Thread, si Siginfo) {
	sig := si.Signo
	if sig < 1 || sig > abi.NSIG || p.zombie || p.reaped {
		return
	}
	if sig == int32(abi.SIGCONT) && p.flag&P_STOPPED_SIG != 0 && !p.traced() {
		// Job-control continue.
		p.flag &^= P_STOPPED_SIG
		p.flag |= P_CONTINUED
		k.notifyParent(p, abi.CLD_CONTINUED, int32(abi.SIGCONT))
		k.resumeProcess(p)
	}
	if p.ignored(sig) {
		return
	}
	if sig == int32(abi.SIGKILL) && !p.traced() {
		k.exitProcess(p, waitSignaled(sig, false))
		return
	}
	if t != nil {
		t.pending.add(si, false)
	} else {
		p.pending.add(si, false)
	}
	k.signalWake(p, t, sig)
}

// signalWake interrupts a sleeping thread that can take sig.
func (k *Kernel) signalWake(p *Process, target *Thread, sig int32) {
	for _, t := range p.threads {
		if t.exited || (target != nil && t != target) {
			continue
		}
		if t.sigmask&sigbit(sig) != 0 && sig != int32(abi.SIGKILL) {
			continue
		}
		if t.blocked != nil {
			t.interrupted = true
			k.wake(t)
		}
		return
	}
}

// trapSignal delivers a synchronous signal caused by the thread's own
// instruction (a fault or a trap): FreeBSD's trapsignal.
func (k *Kernel) trapSignal(t *Thread, sig abi.Signal, code int32, addr uint64, trapno int32) {
	si := Siginfo{Signo: int32(sig), Code: code, Addr: addr, Trapno: trapno}
	p := t.p
	a := p.sigacts[sig]
	if !p.traced() && (t.sigmask&sigbit(int32(sig)) != 0 || a.handler == sigIGN) {
		// A blocked or ignored synchronous fault kills the process (Linux
		// force_sig_info resets the action to default).
		p.sigacts[sig] = SigAction{}
		t.sigmask &^= sigbit(int32(sig))
	}
	t.pending.add(si, true)
}

// nextDeliverable returns the next pending signal t would take, or 0.
func (t *Thread) nextDeliverable() int32 {
	pend := (t.pending.set() | t.p.pending.set()) &^ (t.sigmask &^ unblockable)
	if pend == 0 {
		return 0
	}
	// Synchronous faults first, as Linux does, then the lowest number.
	for _, s := range []abi.Signal{abi.SIGSEGV, abi.SIGBUS, abi.SIGILL, abi.SIGTRAP, abi.SIGFPE, abi.SIGSYS} {
		if pend&sigbit(int32(s)) != 0 && t.pending.has(int32(s)) {
			return int32(s)
		}
	}
	for s := int32(1); s <= abi.NSIG; s++ {
		if pend&sigbit(s) != 0 {
			return s
		}
	}
	return 0
}

func (t *Thread) dequeue(sig int32) Siginfo {
	if si, ok := t.pending.take(sig); ok {
		return si
	}
	si, _ := t.p.pending.take(sig)
	return si
}

// checkSignals runs at every return to user mode: it finishes a ptrace stop
// the thread was just resumed from, then takes pending signals (issignal and
// postsig). It reports whether the thread's state changed so that the caller
// must re-examine it before running user code.
func (k *Kernel) checkSignals(t *Thread) bool {
	p := t.p
	if t.stopKind != stopNone && k.afterStop(t) {
		return true
	}
	if t.vforkChild != 0 {
		// A traced vfork parent reported its fork stop; now it waits
		// for the child to exec or exit before returning to user mode
		// (syscallret's RFPPWAIT wait, after the ptrace stop).
		if c := k.pidMap[t.vforkChild]; c != nil && c.vforkParent == t {
			k.sleepOn(t, &c.vforkWait, 0)
			return true
		}
		t.vforkChild = 0
	}
	// Resumed from a syscall, exec or fork stop with no signal: pending
	// signals are still taken on this return to user mode (FreeBSD's ast
	// runs after the syscallret stop).
	for {
		sig := t.nextDeliverable()
		if sig == 0 {
			return false
		}
		si := t.dequeue(sig)
		if p.traced() && p.flag&P_PPTRACE == 0 && !si.ptrace {
			t.dbgksi = si
			t.stopSig = sig
			k.ptracestop(t, abi.Signal(sig), stopSignal)
			return true
		}
		if k.deliver(t, si) {
			return true
		}
	}
}

// afterStop acts on td_xsig when a thread resumes from a ptrace stop.
func (k *Kernel) afterStop(t *Thread) bool {
	kind, sig := t.stopKind, t.xsig
	t.stopKind = stopNone
	if kind == stopChild {
		// PL_FLAG_CHILD marks only the new child's first stop (FreeBSD
		// clears TDB_CHILD after the fork_return ptracestop).
		t.dbgflags &^= TDB_CHILD
	}
	t.xsig = 0
	if sig == 0 || sig > abi.NSIG {
		t.dbgksi = Siginfo{}
		return kind == stopSignal
	}
	if sig == int32(abi.SIGKILL) {
		// PT_KILL, or SIGKILL passed by the debugger, at any stop.
		k.exitProcess(t.p, waitSignaled(sig, false))
		return true
	}
	switch kind {
	case stopSignal:
		si := t.dbgksi
		if sig != t.stopSig {
			// The debugger substituted another signal: it is queued
			// without siginfo and waits if masked.
			si = Siginfo{Signo: sig, Code: abi.SI_USER, ptrace: true}
			if t.sigmask&sigbit(sig) != 0 {
				t.pending.add(si, false)
				return true
			}
		}
		t.dbgksi = Siginfo{}
		k.deliver(t, si)
		return true
	default:
		// Fixed FreeBSD behaviour: a signal given at a syscall, exec or
		// fork stop is delivered, not dropped, and not reported again
		// (KSI_PTRACE).
		t.pending.add(Siginfo{Signo: sig, Code: abi.SI_USER, ptrace: true}, false)
		return true
	}
}

// deliver performs sig's action for t: the default action, nothing for an
// ignored signal, or a handler frame. It reports whether anything happened.
func (k *Kernel) deliver(t *Thread, si Siginfo) bool {
	p := t.p
	sig := si.Signo
	a := p.sigacts[sig]
	if sig == int32(abi.SIGKILL) {
		k.exitProcess(p, waitSignaled(sig, false))
		return true
	}
	switch a.handler {
	case sigIGN:
		return false
	case sigDFL:
		switch {
		case defaultIgnored(sig):
			return false
		case isStopSignal(sig):
			if p.traced() {
				return false // reported already; ignored after that
			}
			k.jobStop(p, sig)
			return true
		default:
			k.exitProcess(p, waitSignaled(sig, coreSignal(sig)))
			return true
		}
	}
	if err := k.setupFrame(t, si, a); err != nil {
		// The frame could not be written: SIGSEGV with the default action.
		p.sigacts[abi.SIGSEGV] = SigAction{}
		k.exitProcess(p, waitSignaled(int32(abi.SIGSEGV), true))
		return true
	}
	if a.flags&abi.SA_RESETHAND != 0 {
		p.sigacts[sig] = SigAction{}
	}
	return true
}

func coreSignal(sig int32) bool {
	switch abi.Signal(sig) {
	case abi.SIGQUIT, abi.SIGILL, abi.SIGTRAP, abi.SIGABRT, abi.SIGBUS, abi.SIGFPE, abi.SIGSEGV, abi.SIGXCPU, abi.SIGXFSZ, abi.SIGSYS:
		return true
	}
	return false
}

// jobStop stops an untraced process for a stop signal.
func (k *Kernel) jobStop(p *Process, sig int32) {
	p.flag |= P_STOPPED_SIG
	p.flag &^= P_WAITED
	p.xsig = sig
	for _, t := range p.threads {
		k.removeRunnable(t)
	}
	k.notifyParent(p, abi.CLD_STOPPED, sig)
}

// Linux x86-64 rt_sigframe layout.
const (
	frameUC       = 8               // struct ucontext after pretcode
	frameMcontext = frameUC + 40    // uc_mcontext (struct sigcontext, 256 bytes)
	frameSigmask  = frameUC + 296   // uc_sigmask
	frameInfo     = frameUC + 304   // struct siginfo
	frameSize     = frameInfo + 128 // 440
	redZone       = 128
)

// sigcontext register order: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp.
var sigcontextRegs = [...]int{machine.R8, machine.R9, machine.R10, machine.R11, machine.R12, machine.R13, machine.R14, machine.R15,
	machine.RDI, machine.RSI, machine.RBP, machine.RBX, machine.RDX, machine.RAX, machine.RCX, machine.RSP}

// setupFrame pushes a Linux rt_sigframe and points the thread at the handler.
func (k *Kernel) setupFrame(t *Thread, si Siginfo, a SigAction) error {
	c := t.cpu
	sp := c.Regs[machine.RSP]
	onAlt := t.altstack.flags&abi.SS_DISABLE == 0 && sp-t.altstack.sp < t.altstack.size
	if a.flags&abi.SA_ONSTACK != 0 && t.altstack.flags&abi.SS_DISABLE == 0 && !onAlt {
		sp = t.altstack.sp + t.altstack.size
	} else {
		sp -= redZone
	}
	fp := fpstateImage(c, xsaveOn)
	sp = (sp - uint64(len(fp))) &^ 63
	fpAddr := sp
	frame := ((sp - frameSize) &^ 15) - 8

	var b [frameSize]byte
	putLE64(b[0:], a.restorer)
	if xsaveOn {
		putLE64(b[frameUC:], abi.UC_FP_XSTATE)
	}
	putLE64(b[frameUC+16:], t.altstack.sp)
	ssFlags := t.altstack.flags
	if onAlt {
		ssFlags = abi.SS_ONSTACK
	}
	putLE32(b[frameUC+24:], uint32(ssFlags))
	putLE64(b[frameUC+32:], t.altstack.size)
	mc := b[frameMcontext:]
	for i, r := range sigcontextRegs {
		putLE64(mc[8*i:], c.Regs[r])
	}
	putLE64(mc[128:], c.RIP)
	putLE64(mc[136:], c.Flags())
	mc[144], mc[145] = 0x33, 0 // cs
	mc[150], mc[151] = 0x2b, 0 // ss
	putLE64(mc[160:], uint64(si.Trapno))
	putLE64(mc[168:], t.sigmask)
	if abi.Signal(si.Signo) == abi.SIGSEGV {
		putLE64(mc[176:], si.Addr)
	}
	putLE64(mc[184:], fpAddr)
	mask := t.sigmask
	if t.hasSavedMask {
		mask = t.savedMask
		t.hasSavedMask = false
	}
	putLE64(b[frameSigmask:], mask)
	putLE64(mc[168:], mask)
	si.marshalLinux(b[frameInfo:])

	if err := t.writeMem(fpAddr, fp); err != nil {
		return err
	}
	if err := t.writeMem(frame, b[:]); err != nil {
		return err
	}
	c.Regs[machine.RDI] = uint64(si.Signo)
	c.Regs[machine.RSI] = frame + frameInfo
	c.Regs[machine.RDX] = frame + frameUC
	c.Regs[machine.RAX] = 0
	c.Regs[machine.RSP] = frame
	c.RIP = a.handler
	c.SetFlags(c.Flags() &^ (machine.FlagTF | machine.FlagDF | machine.FlagRF | machine.FlagAC))
	newMask := mask | a.mask
	if a.flags&abi.SA_NODEFER == 0 {
		newMask |= sigbit(si.Signo)
	}
	t.sigmask = newMask &^ unblockable
	return nil
}

// sigreturn restores the context saved by setupFrame (rt_sigreturn).
func (k *Kernel) sigreturn(t *Thread) error {
	c := t.cpu
	frame := c.Regs[machine.RSP] - 8
	var b [frameSize]byte
	if err := t.readMem(frame, b[:]); err != nil {
		return err
	}
	mc := b[frameMcontext:]
	for i, r := range sigcontextRegs {
		c.Regs[r] = le64(mc[8*i:])
	}
	c.RIP = le64(mc[128:])
	const userFlags = 0x00254DD5
	c.SetFlags(c.Flags()&^userFlags | le64(mc[136:])&userFlags)
	if fp := le64(mc[184:]); fp != 0 {
		if err := restoreFpstate(t, fp, xsaveOn); err != nil {
			return err
		}
	}
	t.sigmask = le64(b[frameSigmask:]) &^ unblockable
	return nil
}

// waitSignaled encodes a "killed by signal" wait status.
func waitSignaled(sig int32, core bool) int32 {
	st := sig & 0x7f
	if core {
		st |= 0x80
	}
	return st
}

// waitExited encodes an exit wait status.
func waitExited(code int32) int32 { return (code & 0xff) << 8 }

// waitStopped encodes a stopped wait status.
func waitStopped(sig int32) int32 { return sig<<8 | 0x7f }

// xsaveOn: the CPU advertises XSAVE, so signal frames carry the XSAVE
// area and ptrace serves the extended state (a variable for tests).
var xsaveOn = machine.AVXAdvertised()

// Linux's struct _fpx_sw_bytes (in the FXSAVE image's software-reserved
// bytes 464-511) and the magic after the XSAVE area.
const (
	fpxSwBytes     = 464
	fpXstateMagic1 = 0x46505853
	fpXstateMagic2 = 0x46505845
)

// fpstateImage is the signal frame's fpstate, as Linux writes it: the
// FXSAVE image; or, with XSAVE, the XSAVE area of every XCR0 component
// with _fpx_sw_bytes (magic1, extended size, xfeatures, xstate size) and
// FP_XSTATE_MAGIC2 after it.
func fpstateImage(c *machine.CPU, xsave bool) []byte {
	if !xsave {
		var fx [512]byte
		c.FXSave(&fx)
		return fx[:]
	}
	b := make([]byte, machine.XSaveSize+4)
	c.XSave(b, machine.XCR0)
	sw := b[fpxSwBytes:]
	putLE32(sw[0:], fpXstateMagic1)
	putLE32(sw[4:], machine.XSaveSize+4)
	putLE64(sw[8:], machine.XCR0)
	putLE32(sw[16:], machine.XSaveSize)
	putLE32(b[machine.XSaveSize:], fpXstateMagic2)
	return b
}

// restoreFpstate loads the fpstate at addr on rt_sigreturn, as Linux's
// __fpu_restore_sig: an XSAVE area when _fpx_sw_bytes and magic2 check
// out (xfeatures' components restored as XRSTOR does, the others put in
// their initial state), else the FXSAVE image with the AVX state
// initialised. A frame XRSTOR or FXRSTOR would reject is EFAULT
// (SIGSEGV).
func restoreFpstate(t *Thread, addr uint64, xsave bool) error {
	c := t.cpu
	var fx [512]byte
	if err := t.readMem(addr, fx[:]); err != nil {
		return err
	}
	if xsave {
		sw := fx[fpxSwBytes:]
		size := uint64(le32(sw[16:]))
		if le32(sw[0:]) == fpXstateMagic1 && size >= 512+64 && size <= machine.XSaveSize && size <= uint64(le32(sw[4:])) {
			var m [4]byte
			if err := t.readMem(addr+size, m[:]); err != nil {
				return err
			}
			if le32(m[:]) == fpXstateMagic2 {
				b := make([]byte, machine.XSaveSize)
				if err := t.readMem(addr, b[:size]); err != nil {
					return err
				}
				xf := le64(sw[8:]) & machine.XCR0
				if err := c.XRstor(b, xf); err != nil {
					return abi.EFAULT
				}
				c.XInit(machine.XCR0 &^ xf)
				return nil
			}
		}
	}
	if err := c.FXRstor(&fx); err != nil {
		return abi.EFAULT
	}
	if xsave {
		c.XInit(machine.XCR0 &^ 3)
	}
	return nil
}

// fpeCode is the si_code of the SIGFPE for a floating-point exception, as
// Linux derives it (fpu__exception_code) from the unmasked exception
// flags: the x87 status word against its control word (#MF), or MXCSR's
// flags against its masks (#XM); invalid operation first, then divide by
// zero, overflow, underflow or denormal, inexact.
func fpeCode(c *machine.CPU, vector int) int32 {
	fcw, fsw, mxcsr := c.FPStatus()
	err := uint32(fsw) &^ uint32(fcw)
	if vector == machine.VectorXM {
		err = mxcsr &^ (mxcsr >> 7)
	}
	switch {
	case err&0x01 != 0:
		return abi.FPE_FLTINV
	case err&0x04 != 0:
		return abi.FPE_FLTDIV
	case err&0x08 != 0:
		return abi.FPE_FLTOVF
	case err&0x12 != 0:
		return abi.FPE_FLTUND
	case err&0x20 != 0:
		return abi.FPE_FLTRES
	}
	// Linux would take no flag as a spurious trap and return to the
	// instruction; the machine reports ExitFPE only with a flag set.
	return abi.FPE_FLTINV
}
