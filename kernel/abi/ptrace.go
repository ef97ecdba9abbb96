package abi

import "strconv"

// FreeBSD ptrace requests (sys/sys/ptrace.h, seed era). Guests reach them
// through the Linux personality's ptrace syscall (101).
const (
	PT_TRACE_ME     = 0  // child declares it is being traced
	PT_READ_I       = 1  // read word in child's I space
	PT_READ_D       = 2  // read word in child's D space
	PT_WRITE_I      = 4  // write word in child's I space
	PT_WRITE_D      = 5  // write word in child's D space
	PT_CONTINUE     = 7  // continue the child
	PT_KILL         = 8  // kill the child process
	PT_STEP         = 9  // single step the child
	PT_ATTACH       = 10 // trace some running process
	PT_DETACH       = 11 // stop tracing a process
	PT_IO           = 12 // do I/O to/from the stopped process
	PT_LWPINFO      = 13 // info about the LWP that stopped
	PT_GETNUMLWPS   = 14 // get total number of threads
	PT_GETLWPLIST   = 15 // get thread list
	PT_CLEARSTEP    = 16 // turn off single step
	PT_SETSTEP      = 17 // turn on single step
	PT_SUSPEND      = 18 // suspend a thread
	PT_RESUME       = 19 // resume a thread
	PT_TO_SCE       = 20 // stop at syscall entry
	PT_TO_SCX       = 21 // stop at syscall exit
	PT_SYSCALL      = 22 // stop at syscall entry and exit
	PT_FOLLOW_FORK  = 23 // auto-attach forked children
	PT_GETREGS      = 33 // get general-purpose registers
	PT_SETREGS      = 34 // set general-purpose registers
	PT_GETFPREGS    = 35 // get floating-point registers
	PT_SETFPREGS    = 36 // set floating-point registers
	PT_GETDBREGS    = 37 // get debugging registers
	PT_SETDBREGS    = 38 // set debugging registers
	PT_VM_TIMESTAMP = 40 // get VM version (timestamp)
	PT_VM_ENTRY     = 41 // get VM map (entry)
	PT_FIRSTMACH    = 64 // first machine-dependent request

	// amd64 machine-dependent requests of the seed era
	// (x86/include/ptrace.h). A native caller's 64 and 65 are aliases of
	// 66 and 67.
	PT_GETXSTATE = PT_FIRSTMACH + 2 // 66
	PT_SETXSTATE = PT_FIRSTMACH + 3 // 67

	// ptrec's own machine-dependent requests (kernel/ptrace.go and
	// kernel/syslog.go document them).
	PT_PTREC_GETDELTA  = PT_FIRSTMACH + 16 // 80: memory delta since the previous call
	PT_PTREC_GETBASES  = PT_FIRSTMACH + 17 // 81: fs_base and gs_base
	PT_PTREC_ICOUNT    = PT_FIRSTMACH + 18 // 82: the thread's retired instructions
	PT_PTREC_SYSLOG    = PT_FIRSTMACH + 19 // 83: start or stop the syscall log
	PT_PTREC_GETSYSLOG = PT_FIRSTMACH + 20 // 84: fetch the syscall log
	PT_PTREC_GETSTOP   = PT_FIRSTMACH + 21 // 85: lwpinfo, struct reg and the bases at once

	// i386 numbering, used for 32-bit (freebsd32) callers.
	PT_I386_GETXMMREGS = PT_FIRSTMACH + 0 // 64
	PT_I386_SETXMMREGS = PT_FIRSTMACH + 1 // 65
	PT_I386_GETXSTATE  = PT_FIRSTMACH + 2 // 66
	PT_I386_SETXSTATE  = PT_FIRSTMACH + 3 // 67
)

