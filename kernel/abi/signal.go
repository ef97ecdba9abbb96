package abi

import "strconv"

// Signal is a Linux x86-64 signal number.
type Signal int

// Linux x86-64 signal numbers (arch/x86/include/uapi/asm/signal.h).
const (
	SIGHUP    Signal = 1
	SIGINT    Signal = 2
	SIGQUIT   Signal = 3
	SIGILL    Signal = 4
	SIGTRAP   Signal = 5
	SIGABRT   Signal = 6
	SIGIOT    Signal = 6 // alias of SIGABRT
	SIGBUS    Signal = 7
	SIGFPE    Signal = 8
	SIGKILL   Signal = 9
	SIGUSR1   Signal = 10
	SIGSEGV   Signal = 11
	SIGUSR2   Signal = 12
	SIGPIPE   Signal = 13
	SIGALRM   Signal = 14
	SIGTERM   Signal = 15
	SIGSTKFLT Signal = 16
	SIGCHLD   Signal = 17
	SIGCONT   Signal = 18
	SIGSTOP   Signal = 19
	SIGTSTP   Signal = 20
	SIGTTIN   Signal = 21
	SIGTTOU   Signal = 22
	SIGURG    Signal = 23
	SIGXCPU   Signal = 24
	SIGXFSZ   Signal = 25
	SIGVTALRM Signal = 26
	SIGPROF   Signal = 27
	SIGWINCH  Signal = 28
	SIGIO     Signal = 29
	SIGPOLL   Signal = 29 // alias of SIGIO
	SIGPWR    Signal = 30
	SIGSYS    Signal = 31

	// SIGRTMIN is the kernel's first real-time signal. glibc and musl
	// reserve 32 and 33 for themselves, so a C program's SIGRTMIN is 34.
	SIGRTMIN Signal = 32
	// SIGRTMAX is the last real-time signal.
	SIGRTMAX Signal = 64
	// NSIG is the number of signals (_NSIG); valid signals are 1..NSIG.
	NSIG = 64
	// LibcSIGRTMIN is SIGRTMIN as glibc and musl report it.
	LibcSIGRTMIN Signal = 34
)

var signalNames = [...]string{
	SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
	SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
	SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
	SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGSTKFLT: "SIGSTKFLT",
	SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP",
	SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU",
	SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH",
	SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS",
}

// String returns the C name ("SIGSEGV"). Real-time signals print as
// "SIGRTMIN+n" counted from the kernel's SIGRTMIN (32); 0 and out-of-range
// values print as "signal N".
func (s Signal) String() string {
	if s > 0 && int(s) < len(signalNames) {
		return signalNames[s]
	}
	if s == SIGRTMIN {
		return "SIGRTMIN"
	}
	if s > SIGRTMIN && s <= SIGRTMAX {
		return "SIGRTMIN+" + strconv.Itoa(int(s-SIGRTMIN))
	}
	return "signal " + strconv.Itoa(int(s))
}

// Valid reports whether s is a signal number (1..NSIG).
func (s Signal) Valid() bool { return s >= 1 && s <= NSIG }

// SignalByName returns the signal with the given C name ("SIGINT" or "INT").
func SignalByName(name string) (Signal, bool) {
	if len(name) < 3 || name[:3] != "SIG" {
		name = "SIG" + name
	}
	switch name {
	case "SIGIOT":
		return SIGIOT, true
	case "SIGPOLL":
		return SIGPOLL, true
	case "SIGRTMIN":
		return SIGRTMIN, true
	case "SIGRTMAX":
		return SIGRTMAX, true
	}
	for i, n := range signalNames {
		if n == name && n != "" {
			return Signal(i), true
		}
	}
	return 0, false
}

// SigDisposition is a signal's default disposition (signal(7)).
type SigDisposition uint8

// Default dispositions.
const (
	SigActTerm   SigDisposition = iota // terminate the process
	SigActCore                         // terminate and dump core
	SigActIgnore                       // ignore the signal
	SigActStop                         // stop the process
	SigActCont                         // continue the process if stopped
)

var sigActionNames = [...]string{"term", "core", "ignore", "stop", "cont"}

// String returns "term", "core", "ignore", "stop" or "cont".
func (a SigDisposition) String() string {
	if int(a) < len(sigActionNames) {
		return sigActionNames[a]
	}
	return "disposition(" + strconv.Itoa(int(a)) + ")"
}

// DefaultAction returns the default disposition of signal s on Linux.
// Real-time signals and unknown numbers terminate.
func DefaultAction(s Signal) SigDisposition {
	switch s {
	case SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS:
		return SigActCore
	case SIGCHLD, SIGURG, SIGWINCH:
		return SigActIgnore
	case SIGCONT:
		return SigActCont
	case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU:
		return SigActStop
	}
	return SigActTerm
}

