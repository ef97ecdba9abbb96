package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

func sysGetpid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) { return uint64(t.p.Pid), nil }
func sysGettid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) { return uint64(t.Tid), nil }
func sysGetppid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(ppidOf(t.p)), nil
}
func sysGetuid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(t.p.cred.Ruid), nil
}
func sysGeteuid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(t.p.cred.Euid), nil
}
func sysGetgid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(t.p.cred.Rgid), nil
}
func sysGetegid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(t.p.cred.Egid), nil
}

func sysExit(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	k.exitThread(t, waitExited(int32(a[0])))
	return 0, errNoReturn
}

func sysExitGroup(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	k.exitProcess(t.p, waitExited(int32(a[0])))
	return 0, errNoReturn
}

func sysSetTidAddress(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	t.clearChildTid = a[0]
	return uint64(t.Tid), nil
}

func sysSetRobustList(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[1] != 24 {
		return 0, abi.EINVAL
	}
	t.robustList = a[0]
	return 0, nil
}

func sysArchPrctl(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	switch a[0] {
	case abi.ARCH_SET_FS:
		t.cpu.FSBase = a[1]
	case abi.ARCH_SET_GS:
		t.cpu.GSBase = a[1]
	case abi.ARCH_GET_FS:
		return 0, t.writeU64(a[1], t.cpu.FSBase)
	case abi.ARCH_GET_GS:
		return 0, t.writeU64(a[1], t.cpu.GSBase)
	default:
		return 0, abi.EINVAL
	}
	return 0, nil
}

// clone flags ptrec understands.
const cloneSupported = abi.CLONE_VM | abi.CLONE_FS | abi.CLONE_FILES | abi.CLONE_SIGHAND | abi.CLONE_THREAD |
	abi.CLONE_SYSVSEM | abi.CLONE_SETTLS | abi.CLONE_PARENT_SETTID | abi.CLONE_CHILD_CLEARTID |
	abi.CLONE_CHILD_SETTID | abi.CLONE_VFORK | abi.CLONE_DETACHED | abi.CLONE_IO | 0xff

func sysFork(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doClone(t, uint64(abi.SIGCHLD), 0, 0, 0, 0)
}

func sysVfork(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doClone(t, uint64(abi.CLONE_VM|abi.CLONE_VFORK|uint64(abi.SIGCHLD)), 0, 0, 0, 0)
}

func sysClone(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doClone(t, a[0], a[1], a[2], a[3], a[4])
}