// FreeBSD ptrace requests added after the seed. The seed's kern_ptrace
// rejects them (EINVAL once the permission checks pass); they are here so
// dumps can name them.
const (
	PT_LWP_EVENTS     = 24
	PT_GET_EVENT_MASK = 25
	PT_SET_EVENT_MASK = 26
	PT_GET_SC_ARGS    = 27
	PT_GET_SC_RET     = 28
	PT_COREDUMP       = 29
	PT_GETREGSET      = 42
	PT_SETREGSET      = 43
	PT_SC_REMOTE      = 44
	PT_SET_SC_RET     = 45
	PT_GET_CHILDREN   = 46
	PT_LASTMACH       = 127
	PT_PROCDESC       = 0x80000000 // request flag: pid is a process descriptor

	// Modern event-mask bits (PT_SET_EVENT_MASK), not in the seed.
	PTRACE_EXEC  = 0x0001
	PTRACE_SCE   = 0x0002
	PTRACE_SCX   = 0x0004
	PTRACE_FORK  = 0x0008
	PTRACE_LWP   = 0x0010
	PTRACE_VFORK = 0x0020
)

var ptraceNames = [...]string{
	PT_PTREC_GETDELTA: "PT_PTREC_GETDELTA", PT_PTREC_GETBASES: "PT_PTREC_GETBASES", PT_PTREC_ICOUNT: "PT_PTREC_ICOUNT",
	PT_PTREC_SYSLOG: "PT_PTREC_SYSLOG", PT_PTREC_GETSYSLOG: "PT_PTREC_GETSYSLOG", PT_PTREC_GETSTOP: "PT_PTREC_GETSTOP",
	PT_TRACE_ME: "PT_TRACE_ME", PT_READ_I: "PT_READ_I", PT_READ_D: "PT_READ_D",
	PT_WRITE_I: "PT_WRITE_I", PT_WRITE_D: "PT_WRITE_D", PT_CONTINUE: "PT_CONTINUE",
	PT_KILL: "PT_KILL", PT_STEP: "PT_STEP", PT_ATTACH: "PT_ATTACH",
	PT_DETACH: "PT_DETACH", PT_IO: "PT_IO", PT_LWPINFO: "PT_LWPINFO",
	PT_GETNUMLWPS: "PT_GETNUMLWPS", PT_GETLWPLIST: "PT_GETLWPLIST",
	PT_CLEARSTEP: "PT_CLEARSTEP", PT_SETSTEP: "PT_SETSTEP", PT_SUSPEND: "PT_SUSPEND",
	PT_RESUME: "PT_RESUME", PT_TO_SCE: "PT_TO_SCE", PT_TO_SCX: "PT_TO_SCX",
	PT_SYSCALL: "PT_SYSCALL", PT_FOLLOW_FORK: "PT_FOLLOW_FORK",
	PT_LWP_EVENTS: "PT_LWP_EVENTS", PT_GET_EVENT_MASK: "PT_GET_EVENT_MASK",
	PT_SET_EVENT_MASK: "PT_SET_EVENT_MASK", PT_GET_SC_ARGS: "PT_GET_SC_ARGS",
	PT_GET_SC_RET: "PT_GET_SC_RET", PT_COREDUMP: "PT_COREDUMP",
	PT_GETREGS: "PT_GETREGS", PT_SETREGS: "PT_SETREGS", PT_GETFPREGS: "PT_GETFPREGS",
	PT_SETFPREGS: "PT_SETFPREGS", PT_GETDBREGS: "PT_GETDBREGS", PT_SETDBREGS: "PT_SETDBREGS",
	PT_VM_TIMESTAMP: "PT_VM_TIMESTAMP", PT_VM_ENTRY: "PT_VM_ENTRY",
	PT_GETREGSET: "PT_GETREGSET", PT_SETREGSET: "PT_SETREGSET", PT_SC_REMOTE: "PT_SC_REMOTE",
	PT_SET_SC_RET: "PT_SET_SC_RET", PT_GET_CHILDREN: "PT_GET_CHILDREN",
	PT_FIRSTMACH: "PT_FIRSTMACH", PT_FIRSTMACH + 1: "PT_FIRSTMACH+1",
	PT_GETXSTATE: "PT_GETXSTATE", PT_SETXSTATE: "PT_SETXSTATE",
}

