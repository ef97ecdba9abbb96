package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// ProcFlag is the set of FreeBSD p_flag bits the seed's ptrace reads and
// writes (sys/sys/proc.h values, so debug dumps match FreeBSD's).
type ProcFlag uint32

// Process flags used by ptrace, wait and exit (FreeBSD names and values).
const (
	P_FOLLOWFORK    ProcFlag = 0x00008
	P_PPWAIT        ProcFlag = 0x00010
	P_SUGID         ProcFlag = 0x00100
	P_SYSTEM        ProcFlag = 0x00200
	P_TRACED        ProcFlag = 0x00800
	P_WAITED        ProcFlag = 0x01000
	P_WEXIT         ProcFlag = 0x02000
	P_EXEC          ProcFlag = 0x04000
	P_CONTINUED     ProcFlag = 0x10000
	P_STOPPED_SIG   ProcFlag = 0x20000
	P_STOPPED_TRACE ProcFlag = 0x40000
	P_INEXEC        ProcFlag = 0x4000000
	P_INMEM         ProcFlag = 0x10000000
	P_PPTRACE       ProcFlag = 0x80000000

	// P_STOPPED is any kind of stop.
	P_STOPPED = P_STOPPED_SIG | P_STOPPED_TRACE
)

// DbgFlag is the set of FreeBSD td_dbgflags bits.
type DbgFlag uint32

// Thread debug flags (FreeBSD names and values).
const (
	TDB_SUSPEND    DbgFlag = 0x001
	TDB_XSIG       DbgFlag = 0x002
	TDB_USERWR     DbgFlag = 0x004
	TDB_SCE        DbgFlag = 0x008
	TDB_SCX        DbgFlag = 0x010
	TDB_EXEC       DbgFlag = 0x020
	TDB_FORK       DbgFlag = 0x040
	TDB_STOPATFORK DbgFlag = 0x080
	TDB_CHILD      DbgFlag = 0x100
)

// Stop-event bits in p_stops (sys/pioctl.h and the ptrace-only S_PT_* bits).
const (
	S_EXEC    uint32 = 0x01
	S_SIG     uint32 = 0x02
	S_SCE     uint32 = 0x04
	S_SCX     uint32 = 0x08
	S_CORE    uint32 = 0x10
	S_EXIT    uint32 = 0x20
	S_PT_SCE  uint32 = 0x10000
	S_PT_SCX  uint32 = 0x20000
	sAllStops uint32 = 0x3f
)

// Credentials of a process (p_ucred): what p_candebug compares.
type Credentials struct {
	Ruid, Euid, Suid uint32
	Rgid, Egid, Sgid uint32
	Groups           []uint32
}

// Process is an emulated process (FreeBSD struct proc).
//
// Fields are owned by the Kernel; the kernel is single-threaded by contract.
type Process struct {
	k   *Kernel
	Pid int32

	flag    ProcFlag
	stops   uint32      // p_stops: S_* procfs events and S_PT_SCE/SCX
	sclog   *syscallLog // the syscall log a debugger asked for (syslog.go), or nil
	step    bool        // p_step: held in stopevent()
	stype   uint32      // p_stype: the event stopevent() is held at
	xsig    int32       // p_xsig: signal of the last stop (or exit status while a zombie)
	xthread *Thread
	oppid   int32 // p_oppid: original parent while traced

	pptr      *Process   // current parent (the tracer while traced)
	children  []*Process // in creation order
	orphans   []*Process // traced children of ours whose current parent is their tracer
	sigparent int32      // signal sent to the parent on exit (SIGCHLD)

	threads []*Thread // in creation order
	cred    Credentials
	comm    string // p_comm: command name (MAXCOMLEN)
	system  bool   // a kernel-side process with no threads (init, an outside tracer)

	mem     *machine.Memory
	vm      *VMMap
	files   *FDTable
	cwd     string
	umask   uint32
	exe     string // path of the executable (/proc/self/exe)
	brk     uint64
	brkMin  uint64
	mmapTop uint64

	sigacts   [abi.NSIG + 1]SigAction
	pending   sigQueue // process-directed pending signals
	exitCode  int32    // wait status once exited
	zombie    bool
	reaped    bool
	pgid, sid int32

	nice       int32 // setpriority bookkeeping (one CPU: no effect)
	childNanos int64 // CPU time of reaped children (getrusage, times)

	childWait   waitQueue // threads blocked in wait4 on our children
	vforkWait   waitQueue // the vfork parent waits here until exec or exit
	vforkParent *Thread

	itimerReal itimer
	rlimits    [16]abi.Rlimit
}

