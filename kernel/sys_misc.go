package kernel

import (
	"ptrec/kernel/abi"
)

func sysUname(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f := k.facts
	var b [6 * 65]byte
	for i, s := range []string{f.Sysname, f.Nodename, f.Release, f.Version, f.Machine, f.Domainname} {
		copy(b[i*65:i*65+64], s)
	}
	return 0, t.writeMem(a[0], b[:])
}

// getrandom flags.
const (
	grndNonblock = 1
	grndRandom   = 2
	grndInsecure = 4
)

func sysGetrandom(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	n := min(a[1], 1<<25)
	if a[2]&^uint64(grndNonblock|grndRandom|grndInsecure) != 0 {
		return 0, abi.EINVAL
	}
	r := k.host.Call(&HostCall{Op: HostRandom, Args: []int64{int64(n)}})
	if err := t.writeMem(a[0], r.Out); err != nil {
		return 0, err
	}
	return uint64(len(r.Out)), nil
}

func validClock(id int32) bool {
	switch id {
	case abi.CLOCK_REALTIME, abi.CLOCK_MONOTONIC, abi.CLOCK_PROCESS_CPUTIME_ID, abi.CLOCK_THREAD_CPUTIME_ID,
		abi.CLOCK_MONOTONIC_RAW, abi.CLOCK_REALTIME_COARSE, abi.CLOCK_MONOTONIC_COARSE, abi.CLOCK_BOOTTIME:
		return true
	}
	return false
}

func sysClockGettime(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	id := int32(a[0])
	if !validClock(id) {
		return 0, abi.EINVAL
	}
	ns := k.clock(int(id))
	var b [16]byte
	putLE64(b[:], uint64(ns/1e9))
	putLE64(b[8:], uint64(ns%1e9))
	return 0, t.writeMem(a[1], b[:])
}

func sysClockGetres(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if !validClock(int32(a[0])) {
		return 0, abi.EINVAL
	}
	if a[1] == 0 {
		return 0, nil
	}
	var b [16]byte
	putLE64(b[8:], 1)
	return 0, t.writeMem(a[1], b[:])
}