// PtraceRequestName returns the C name of FreeBSD ptrace request req
// ("PT_ATTACH"), using the native amd64 numbering for machine-dependent
// requests. Unknown values give "PT_N".
func PtraceRequestName(req int) string {
	if req >= 0 && req < len(ptraceNames) && ptraceNames[req] != "" {
		return ptraceNames[req]
	}
	return "PT_" + strconv.Itoa(req)
}

// PtraceRequest32Name is PtraceRequestName for a 32-bit (freebsd32)
// caller, whose machine-dependent requests use the i386 numbering.
func PtraceRequest32Name(req int) string {
	switch req {
	case PT_I386_GETXMMREGS:
		return "PT_I386_GETXMMREGS"
	case PT_I386_SETXMMREGS:
		return "PT_I386_SETXMMREGS"
	case PT_I386_GETXSTATE:
		return "PT_I386_GETXSTATE"
	case PT_I386_SETXSTATE:
		return "PT_I386_SETXSTATE"
	}
	return PtraceRequestName(req)
}

// PT_IO operations (piod_op). I and D behave identically.
const (
	PIOD_READ_D  = 1 // read from D space
	PIOD_WRITE_D = 2 // write to D space
	PIOD_READ_I  = 3 // read from I space
	PIOD_WRITE_I = 4 // write to I space
)

// PT_LWPINFO pl_event values and pl_flags bits (seed era).
const (
	PL_EVENT_NONE   = 0 // thread not in a ptrace signal exchange
	PL_EVENT_SIGNAL = 1 // thread stopped in ptracestop

	PL_FLAG_SA     = 0x01 // M:N thread (never set)
	PL_FLAG_BOUND  = 0x02 // M:N bound thread (never set)
	PL_FLAG_SCE    = 0x04 // syscall entry (or inside a syscall)
	PL_FLAG_SCX    = 0x08 // syscall exit
	PL_FLAG_EXEC   = 0x10 // exec stop
	PL_FLAG_SI     = 0x20 // pl_siginfo is valid
	PL_FLAG_FORKED = 0x40 // new child created; pl_child_pid is set
	PL_FLAG_CHILD  = 0x80 // first stop of an auto-attached child

	// Later FreeBSD, not in the seed.
	PL_FLAG_BORN       = 0x100
	PL_FLAG_EXITED     = 0x200
	PL_FLAG_VFORKED    = 0x400
	PL_FLAG_VFORK_DONE = 0x800
)

// Stop events in p_stops (sys/sys/pioctl.h), plus the ptrace-only bits of
// sys/ptrace.h that share the word.
const (
	S_EXEC     = 0x01 // stop on successful execve
	S_SIG      = 0x02 // stop on signal
	S_SCE      = 0x04 // stop on syscall entry
	S_SCX      = 0x08 // stop on syscall exit
	S_CORE     = 0x10 // stop before core dump
	S_EXIT     = 0x20 // stop on exit
	S_ALLSTOPS = 0x3f // all of the above

	S_PT_SCE = 0x10000 // ptrace: stop at syscall entry (PT_TO_SCE)
	S_PT_SCX = 0x20000 // ptrace: stop at syscall exit (PT_TO_SCX)

	// procfs p_pfsflags
	PF_LINGER = 0x1
	PF_ISUGID = 0x2
	PF_FORK   = 0x4
)

