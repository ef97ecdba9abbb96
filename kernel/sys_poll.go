package kernel

import "ptrec/kernel/abi"

// poll, ppoll, select and pselect6: real readiness of pipes, socketpairs,
// eventfds, epoll sets and the host's streams, with timeouts.
//
// A handler that finds nothing ready sleeps on k.pollWait (every readiness
// change wakes it) and is re-run with the same arguments; t.sleepDeadline
// carries the timeout across re-runs. Host streams (a terminal or a pipe
// ptrec was started with) are asked through HostPoll, so their readiness is
// recorded like any other input.

// hostPollInterval is how often a poll that includes a host stream looks at
// it again while other threads run.
const hostPollInterval = 10_000_000 // 10ms

// readiness returns the POLL* bits ready on f now (before masking by the
// requested events). A host stream is polled without waiting; it is returned
// so that a sleeping poll can wait on it.
func (k *Kernel) readiness(f *File, events uint32) (uint32, *hostFile) {
	switch o := f.ops.(type) {
	case pollable:
		return o.pollEvents(), nil
	case *epollFile:
		if epollHasReady(o) {
			return abi.POLLIN, nil
		}
		return 0, nil
	case *hostFile:
		if o.seekable || o.isDir {
			return abi.POLLIN | abi.POLLOUT | abi.POLLRDNORM | abi.POLLWRNORM, nil
		}
		r := k.host.Call(&HostCall{Op: HostPoll, Handle: o.handle, Args: []int64{int64(events), 0}})
		if r.Errno != 0 {
			return abi.POLLERR, nil
		}
		return uint32(r.Ret), o
	}
	// /dev/null, /dev/zero, /proc files: always ready, like regular files.
	return abi.POLLIN | abi.POLLOUT | abi.POLLRDNORM | abi.POLLWRNORM, nil
}

// pollItem is one descriptor of a poll or select call.
type pollItem struct {
	fd      int32
	events  uint32 // requested POLL* bits
	revents uint32
}

// pollScan fills revents and returns how many items are ready and the host
// streams among them (for a sleeping poll to wait on).
func (k *Kernel) pollScan(t *Thread, items []pollItem) (int, []*hostFile, []uint32) {
	n := 0
	var hosts []*hostFile
	var hostEv []uint32
	for i := range items {
		it := &items[i]
		it.revents = 0
		if it.fd < 0 {
			continue
		}
		f, err := t.p.files.get(int(it.fd))
		if err != nil {
			it.revents = abi.POLLNVAL
			n++
			continue
		}
		ev := it.events | abi.POLLERR | abi.POLLHUP
		ready, h := k.readiness(f, it.events)
		if ready&abi.POLLIN != 0 {
			ready |= abi.POLLRDNORM
		}
		if ready&abi.POLLOUT != 0 {
			ready |= abi.POLLWRNORM
		}
		it.revents = ready & ev
		if it.revents != 0 {
			n++
		} else if h != nil {
			hosts = append(hosts, h)
			hostEv = append(hostEv, it.events)
		}
	}
	return n, hosts, hostEv
}

// installPollMask sets the temporary signal mask of ppoll/pselect6 (once per
// call, not on re-runs).
func (t *Thread) installPollMask(maskAddr, maskSize uint64) error {
	if maskAddr == 0 || t.epollMaskSet {
		return nil
	}
	if maskSize != 8 {
		return abi.EINVAL
	}
	m, err := t.readU64(maskAddr)
	if err != nil {
		return err
	}
	if !t.hasSavedMask {
		t.savedMask = t.sigmask
		t.hasSavedMask = true
	}
	t.sigmask = m &^ unblockable
	t.epollMaskSet = true
	return nil
}

// pollDone ends a poll-family call: the deadline is forgotten and a
// temporary mask comes back unless a signal handler will restore it.
func (t *Thread) pollDone(err error) {
	t.sleepDeadline = 0
	if t.epollMaskSet && err != abi.ERESTARTNOHAND && err != abi.EINTR {
		t.sigmask = t.savedMask
		t.hasSavedMask = false
	}
	t.epollMaskSet = false
}