func sysClone3(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	size := a[1]
	if size < 64 || size > 4096 {
		return 0, abi.EINVAL
	}
	var b [88]byte
	if err := t.readMem(a[0], b[:min(size, 88)]); err != nil {
		return 0, err
	}
	flags, pidfd, childTid, parentTid := le64(b[0:]), le64(b[8:]), le64(b[16:]), le64(b[24:])
	exitSignal, stack, stackSize, tls := le64(b[32:]), le64(b[40:]), le64(b[48:]), le64(b[56:])
	_ = pidfd
	if flags&abi.CLONE_PIDFD != 0 || exitSignal > abi.NSIG {
		return 0, abi.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	return k.doClone(t, flags|exitSignal, sp, parentTid, childTid, tls)
}

// doClone creates a thread or a process (Linux clone, FreeBSD fork1 with
// its follow-fork debugger protocol).
func (k *Kernel) doClone(t *Thread, flags, newsp, parentTid, childTid, tls uint64) (uint64, error) {
	if t.vforkChild != 0 {
		// Re-run after sleeping: the vfork child has exec'd or exited.
		pid := t.vforkChild
		if c := k.pidMap[pid]; c != nil && c.vforkParent == t {
			if t.interrupted {
				t.interrupted = false
			}
			k.sleepOn(t, &c.vforkWait, 0)
			return 0, errBlock
		}
		t.vforkChild = 0
		return uint64(pid), nil
	}
	if flags&^uint64(cloneSupported) != 0 {
		return 0, abi.EINVAL
	}
	if flags&abi.CLONE_THREAD != 0 && flags&(abi.CLONE_SIGHAND|abi.CLONE_VM) != abi.CLONE_SIGHAND|abi.CLONE_VM {
		return 0, abi.EINVAL
	}
	p := t.p
	if err := k.chargeTask(p, flags&abi.CLONE_VM == 0); err != nil {
		return 0, err
	}
	cpu := t.cpu.Clone(nil)
	cpu.Regs[machine.RAX] = 0
	if newsp != 0 {
		cpu.Regs[machine.RSP] = newsp
	}
	if flags&abi.CLONE_SETTLS != 0 {
		cpu.FSBase = tls
	}
	cpu.Icount = 0
	if flags&abi.CLONE_THREAD != 0 {
		cpu.Mem = p.mem
		nt := k.newThread(p, cpu)
		nt.sigmask = t.sigmask
		nt.altstack = stackT{flags: abi.SS_DISABLE}
		// A new thread returns from clone through syscallret (FreeBSD's
		// fork_return): a debugger tracing syscall exits sees its SCX stop.
		nt.sc = t.sc
		nt.inSyscall = true
		nt.phase = phaseSyscallExit
		if flags&abi.CLONE_CHILD_CLEARTID != 0 {
			nt.clearChildTid = childTid
		}
		if flags&abi.CLONE_PARENT_SETTID != 0 {
			t.writeU32(parentTid, uint32(nt.Tid))
		}
		if flags&abi.CLONE_CHILD_SETTID != 0 {
			nt.writeU32(childTid, uint32(nt.Tid))
		}
		k.setRunnable(nt)
		return uint64(nt.Tid), nil
	}
	if limit := p.rlimits[abi.RLIMIT_NPROC].Cur; limit != 0 && uint64(len(k.procs)) >= limit {
		return 0, abi.EAGAIN
	}
	c := k.newProcess(p)
	c.comm = p.comm
	c.exe = p.exe
	c.brk, c.brkMin = p.brk, p.brkMin
	c.sigacts = p.sigacts
	c.umask = p.umask
	c.sigparent = int32(flags & 0xff)
	if flags&abi.CLONE_VM != 0 {
		c.mem, c.vm = p.mem, p.vm
	} else {
		c.mem, c.vm = p.mem.Clone(), p.vm.clone()
	}
	cpu.Mem = c.mem
	if flags&abi.CLONE_FILES != 0 {
		c.files = p.files
		c.files.refs++
	} else {
		c.files = p.files.clone()
	}
	nt := k.newThread(c, cpu)
	nt.name = t.name
	nt.sigmask = t.sigmask
	nt.altstack = t.altstack
	nt.phase = phaseUser
	if flags&abi.CLONE_CHILD_CLEARTID != 0 {
		nt.clearChildTid = childTid
	}
	if flags&abi.CLONE_PARENT_SETTID != 0 {
		t.writeU32(parentTid, uint32(c.Pid))
	}
	if flags&abi.CLONE_CHILD_SETTID != 0 {
		nt.writeU32(childTid, uint32(nt.Tid))
	}
	if p.traced() && p.flag&P_FOLLOWFORK != 0 {
		// fork1 with a following debugger: the child starts traced and
		// stopped (PL_FLAG_CHILD); the parent's syscall exit stops with
		// PL_FLAG_FORKED.
		dbg := p.pptr
		c.flag |= P_TRACED
		c.oppid = p.Pid
		k.reparent(c, dbg)
		// The child's stop is at its return from fork (fork_return):
		// PL_FLAG_CHILD | PL_FLAG_SCX with the fork's syscall code, as
		// FreeBSD reports it since the syscall fields exist.
		nt.sc = t.sc
		nt.inSyscall = true
		nt.dbgflags |= TDB_CHILD | TDB_SCX
		t.dbgflags |= TDB_FORK
		t.dbgForked = c.Pid
		k.ptracestop(nt, abi.SIGSTOP, stopChild)
	} else {
		k.setRunnable(nt)
	}
	if flags&abi.CLONE_VFORK != 0 {
		c.flag |= P_PPWAIT
		c.vforkParent = t
		t.vforkChild = c.Pid
		if t.dbgflags&TDB_FORK != 0 {
			// Let the debugger see the fork stop before we sleep: the
			// sleep happens when the handler re-runs.
			return uint64(c.Pid), nil
		}
		k.sleepOn(t, &c.vforkWait, 0)
		return 0, errBlock
	}
	return uint64(c.Pid), nil
}

func sysExecve(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doExecve(t, abi.AT_FDCWD, a[0], a[1], a[2], 0)
}

func sysExecveat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doExecve(t, int32(a[0]), a[1], a[2], a[3], int(a[4]))
}

