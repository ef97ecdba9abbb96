package kernel

import "ptrec/kernel/abi"

// threadGone marks a thread dead without ending its process.
func (k *Kernel) threadGone(t *Thread) {
	if t.exited {
		return
	}
	t.exited = true
	t.phase = phaseExited
	if t.blocked != nil {
		t.blocked.remove(t)
		t.blocked = nil
	}
	k.removeSleeper(t)
	k.removeRunnable(t)
	if t.clearChildTid != 0 && !t.p.zombie {
		// CLONE_CHILD_CLEARTID: zero the tid word and wake one futex waiter.
		if t.writeU32(t.clearChildTid, 0) == nil {
			k.futexWake(t.p, t.clearChildTid, 1, ^uint32(0))
		}
	}
	delete(k.threads, t.Tid)
}

// exitThread ends one thread; the last one ends the process with status.
func (k *Kernel) exitThread(t *Thread, status int32) {
	p := t.p
	k.threadGone(t)
	if p.liveThreads() == 0 {
		k.exitProcess(p, status)
	}
}

// exitProcess is FreeBSD's exit1: every thread dies, resources go, the
// process becomes a zombie and its parent is told.
func (k *Kernel) exitProcess(p *Process, status int32) {
	if p.zombie || p.reaped || p.flag&P_WEXIT != 0 {
		return
	}
	p.flag |= P_WEXIT
	if p.stops&S_EXIT != 0 {
		k.stopevent(p, S_EXIT, uint32(status))
	}
	for _, t := range p.threads {
		k.threadGone(t)
	}
	if p.files != nil {
		p.files.refs--
		if p.files.refs == 0 {
			p.files.closeAll(k)
		}
	}
	if p.vforkParent != nil {
		k.releaseVforkParent(p)
	}
	p.itimerReal = itimer{}
	// Children go to init; a traced child of a dying tracer is killed
	// (seed-era exit1), a child we merely traced goes back to its real parent.
	for _, c := range append([]*Process(nil), p.children...) {
		if c.traced() && c.pptr == p && !c.zombie {
			c.flag &^= P_TRACED | P_STOPPED_TRACE | P_STOPPED_SIG
			c.sclog = nil
			for _, ct := range c.threads {
				ct.dbgflags &^= TDB_SUSPEND | TDB_XSIG
			}
			k.reparent(c, k.realParent(c))
			c.oppid = 0
			k.exitProcess(c, waitSignaled(int32(abi.SIGKILL), false))
			continue
		}
		k.reparent(c, k.initp)
	}
	for _, o := range p.orphans {
		o.oppid = k.initp.Pid
	}
	p.orphans = nil
	p.exitCode = status
	p.xsig = status
	p.zombie = true
	p.flag &^= P_STOPPED
	k.vmExit(p)
	k.notifyParentExit(p)
}

// vmExit drops the address space (the zombie keeps nothing).
func (k *Kernel) vmExit(p *Process) {
	k.mmapWriteback(p, 0, ^uint64(0), false) // MAP_SHARED file pages
	p.mem = nil
	p.vm = newVMMap()
	k.mmapSweep()
}

// notifyParentExit sends SIGCHLD (or p_sigparent) and wakes waiters.
func (k *Kernel) notifyParentExit(p *Process) {
	parent := p.pptr
	if parent == nil {
		return
	}
	code, st := int32(abi.CLD_EXITED), p.exitCode>>8&0xff
	if p.exitCode&0x7f != 0 {
		code, st = abi.CLD_KILLED, p.exitCode&0x7f
		if p.exitCode&0x80 != 0 {
			code = abi.CLD_DUMPED
		}
	}
	if parent != k.initp && !parent.system && p.sigparent != 0 {
		k.postSignal(parent, nil, Siginfo{Signo: p.sigparent, Code: code, Pid: p.Pid, Uid: p.cred.Ruid, Status: st})
	}
	k.wakeAll(&parent.childWait)
	if parent == k.initp {
		// init reaps its zombies at once.
		k.reap(k.initp, p)
	}
}

