package machine

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// The native side of the lockstep test: stepping the threads of the host
// process under ptrace, following clone, delivering signals, and the
// per-instruction loop that compares each step with the machine's.
//
// Threads. The host process is traced with PTRACE_O_TRACECLONE, so every
// thread it creates is traced from its first instruction; each gets its own
// machine CPU sharing the one Memory. Exactly one thread advances at a
// time, the same on both sides: the harness runs the current thread for a
// quantum of lsQuantum instructions, then the next runnable thread in
// creation order (a deterministic schedule, decided by instruction counts,
// never by host timing). A thread whose native syscall does not return —
// it sleeps in the kernel (futex wait, nanosleep, ...) — is marked blocked:
// the machine retires the syscall instruction at once and the harness
// switches threads; when the native syscall later returns, its result
// registers and the memory it wrote are copied in and the instruction is
// compared then. Whether a syscall blocks is the one decision that depends
// on the host: a thread counts as blocked when it is seen sleeping in the
// kernel (/proc/PID/task/TID/stat state S) or has not stopped within
// lsBlockWait.
//
// Signals. A signal the host delivers to a thread (asynchronous, or the
// fault of an instruction the machine faults on too) is delivered natively
// with a single-step, which stops at the handler's first instruction; the
// frame the host kernel wrote and the handler's entry registers are copied
// into the machine like a syscall's effects. rt_sigreturn's result (all
// registers) is copied likewise.

const (
	lsQuantum   = 20000                 // instructions a thread runs before the next runnable one
	lsBlockWait = 50 * time.Millisecond // a syscall not back by then counts as blocked
)

// lockstep is one program run on both sides.
type lockstep struct {
	t       *testing.T
	pid     int      // the native process (thread group leader)
	mem     *os.File // /proc/PID/mem
	m       *Memory  // the machine's memory, shared by every thread's CPU
	threads []*lsThread
	cur     int    // index into threads of the thread that runs
	quantum uint64 // instructions left in cur's quantum
	maps    []lsRegion
	stackLo uint64 // the machine's stack mapping starts here (below native [stack])
	stackHi uint64
	icount  uint64 // instructions compared, all threads
	events  uint64 // signal deliveries copied into the machine
	nvex    uint64 // VEX-encoded instructions compared (AVX, BMI)
	nthr    int    // threads seen in all
	mism    []*lsMismatch
	nmism   int
	memMism []string
	exited  bool
	status  syscall.WaitStatus
	note    string // why the comparison ended early
	buf     []byte
	ebuf    []byte
	pagemap *os.File // /proc/PID/pagemap
	pmbuf   []byte
	mdirty  []uint64 // pages the machine wrote since the last syncWritable
	udCache map[uint64]*lsDecoded
	xsbuf   [4096]byte // PTRACE_GETREGSET(NT_X86_XSTATE) buffer
	prof    lsProf
}

// lsThread is one thread on both sides.
type lsThread struct {
	tid   int
	cpu   *CPU
	nregs unix.PtraceRegs // native registers after the last step
	nfx   [512]byte       // native FXSAVE image, current as of the last fetch
	nymm  [256]byte       // native YMM0-15 upper halves, likewise
	mfx   [512]byte       // scratch: the machine's image
	mymm  [256]byte       // scratch: the machine's YMM upper halves
	gone  bool
	// A syscall the machine retired while the native one has not returned.
	blocked bool
	sysNr   uint64
	sysPrev lsState
	sysCode [16]byte
	sysLen  int
	// The synchronous signal of the last step (lsFault), not yet delivered.
	sig  int
	info lsSiginfo
}

// lsSiginfo is the head of a siginfo_t.
type lsSiginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	Addr  uint64 // si_addr for SIGSEGV/SIGBUS/SIGFPE/SIGILL
	_     [112]byte
}

// lsDecoded caches the decoding of an instruction for undefinedFlags.
type lsDecoded struct {
	code [16]byte
	inst x86asm.Inst
	err  error
}

// lsStep is the outcome of stepping a thread natively.
type lsStep int

const (
	lsTrap    lsStep = iota // the instruction retired; stopped after it
	lsHandler               // a signal was delivered: stopped at its handler's first instruction
	lsFault                 // the instruction raised a signal (th.sig), not delivered yet
	lsGone                  // the thread ended
	lsBlocked               // inside a syscall that has not returned
)

func ptraceFpRegs(pid int, req uintptr, fx *[512]byte) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, req, uintptr(pid), 0, uintptr(unsafe.Pointer(fx)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func ptraceStepSig(pid int, sig int) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SINGLESTEP, uintptr(pid), 0, uintptr(sig), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func ptraceSiginfo(tid int, si *lsSiginfo) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(si)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// lsSyncSignal reports whether signal sig with si_code code was raised by
// the instruction itself (a fault or trap), not sent.
func lsSyncSignal(sig int, code int32) bool {
	switch syscall.Signal(sig) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		return code > 0 // SI_USER, SI_QUEUE, SI_TKILL... are <= 0
	}
	return false
}

