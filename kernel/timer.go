package kernel

import "ptrec/kernel/abi"

// itimerReal is ITIMER_REAL's number.
const itimerReal = 0

// itimer is ITIMER_REAL (alarm, setitimer): a deadline on the host's
// monotonic clock and an optional interval, in nanoseconds.
type itimer struct {
	deadline int64
	interval int64
}

// checkTimers fires expired interval timers. It reads the clock only when
// some process has a timer armed.
func (k *Kernel) checkTimers() bool {
	armed := false
	for _, p := range k.procs {
		if p.itimerReal.deadline != 0 {
			armed = true
			break
		}
	}
	if !armed {
		return false
	}
	now := k.clock(abi.CLOCK_MONOTONIC)
	fired := false
	for _, p := range k.procs {
		it := &p.itimerReal
		if it.deadline == 0 || now < it.deadline {
			continue
		}
		if it.interval > 0 {
			it.deadline += it.interval * ((now-it.deadline)/it.interval + 1)
		} else {
			it.deadline = 0
		}
		k.postSignal(p, nil, Siginfo{Signo: int32(abi.SIGALRM), Code: abi.SI_KERNEL})
		fired = true
	}
	return fired
}

// nextTimer returns the earliest armed itimer deadline, or 0.
func (k *Kernel) nextTimer() int64 {
	var d int64
	for _, p := range k.procs {
		if dl := p.itimerReal.deadline; dl != 0 && (d == 0 || dl < d) {
			d = dl
		}
	}
	return d
}

func sysAlarm(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	it := &t.p.itimerReal
	now := k.clock(abi.CLOCK_MONOTONIC)
	var left uint64
	if it.deadline != 0 {
		left = uint64((it.deadline - now + 999_999_999) / 1e9)
		if left == 0 {
			left = 1
		}
	}
	*it = itimer{}
	if a[0] != 0 {
		it.deadline = now + int64(a[0])*1e9
	}
	return left, nil
}

func sysSetitimer(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	which, nv, ov := a[0], a[1], a[2]
	if which != itimerReal {
		if which > 2 {
			return 0, abi.EINVAL
		}
		// Virtual and profiling timers never fire (no CPU-time accounting).
		if ov != 0 {
			var z [32]byte
			return 0, t.writeMem(ov, z[:])
		}
		return 0, nil
	}
	it := &t.p.itimerReal
	now := k.clock(abi.CLOCK_MONOTONIC)
	if ov != 0 {
		if err := t.writeMem(ov, encodeItimerval(it, now)); err != nil {
			return 0, err
		}
	}
	if nv != 0 {
		var b [32]byte
		if err := t.readMem(nv, b[:]); err != nil {
			return 0, err
		}
		isec, iusec, vsec, vusec := int64(le64(b[0:])), int64(le64(b[8:])), int64(le64(b[16:])), int64(le64(b[24:]))
		if iusec < 0 || iusec >= 1e6 || vusec < 0 || vusec >= 1e6 || isec < 0 || vsec < 0 {
			return 0, abi.EINVAL
		}
		*it = itimer{interval: isec*1e9 + iusec*1000}
		if v := vsec*1e9 + vusec*1000; v != 0 {
			it.deadline = now + v
		}
	}
	return 0, nil
}

func sysGetitimer(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[0] > 2 {
		return 0, abi.EINVAL
	}
	var it itimer
	if a[0] == itimerReal {
		it = t.p.itimerReal
	}
	return 0, t.writeMem(a[1], encodeItimerval(&it, k.clock(abi.CLOCK_MONOTONIC)))
}

func encodeItimerval(it *itimer, now int64) []byte {
	b := make([]byte, 32)
	putLE64(b[0:], uint64(it.interval/1e9))
	putLE64(b[8:], uint64(it.interval%1e9/1000))
	if it.deadline != 0 {
		left := max(it.deadline-now, 1000)
		putLE64(b[16:], uint64(left/1e9))
		putLE64(b[24:], uint64(left%1e9/1000))
	}
	return b
}

func sysPause(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if t.interrupted {
		return 0, abi.ERESTARTNOHAND
	}
	k.sleepOn(t, &t.sleepQ, 0)
	return 0, errBlock
}

func sysRtSigsuspend(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if t.interrupted {
		return 0, abi.ERESTARTNOHAND
	}
	if a[1] != 8 {
		return 0, abi.EINVAL
	}
	m, err := t.readU64(a[0])
	if err != nil {
		return 0, err
	}
	if !t.hasSavedMask {
		t.savedMask = t.sigmask
		t.hasSavedMask = true
	}
	t.sigmask = m &^ unblockable
	if t.nextDeliverable() != 0 {
		return 0, abi.ERESTARTNOHAND
	}
	k.sleepOn(t, &t.sleepQ, 0)
	return 0, errBlock
}

func sysRtSigpending(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return 0, t.writeU64(a[0], (t.pending.set()|t.p.pending.set())&t.sigmask)
}