func sysGettimeofday(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[0] != 0 {
		ns := k.clock(abi.CLOCK_REALTIME)
		var b [16]byte
		putLE64(b[:], uint64(ns/1e9))
		putLE64(b[8:], uint64(ns%1e9/1000))
		if err := t.writeMem(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		var z [8]byte
		if err := t.writeMem(a[1], z[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysTime(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	s := uint64(k.clock(abi.CLOCK_REALTIME) / 1e9)
	if a[0] != 0 {
		if err := t.writeU64(a[0], s); err != nil {
			return 0, err
		}
	}
	return s, nil
}

// readTimespec reads a struct timespec and returns nanoseconds.
func (t *Thread) readTimespec(addr uint64) (int64, error) {
	var b [16]byte
	if err := t.readMem(addr, b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(le64(b[:])), int64(le64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, abi.EINVAL
	}
	if sec > 1<<32 {
		sec = 1 << 32
	}
	return sec*1e9 + nsec, nil
}

// sleepUntil blocks t until the monotonic deadline; it is the common body of
// nanosleep-style calls, re-run after each wake-up.
func (k *Kernel) sleepUntil(t *Thread, deadline int64) error {
	if t.interrupted {
		t.sleepDeadline = 0
		return abi.EINTR
	}
	if k.clock(abi.CLOCK_MONOTONIC) >= deadline {
		t.sleepDeadline = 0
		return nil
	}
	k.sleepOn(t, &t.sleepQ, deadline)
	return errBlock
}

func sysNanosleep(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if t.sleepDeadline == 0 {
		ns, err := t.readTimespec(a[0])
		if err != nil {
			return 0, err
		}
		t.sleepDeadline = k.clock(abi.CLOCK_MONOTONIC) + ns
	}
	return 0, k.sleepUntil(t, t.sleepDeadline)
}

func sysClockNanosleep(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	id, flags := int32(a[0]), a[1]
	if !validClock(id) {
		return 0, abi.EINVAL
	}
	if t.sleepDeadline == 0 {
		ns, err := t.readTimespec(a[2])
		if err != nil {
			return 0, err
		}
		now := k.clock(abi.CLOCK_MONOTONIC)
		if flags&abi.TIMER_ABSTIME != 0 {
			cur := k.clock(int(id))
			ns -= cur
			if ns < 0 {
				ns = 0
			}
		}
		t.sleepDeadline = now + ns
	}
	return 0, k.sleepUntil(t, t.sleepDeadline)
}

// sysSchedYield ends the thread's slice when the syscall returns: it goes
// to the back of the run queue (not when replaying a trace recorded before
// sched_yield yielded, HostFacts.LegacyScheduler).
func sysSchedYield(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	t.yield = !k.cfg.Facts.LegacyScheduler
	return 0, nil
}

func sysGetcwd(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	cwd := t.p.cwd + "\x00"
	if uint64(len(cwd)) > a[1] {
		return 0, abi.ERANGE
	}
	if err := t.writeMem(a[0], []byte(cwd)); err != nil {
		return 0, err
	}
	return uint64(len(cwd)), nil
}

func sysChdir(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	r := k.host.Call(&HostCall{Op: HostStat, Path: p, Args: []int64{1}})
	if r.Errno != 0 {
		return 0, r.Errno
	}
	if statMode(r.Out)&abi.S_IFMT != abi.S_IFDIR {
		return 0, abi.ENOTDIR
	}
	t.p.cwd = p
	return 0, nil
}

func sysFchdir(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if h, ok := f.ops.(*hostFile); !ok || !h.isDir {
		return 0, abi.ENOTDIR
	}
	t.p.cwd = f.path
	return 0, nil
}

func sysUmask(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	old := t.p.umask
	t.p.umask = uint32(a[0]) & 0o777
	return uint64(old), nil
}

func sysIoctl(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	fd, req, arg := int(int32(a[0])), uint32(a[1]), a[2]
	f, err := t.p.files.get(fd)
	if err != nil {
		return 0, err
	}
	switch req {
	case abi.FIOCLEX:
		t.p.files.fds[fd].cloexec = true
		return 0, nil
	case abi.FIONCLEX:
		t.p.files.fds[fd].cloexec = false
		return 0, nil
	case abi.FIONBIO:
		v, err := t.readU32(arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			f.flags |= abi.O_NONBLOCK
		} else {
			f.flags &^= abi.O_NONBLOCK
		}
		return 0, nil
	case abi.FIONREAD:
		n := 0
		switch o := f.ops.(type) {
		case *pipeEnd:
			n = len(o.pipe.buf)
		case *hostFile:
			r := k.host.Call(&HostCall{Op: HostIoctl, Handle: o.handle, Args: []int64{int64(req)}})
			if r.Errno != 0 {
				return 0, r.Errno
			}
			n = int(r.Ret)
		default:
			return 0, abi.ENOTTY
		}
		return 0, t.writeU32(arg, uint32(n))
	case abi.TCGETS, abi.TIOCGWINSZ, abi.TIOCGPGRP:
		h, ok := f.ops.(*hostFile)
		if !ok {
			return 0, abi.ENOTTY
		}
		r := k.host.Call(&HostCall{Op: HostIoctl, Handle: h.handle, Args: []int64{int64(req)}})
		if r.Errno != 0 {
			return 0, r.Errno
		}
		if req == abi.TIOCGPGRP {
			return 0, t.writeU32(arg, uint32(t.p.pgid))
		}
		return 0, t.writeMem(arg, r.Out)
	case abi.TCSETS, abi.TCSETSW, abi.TCSETSF, abi.TIOCSWINSZ, abi.TIOCSPGRP:
		h, ok := f.ops.(*hostFile)
		if !ok {
			return 0, abi.ENOTTY
		}
		r := k.host.Call(&HostCall{Op: HostIoctl, Handle: h.handle, Args: []int64{int64(abi.TCGETS)}})
		if r.Errno != 0 {
			return 0, r.Errno
		}
		// The guest may not change the host terminal: accepted, not applied.
		return 0, nil
	}
	return 0, abi.ENOTTY
}

func sysRtSigaction(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	sig, act, oact, size := int32(a[0]), a[1], a[2], a[3]
	if size != 8 || sig < 1 || sig > abi.NSIG {
		return 0, abi.EINVAL
	}
	p := t.p
	old := p.sigacts[sig]
	if act != 0 {
		if sig == int32(abi.SIGKILL) || sig == int32(abi.SIGSTOP) {
			return 0, abi.EINVAL
		}
		var b [32]byte
		if err := t.readMem(act, b[:]); err != nil {
			return 0, err
		}
		na := SigAction{handler: le64(b[0:]), flags: le64(b[8:]), restorer: le64(b[16:]), mask: le64(b[24:]) &^ unblockable}
		p.sigacts[sig] = na
		if p.ignored(sig) {
			// Setting SIG_IGN discards what is pending.
			p.pending.take(sig)
			for _, o := range p.threads {
				o.pending.take(sig)
			}
		}
	}
	if oact != 0 {
		var b [32]byte
		putLE64(b[0:], old.handler)
		putLE64(b[8:], old.flags)
		putLE64(b[16:], old.restorer)
		putLE64(b[24:], old.mask)
		if err := t.writeMem(oact, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigprocmask(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	how, set, oset, size := int(a[0]), a[1], a[2], a[3]
	if size != 8 {
		return 0, abi.EINVAL
	}
	old := t.sigmask
	if set != 0 {
		v, err := t.readU64(set)
		if err != nil {
			return 0, err
		}
		switch how {
		case abi.SIG_BLOCK:
			t.sigmask |= v
		case abi.SIG_UNBLOCK:
			t.sigmask &^= v
		case abi.SIG_SETMASK:
			t.sigmask = v
		default:
			return 0, abi.EINVAL
		}
		t.sigmask &^= unblockable
	}
	if oset != 0 {
		if err := t.writeU64(oset, old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func sysRtSigreturn(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if err := k.sigreturn(t); err != nil {
		k.exitProcess(t.p, waitSignaled(int32(abi.SIGSEGV), true))
	}
	return 0, errNoReturn
}

func sysSigaltstack(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	ss, oss := a[0], a[1]
	old := t.altstack
	onStack := old.flags&abi.SS_DISABLE == 0 && t.cpu.Regs[4]-old.sp < old.size
	if ss != 0 {
		if onStack {
			return 0, abi.EPERM
		}
		var b [24]byte
		if err := t.readMem(ss, b[:]); err != nil {
			return 0, err
		}
		flags := int32(le64(b[8:]))
		ns := stackT{sp: le64(b[0:]), flags: flags, size: le64(b[16:])}
		switch {
		case flags&abi.SS_DISABLE != 0:
			ns = stackT{flags: abi.SS_DISABLE}
		case uint32(flags)&^uint32(abi.SS_AUTODISARM) != 0:
			return 0, abi.EINVAL
		case ns.size < abi.MINSIGSTKSZ:
			return 0, abi.ENOMEM
		}
		t.altstack = ns
	}
	if oss != 0 {
		var b [24]byte
		flags := old.flags
		if onStack {
			flags = abi.SS_ONSTACK
		}
		putLE64(b[0:], old.sp)
		putLE32(b[8:], uint32(flags))
		putLE64(b[16:], old.size)
		if err := t.writeMem(oss, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

func defaultRlimits() [16]abi.Rlimit {
	var r [16]abi.Rlimit
	inf := ^uint64(0)
	for i := range r {
		r[i] = abi.Rlimit{Cur: inf, Max: inf}
	}
	r[abi.RLIMIT_STACK] = abi.Rlimit{Cur: 8 << 20, Max: inf}
	r[abi.RLIMIT_NOFILE] = abi.Rlimit{Cur: 1024, Max: 1 << 20}
	r[abi.RLIMIT_CORE] = abi.Rlimit{Cur: 0, Max: inf}
	r[abi.RLIMIT_NPROC] = abi.Rlimit{Cur: 0, Max: inf}
	return r
}

func sysPrlimit64(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, res, nw, old := int32(a[0]), a[1], a[2], a[3]
	p := t.p
	if pid != 0 {
		if p = k.pfind(pid); p == nil {
			return 0, abi.ESRCH
		}
	}
	if res >= 16 {
		return 0, abi.EINVAL
	}
	cur := p.rlimits[res]
	if res == abi.RLIMIT_NPROC && cur.Cur == 0 {
		cur = abi.Rlimit{Cur: ^uint64(0), Max: ^uint64(0)}
	}
	if old != 0 {
		var b [16]byte
		putLE64(b[:], cur.Cur)
		putLE64(b[8:], cur.Max)
		if err := t.writeMem(old, b[:]); err != nil {
			return 0, err
		}
	}
	if nw != 0 {
		var b [16]byte
		if err := t.readMem(nw, b[:]); err != nil {
			return 0, err
		}
		l := abi.Rlimit{Cur: le64(b[:]), Max: le64(b[8:])}
		if l.Cur > l.Max {
			return 0, abi.EINVAL
		}
		p.rlimits[res] = l
	}
	return 0, nil
}

func sysGetrlimit(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	args := SyscallArgs{0, a[0], 0, a[1]}
	return sysPrlimit64(k, t, &args)
}

func sysSetrlimit(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	args := SyscallArgs{0, a[0], a[1], 0}
	return sysPrlimit64(k, t, &args)
}

// fadvise64 advice values (POSIX_FADV_*).
const fadvNoreuse = 5

// sysFadvise64 checks its arguments as Linux's generic_fadvise does and
// succeeds: ptrec has no page cache to advise.
func sysFadvise64(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	st, err := f.ops.stat(k)
	if err != nil {
		return 0, err
	}
	if statMode(st)&abi.S_IFMT == abi.S_IFIFO {
		return 0, abi.ESPIPE
	}
	if int64(a[2]) < 0 || a[3] > fadvNoreuse {
		return 0, abi.EINVAL
	}
	return 0, nil
}

// sysReadahead accepts regular files and block devices open for reading.
func sysReadahead(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if f.flags&abi.O_ACCMODE == abi.O_WRONLY {
		return 0, abi.EBADF
	}
	st, err := f.ops.stat(k)
	if err != nil {
		return 0, err
	}
	if m := statMode(st) & abi.S_IFMT; m != abi.S_IFREG && m != abi.S_IFBLK {
		return 0, abi.EINVAL
	}
	return 0, nil
}