// FreeBSD p_flag bits (sys/sys/proc.h, 10.1), for documentation and dumps.
const (
	P_ADVLOCK         = 0x00001
	P_CONTROLT        = 0x00002
	P_KTHREAD         = 0x00004
	P_FOLLOWFORK      = 0x00008
	P_PPWAIT          = 0x00010
	P_PROFIL          = 0x00020
	P_STOPPROF        = 0x00040
	P_HADTHREADS      = 0x00080
	P_SUGID           = 0x00100
	P_SYSTEM          = 0x00200
	P_SINGLE_EXIT     = 0x00400
	P_TRACED          = 0x00800
	P_WAITED          = 0x01000
	P_WEXIT           = 0x02000
	P_EXEC            = 0x04000
	P_WKILLED         = 0x08000
	P_CONTINUED       = 0x10000
	P_STOPPED_SIG     = 0x20000
	P_STOPPED_TRACE   = 0x40000
	P_STOPPED_SINGLE  = 0x80000
	P_PROTECTED       = 0x100000
	P_SIGEVENT        = 0x200000
	P_SINGLE_BOUNDARY = 0x400000
	P_HWPMC           = 0x800000
	P_JAILED          = 0x1000000
	P_INEXEC          = 0x4000000
	P_STATCHILD       = 0x8000000
	P_INMEM           = 0x10000000
	P_SWAPPINGOUT     = 0x20000000
	P_SWAPPINGIN      = 0x40000000
	P_PPTRACE         = 0x80000000

	P_STOPPED = P_STOPPED_SIG | P_STOPPED_SINGLE | P_STOPPED_TRACE

	P2_INHERIT_PROTECTED = 0x1 // p_flag2
	P_TREE_ORPHANED      = 0x1 // p_treeflag
	P_TREE_FIRST_ORPHAN  = 0x2 // p_treeflag
)

// FreeBSD td_dbgflags bits (sys/sys/proc.h, 10.1).
const (
	TDB_SUSPEND    = 0x001 // thread held by PT_SUSPEND
	TDB_XSIG       = 0x002 // thread is in a ptrace stop exchanging a signal
	TDB_USERWR     = 0x004 // debugger wrote registers or memory
	TDB_SCE        = 0x008 // thread is in syscall entry or inside a syscall
	TDB_SCX        = 0x010 // thread is at syscall exit
	TDB_EXEC       = 0x020 // syscall exit after a successful exec
	TDB_FORK       = 0x040 // syscall exit of a fork with a followed child
	TDB_STOPATFORK = 0x080 // new child must stop at its return from fork
	TDB_CHILD      = 0x100 // first stop of the auto-attached child

	TDF_ASTPENDING  = 0x800  // td_flags: AST pending
	TDF_NEEDSUSPCHK = 0x8000 // td_flags: set by PT_SUSPEND
)

// Other FreeBSD limits used by ptrace.
const (
	PID_MAX     = 99999  // largest pid; larger ptrace pids are thread ids
	NO_PID      = 100000 // first value that is not a pid
	MAXCOMLEN   = 19     // longest thread or command name
	SIG_MAXSIG  = 128    // FreeBSD _SIG_MAXSIG: largest PT_CONTINUE signal
	FBSD_SIGSET = 16     // size of FreeBSD sigset_t (4 x uint32)
)

// VM protections (FreeBSD vm/vm.h), as reported in pve_prot.
const (
	VM_PROT_NONE    = 0x00
	VM_PROT_READ    = 0x01
	VM_PROT_WRITE   = 0x02
	VM_PROT_EXECUTE = 0x04
	VM_PROT_COPY    = 0x08 // copy-on-write (proc_rwmem)

	// VM_MAXUSER_ADDRESS is the end of the amd64 user address space.
	VM_MAXUSER_ADDRESS = 0x0000800000000000
)

