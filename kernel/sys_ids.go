package kernel

import "ptrec/kernel/abi"

// Process groups, sessions, groups, priorities and resource usage.

func sysGetpgrp(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return uint64(t.p.pgid), nil
}

// procArg finds the process a pid argument names (0: the caller).
func (k *Kernel) procArg(t *Thread, pid int32) (*Process, error) {
	if pid == 0 {
		return t.p, nil
	}
	p := k.pfind(pid)
	if p == nil || p.system || p.reaped {
		return nil, abi.ESRCH
	}
	return p, nil
}

func sysGetpgid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := k.procArg(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return uint64(p.pgid), nil
}

func sysGetsid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := k.procArg(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	return uint64(p.sid), nil
}

// setpgid follows Linux's ksys_setpgid: the target is the caller or one of
// its children in the same session; a session leader cannot move; the group
// joined must exist in the caller's session unless it is the target's own.
func sysSetpgid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, pgid := int32(a[0]), int32(a[1])
	if pid < 0 || pgid < 0 {
		return 0, abi.EINVAL
	}
	if pid == 0 {
		pid = t.p.Pid
	}
	if pgid == 0 {
		pgid = pid
	}
	p := k.pfind(pid)
	if p == nil || p.system || p.reaped {
		return 0, abi.ESRCH
	}
	if p != t.p {
		if k.realParent(p) != t.p {
			return 0, abi.ESRCH
		}
		if p.sid != t.p.sid {
			return 0, abi.EPERM
		}
	}
	if p.sid == p.Pid {
		return 0, abi.EPERM
	}
	if pgid != p.Pid {
		found := false
		for _, q := range k.procs {
			if q.pgid == pgid && q.sid == t.p.sid && !q.system && !q.reaped {
				found = true
				break
			}
		}
		if !found {
			return 0, abi.EPERM
		}
	}
	p.pgid = pgid
	return 0, nil
}

func sysSetsid(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p := t.p
	for _, q := range k.procs {
		if q.pgid == p.Pid && !q.system && !q.reaped {
			return 0, abi.EPERM
		}
	}
	p.sid, p.pgid = p.Pid, p.Pid
	return uint64(p.Pid), nil
}

func sysGetgroups(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	size := int32(a[0])
	g := t.p.cred.Groups
	if size < 0 {
		return 0, abi.EINVAL
	}
	if size == 0 {
		return uint64(len(g)), nil
	}
	if int(size) < len(g) {
		return 0, abi.EINVAL
	}
	b := make([]byte, 4*len(g))
	for i, v := range g {
		putLE32(b[4*i:], v)
	}
	return uint64(len(g)), t.writeMem(a[1], b)
}

func sysSetgroups(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if int32(a[0]) < 0 || a[0] > 65536 {
		return 0, abi.EINVAL
	}
	if t.p.cred.Euid != 0 {
		return 0, abi.EPERM
	}
	b := make([]byte, 4*a[0])
	if err := t.readMem(a[1], b); err != nil {
		return 0, err
	}
	g := make([]uint32, a[0])
	for i := range g {
		g[i] = le32(b[4*i:])
	}
	t.p.cred.Groups = g
	return 0, nil
}

// Scheduling priority: the emulated machine has one CPU and one run queue,
// so the nice value is bookkeeping only. getpriority returns 20-nice, as the
// Linux syscall does (libc converts it back).
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

func (k *Kernel) prioTargets(t *Thread, which, who int32) ([]*Process, error) {
	var out []*Process
	switch which {
	case prioProcess:
		p, err := k.procArg(t, who)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	case prioPgrp:
		if who == 0 {
			who = t.p.pgid
		}
		for _, p := range k.procs {
			if p.pgid == who && !p.system && !p.reaped {
				out = append(out, p)
			}
		}
	case prioUser:
		uid := uint32(who)
		if who == 0 {
			uid = t.p.cred.Ruid
		}
		for _, p := range k.procs {
			if p.cred.Ruid == uid && !p.system && !p.reaped {
				out = append(out, p)
			}
		}
	default:
		return nil, abi.EINVAL
	}
	if len(out) == 0 {
		return nil, abi.ESRCH
	}
	return out, nil
}

func sysGetpriority(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	ps, err := k.prioTargets(t, int32(a[0]), int32(a[1]))
	if err != nil {
		return 0, err
	}
	best := int32(19)
	for _, p := range ps {
		best = min(best, p.nice)
	}
	return uint64(20 - best), nil
}

func sysSetpriority(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	ps, err := k.prioTargets(t, int32(a[0]), int32(a[1]))
	if err != nil {
		return 0, err
	}
	nice := min(max(int32(a[2]), -20), 19)
	for _, p := range ps {
		if nice < p.nice && t.p.cred.Euid != 0 {
			return 0, abi.EACCES
		}
		p.nice = nice
	}
	return 0, nil
}

// CPU time is the retired-instruction count at a nominal 1 ns per
// instruction: deterministic, so replay shows the same times.
func (p *Process) cpuNanos() int64 {
	var n uint64
	for _, t := range p.threads {
		if t.cpu != nil {
			n += t.cpu.Icount
		}
	}
	return int64(n)
}

func timevalOf(ns int64) abi.Timeval {
	return abi.Timeval{Sec: ns / 1e9, Usec: ns % 1e9 / 1e3}
}

func sysGetrusage(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	var ns int64
	switch int32(a[0]) {
	case abi.RUSAGE_SELF:
		ns = t.p.cpuNanos()
	case abi.RUSAGE_THREAD:
		ns = int64(t.cpu.Icount)
	case abi.RUSAGE_CHILDREN:
		ns = t.p.childNanos
	default:
		return 0, abi.EINVAL
	}
	ru := abi.Rusage{Utime: timevalOf(ns), Maxrss: int64(t.p.mem.ResidentPages()) * 4}
	b := make([]byte, abi.RusageSize)
	ru.Marshal(b)
	return 0, t.writeMem(a[1], b)
}

// clockTicks is USER_HZ.
const clockTicks = 100

func sysTimes(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[0] != 0 {
		var b [32]byte
		putLE64(b[0:], uint64(t.p.cpuNanos()/(1e9/clockTicks)))
		putLE64(b[16:], uint64(t.p.childNanos/(1e9/clockTicks)))
		if err := t.writeMem(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(k.clock(abi.CLOCK_BOOTTIME) / (1e9 / clockTicks)), nil
}

// The emulated machine's memory as sysinfo reports it.
const (
	emulatedRAM  = 8 << 30
	emulatedFree = 6 << 30
)

func sysSysinfo(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	n := 0
	for _, p := range k.procs {
		if !p.system && !p.reaped {
			n += len(p.threads)
		}
	}
	si := abi.Sysinfo{
		Uptime:   k.clock(abi.CLOCK_BOOTTIME) / 1e9,
		Totalram: emulatedRAM, Freeram: emulatedFree,
		Procs:   uint16(min(n, 65535)),
		MemUnit: 1,
	}
	b := make([]byte, abi.SysinfoSize)
	si.Marshal(b)
	return 0, t.writeMem(a[0], b)
}