// procState returns the state letter of /proc/PID/task/TID/stat.
func (ls *lockstep) procState(tid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", ls.pid, tid))
	if err != nil {
		return 'X'
	}
	// pid (comm) S ...: the comm may hold spaces and parentheses.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2]
		}
	}
	return '?'
}

// waitThread waits for th's next stop. With poll it gives up, reporting
// false, once the thread sleeps in the kernel or lsBlockWait has passed.
func (ls *lockstep) waitThread(th *lsThread, poll bool) (unix.WaitStatus, bool) {
	var ws unix.WaitStatus
	if !poll {
		for {
			_, err := unix.Wait4(th.tid, &ws, unix.WALL, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				ls.t.Fatalf("wait4(%d): %v", th.tid, err)
			}
			return ws, true
		}
	}
	start := time.Now()
	for i := 0; ; i++ {
		wpid, err := unix.Wait4(th.tid, &ws, unix.WALL|unix.WNOHANG, nil)
		if err != nil && err != unix.EINTR {
			ls.t.Fatalf("wait4(%d): %v", th.tid, err)
		}
		if wpid == th.tid {
			return ws, true
		}
		if i >= 4 {
			if s := ls.procState(th.tid); s == 'S' || time.Since(start) > lsBlockWait {
				return ws, false
			}
		}
		// The thread shares this CPU: let it run.
		time.Sleep(20 * time.Microsecond)
	}
}

// nativeStep single-steps th natively, delivering signal sig with the step,
// and handles the stops on the way: clone events (a new thread), signals
// sent to the thread (delivered). poll: the step may block (a syscall while
// other threads can run).
func (ls *lockstep) nativeStep(th *lsThread, sig int, poll bool) lsStep {
	if err := ptraceStepSig(th.tid, sig); err != nil {
		ls.t.Fatalf("PTRACE_SINGLESTEP(%d): %v", th.tid, err)
	}
	return ls.nativeWait(th, sig != 0, poll)
}

// dbg logs scheduling and signal events with -lockstep.v.
func (ls *lockstep) dbg(format string, args ...any) {
	if *lockstepVerbose {
		fmt.Fprintf(os.Stderr, "ls %d: "+format+"\n", append([]any{ls.icount}, args...)...)
	}
}

// nativeWait waits for the stop of a step nativeStep started.
func (ls *lockstep) nativeWait(th *lsThread, delivered, poll bool) lsStep {
	for {
		ws, ok := ls.waitThread(th, poll)
		if !ok {
			ls.dbg("thread %d blocked in syscall %d", th.tid, th.sysNr)
			th.blocked = true
			return lsBlocked
		}
		if ws.StopSignal() != unix.SIGTRAP || ws.TrapCause() != 0 || delivered {
			ls.dbg("thread %d: stop %#x", th.tid, uint32(ws))
		}
		sig := 0
		switch {
		case ws.Exited() || ws.Signaled():
			th.gone = true
			if th.tid == ls.pid {
				ls.exited = true
				ls.status = syscall.WaitStatus(ws)
			}
			return lsGone
		case ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() != 0:
			if ws.TrapCause() == unix.PTRACE_EVENT_CLONE {
				ls.newThread(th)
			}
		case ws.StopSignal() == unix.SIGTRAP && !delivered:
			ls.prof.pt(phStep)
			return lsTrap
		default:
			var si lsSiginfo
			if err := ptraceSiginfo(th.tid, &si); err != nil {
				ls.t.Fatalf("PTRACE_GETSIGINFO(%d): %v", th.tid, err)
			}
			s := int(ws.StopSignal())
			if delivered && s == int(unix.SIGTRAP) {
				// After a delivered signal: either the handler's entry
				// (ptrace_notify, si_code SIGTRAP) or, for an ignored
				// signal, the step's own trap.
				ls.prof.pt(phStep)
				if si.Code == int32(unix.SIGTRAP) {
					return lsHandler
				}
				return lsTrap
			}
			if lsSyncSignal(s, si.Code) {
				th.sig, th.info = s, si
				return lsFault
			}
			// Sent to the thread: deliver it with the next step.
			ls.memCheck(fmt.Sprintf("before signal %d to thread %d (insn %d)", s, th.tid, ls.icount))
			sig = s
			delivered = true
		}
		if err := ptraceStepSig(th.tid, sig); err != nil {
			ls.t.Fatalf("PTRACE_SINGLESTEP(%d): %v", th.tid, err)
		}
	}
}