func (k *Kernel) doExecve(t *Thread, dirfd int32, pathAddr, argvAddr, envpAddr uint64, flags int) (uint64, error) {
	name, err := t.readString(pathAddr, 4096)
	if err != nil {
		return 0, err
	}
	var p string
	if name == "" && flags&abi.AT_EMPTY_PATH != 0 {
		f, err := t.p.files.get(int(dirfd))
		if err != nil {
			return 0, err
		}
		p = f.path
	} else if p, err = t.resolvePath(dirfd, name); err != nil {
		return 0, err
	}
	if link, ok, err := k.readlinkSpecial(t, p); ok {
		if err != nil {
			return 0, err
		}
		p = link
	}
	argv, err := t.readStringArray(argvAddr)
	if err != nil {
		return 0, err
	}
	envp, err := t.readStringArray(envpAddr)
	if err != nil {
		return 0, err
	}
	if err := k.execImage(t, p, argv, envp); err != nil {
		if ee, ok := err.(*ExecError); ok {
			return 0, ee.Errno
		}
		return 0, err
	}
	t.dbgflags |= TDB_EXEC
	return 0, errNoReturn
}

func sysWait4(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, statusAddr, options, rusage := int32(a[0]), a[1], int(a[2]), a[3]
	if options&^(abi.WNOHANG|abi.WUNTRACED|abi.WCONTINUED|abi.WNOTHREAD|abi.WALL|abi.WCLONE) != 0 {
		return 0, abi.EINVAL
	}
	r, ok, err := k.waitPoll(t.p, pid, options|abi.WEXITED)
	if err != nil {
		return 0, err
	}
	if !ok {
		if options&abi.WNOHANG != 0 {
			return 0, nil
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &t.p.childWait, 0)
		return 0, errBlock
	}
	if statusAddr != 0 {
		if err := t.writeU32(statusAddr, uint32(r.Status)); err != nil {
			return 0, err
		}
	}
	if rusage != 0 {
		var ru [144]byte
		if err := t.writeMem(rusage, ru[:]); err != nil {
			return 0, err
		}
	}
	return uint64(r.Pid), nil
}

func sysWaitid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	idtype, id, infop, options := int(a[0]), int32(a[1]), a[2], int(a[3])
	var pid int32
	switch idtype {
	case abi.P_ALL:
		pid = -1
	case abi.P_PID:
		pid = id
	case abi.P_PGID:
		pid = -id
		if id == 0 {
			pid = 0
		}
	default:
		return 0, abi.EINVAL
	}
	if options&(abi.WEXITED|abi.WSTOPPED|abi.WCONTINUED) == 0 {
		return 0, abi.EINVAL
	}
	r, ok, err := k.waitPoll(t.p, pid, options)
	if err != nil {
		return 0, err
	}
	if !ok {
		if options&abi.WNOHANG != 0 {
			if infop != 0 {
				var z [128]byte
				return 0, t.writeMem(infop, z[:])
			}
			return 0, nil
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &t.p.childWait, 0)
		return 0, errBlock
	}
	if infop != 0 {
		st := r.Status >> 8 & 0xff
		if r.Code == abi.CLD_KILLED || r.Code == abi.CLD_DUMPED {
			st = r.Status & 0x7f
		} else if r.Code == abi.CLD_CONTINUED {
			st = int32(abi.SIGCONT)
		}
		si := Siginfo{Signo: int32(abi.SIGCHLD), Code: r.Code, Pid: r.Pid, Uid: r.Uid, Status: st}
		var b [128]byte
		si.marshalLinux(b[:])
		return 0, t.writeMem(infop, b[:])
	}
	return 0, nil
}