// Thread is an emulated thread (FreeBSD struct thread).
type Thread struct {
	Tid int32
	p   *Process
	cpu *machine.CPU

	lastSlice uint64 // Kernel.slices when the thread last started a slice (0: never)
	yield     bool   // sched_yield asked to end the slice when the syscall returns

	dbgflags  DbgFlag
	xsig      int32   // td_xsig: signal exchanged with the debugger
	dbgksi    Siginfo // td_dbgksi: siginfo shown by PT_LWPINFO
	dbgForked int32   // td_dbg_forked
	stopKind  stopKind
	stopSig   int32 // the signal a stopSignal stop reported

	sc        syscallArgs // td_dbgsa: current syscall (valid when inSyscall)
	scArgs    [6]uint64   // the handler's copy of sc.args (kept here so it does not escape per call)
	inSyscall bool
	phase     phase

	sigmask      uint64
	savedMask    uint64 // restored after rt_sigsuspend
	hasSavedMask bool
	pending      sigQueue
	altstack     stackT

	blocked     *waitQueue // the queue the thread sleeps on, or nil
	wakeAt      int64      // deadline in host-clock ns for timed sleeps, 0 if none
	timedOut    bool
	interrupted bool
	exited      bool
	name        string

	clearChildTid uint64
	vforkChild    int32 // pid of the vfork child this thread waits for
	sleepDeadline int64 // deadline of the nanosleep in progress
	epollMaskSet  bool  // epoll_pwait installed its temporary signal mask
	sleepQ        waitQueue
	futexWaiting  bool // sleeping in FUTEX_WAIT (the handler re-runs on wake)
	futexWoken    bool // woken by FUTEX_WAKE
	robustList    uint64

	sigwaitActive bool   // rt_sigtimedwait unblocked its set while sleeping
	sigwaitMask   uint64 // the mask rt_sigtimedwait restores
}

// phase is where a thread is in the kernel/user cycle (the continuation the
// scheduler resumes it at).
type phase uint8

const (
	phaseUser         phase = iota // return to user mode (after signal checks)
	phaseSyscallEnter              // the syscall instruction retired: syscallenter
	phaseSyscallRun                // run (or re-run, after a sleep) the handler
	phaseSyscallExit               // syscallret: the SCX stop check
	phaseExited
)

// stopKind says what a thread stopped in ptracestop is waiting to do with
// td_xsig when it is resumed.
type stopKind uint8

const (
	stopNone    stopKind = iota
	stopSignal           // a signal is being reported: td_xsig replaces it
	stopSyscall          // SCE, SCX, exec or fork stop: td_xsig, if any, is posted
	stopChild            // the first stop of a followed fork child (SIGSTOP)
)

// syscallArgs is the current syscall (FreeBSD's td_sa, shown through td_dbgsa).
type syscallArgs struct {
	code   uint32
	narg   uint32
	args   [6]uint64
	icount uint64 // global instruction count at entry (the syscall log's)
	rip    uint64 // rip at entry: the address after the syscall instruction
}

// Kernel returns the kernel the process belongs to.
func (p *Process) Kernel() *Kernel { return p.k }

// Threads returns the process's live threads in creation order.
func (p *Process) Threads() []*Thread { return p.threads }

// Memory returns the process's address space.
func (p *Process) Memory() *machine.Memory { return p.mem }

// Flags returns p_flag.
func (p *Process) Flags() ProcFlag { return p.flag }

// Exited reports whether the process has exited (is a zombie or reaped).
func (p *Process) Exited() bool { return p.zombie || p.reaped }

// Process returns the thread's process.
func (t *Thread) Process() *Process { return t.p }

// CPU returns the thread's register state.
func (t *Thread) CPU() *machine.CPU { return t.cpu }

// firstThread is FIRST_THREAD_IN_PROC.
func (p *Process) firstThread() *Thread {
	for _, t := range p.threads {
		if !t.exited {
			return t
		}
	}
	if len(p.threads) > 0 {
		return p.threads[0]
	}
	return nil
}

func (p *Process) liveThreads() int {
	n := 0
	for _, t := range p.threads {
		if !t.exited {
			n++
		}
	}
	return n
}

// traced reports P_TRACED.
func (p *Process) traced() bool { return p.flag&P_TRACED != 0 }