// newThread registers the thread a clone of th created (at th's clone
// event, before th's syscall returns). The new thread waits in its first
// stop (a SIGSTOP, suppressed when it is first stepped) at the instruction
// after the syscall, with its own stack and TLS: its machine CPU takes its
// registers from there. A clone that is not a thread of the process runs
// untraced.
func (ls *lockstep) newThread(th *lsThread) {
	msg, err := unix.PtraceGetEventMsg(th.tid)
	if err != nil {
		ls.t.Fatalf("PTRACE_GETEVENTMSG: %v", err)
	}
	tid := int(msg)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(tid, &ws, unix.WALL, nil); err != unix.EINTR {
			if err != nil {
				ls.t.Fatalf("wait4 new thread %d: %v", tid, err)
			}
			break
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", ls.pid, tid)); err != nil {
		// Not a thread of this process (a clone without CLONE_THREAD):
		// it runs untraced.
		unix.PtraceDetach(tid)
		return
	}
	nt := &lsThread{tid: tid}
	ls.getNative(nt)
	nt.cpu = NewCPU(ls.m)
	ls.syncRegsFromNative(nt)
	ls.threads = append(ls.threads, nt)
	ls.nthr++
}

func (ls *lockstep) getNativeGPRs(th *lsThread) {
	if err := unix.PtraceGetRegs(th.tid, &th.nregs); err != nil {
		ls.t.Fatalf("PTRACE_GETREGS(%d): %v", th.tid, err)
	}
	ls.prof.pt(phRegs)
}

func (ls *lockstep) getNative(th *lsThread) {
	ls.getNativeGPRs(th)
	ls.getNativeFP(th)
}

// ntX86Xstate is the ptrace register set of the XSAVE area (elf.h
// NT_X86_XSTATE), in the standard (non-compacted) layout.
const ntX86Xstate = 0x202

// getNativeFP fetches th's x87/SSE state and the upper halves of its YMM
// registers with one PTRACE_GETREGSET(NT_X86_XSTATE): the legacy region is
// the FXSAVE image, YMM_Hi128 is at 576 (SDM vol. 1 13.4; the kernel fills
// components in their initial configuration with their initial values).
// A host without XSAVE: PTRACE_GETFPREGS, and the upper halves are zero.
func (ls *lockstep) getNativeFP(th *lsThread) {
	xs := &ls.xsbuf
	iov := unix.Iovec{Base: &xs[0]}
	iov.SetLen(len(xs))
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(th.tid), ntX86Xstate, uintptr(unsafe.Pointer(&iov)), 0, 0)
	switch {
	case e == 0 && iov.Len >= 832:
		copy(th.nfx[:], xs[:512])
		if binary.LittleEndian.Uint64(xs[512:])&4 != 0 { // XSTATE_BV: AVX in use
			copy(th.nymm[:], xs[576:832])
		} else {
			th.nymm = [256]byte{}
		}
	default:
		if err := ptraceFpRegs(th.tid, unix.PTRACE_GETFPREGS, &th.nfx); err != nil {
			ls.t.Fatalf("PTRACE_GETFPREGS(%d): %v", th.tid, err)
		}
		th.nymm = [256]byte{}
	}
	ls.prof.pt(phFP)
}

// machineYMM writes the machine's YMM upper halves to b.
func machineYMM(c *CPU, b *[256]byte) {
	for i := 0; i < 16; i++ {
		h := c.YMMHigh(i)
		copy(b[16*i:], h[:])
	}
}

func (ls *lockstep) setNativeRegs(th *lsThread) {
	if err := unix.PtraceSetRegs(th.tid, &th.nregs); err != nil {
		ls.t.Fatalf("PTRACE_SETREGS(%d): %v", th.tid, err)
	}
}

// syncRegsFromNative sets th's machine registers from the native ones
// (th.nregs and th.nfx must be current).
func (ls *lockstep) syncRegsFromNative(th *lsThread) {
	c, r := th.cpu, &th.nregs
	var s lsState
	s.fromNative(r, &th.nfx)
	c.Regs = s.regs
	c.RIP = r.Rip
	c.SetFlags(r.Eflags &^ (FlagTF | FlagRF))
	c.FSBase, c.GSBase = r.Fs_base, r.Gs_base
	if err := c.FXRstor(&th.nfx); err != nil {
		ls.t.Fatal(err)
	}
	for i := 0; i < 16; i++ {
		c.SetYMMHigh(i, [16]byte(th.nymm[16*i:]))
	}
}

// syncAll copies everything of th from the native side: registers, the
// mappings and the writable memory (after a signal delivery or a
// sigreturn).
func (ls *lockstep) syncAll(th *lsThread) {
	ls.getNative(th)
	ls.syncRegsFromNative(th)
	ls.syncMaps()
	ls.syncWritable(false, 0)
	ls.prof.pt(phMem)
}

