package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

// advance moves t forward through its phases until it blocks, stops, exits
// or has used budget instructions of user time. It returns the budget left.
func (k *Kernel) advance(t *Thread, budget uint64) uint64 {
	for t.canRun() && k.fatal == nil {
		switch t.phase {
		case phaseUser:
			if t.inSyscall {
				// syscallret is over: td_dbgsa goes away and the
				// one-shot exit flags are cleared.
				t.inSyscall = false
				t.dbgflags &^= TDB_SCE | TDB_SCX | TDB_EXEC | TDB_FORK
			}
			if t.yield {
				// sched_yield returned: the slice ends (runSlice
				// requeues the thread behind the others).
				t.yield = false
				k.sliceYielded = true
				return budget
			}
			if k.checkSignals(t) {
				continue // stopped, exited, or a handler frame was pushed
			}
			if budget == 0 {
				return 0
			}
			before := t.cpu.Icount
			exit := k.runCPU(t, budget)
			ran := t.cpu.Icount - before
			k.icount += ran
			if ran >= budget {
				budget = 0
			} else {
				budget -= ran
			}
			k.handleExit(t, exit)
			if exit.Reason == machine.ExitBudget {
				return budget
			}
		case phaseSyscallEnter:
			k.syscallEnter(t)
		case phaseSyscallRun:
			k.syscallRun(t)
		case phaseSyscallExit:
			k.syscallExit(t)
		case phaseExited:
			return budget
		}
	}
	return budget
}

// handleExit turns a machine exit into OS behaviour.
func (k *Kernel) handleExit(t *Thread, e machine.Exit) {
	c := t.cpu
	switch e.Reason {
	case machine.ExitBudget:
	case machine.ExitSyscall:
		t.phase = phaseSyscallEnter
		if c.Flags()&machine.FlagTF != 0 {
			c.SetFlags(c.Flags() &^ machine.FlagTF)
			t.dbgflags |= tdbStepSyscall
		}
	case machine.ExitBreakpoint:
		k.trapSignal(t, abi.SIGTRAP, abi.TRAP_BRKPT, c.RIP-1, 3)
	case machine.ExitSingleStep:
		c.SetFlags(c.Flags() &^ machine.FlagTF)
		k.trapSignal(t, abi.SIGTRAP, abi.TRAP_TRACE, c.RIP, 1)
	case machine.ExitDebug:
		k.trapSignal(t, abi.SIGTRAP, abi.TRAP_HWBKPT, c.RIP, 1)
	case machine.ExitPageFault:
		if k.mmapFault(t, e) {
			return // a demand-paged page was loaded (retry) or SIGBUS
		}
		code := int32(abi.SEGV_MAPERR)
		if _, mapped := c.Mem.Query(e.Addr); mapped {
			code = abi.SEGV_ACCERR
		}
		k.trapSignal(t, abi.SIGSEGV, code, e.Addr, 14)
	case machine.ExitGP, machine.ExitHalt:
		k.trapSignal(t, abi.SIGSEGV, abi.SI_KERNEL, 0, 13)
	case machine.ExitUD:
		k.trapSignal(t, abi.SIGILL, abi.ILL_ILLOPN, c.RIP, 6)
	case machine.ExitDE:
		k.trapSignal(t, abi.SIGFPE, abi.FPE_INTDIV, c.RIP, 0)
	case machine.ExitFPE:
		vector := e.Vector
		if vector != machine.VectorXM {
			vector = machine.VectorMF
		}
		k.trapSignal(t, abi.SIGFPE, fpeCode(c, vector), c.RIP, int32(vector))
	case machine.ExitRdtsc:
		// The TSC is an input: nanoseconds of the host's monotonic clock.
		c.CompleteRdtsc(uint64(k.clock(abi.CLOCK_MONOTONIC)), 0)
		k.icount++
	case machine.ExitRdrand:
		r := k.host.Call(&HostCall{Op: HostRandom, Args: []int64{8}})
		var v uint64
		for i := 0; i < len(r.Out) && i < 8; i++ {
			v |= uint64(r.Out[i]) << (8 * i)
		}
		c.CompleteRdrand(v, len(r.Out) == 8)
		k.icount++
	default:
		k.fail("kernel: unknown machine exit %d at pc %#x", e.Reason, c.RIP)
	}
}

// syscallEnter is FreeBSD's syscallenter: fetch the arguments, mark the
// thread in a syscall (TDB_SCE) and stop for the tracer if asked.
func (k *Kernel) syscallEnter(t *Thread) {
	t.fetchArgs()
	t.sc.icount = k.icount
	t.inSyscall = true
	t.dbgflags |= TDB_SCE
	t.dbgflags &^= TDB_USERWR
	t.phase = phaseSyscallRun
	p := t.p
	if p.stops&S_SCE != 0 {
		k.stopevent(p, S_SCE, t.sc.narg)
	}
	if p.traced() && (p.stops&S_PT_SCE != 0 || k.syslogEnter(t)) {
		k.ptracestop(t, abi.SIGTRAP, stopSyscall)
	}
}

func (t *Thread) fetchArgs() {
	r := &t.cpu.Regs
	t.sc.code = uint32(r[machine.RAX])
	t.sc.args = [6]uint64{r[machine.RDI], r[machine.RSI], r[machine.RDX], r[machine.R10], r[machine.R8], r[machine.R9]}
	t.sc.narg = uint32(abi.SyscallNarg(int(t.sc.code)))
	t.sc.rip = t.cpu.RIP
}

// syscallRun runs the handler; a handler that must sleep is re-run when the
// thread is woken.
func (k *Kernel) syscallRun(t *Thread) {
	if t.dbgflags&TDB_USERWR != 0 {
		// The debugger wrote registers at the entry stop: refetch.
		t.fetchArgs()
		t.dbgflags &^= TDB_USERWR
	}
	res := k.dispatch(t)
	switch res.action {
	case actBlock:
		return // t.blocked is set; this phase runs again on wake
	case actNoReturn:
		// exit, or execve that replaced the registers.
	default:
		t.cpu.Regs[machine.RAX] = uint64(res.ret)
	}
	if t.p.sclog != nil {
		k.syslogDone(t, res)
	}
	t.timedOut = false
	t.interrupted = false
	if t.phase == phaseSyscallRun {
		t.phase = phaseSyscallExit
	}
}

// syscallExit is syscallret: the SCX, exec and fork stops.
func (k *Kernel) syscallExit(t *Thread) {
	p := t.p
	t.dbgflags = t.dbgflags&^TDB_SCE | TDB_SCX
	t.phase = phaseUser
	if t.dbgflags&tdbStepSyscall != 0 {
		// A stepped syscall: the trap comes after the SCX stop.
		t.dbgflags &^= tdbStepSyscall
		k.trapSignal(t, abi.SIGTRAP, abi.TRAP_TRACE, t.cpu.RIP, 1)
	}
	if p.stops&S_SCX != 0 {
		k.stopevent(p, S_SCX, t.sc.code)
	}
	if p.traced() && (t.dbgflags&(TDB_EXEC|TDB_FORK) != 0 || p.stops&S_PT_SCX != 0) {
		k.ptracestop(t, abi.SIGTRAP, stopSyscall)
	}
}
