package kernel

import (
	"errors"
	"fmt"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Spawn errors, so the CLI can choose exit statuses 127 and 126.
var (
	ErrNotFound      = errors.New("program not found")
	ErrNotExecutable = errors.New("program not executable")
)

// SpawnOptions describes the first process of a run.
type SpawnOptions struct {
	Path string   // host path of the program
	Argv []string // argv (argv[0] included)
	Envp []string
	// TraceMe makes the child call PT_TRACE_ME before exec, so it stops with
	// SIGTRAP (PL_FLAG_EXEC) at its first instruction, as a child of a
	// debugger that forked it would.
	TraceMe bool
}

// Spawn forks a child of parent (normally a tracer process) that execs the
// program: what a debugger does with fork, PT_TRACE_ME and execve. Host
// stdin, stdout and stderr become descriptors 0, 1 and 2.
func (k *Kernel) Spawn(parent *Process, o SpawnOptions) (*Process, error) {
	p := k.newProcess(parent)
	p.cred = parent.cred
	p.comm = truncComm(o.Path)
	p.files = newFDTable()
	for fd := 0; fd < 3; fd++ {
		flags := uint32(abi.O_RDWR)
		if fd == 0 {
			flags = abi.O_RDONLY
		} else {
			flags = abi.O_WRONLY
		}
		// The standard streams share their offset with the host (a
		// shell's redirection): plain reads and writes, no pread.
		h := &hostFile{handle: int64(fd), std: true}
		p.files.install(newFile(h, flags, fmt.Sprintf("/dev/fd/%d", fd)), fd, false)
	}
	t := k.newThread(p, machine.NewCPU(machine.NewMemory()))
	if o.TraceMe {
		if _, err := k.Ptrace(PtraceCaller{P: p, T: t}, &PtraceRequest{Op: abi.PT_TRACE_ME}); err != nil {
			k.discard(p)
			return nil, fmt.Errorf("PT_TRACE_ME: %w", err)
		}
	}
	if err := k.execImage(t, o.Path, o.Argv, o.Envp); err != nil {
		k.discard(p)
		var ee *ExecError
		if errors.As(err, &ee) {
			if ee.Errno == abi.ENOENT && ee.Reason == "" {
				return nil, fmt.Errorf("%w: %s", ErrNotFound, ee.Path)
			}
			return nil, fmt.Errorf("%w: %v", ErrNotExecutable, ee)
		}
		return nil, err
	}
	// The child is now at the return of its execve: the exec stop if traced.
	t.sc = syscallArgs{code: abi.SYS_EXECVE, narg: uint32(abi.SyscallNarg(abi.SYS_EXECVE))}
	t.inSyscall = true
	t.dbgflags |= TDB_EXEC | TDB_SCE
	t.phase = phaseSyscallExit
	k.setRunnable(t)
	return p, nil
}

// discard removes a process that never ran.
func (k *Kernel) discard(p *Process) {
	for _, t := range p.threads {
		delete(k.threads, t.Tid)
	}
	p.zombie = true
	k.reap(p.pptr, p)
}

// Icount returns the number of instructions the thread has retired.
func (t *Thread) Icount() uint64 { return t.cpu.Icount }

// Kill ends a process at once, as SIGKILL from outside the machine would
// (used when a recording is interrupted or hits a limit).
func (k *Kernel) Kill(p *Process) {
	k.exitProcess(p, waitSignaled(int32(abi.SIGKILL), false))
}

// PtraceKillAll is not a FreeBSD request: the recorder logs a Request event
// with this Op when it ends a run early (interrupted, or a limit reached)
// and kills every guest process with KillAll; replay does the same at that
// event.
const PtraceKillAll = -1

// KillAll kills every guest process (not init nor the tracer processes
// standing for debuggers outside the machine), in pid order.
func (k *Kernel) KillAll() {
	for _, p := range append([]*Process(nil), k.procs...) {
		if !p.system && !p.Exited() {
			k.Kill(p)
		}
	}
}