// amd64 rflags bits (x86/include/psl.h).
const (
	PSL_C    = 0x00000001 // carry
	PSL_PF   = 0x00000004 // parity
	PSL_AF   = 0x00000010 // bcd carry
	PSL_Z    = 0x00000040 // zero
	PSL_N    = 0x00000080 // negative (sign)
	PSL_T    = 0x00000100 // trace enable
	PSL_I    = 0x00000200 // interrupt enable
	PSL_D    = 0x00000400 // string direction
	PSL_V    = 0x00000800 // overflow
	PSL_IOPL = 0x00003000 // i/o privilege level
	PSL_NT   = 0x00004000 // nested task
	PSL_RF   = 0x00010000 // resume
	PSL_VM   = 0x00020000 // virtual 8086 mode
	PSL_AC   = 0x00040000 // alignment check
	PSL_VIF  = 0x00080000 // virtual interrupt enable
	PSL_VIP  = 0x00100000 // virtual interrupt pending
	PSL_ID   = 0x00200000 // identification bit

	PSL_RESERVED_DEFAULT = 0x00000002                   // always-one bit
	PSL_USER             = PSL_RESERVED_DEFAULT | PSL_I // rflags of a new process
	// PSL_USERCHANGE is the set of rflags bits set_regs lets a debugger
	// change; any other differing bit gives EINVAL.
	PSL_USERCHANGE = PSL_C | PSL_PF | PSL_AF | PSL_Z | PSL_N | PSL_T | PSL_D | PSL_V |
		PSL_NT | PSL_RF | PSL_AC | PSL_ID

	SEL_UPL = 3 // user privilege level in a selector's RPL
)

// amd64 trap numbers (x86/include/trap.h), as reported in r_trapno and the
// FreeBSD siginfo's si_trapno.
const (
	T_PRIVINFLT = 1  // privileged instruction
	T_BPTFLT    = 3  // breakpoint instruction
	T_ARITHTRAP = 6  // arithmetic trap
	T_PROTFLT   = 9  // protection fault
	T_TRCTRAP   = 10 // debug exception (single step, watchpoint)
	T_PAGEFLT   = 12 // page fault
	T_ALIGNFLT  = 14 // alignment fault
	T_DIVIDE    = 18 // integer divide fault
	T_NMI       = 19 // non-maskable trap
	T_OFLOW     = 20 // overflow trap
	T_BOUND     = 21 // bound instruction fault
	T_DNA       = 22 // device not available fault
	T_DOUBLEFLT = 23 // double fault
	T_FPOPFLT   = 24 // fp coprocessor operand fetch fault
	T_TSSFLT    = 25 // invalid tss fault
	T_SEGNPFLT  = 26 // segment not present fault
	T_STKFLT    = 27 // stack fault
	T_MCHK      = 28 // machine check trap
	T_XMMFLT    = 29 // SIMD floating-point exception
	T_RESERVED  = 30 // reserved (unknown)
)

// DR7 fields (x86/include/reg.h). Breakpoint slots are 0..3.
const (
	DBREG_DR7_LOCAL_ENABLE  = 0x01
	DBREG_DR7_GLOBAL_ENABLE = 0x02
	DBREG_DR7_LEN_1         = 0x00 // 1 byte
	DBREG_DR7_LEN_2         = 0x01
	DBREG_DR7_LEN_4         = 0x03
	DBREG_DR7_LEN_8         = 0x02
	DBREG_DR7_EXEC          = 0x00 // break on execute
	DBREG_DR7_WRONLY        = 0x01 // break on write
	DBREG_DR7_RDWR          = 0x03 // break on read or write
	DBREG_DR7_IO            = 0x02 // I/O breakpoint: set_dbregs refuses it
	DBREG_DR7_GD            = 0x2000
)

// DR7Access returns the RW code of slot i in DR7 value d.
func DR7Access(d uint64, i int) uint64 { return (d >> (16 + 4*uint(i))) & 3 }

// DR7Len returns the LEN code of slot i in DR7 value d.
func DR7Len(d uint64, i int) uint64 { return (d >> (18 + 4*uint(i))) & 3 }

// DR7Enabled reports whether slot i is enabled (locally or globally) in d.
func DR7Enabled(d uint64, i int) bool { return d&(3<<(2*uint(i))) != 0 }