// pollWaitOrBlock is the common tail of a scan that found nothing ready.
// timeout is in ns (<0: none). It returns (true, nil) on timeout, an error
// to return (EINTR-style), or errBlock after putting t to sleep.
func (k *Kernel) pollWaitOrBlock(t *Thread, timeout int64, hosts []*hostFile, hostEv []uint32) (bool, error) {
	if timeout == 0 {
		return true, nil
	}
	if t.interrupted || t.nextDeliverable() != 0 {
		return false, abi.ERESTARTNOHAND
	}
	now := k.clock(abi.CLOCK_MONOTONIC)
	if timeout > 0 {
		if t.sleepDeadline == 0 {
			t.sleepDeadline = now + timeout
		}
		if now >= t.sleepDeadline {
			return true, nil
		}
	}
	deadline := t.sleepDeadline
	if len(hosts) > 0 {
		if len(hosts) == 1 && len(k.runq) == 0 {
			// Nothing else can run: wait on the host stream itself, up to
			// the earliest deadline of anyone.
			wait := int64(-1)
			earliest := k.nextTimer()
			for _, s := range k.sleepers {
				if s.wakeAt != 0 && (earliest == 0 || s.wakeAt < earliest) {
					earliest = s.wakeAt
				}
			}
			if deadline != 0 && (earliest == 0 || deadline < earliest) {
				earliest = deadline
			}
			if earliest != 0 {
				wait = max(earliest-now, 0)
			}
			k.host.Call(&HostCall{Op: HostPoll, Handle: hosts[0].handle, Args: []int64{int64(hostEv[0]), wait}})
			// Re-scan right away (a deadline of "now" wakes at once).
			k.sleepOn(t, &k.pollWait, now+1)
			return false, errBlock
		}
		if deadline == 0 || deadline > now+hostPollInterval {
			deadline = now + hostPollInterval
		}
	}
	k.sleepOn(t, &k.pollWait, deadline)
	return false, errBlock
}

func sysPoll(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	ms := int64(int32(a[2]))
	timeout := int64(-1)
	if ms >= 0 {
		timeout = ms * 1e6
	}
	return k.doPoll(t, a[0], a[1], timeout, 0, 0, 0)
}

func sysPpoll(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	timeout := int64(-1)
	if a[2] != 0 {
		ns, err := t.readTimespec(a[2])
		if err != nil {
			return 0, err
		}
		timeout = ns
	}
	return k.doPoll(t, a[0], a[1], timeout, a[2], a[3], a[4])
}