// lsTouchesFP reports whether the instruction with opcode bytes op (after
// legacy and REX prefixes) may read or write x87/MMX/SSE/AVX state. It is
// conservative: x87 escapes, VEX/EVEX/XOP-looking prefixes, and every 0F
// opcode except the integer ones listed. For an instruction it says false
// for, the native FP state is not fetched; the machine's is still compared
// with the last native image after every instruction (so a machine that
// changes FP state there is caught at once). TestLockstepTouchesFP checks
// the classification against x86asm's operands for every opcode.
func lsTouchesFP(op []byte) bool {
	if len(op) == 0 {
		return true
	}
	switch {
	case op[0] >= 0xd8 && op[0] <= 0xdf, // x87
		op[0] == 0xc4, op[0] == 0xc5, op[0] == 0x62, op[0] == 0x8f, // VEX, EVEX, XOP / pop r/m
		op[0] == 0x9b: // fwait
		return true
	}
	if op[0] != 0x0f || len(op) < 2 {
		return false
	}
	b := op[1]
	switch {
	case b == 0xc7:
		// cmpxchg8b/16b (/1), rdrand (/6), rdseed and rdpid (/7); the rest
		// (xrstors, xsavec, xsaves) move FP state.
		if len(op) < 3 {
			return true
		}
		reg := op[2] >> 3 & 7
		return reg != 1 && reg != 6 && reg != 7
	case b == 0x05, b == 0x0b, b == 0x0d, b >= 0x18 && b <= 0x1f, b == 0x31,
		b >= 0x40 && b <= 0x4f, b >= 0x80 && b <= 0x9f, b >= 0xa0 && b <= 0xa5,
		b >= 0xa8 && b <= 0xad, b == 0xaf, b >= 0xb0 && b <= 0xbf && b != 0xb9,
		b == 0xc0, b == 0xc1, b >= 0xc8 && b <= 0xcf:
		return false
	}
	return true
}

// lsOpcode skips prefixes: it returns the opcode bytes and whether a rep
// prefix was seen.
func lsOpcode(b []byte) (op []byte, rep bool) {
	for i, x := range b {
		switch {
		case x == 0xf2 || x == 0xf3:
			rep = true
		case x == 0x66 || x == 0x67 || x == 0x2e || x == 0x3e || x == 0x26 || x == 0x36 || x == 0x64 || x == 0x65 || x == 0xf0:
		case x >= 0x40 && x <= 0x4f:
		default:
			return b[i:], rep
		}
	}
	return nil, rep
}

func lsIsRepString(op []byte, rep bool) bool {
	return rep && len(op) > 0 && (op[0] >= 0xa4 && op[0] <= 0xa7 || op[0] >= 0xaa && op[0] <= 0xaf || op[0] >= 0x6c && op[0] <= 0x6f)
}

const lsMaxReports = 20

// live returns the number of threads that have not ended.
func (ls *lockstep) live() int {
	n := 0
	for _, th := range ls.threads {
		if !th.gone {
			n++
		}
	}
	return n
}

// pick returns the thread to step next, or nil when none is left. Blocked
// threads whose syscall returned are completed first, in creation order.
func (ls *lockstep) pick() *lsThread {
	for {
		if th := ls.threads[ls.cur]; !th.gone && !th.blocked && ls.quantum > 0 {
			ls.quantum--
			return th
		}
		ls.pollBlocked(false)
		n := len(ls.threads)
		for i := 1; i <= n; i++ {
			j := (ls.cur + i) % n
			if th := ls.threads[j]; !th.gone && !th.blocked {
				ls.dbg("switch to thread %d", th.tid)
				ls.cur, ls.quantum = j, lsQuantum-1
				return th
			}
		}
		if ls.live() == 0 || ls.exited {
			return nil
		}
		// Every live thread sleeps in a syscall: wait for one.
		ls.pollBlocked(true)
	}
}