// IsStopSignal reports whether s stops a process by default
// (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).
func IsStopSignal(s Signal) bool { return DefaultAction(s) == SigActStop }

// Sigset is the kernel's signal mask for x86-64 (8 bytes): bit s-1 stands
// for signal s.
type Sigset uint64

// SigsetSize is the size of the kernel sigset_t that rt_sig* syscalls
// require as their sigsetsize argument.
const SigsetSize = 8

// SigsetOf returns a set holding the given signals.
func SigsetOf(sigs ...Signal) Sigset {
	var m Sigset
	for _, s := range sigs {
		m = m.Add(s)
	}
	return m
}

// Has reports whether s is in the set.
func (m Sigset) Has(s Signal) bool { return s.Valid() && m&(1<<uint(s-1)) != 0 }

// Add returns the set with s added.
func (m Sigset) Add(s Signal) Sigset {
	if !s.Valid() {
		return m
	}
	return m | 1<<uint(s-1)
}

// Del returns the set with s removed.
func (m Sigset) Del(s Signal) Sigset {
	if !s.Valid() {
		return m
	}
	return m &^ (1 << uint(s-1))
}

// UnblockableSigs holds the signals that can never be blocked.
const UnblockableSigs = Sigset(1<<(SIGKILL-1) | 1<<(SIGSTOP-1))

// Marshal writes the set to b[0:8].
func (m Sigset) Marshal(b []byte) { putU64(b, uint64(m)) }

// UnmarshalSigset reads a set from b[0:8].
func UnmarshalSigset(b []byte) Sigset { return Sigset(getU64(b)) }

// si_code values (include/uapi/asm-generic/siginfo.h).
const (
	SI_USER     = 0    // kill, sigsend, raise
	SI_KERNEL   = 0x80 // sent by the kernel
	SI_QUEUE    = -1   // sigqueue
	SI_TIMER    = -2   // POSIX timer expiry
	SI_MESGQ    = -3   // message queue state change
	SI_ASYNCIO  = -4   // AIO completion
	SI_SIGIO    = -5   // queued SIGIO
	SI_TKILL    = -6   // tkill or tgkill
	SI_DETHREAD = -7   // sent by execve killing subsidiary threads
	SI_ASYNCNL  = -60  // asynchronous name lookup completion

	ILL_ILLOPC = 1 // illegal opcode
	ILL_ILLOPN = 2 // illegal operand
	ILL_ILLADR = 3 // illegal addressing mode
	ILL_ILLTRP = 4 // illegal trap
	ILL_PRVOPC = 5 // privileged opcode
	ILL_PRVREG = 6 // privileged register
	ILL_COPROC = 7 // coprocessor error
	ILL_BADSTK = 8 // internal stack error

	FPE_INTDIV = 1 // integer divide by zero
	FPE_INTOVF = 2 // integer overflow
	FPE_FLTDIV = 3 // floating-point divide by zero
	FPE_FLTOVF = 4 // floating-point overflow
	FPE_FLTUND = 5 // floating-point underflow
	FPE_FLTRES = 6 // floating-point inexact result
	FPE_FLTINV = 7 // floating-point invalid operation
	FPE_FLTSUB = 8 // subscript out of range

	SEGV_MAPERR = 1 // address not mapped to object
	SEGV_ACCERR = 2 // invalid permissions for mapped object
	SEGV_BNDERR = 3 // failed address bound checks
	SEGV_PKUERR = 4 // failed protection key checks

	BUS_ADRALN    = 1 // invalid address alignment
	BUS_ADRERR    = 2 // nonexistent physical address
	BUS_OBJERR    = 3 // object-specific hardware error
	BUS_MCEERR_AR = 4 // hardware memory error consumed, action required
	BUS_MCEERR_AO = 5 // hardware memory error detected, action optional

	TRAP_BRKPT  = 1 // process breakpoint
	TRAP_TRACE  = 2 // process trace trap
	TRAP_BRANCH = 3 // process taken branch trap
	TRAP_HWBKPT = 4 // hardware breakpoint or watchpoint

	CLD_EXITED    = 1 // child has exited
	CLD_KILLED    = 2 // child was killed
	CLD_DUMPED    = 3 // child terminated abnormally (core)
	CLD_TRAPPED   = 4 // traced child has trapped
	CLD_STOPPED   = 5 // child has stopped
	CLD_CONTINUED = 6 // stopped child has continued

	POLL_IN  = 1 // data input available
	POLL_OUT = 2 // output buffers available
	POLL_MSG = 3 // input message available
	POLL_ERR = 4 // i/o error
	POLL_PRI = 5 // high priority input available
	POLL_HUP = 6 // device disconnected

	// SI_SYS_SECCOMP is the si_code C calls SYS_SECCOMP (renamed: it clashes
	// with the syscall number).
	SI_SYS_SECCOMP = 1
)

