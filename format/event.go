package format

import "strconv"

// Kind is the kind of a trace event.
type Kind uint8

// Event kinds. The numeric values are part of the on-disk format.
const (
	KindInvalid  Kind = 0
	KindRequest  Kind = 1 // a ptrace request the recorder made, with its result
	KindStop     Kind = 2 // a stop the recorder saw through wait4 (+ PT_LWPINFO, PT_GETREGS)
	KindMemDelta Kind = 3 // bytes of guest memory that changed since the previous stop
	KindInput    Kind = 4 // one call across the Host boundary and its result
	KindExit     Kind = 5 // the end of the recording: the guest's final status
	KindSyscalls Kind = 6 // syscalls a process completed since its previous stop, with their results (2.1)
)

var kindNames = [...]string{"invalid", "request", "stop", "memdelta", "input", "exit", "syscalls"}

// String returns the lower-case name used by `ptrec dump --json`.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// NumRegs is the number of registers in a Regs record.
const NumRegs = 27

// Regs is a register record: FreeBSD amd64 struct reg order (r15, r14, r13,
// r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax, trapno, fs, gs,
// err, es, ds, rip, cs, rflags, rsp, ss) followed by fs_base.
type Regs [NumRegs]uint64

// Indices into Regs.
const (
	RegR15 = iota
	RegR14
	RegR13
	RegR12
	RegR11
	RegR10
	RegR9
	RegR8
	RegRDI
	RegRSI
	RegRBP
	RegRBX
	RegRDX
	RegRCX
	RegRAX
	RegTrapno
	RegFS
	RegGS
	RegErr
	RegES
	RegDS
	RegRIP
	RegCS
	RegRFLAGS
	RegRSP
	RegSS
	RegFSBase
)

// Event is one trace record. Seq, Kind, Icount, Pid and Tid are common; the
// pointer of the event's kind is set and the others are nil.
type Event struct {
	Seq    uint64 // event number, 0-based, assigned by the Writer
	Kind   Kind
	Icount uint64 // global retired-instruction count when the event happened
	Pid    int32  // process the event concerns (0 if none)
	Tid    int32  // thread the event concerns (0 if none)

	Request  *Request
	Stop     *Stop
	Mem      *MemDelta
	Input    *Input
	Exit     *Exit
	Syscalls *Syscalls
}

// Request is a ptrace request of the recorder: kern_ptrace(req, pid, addr, data).
type Request struct {
	Op     int32  // PT_* request number
	Pid    int32  // pid or tid argument
	Addr   uint64 // addr argument (a tracer-side address or a value)
	Data   int64  // data argument
	Result int64  // the value returned (td_retval[0]) on success
	Errno  int32  // 0 on success, else the errno (Linux numbering)
	In     []byte // bytes the request copied in (PT_SETREGS, PT_IO writes, ...)
	Out    []byte // bytes the request copied out (PT_GETREGS, PT_LWPINFO, PT_IO reads, ...)
}

// Stop is a stop event reported by wait4, with what PT_LWPINFO and PT_GETREGS said.
type Stop struct {
	Status      int32  // wait4 status (stopped, exited or signaled)
	Event       int32  // pl_event
	Flags       int32  // pl_flags
	Signo       int32  // pl_siginfo.si_signo (0 if no PL_FLAG_SI)
	Code        int32  // pl_siginfo.si_code
	SigAddr     uint64 // pl_siginfo.si_addr
	ChildPid    int32  // pl_child_pid
	SyscallCode uint32 // pl_syscall_code
	SyscallNarg uint32 // pl_syscall_narg
	Regs        Regs   // registers at the stop (zero for exit stops)
}

// MemRange is a run of bytes at a guest address.
type MemRange struct {
	Addr uint64
	Data []byte
}

// MemDelta holds the bytes of a process's memory that changed since its
// previous stop, in ascending address order.
type MemDelta struct {
	Ranges []MemRange
}

// Input is one call across the kernel's Host boundary: the request (Op, Path,
// Handle, Args, In) and the host's answer (Ret, Errno, Out). Replay matches the
// request and returns the answer.
type Input struct {
	Op     uint16  // host operation (kernel.HostOp)
	Path   string  // path argument, if any
	Handle int64   // host handle argument, if any
	Args   []int64 // other integer arguments
	In     []byte  // bytes given to the host (a write's data)
	Ret    int64   // result value
	Errno  int32   // 0 or a Linux errno
	Out    []byte  // bytes returned by the host (read data, file content, stat)
}

// Syscall is one syscall a process completed, from the kernel's syscall
// log (the recorder's PT_PTREC_GETSYSLOG).
type Syscall struct {
	Tid    int32
	Code   uint32 // the guest's syscall number
	Flags  uint32 // kernel.SyscallNoReturn
	Icount uint64 // global instruction count at the syscall's entry
	RIP    uint64 // the address after the syscall instruction
	Args   [6]uint64
	Ret    int64 // rax after the syscall: the result, or -errno
}

// Syscalls are the syscalls of a process logged since its previous stop,
// in the order they completed.
type Syscalls struct {
	Records []Syscall
}

// Exit ends a trace: the initial process's final wait status.
type Exit struct {
	Status int32  // wait status of the initial process
	Reason string // why the recording ended ("exited", "signaled", "interrupted", "limit", ...)
}