// notifyParent tells the parent a child stopped or continued (SIGCHLD with
// code, unless SA_NOCLDSTOP) and wakes its wait4.
func (k *Kernel) notifyParent(p *Process, code int32, sig int32) {
	parent := p.pptr
	if parent == nil {
		return
	}
	if !parent.system && parent.sigacts[abi.SIGCHLD].flags&abi.SA_NOCLDSTOP == 0 {
		k.postSignal(parent, nil, Siginfo{Signo: int32(abi.SIGCHLD), Code: code, Pid: p.Pid, Uid: p.cred.Ruid, Status: sig})
	}
	k.wakeAll(&parent.childWait)
}

// reparent moves p under a new parent (proc_reparent).
func (k *Kernel) reparent(p, np *Process) {
	if p.pptr == np {
		return
	}
	if old := p.pptr; old != nil {
		old.children = removeProc(old.children, p)
	}
	// Maintain the orphan list: a traced process whose current parent is
	// not its real parent sits on the real parent's orphan list.
	k.clearOrphan(p)
	p.pptr = np
	np.children = append(np.children, p)
	if p.traced() && p.oppid != 0 && p.oppid != np.Pid {
		if rp := k.pidMap[p.oppid]; rp != nil && !rp.zombie {
			rp.orphans = append(rp.orphans, p)
		}
	}
}

func (k *Kernel) clearOrphan(p *Process) {
	for _, q := range k.procs {
		q.orphans = removeProc(q.orphans, p)
	}
}

// realParent is proc_realparent: the owner of the orphan list p is on, or
// init.
func (k *Kernel) realParent(p *Process) *Process {
	for _, q := range k.procs {
		for _, o := range q.orphans {
			if o == p {
				return q
			}
		}
	}
	if rp := k.pidMap[p.oppid]; p.oppid != 0 && rp != nil && !rp.zombie && !rp.reaped {
		return rp
	}
	return k.initp
}

func removeProc(list []*Process, p *Process) []*Process {
	for i, q := range list {
		if q == p {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// reap frees a zombie that its parent has waited for (proc_reap). A traced
// zombie whose real parent is someone else goes back to that parent, which
// will reap it itself.
func (k *Kernel) reap(parent, p *Process) {
	p.sclog = nil // the debugger's to fetch until now (PT_PTREC_GETSYSLOG)
	if p.oppid != 0 && p.oppid != parent.Pid {
		rp := k.realParent(p)
		p.oppid = 0
		p.flag &^= P_TRACED
		k.reparent(p, rp)
		if rp != k.initp {
			k.postSignal(rp, nil, Siginfo{Signo: int32(abi.SIGCHLD), Code: abi.CLD_EXITED, Pid: p.Pid, Status: p.exitCode >> 8 & 0xff})
			k.wakeAll(&rp.childWait)
			return
		}
	}
	p.reaped = true
	parent.childNanos += p.cpuNanos() + p.childNanos
	// Off the list of its parent: the waiter, or init if it was just
	// handed back to init above (FreeBSD's LIST_REMOVE(p, p_sibling)).
	if pp := p.pptr; pp != nil {
		pp.children = removeProc(pp.children, p)
	}
	k.clearOrphan(p)
	delete(k.pidMap, p.Pid)
	for i, q := range k.procs {
		if q == p {
			k.procs = append(k.procs[:i], k.procs[i+1:]...)
			break
		}
	}
}

// releaseVforkParent lets a vfork parent run again (exec or exit of the child).
func (k *Kernel) releaseVforkParent(child *Process) {
	t := child.vforkParent
	child.vforkParent = nil
	child.flag &^= P_PPWAIT
	if t != nil {
		k.wakeAll(&child.vforkWait)
	}
}