// Signal dispositions, sigaction flags and sigprocmask operations
// (arch/x86/include/uapi/asm/signal.h).
const (
	SIG_DFL = 0 // default action
	SIG_IGN = 1 // ignore
	SIG_ERR = -1

	SA_NOCLDSTOP      = 0x00000001
	SA_NOCLDWAIT      = 0x00000002
	SA_SIGINFO        = 0x00000004
	SA_UNSUPPORTED    = 0x00000400
	SA_EXPOSE_TAGBITS = 0x00000800
	SA_RESTORER       = 0x04000000
	SA_ONSTACK        = 0x08000000
	SA_RESTART        = 0x10000000
	SA_NODEFER        = 0x40000000
	SA_RESETHAND      = 0x80000000

	SIG_BLOCK   = 0
	SIG_UNBLOCK = 1
	SIG_SETMASK = 2

	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31

	MINSIGSTKSZ = 2048
	SIGSTKSZ    = 8192
)

// Linux wait options (include/uapi/linux/wait.h).
const (
	WNOHANG    = 0x00000001
	WUNTRACED  = 0x00000002
	WSTOPPED   = WUNTRACED
	WEXITED    = 0x00000004
	WCONTINUED = 0x00000008
	WNOWAIT    = 0x01000000
	WNOTHREAD  = 0x20000000 // __WNOTHREAD
	WALL       = 0x40000000 // __WALL
	WCLONE     = 0x80000000 // __WCLONE

	P_ALL   = 0 // waitid idtype
	P_PID   = 1
	P_PGID  = 2
	P_PIDFD = 3
)

// WaitStatus is a wait4 status word. Linux and FreeBSD encode it alike.
type WaitStatus uint32

// WCOREFLAG is the core-dump bit of a signaled status.
const WCOREFLAG = 0x80

// WaitExited returns the status of a process that exited with code
// (only its low 8 bits are kept): code<<8.
func WaitExited(code int) WaitStatus { return WaitStatus(code&0xff) << 8 }

// WaitSignaled returns the status of a process killed by sig, with
// WCOREFLAG when it dumped core.
func WaitSignaled(sig Signal, core bool) WaitStatus {
	w := WaitStatus(sig & 0x7f)
	if core {
		w |= WCOREFLAG
	}
	return w
}

// WaitStopped returns the status of a process stopped by sig:
// sig<<8 | 0x7f.
func WaitStopped(sig Signal) WaitStatus { return WaitStatus(sig&0xff)<<8 | 0x7f }

// WaitContinued is the Linux status of a continued process (0xffff).
// FreeBSD reports 0x13 (SIGCONT<<8 | 0x7f with its own numbering).
const WaitContinued WaitStatus = 0xffff

// Exited is WIFEXITED.
func (w WaitStatus) Exited() bool { return w&0x7f == 0 }

// ExitStatus is WEXITSTATUS.
func (w WaitStatus) ExitStatus() int { return int(w>>8) & 0xff }

// Signaled is WIFSIGNALED.
func (w WaitStatus) Signaled() bool { return w&0x7f != 0x7f && w&0x7f != 0 }

// Signal is WTERMSIG.
func (w WaitStatus) Signal() Signal { return Signal(w & 0x7f) }

// CoreDump is WCOREDUMP.
func (w WaitStatus) CoreDump() bool { return w.Signaled() && w&WCOREFLAG != 0 }

// Stopped is WIFSTOPPED.
func (w WaitStatus) Stopped() bool { return w&0xff == 0x7f }

// StopSignal is WSTOPSIG.
func (w WaitStatus) StopSignal() Signal { return Signal(w>>8) & 0xff }

// Continued is WIFCONTINUED (Linux encoding).
func (w WaitStatus) Continued() bool { return w == WaitContinued }

// String describes the status: "exited 3", "signaled SIGSEGV (core)",
// "stopped SIGTRAP", "continued".
func (w WaitStatus) String() string {
	switch {
	case w.Continued():
		return "continued"
	case w.Exited():
		return "exited " + strconv.Itoa(w.ExitStatus())
	case w.Stopped():
		return "stopped " + w.StopSignal().String()
	default:
		s := "signaled " + w.Signal().String()
		if w.CoreDump() {
			s += " (core)"
		}
		return s
	}
}