func sysKill(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, sig := int32(a[0]), int32(a[1])
	if sig < 0 || sig > abi.NSIG {
		return 0, abi.EINVAL
	}
	si := Siginfo{Signo: sig, Code: abi.SI_USER, Pid: t.p.Pid, Uid: t.p.cred.Ruid}
	var targets []*Process
	switch {
	case pid > 0:
		p := k.pfind(pid)
		if p == nil {
			return 0, abi.ESRCH
		}
		targets = []*Process{p}
	case pid == 0 || pid < -1:
		pg := t.p.pgid
		if pid < -1 {
			pg = -pid
		}
		for _, p := range k.procs {
			if p.pgid == pg && !p.system && !p.zombie {
				targets = append(targets, p)
			}
		}
	default:
		for _, p := range k.procs {
			if !p.system && !p.zombie && p != t.p {
				targets = append(targets, p)
			}
		}
	}
	if len(targets) == 0 {
		return 0, abi.ESRCH
	}
	if sig == 0 {
		return 0, nil
	}
	for _, p := range targets {
		k.postSignal(p, nil, si)
	}
	return 0, nil
}

func sysTgkill(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doTkill(t, int32(a[0]), int32(a[1]), int32(a[2]))
}

func sysTkill(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doTkill(t, -1, int32(a[0]), int32(a[1]))
}

func (k *Kernel) doTkill(t *Thread, tgid, tid, sig int32) (uint64, error) {
	if sig < 0 || sig > abi.NSIG || tid <= 0 {
		return 0, abi.EINVAL
	}
	target := k.tdfind(tid)
	if target == nil && tid == t.p.Pid {
		// A single-threaded program may use its pid as its tid.
		target = t.p.firstThread()
	}
	if target == nil || (tgid > 0 && target.p.Pid != tgid) {
		return 0, abi.ESRCH
	}
	if sig == 0 {
		return 0, nil
	}
	k.postSignal(target.p, target, Siginfo{Signo: sig, Code: abi.SI_TKILL, Pid: t.p.Pid, Uid: t.p.cred.Ruid})
	return 0, nil
}

// sysPtrace is sys_ptrace for guest tracers: FreeBSD requests and structure
// layouts (ptrec's documented ABI), copied in and out of guest memory.
func sysPtrace(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	req, pid, addr, data := int(int32(a[0])), int32(a[1]), a[2], int64(a[3])
	r := &PtraceRequest{Op: req, Pid: pid, Addr: addr, Data: data, Mem: guestMem{t}}
	inSize := 0
	switch req {
	case abi.PT_SETREGS:
		inSize = abi.RegSize
	case abi.PT_SETFPREGS:
		inSize = abi.FPRegSize
	case abi.PT_SETDBREGS:
		inSize = abi.DBRegSize
	case abi.PT_IO:
		inSize = abi.PtraceIoDescSize
	case abi.PT_VM_ENTRY:
		inSize = abi.PtraceVmEntrySize
	}
	if inSize > 0 {
		r.In = make([]byte, inSize)
		if err := t.readMem(addr, r.In); err != nil {
			return 0, abi.EFAULT
		}
	}
	res, err := k.Ptrace(PtraceCaller{P: t.p, T: t}, r)
	if err != nil {
		return 0, err // the seed copies out only on success
	}
	if req == abi.PT_READ_I || req == abi.PT_READ_D {
		// The int read is returned zero-extended, so no value looks
		// like a Linux -errno; fbsd_ptrace.h casts it back to int.
		return uint64(uint32(res.Ret)), nil
	}
	if len(res.Out) > 0 {
		if err := t.writeMem(addr, res.Out); err != nil {
			return 0, abi.EFAULT
		}
	}
	return uint64(res.Ret), nil
}

// guestMem is TracerMem over a guest tracer's memory.
type guestMem struct{ t *Thread }

func (g guestMem) ReadAt(addr uint64, b []byte) error  { return g.t.readMem(addr, b) }
func (g guestMem) WriteAt(addr uint64, b []byte) error { return g.t.writeMem(addr, b) }
