package kernel

import "ptrec/kernel/abi"

// WaitResult is what one successful wait reports.
type WaitResult struct {
	Pid    int32
	Status int32 // Linux/FreeBSD wait status encoding
	Code   int32 // CLD_* for waitid
	Uid    uint32
}

// waitMatch reports whether child c is selected by wait's pid argument.
func waitMatch(parent, c *Process, pid int32) bool {
	switch {
	case pid > 0:
		return c.Pid == pid
	case pid == -1:
		return true
	case pid == 0:
		return c.pgid == parent.pgid
	default:
		return c.pgid == -pid
	}
}

// waitPoll looks once for a child state change to report: FreeBSD's
// kern_wait6 loop body with proc_to_reap. It returns (result, true, nil)
// when something was reported, (_, false, nil) when children exist but none
// has anything to say, and ECHILD when there is nobody to wait for.
func (k *Kernel) waitPoll(parent *Process, pid int32, options int) (WaitResult, bool, error) {
	if options&^(abi.WNOHANG|abi.WUNTRACED|abi.WCONTINUED|abi.WNOWAIT|abi.WEXITED|abi.WNOTHREAD|abi.WALL|abi.WCLONE) != 0 {
		return WaitResult{}, false, abi.EINVAL
	}
	found := false
	for _, c := range parent.children {
		if !waitMatch(parent, c, pid) {
			continue
		}
		found = true
		if c.zombie {
			r := WaitResult{Pid: c.Pid, Status: c.exitCode, Uid: c.cred.Ruid}
			r.Code = abi.CLD_EXITED
			if c.exitCode&0x7f != 0 {
				r.Code = abi.CLD_KILLED
			}
			if options&abi.WNOWAIT == 0 {
				k.reap(parent, c)
			}
			return r, true, nil
		}
		stopped := c.flag&P_STOPPED != 0 && c.flag&P_WAITED == 0
		if stopped && (c.traced() || options&abi.WUNTRACED != 0) {
			if options&abi.WNOWAIT == 0 {
				c.flag |= P_WAITED
				parent.pending.take(int32(abi.SIGCHLD))
			}
			code := int32(abi.CLD_STOPPED)
			if c.traced() {
				code = abi.CLD_TRAPPED
			}
			return WaitResult{Pid: c.Pid, Status: waitStopped(c.xsig), Code: code, Uid: c.cred.Ruid}, true, nil
		}
		if options&abi.WCONTINUED != 0 && c.flag&P_CONTINUED != 0 {
			if options&abi.WNOWAIT == 0 {
				c.flag &^= P_CONTINUED
			}
			return WaitResult{Pid: c.Pid, Status: 0xffff, Code: abi.CLD_CONTINUED, Uid: c.cred.Ruid}, true, nil
		}
	}
	// Traced children of ours that now belong to their debugger still
	// count: we get 0 from WNOHANG instead of ECHILD (fixed FreeBSD).
	for _, o := range parent.orphans {
		if waitMatch(parent, o, pid) {
			found = true
		}
	}
	if !found {
		return WaitResult{}, false, abi.ECHILD
	}
	return WaitResult{}, false, nil
}

// Wait4 is wait4 for a debugger process outside the machine (the recorder,
// replay): it runs the machine until a child of tracer has something to
// report. With WNOHANG it returns at once (Pid 0 when nothing is ready).
func (k *Kernel) Wait4(tracer *Process, pid int32, options int) (WaitResult, error) {
	for {
		r, ok, err := k.waitPoll(tracer, pid, options)
		if err != nil || ok || options&abi.WNOHANG != 0 {
			return r, err
		}
		var res WaitResult
		var werr error
		got := false
		err = k.RunUntil(func() bool {
			res, got, werr = k.waitPoll(tracer, pid, options)
			return got || werr != nil
		})
		if werr != nil {
			return WaitResult{}, werr
		}
		if got {
			return res, nil
		}
		if err != nil {
			return WaitResult{}, err
		}
	}
}