// doPoll is poll and ppoll; tsAddr, if set, receives the time left.
func (k *Kernel) doPoll(t *Thread, fdsAddr, nfds uint64, timeout int64, tsAddr, maskAddr, maskSize uint64) (uint64, error) {
	if nfds > uint64(t.p.rlimits[abi.RLIMIT_NOFILE].Cur) || nfds > 1<<20 {
		return 0, abi.EINVAL
	}
	buf := make([]byte, abi.PollfdSize*nfds)
	if err := t.readMem(fdsAddr, buf); err != nil {
		return 0, err
	}
	if err := t.installPollMask(maskAddr, maskSize); err != nil {
		return 0, err
	}
	items := make([]pollItem, nfds)
	for i := range items {
		items[i] = pollItem{fd: int32(le32(buf[8*i:])), events: uint32(le16(buf[8*i+4:]))}
	}
	n, hosts, hostEv := k.pollScan(t, items)
	if n == 0 {
		timedOut, err := k.pollWaitOrBlock(t, timeout, hosts, hostEv)
		if err == errBlock {
			return 0, errBlock
		}
		if !timedOut {
			t.pollDone(err)
			return 0, err
		}
	}
	for i := range items {
		putLE16(buf[8*i+6:], uint16(items[i].revents))
	}
	k.writeTimeLeft(t, tsAddr, false)
	t.pollDone(nil)
	if err := t.writeMem(fdsAddr, buf); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// writeTimeLeft stores the time left before the deadline in a timespec (or
// a timeval) at addr, as Linux does for ppoll, select and pselect6.
func (k *Kernel) writeTimeLeft(t *Thread, addr uint64, timeval bool) {
	if addr == 0 {
		return
	}
	if t.sleepDeadline == 0 {
		// Ready (or timed out) without sleeping: the struct stays as is.
		return
	}
	left := max(t.sleepDeadline-k.clock(abi.CLOCK_MONOTONIC), 0)
	var b [16]byte
	putLE64(b[:], uint64(left/1e9))
	if timeval {
		putLE64(b[8:], uint64(left%1e9/1e3))
	} else {
		putLE64(b[8:], uint64(left%1e9))
	}
	_ = t.writeMem(addr, b[:])
}

func sysSelect(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	timeout := int64(-1)
	if a[4] != 0 {
		var b [16]byte
		if err := t.readMem(a[4], b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(le64(b[:])), int64(le64(b[8:]))
		if sec < 0 || usec < 0 {
			return 0, abi.EINVAL
		}
		sec = min(sec, 1<<32)
		timeout = sec*1e9 + min(usec, 999_999)*1e3
	}
	return k.doSelect(t, a[0], a[1], a[2], a[3], timeout, a[4], true, 0, 0)
}

func sysPselect6(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	timeout := int64(-1)
	if a[4] != 0 {
		ns, err := t.readTimespec(a[4])
		if err != nil {
			return 0, err
		}
		timeout = ns
	}
	var maskAddr, maskSize uint64
	if a[5] != 0 {
		var b [16]byte
		if err := t.readMem(a[5], b[:]); err != nil {
			return 0, err
		}
		maskAddr, maskSize = le64(b[:]), le64(b[8:])
	}
	return k.doSelect(t, a[0], a[1], a[2], a[3], timeout, a[4], false, maskAddr, maskSize)
}

// doSelect is select and pselect6 over poll's machinery.
func (k *Kernel) doSelect(t *Thread, nfdsArg, rAddr, wAddr, eAddr uint64, timeout int64, tAddr uint64, timeval bool, maskAddr, maskSize uint64) (uint64, error) {
	nfds := int(int32(nfdsArg))
	if nfds < 0 {
		return 0, abi.EINVAL
	}
	// Linux clips nfds to the size of its descriptor table; ours grows
	// on demand, so the clip is the descriptor limit.
	nfds = min(nfds, int(min(t.p.rlimits[abi.RLIMIT_NOFILE].Cur, 1<<20)))
	words := (nfds + 63) / 64
	sets := [3][]uint64{}
	addrs := [3]uint64{rAddr, wAddr, eAddr}
	for i, addr := range addrs {
		sets[i] = make([]uint64, words)
		if addr == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if err := t.readMem(addr, b); err != nil {
			return 0, err
		}
		for w := range sets[i] {
			sets[i][w] = le64(b[8*w:])
		}
	}
	if err := t.installPollMask(maskAddr, maskSize); err != nil {
		return 0, err
	}
	const (
		selIn  = abi.POLLIN | abi.POLLRDNORM | abi.POLLHUP | abi.POLLERR
		selOut = abi.POLLOUT | abi.POLLWRNORM | abi.POLLERR
		selEx  = abi.POLLPRI
	)
	var items []pollItem
	for fd := 0; fd < nfds; fd++ {
		bit := uint64(1) << uint(fd%64)
		var ev uint32
		if sets[0][fd/64]&bit != 0 {
			ev |= abi.POLLIN
		}
		if sets[1][fd/64]&bit != 0 {
			ev |= abi.POLLOUT
		}
		if sets[2][fd/64]&bit != 0 {
			ev |= abi.POLLPRI
		}
		if ev == 0 {
			continue
		}
		if _, err := t.p.files.get(fd); err != nil {
			t.pollDone(nil)
			return 0, abi.EBADF
		}
		items = append(items, pollItem{fd: int32(fd), events: ev})
	}
	count := func() int {
		n := 0
		for i := range sets {
			clear(sets[i])
		}
		for _, it := range items {
			bit := uint64(1) << uint(it.fd%64)
			if it.events&abi.POLLIN != 0 && it.revents&selIn != 0 {
				sets[0][it.fd/64] |= bit
				n++
			}
			if it.events&abi.POLLOUT != 0 && it.revents&selOut != 0 {
				sets[1][it.fd/64] |= bit
				n++
			}
			if it.events&abi.POLLPRI != 0 && it.revents&selEx != 0 {
				sets[2][it.fd/64] |= bit
				n++
			}
		}
		return n
	}
	_, hosts, hostEv := k.pollScan(t, items)
	n := count()
	if n == 0 {
		timedOut, err := k.pollWaitOrBlock(t, timeout, hosts, hostEv)
		if err == errBlock {
			return 0, errBlock
		}
		if !timedOut {
			t.pollDone(err)
			return 0, err
		}
	}
	k.writeTimeLeft(t, tAddr, timeval)
	t.pollDone(nil)
	for i, addr := range addrs {
		if addr == 0 {
			continue
		}
		b := make([]byte, 8*words)
		for w, v := range sets[i] {
			putLE64(b[8*w:], v)
		}
		if err := t.writeMem(addr, b); err != nil {
			return 0, err
		}
	}
	return uint64(n), nil
}

func le32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func le16(b []byte) uint16 {
	_ = b[1]
	return uint16(b[0]) | uint16(b[1])<<8
}

func putLE16(b []byte, v uint16) {
	_ = b[1]
	b[0], b[1] = byte(v), byte(v>>8)
}