// pollBlocked completes the blocked threads whose native syscall returned.
// With wait it waits until at least one did.
func (ls *lockstep) pollBlocked(wait bool) {
	for {
		done := false
		for _, th := range ls.threads {
			if !th.blocked || th.gone {
				continue
			}
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(th.tid, &ws, unix.WALL|unix.WNOHANG, nil)
			if err != nil && err != unix.EINTR {
				ls.t.Fatalf("wait4(%d): %v", th.tid, err)
			}
			if wpid != th.tid {
				continue
			}
			done = true
			ls.dbg("thread %d: blocked syscall %d returned, %#x", th.tid, th.sysNr, uint32(ws))
			ls.completeBlocked(th, ws)
		}
		if done || !wait {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// completeBlocked finishes th's blocked syscall, whose native stop is ws.
func (ls *lockstep) completeBlocked(th *lsThread, ws unix.WaitStatus) {
	th.blocked = false
	var res lsStep
	switch {
	case ws.Exited() || ws.Signaled():
		th.gone = true
		if th.tid == ls.pid {
			ls.exited = true
			ls.status = syscall.WaitStatus(ws)
		}
		res = lsGone
	case ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() == 0:
		res = lsTrap
	default:
		// An event or a signal: let nativeWait handle this stop by
		// resuming from it.
		res = ls.resumeStop(th, ws)
	}
	ls.finishSyscall(th, res)
}

// resumeStop handles a stop nativeWait would have (an event or a signal)
// for a thread polled out of a blocked syscall.
func (ls *lockstep) resumeStop(th *lsThread, ws unix.WaitStatus) lsStep {
	sig := 0
	if ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() != 0 {
		if ws.TrapCause() == unix.PTRACE_EVENT_CLONE {
			ls.newThread(th)
		}
	} else {
		var si lsSiginfo
		if err := ptraceSiginfo(th.tid, &si); err != nil {
			ls.t.Fatalf("PTRACE_GETSIGINFO(%d): %v", th.tid, err)
		}
		sig = int(ws.StopSignal())
	}
	return ls.nativeStep(th, sig, false)
}

// finishSyscall completes the syscall th's machine CPU retired
// (th.sysNr, th.sysPrev) after the native one came back with res.
func (ls *lockstep) finishSyscall(th *lsThread, res lsStep) {
	c := th.cpu
	nr := th.sysNr
	switch res {
	case lsGone:
		if nr == 60 || nr == 231 {
			ls.icount++
		} else if ls.note == "" && !ls.exited {
			ls.note = fmt.Sprintf("thread %d ended in syscall %d", th.tid, nr)
		}
		if nr == 60 && !ls.exited {
			// The kernel cleared the thread's child_tid.
			ls.syncWritable(false, 0)
		}
		return
	case lsHandler:
		// Interrupted by a signal whose handler now runs.
		ls.events++
		ls.syncAll(th)
		return
	case lsFault:
		ls.note = fmt.Sprintf("signal %d raised by syscall %d", th.sig, nr)
		th.gone = true
		return
	}
	ls.getNative(th)
	if nr == 15 {
		// rt_sigreturn: the registers come from the frame.
		ls.syncAll(th)
	} else {
		c.Regs[RAX] = th.nregs.Rax
		c.FSBase = th.nregs.Fs_base // arch_prctl
		a := &th.sysPrev.regs
		ok := int64(th.nregs.Rax) >= 0
		switch nr {
		case 9, 10, 11, 12, 25: // mmap mprotect munmap brk mremap
			ls.syncMaps()
		}
		switch {
		case nr == 9 && ok:
			// mmap: what it mapped is new, even where a mapping of the
			// same protection was (MAP_FIXED).
			addr, size := th.nregs.Rax, (a[RSI]+PageSize-1)&^(PageSize-1)
			if r, found := findRegion(ls.maps, addr); found {
				ls.m.Map(addr, size, r.prot)
				if r.name != "" {
					ls.compareRegion(addr, addr+size, true) // file contents
				}
			}
		case nr == 28 && ok && (a[RDX] == 4 || a[RDX] == 8 || a[RDX] == 9):
			// madvise DONTNEED/FREE/REMOVE: the pages may read as zero
			// now, and are no longer present natively.
			lo := a[RDI] &^ (PageSize - 1)
			ls.compareRegion(lo, (a[RDI]+a[RSI]+PageSize-1)&^(PageSize-1), true)
		}
		if !lsNoMemWrite(nr, a, th.nregs.Rax) {
			ls.syncWritable(false, 0)
		}
		ls.prof.pt(phMem)
	}
	ls.icount++
	ls.compare(th, &th.sysPrev, th.sysCode[:th.sysLen], true, true)
}

// loop steps the program until it ends or max instructions (0: no limit)
// were compared.
func (ls *lockstep) loop(max uint64) {
	ls.quantum = lsQuantum
	for max == 0 || ls.icount < max {
		th := ls.pick()
		if th == nil || ls.note != "" {
			return
		}
		ls.stepThread(th)
		if ls.exited || ls.note != "" {
			return
		}
	}
}

// stepThread advances th by one instruction on both sides and compares.
func (ls *lockstep) stepThread(th *lsThread) {
	c := th.cpu
	var before lsState
	before.fromNative(&th.nregs, &th.nfx)
	var code [16]byte
	k, _ := c.Mem.ReadForce(c.RIP, code[:])
	op, rep := lsOpcode(code[:k])
	isSys := len(op) > 1 && op[0] == 0x0f && op[1] == 0x05
	poll := false
	if isSys {
		nr := th.nregs.Rax
		ls.syscallBefore(th, nr)
		th.sysNr, th.sysPrev, th.sysCode, th.sysLen = nr, before, code, k
		if nr == 231 {
			// exit_group: every thread ends; the leader's end is
			// reported last.
			if err := ptraceStepSig(th.tid, 0); err != nil {
				ls.t.Fatalf("PTRACE_SINGLESTEP(%d): %v", th.tid, err)
			}
			c.Run(1)
			ls.reap()
			ls.icount++
			if !ls.exited && ls.note == "" {
				ls.note = "exit_group: no exit status of the leader"
			}
			return
		}
		poll = ls.live() > 1
	}
	ls.prof.pt(phOther)
	res := ls.nativeStep(th, 0, poll)
	switch res {
	case lsGone, lsBlocked:
		if isSys {
			ls.prof.pt(phOther)
			ex := c.Run(1)
			ls.prof.pt(phMachine)
			if ex.Reason != ExitSyscall {
				ls.report(th, &before, code[:k], []string{fmt.Sprintf("machine exit %d at a native syscall", ex.Reason)})
				ls.note = "machine did not execute the syscall"
				return
			}
			if res == lsGone {
				ls.finishSyscall(th, res)
			}
			return
		}
		if ls.note == "" && !ls.exited {
			ls.note = fmt.Sprintf("thread %d ended at a non-syscall instruction", th.tid)
		}
		return
	case lsHandler:
		// A signal sent to the thread was delivered before the
		// instruction ran (or interrupted a syscall): the machine takes
		// the native state at the handler's entry.
		ls.events++
		ls.syncAll(th)
		return
	case lsFault:
		ls.fault(th, &before, code[:k])
		return
	}
	if lsIsRepString(op, rep) {
		// The host traps after every iteration of a rep string
		// instruction; the machine retires it whole.
		for {
			ls.getNativeGPRs(th)
			if th.nregs.Rip != before.rip {
				break
			}
			switch ls.nativeStep(th, 0, false) {
			case lsTrap:
				continue
			case lsFault:
				ls.fault(th, &before, code[:k])
				return
			default:
				ls.note = "rep string instruction interrupted natively"
				return
			}
		}
	} else {
		ls.getNativeGPRs(th)
	}
	fetched := lsTouchesFP(op)
	if fetched {
		ls.getNativeFP(th)
	}
	if isSys {
		ls.prof.pt(phOther)
		ex := c.Run(1)
		ls.prof.pt(phMachine)
		if ex.Reason != ExitSyscall {
			ls.report(th, &before, code[:k], []string{fmt.Sprintf("machine exit %d at a native syscall", ex.Reason)})
			ls.note = "machine did not execute the syscall"
			return
		}
		ls.finishSyscall(th, lsTrap)
		return
	}
	ls.prof.pt(phOther)
	ex := c.Run(1)
	ls.prof.pt(phMachine)
	switch ex.Reason {
	case ExitBudget:
	case ExitRdtsc:
		c.CompleteRdtsc(th.nregs.Rdx<<32|th.nregs.Rax&0xffffffff, uint32(th.nregs.Rcx))
	case ExitRdrand:
		var s lsState
		s.fromNative(&th.nregs, &th.nfx)
		v := s.regs[ex.Reg]
		if ex.Size < 8 {
			v &= 1<<(8*ex.Size) - 1
		}
		c.CompleteRdrand(v, th.nregs.Eflags&FlagCF != 0)
	default:
		ls.report(th, &before, code[:k], []string{fmt.Sprintf("machine exit %d (addr %#x) where the host retired the instruction", ex.Reason, ex.Addr)})
		ls.note = "machine fault"
		return
	}
	if op[0] == 0x9c {
		// pushf: the host pushed the tracer's TF; clear it.
		var w [8]byte
		ls.mem.ReadAt(w[:], int64(th.nregs.Rsp))
		if w[1]&1 != 0 {
			w[1] &^= 1
			if _, err := unix.PtracePokeData(th.tid, uintptr(th.nregs.Rsp), w[:]); err != nil {
				ls.t.Fatal(err)
			}
		}
	}
	if len(op) > 1 && op[0] == 0x0f && op[1] == 0xa2 {
		// cpuid: the machine advertises its own features.
		r := &th.nregs
		r.Rax, r.Rbx, r.Rcx, r.Rdx = c.Regs[RAX], c.Regs[RBX], c.Regs[RCX], c.Regs[RDX]
		ls.setNativeRegs(th)
	}
	if len(op) > 2 && op[0] == 0x0f && op[1] == 0x01 && op[2] == 0xd0 {
		// xgetbv: the machine's XCR0, not the host's (which may enable
		// more, e.g. PKRU).
		r := &th.nregs
		r.Rax, r.Rdx = c.Regs[RAX], c.Regs[RDX]
		ls.setNativeRegs(th)
	}
	ls.icount++
	if op[0] == 0xc4 || op[0] == 0xc5 {
		ls.nvex++
	}
	ls.compare(th, &before, code[:k], fetched, false)
}

// fault handles a signal the instruction raised natively: the machine must
// fault the same way; then the signal is delivered natively and its
// handler's entry copied into the machine.
func (ls *lockstep) fault(th *lsThread, before *lsState, code []byte) {
	c := th.cpu
	ex := c.Run(1)
	want := map[ExitReason]syscall.Signal{
		ExitPageFault: unix.SIGSEGV, ExitGP: unix.SIGSEGV, ExitUD: unix.SIGILL,
		ExitDE: unix.SIGFPE, ExitFPE: unix.SIGFPE, ExitBreakpoint: unix.SIGTRAP,
	}
	ws, ok := want[ex.Reason]
	sig := syscall.Signal(th.sig)
	switch {
	case !ok:
		ls.report(th, before, code, []string{fmt.Sprintf("native signal %v (si_code %d, si_addr %#x), machine exit %d", sig, th.info.Code, th.info.Addr, ex.Reason)})
		ls.note = "native fault, machine did not fault"
		return
	case ws != sig && !(ex.Reason == ExitPageFault && sig == unix.SIGBUS):
		ls.report(th, before, code, []string{fmt.Sprintf("native signal %v, machine exit %d (%v)", sig, ex.Reason, ws)})
	case ex.Reason == ExitPageFault && th.info.Addr != ex.Addr:
		ls.report(th, before, code, []string{fmt.Sprintf("page fault address: native %#x machine %#x", th.info.Addr, ex.Addr)})
	}
	ls.icount++ // compared: the fault
	ls.memCheck(fmt.Sprintf("before signal %d to thread %d (insn %d)", th.sig, th.tid, ls.icount))
	switch ls.nativeStep(th, th.sig, false) {
	case lsHandler:
		ls.events++
		ls.syncAll(th)
	case lsGone:
		if !ls.exited && ls.note == "" {
			ls.note = fmt.Sprintf("thread %d killed by %v", th.tid, sig)
		}
	default:
		ls.note = fmt.Sprintf("signal %v delivered natively, no handler entry", sig)
	}
}

// memCheck reports where the writable memory of the two sides differs
// (and copies the native pages in). It runs where they must be equal:
// before a syscall, and before a signal is delivered (else a wrong store of
// the machine would be overwritten unseen by the copy of the frame).
func (ls *lockstep) memCheck(where string) {
	below := uint64(0)
	for _, t := range ls.threads {
		if t.tid == ls.pid && !t.gone {
			below = t.nregs.Rsp - 128 - (1 << 16) // the main stack below the red zone is dead
		}
	}
	for _, d := range ls.syncWritable(true, below) {
		if len(ls.memMism) < lsMaxReports {
			ls.memMism = append(ls.memMism, where+": "+d)
		}
	}
}

// syscallBefore runs before th's native syscall nr: both memories must be
// equal, and rseq is made to fail natively as it does in ptrec's kernel.
func (ls *lockstep) syscallBefore(th *lsThread, nr uint64) {
	ls.prof.pt(phOther)
	ls.memCheck(fmt.Sprintf("before syscall %d of thread %d (insn %d)", nr, th.tid, ls.icount))
	if nr == 334 {
		// rseq: the host kernel would write the rseq area at any return
		// to user mode; make the native call fail with ENOSYS as the
		// machine's kernel's does.
		th.nregs.Rax = ^uint64(0)
		ls.setNativeRegs(th)
		th.nregs.Rax = nr
	}
	ls.prof.pt(phMem)
}

// compare compares th's native and machine state after an instruction.
// fetched: th.nfx was fetched after it (else it is the image from before,
// which the instruction cannot have changed natively).
func (ls *lockstep) compare(th *lsThread, before *lsState, code []byte, fetched, sys bool) {
	c := th.cpu
	r := &th.nregs
	ok := c.Regs == [16]uint64{r.Rax, r.Rcx, r.Rdx, r.Rbx, r.Rsp, r.Rbp, r.Rsi, r.Rdi,
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15} &&
		c.RIP == r.Rip && c.FSBase == r.Fs_base && c.GSBase == r.Gs_base &&
		(c.Flags()^r.Eflags)&flagsCompared == 0
	c.FXSave(&th.mfx)
	machineYMM(c, &th.mymm)
	if ok && (!lsFPEqual(&th.nfx, &th.mfx) || th.nymm != th.mymm) {
		if !fetched {
			// The machine changed FP state in an instruction that cannot
			// (lsTouchesFP) — or the classification is wrong: look.
			ls.getNative(th)
			fetched = true
		}
		ok = lsFPEqual(&th.nfx, &th.mfx) && th.nymm == th.mymm
	}
	if !ok {
		if !fetched {
			ls.getNative(th)
		}
		var ns, ms lsState
		ns.fromNative(r, &th.nfx)
		ns.ymmh = th.nymm
		ms.fromCPU(c)
		var undef uint64
		if inst, err := ls.decode(before.rip, code); err == nil {
			undef = undefinedFlags(inst, before)
			if vendorC1(inst.Op) {
				// FCOMI/FUCOMI(P): the SDM says "C1 set to 0"; AMD hosts
				// leave C1 as it was. The machine presents itself as
				// GenuineIntel and follows the SDM.
				ns.fx[3] = ns.fx[3]&^0x02 | ms.fx[3]&0x02
			}
		}
		if sys {
			// R11 = RFLAGS: the host's copy holds the tracer's TF.
			ns.regs[R11] &^= FlagTF
		}
		if d := ns.diff(&ms, undef); len(d) != 0 {
			ls.report(th, before, code, d)
		}
		ls.syncRegsFromNative(th)
	}
	ls.prof.pt(phCompare)
}

// lsFPEqual compares the FXSAVE images' compared fields: FCW, FSW, the
// abridged tag, MXCSR, ST0-7 (80 bits each) and XMM0-15. FIP/FDP/FOP are
// not: AMD's FXSAVE stores them only while an x87 exception is pending
// (AMD APM vol. 2, FXSAVE); bytes 10-15 of each ST slot are reserved, and
// MXCSR_MASK is the host's.
func lsFPEqual(n, m *[512]byte) bool {
	if *(*[5]byte)(n[0:5]) != *(*[5]byte)(m[0:5]) || *(*[4]byte)(n[24:28]) != *(*[4]byte)(m[24:28]) {
		return false
	}
	for i := 0; i < 8; i++ {
		o := 32 + 16*i
		if *(*[10]byte)(n[o : o+10]) != *(*[10]byte)(m[o : o+10]) {
			return false
		}
	}
	return *(*[256]byte)(n[160:416]) == *(*[256]byte)(m[160:416])
}

// decode decodes the instruction at rip, cached by address and bytes.
func (ls *lockstep) decode(rip uint64, code []byte) (*x86asm.Inst, error) {
	var key [16]byte
	copy(key[:], code)
	if d, ok := ls.udCache[rip]; ok && d.code == key {
		return &d.inst, d.err
	}
	inst, err := x86asm.Decode(code, 64)
	d := &lsDecoded{code: key, inst: inst, err: err}
	ls.udCache[rip] = d
	return &d.inst, err
}

func (ls *lockstep) report(th *lsThread, before *lsState, code []byte, d []string) {
	ls.nmism++
	if len(ls.mism) >= lsMaxReports {
		return
	}
	asm := "(undecodable)"
	n := len(code)
	if inst, err := x86asm.Decode(code, 64); err == nil {
		asm = x86asm.GNUSyntax(inst, before.rip, nil)
		n = inst.Len
	}
	b := []string{fmt.Sprintf("thread=%d", th.tid)}
	for i, r := range before.regs {
		b = append(b, fmt.Sprintf("%s=%#x", lsRegName[i], r))
	}
	le := binary.LittleEndian
	b = append(b, fmt.Sprintf("rflags=%#x fcw=%#x fsw=%#x ftag=%#x mxcsr=%#x", before.flags,
		le.Uint16(before.fx[0:]), le.Uint16(before.fx[2:]), before.fx[4], le.Uint32(before.fx[24:])))
	ls.mism = append(ls.mism, &lsMismatch{icount: ls.icount, rip: before.rip, bytes: append([]byte(nil), code[:n]...), asm: asm, diffs: d, before: b})
}

// kill ends the native process if it still runs and reaps every thread.
func (ls *lockstep) kill() {
	if !ls.exited {
		unix.Kill(ls.pid, unix.SIGKILL)
		ls.reap()
	}
	if ls.mem != nil {
		ls.mem.Close()
	}
	if ls.pagemap != nil {
		ls.pagemap.Close()
	}
}

// lsNoMemWrite reports whether syscall nr with arguments a (rdi rsi rdx
// r10 r8 r9 in a's slots) and result ret cannot have written the process's
// memory, so nothing needs copying after it.
func lsNoMemWrite(nr uint64, a *[16]uint64, ret uint64) bool {
	switch nr {
	case 1, 3, 8, 9, 10, 11, 12, 20, 24, 25, 39, 186, 231:
		// write close lseek mmap mprotect munmap brk writev sched_yield
		// mremap getpid gettid exit_group (a new anonymous mapping is
		// zero; mmap's file contents are copied).
		return true
	case 202:
		// futex WAIT, WAKE, WAIT_BITSET, WAKE_BITSET write no memory
		// (WAKE_OP and the PI operations do).
		switch a[RSI] & 0x7f {
		case 0, 1, 9, 10:
			return true
		}
	case 35, 230:
		// nanosleep, clock_nanosleep: the remaining time is written only
		// when interrupted.
		return ret == 0
	}
	return false
}

// reap waits until every thread has ended (after exit_group or SIGKILL):
// the other threads first, the leader last (its exit is reported only
// after theirs).
func (ls *lockstep) reap() {
	for pass := 0; pass < 2; pass++ {
		for _, th := range ls.threads {
			if th.gone || (th.tid == ls.pid) != (pass == 1) {
				continue
			}
			for {
				var ws unix.WaitStatus
				_, err := unix.Wait4(th.tid, &ws, unix.WALL, nil)
				if err == unix.EINTR {
					continue
				}
				if err != nil || ws.Exited() || ws.Signaled() {
					th.gone = true
					if th.tid == ls.pid && err == nil {
						ls.exited = true
						ls.status = syscall.WaitStatus(ws)
					}
					break
				}
				// A stop on the way out: let it go on.
				unix.PtraceCont(th.tid, 0)
			}
		}
	}
}
