package kernel

import "ptrec/kernel/abi"

// pollable is a file that can report readiness (poll, epoll).
type pollable interface {
	// pollEvents returns the POLL* bits that are ready now.
	pollEvents() uint32
	// pollSeq counts readiness events (data arriving, room appearing, an
	// end closing): edge-triggered epoll reports a file again only after
	// it changes.
	pollSeq() uint64
}

// eventfd ------------------------------------------------------------------

const eventfdMax = ^uint64(0) - 1

type eventFD struct {
	count     uint64
	semaphore bool
	seq       uint64
	rq, wq    waitQueue
}

func (e *eventFD) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	if len(b) < 8 {
		return 0, abi.EINVAL
	}
	if e.count == 0 {
		if f.flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &e.rq, 0)
		return 0, errBlock
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	putLE64(b, v)
	e.seq++
	k.wakeAll(&e.wq)
	k.pollNotify()
	return 8, nil
}

func (e *eventFD) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	if len(b) < 8 {
		return 0, abi.EINVAL
	}
	v := le64(b)
	if v == ^uint64(0) {
		return 0, abi.EINVAL
	}
	if eventfdMax-e.count < v {
		if f.flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &e.wq, 0)
		return 0, errBlock
	}
	e.count += v
	e.seq++
	k.wakeAll(&e.rq)
	k.pollNotify()
	return 8, nil
}

func (e *eventFD) stat(k *Kernel) ([]byte, error) {
	st := abi.Stat{Mode: 0o600, Nlink: 1, Blksize: 4096}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (e *eventFD) close(k *Kernel) {}

func (e *eventFD) pollEvents() uint32 {
	var ev uint32
	if e.count > 0 {
		ev |= abi.POLLIN
	}
	if e.count < eventfdMax {
		ev |= abi.POLLOUT
	}
	return ev
}

func (e *eventFD) pollSeq() uint64 { return e.seq }

func sysEventfd(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doEventfd(t, a[0], 0)
}

func sysEventfd2(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doEventfd(t, a[0], a[1])
}

const efdSemaphore = 1

func (k *Kernel) doEventfd(t *Thread, initval, flags uint64) (uint64, error) {
	if flags&^uint64(abi.O_CLOEXEC|abi.O_NONBLOCK|efdSemaphore) != 0 {
		return 0, abi.EINVAL
	}
	e := &eventFD{count: uint64(uint32(initval)), semaphore: flags&efdSemaphore != 0}
	f := newFile(e, abi.O_RDWR|uint32(flags)&abi.O_NONBLOCK, "anon_inode:[eventfd]")
	return uint64(t.p.files.install(f, 0, flags&abi.O_CLOEXEC != 0)), nil
}

// epoll --------------------------------------------------------------------

type epollItem struct {
	fd       int
	file     *File
	events   uint32
	data     uint64
	disabled bool   // EPOLLONESHOT fired; re-armed by EPOLL_CTL_MOD
	seenSeq  uint64 // pollSeq when last reported (EPOLLET)
	reported bool
}

// epollFile is an epoll instance. Items are kept in registration order so
// that the order of reported events is deterministic.
type epollFile struct {
	items []*epollItem
}

func (ep *epollFile) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	return 0, abi.EINVAL
}

func (ep *epollFile) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	return 0, abi.EINVAL
}

func (ep *epollFile) stat(k *Kernel) ([]byte, error) {
	st := abi.Stat{Mode: 0o600, Nlink: 1, Blksize: 4096}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (ep *epollFile) close(k *Kernel) { ep.items = nil }

func (ep *epollFile) find(fd int, f *File) int {
	for i, it := range ep.items {
		if it.fd == fd && it.file == f {
			return i
		}
	}
	return -1
}

// prune drops items whose file has been closed everywhere (Linux removes a
// file from every epoll set when its last reference goes).
func (ep *epollFile) prune() {
	keep := ep.items[:0]
	for _, it := range ep.items {
		if it.file.refs > 0 {
			keep = append(keep, it)
		}
	}
	ep.items = keep
}

func sysEpollCreate(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if int32(a[0]) <= 0 {
		return 0, abi.EINVAL
	}
	return k.doEpollCreate(t, 0)
}

func sysEpollCreate1(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[0]&^uint64(abi.EPOLL_CLOEXEC) != 0 {
		return 0, abi.EINVAL
	}
	return k.doEpollCreate(t, a[0])
}

func (k *Kernel) doEpollCreate(t *Thread, flags uint64) (uint64, error) {
	f := newFile(&epollFile{}, abi.O_RDWR, "anon_inode:[eventpoll]")
	return uint64(t.p.files.install(f, 0, flags&abi.EPOLL_CLOEXEC != 0)), nil
}

const epollAlways = abi.EPOLLERR | abi.EPOLLHUP

func sysEpollCtl(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	epfd, op, fd, evAddr := int(int32(a[0])), int(int32(a[1])), int(int32(a[2])), a[3]
	epf, err := t.p.files.get(epfd)
	if err != nil {
		return 0, err
	}
	f, err := t.p.files.get(fd)
	if err != nil {
		return 0, err
	}
	ep, ok := epf.ops.(*epollFile)
	if !ok || epf == f {
		return 0, abi.EINVAL
	}
	if _, ok := f.ops.(pollable); !ok {
		if _, isEp := f.ops.(*epollFile); !isEp {
			// Regular files and directories do not support epoll.
			return 0, abi.EPERM
		}
	}
	var events uint32
	var data uint64
	if op != abi.EPOLL_CTL_DEL {
		var b [12]byte
		if err := t.readMem(evAddr, b[:]); err != nil {
			return 0, err
		}
		events = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		data = le64(b[4:])
	}
	ep.prune()
	i := ep.find(fd, f)
	switch op {
	case abi.EPOLL_CTL_ADD:
		if i >= 0 {
			return 0, abi.EEXIST
		}
		ep.items = append(ep.items, &epollItem{fd: fd, file: f, events: events, data: data})
	case abi.EPOLL_CTL_MOD:
		if i < 0 {
			return 0, abi.ENOENT
		}
		it := ep.items[i]
		it.events, it.data, it.disabled, it.reported = events, data, false, false
	case abi.EPOLL_CTL_DEL:
		if i < 0 {
			return 0, abi.ENOENT
		}
		ep.items = append(ep.items[:i], ep.items[i+1:]...)
	default:
		return 0, abi.EINVAL
	}
	k.pollNotify()
	return 0, nil
}

// epollReady collects up to max ready events, updating edge-triggered and
// one-shot state for those it reports.
func epollReady(ep *epollFile, max int) []byte {
	ep.prune()
	var out []byte
	n := 0
	for _, it := range ep.items {
		if n >= max {
			break
		}
		if it.disabled {
			continue
		}
		var ready uint32
		var seq uint64
		switch o := it.file.ops.(type) {
		case pollable:
			ready, seq = o.pollEvents(), o.pollSeq()
		case *epollFile:
			if epollHasReady(o) {
				ready = abi.POLLIN
			}
		}
		ev := ready & (it.events | epollAlways)
		if ev == 0 {
			continue
		}
		if it.events&abi.EPOLLET != 0 {
			if it.reported && seq == it.seenSeq {
				continue
			}
			it.reported, it.seenSeq = true, seq
		}
		if it.events&abi.EPOLLONESHOT != 0 {
			it.disabled = true
		}
		var b [12]byte
		putLE32(b[:], ev)
		putLE64(b[4:], it.data)
		out = append(out, b[:]...)
		n++
	}
	return out
}

// epollHasReady reports whether a nested epoll set has a level-triggered
// ready item (without consuming edge-triggered state).
func epollHasReady(ep *epollFile) bool {
	for _, it := range ep.items {
		if it.disabled || it.file.refs == 0 {
			continue
		}
		if o, ok := it.file.ops.(pollable); ok && o.pollEvents()&(it.events|epollAlways) != 0 {
			if it.events&abi.EPOLLET == 0 || !it.reported || o.pollSeq() != it.seenSeq {
				return true
			}
		}
	}
	return false
}

func sysEpollWait(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doEpollWait(t, a[0], a[1], a[2], int64(int32(a[3])), 0, 0)
}

func sysEpollPwait(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doEpollWait(t, a[0], a[1], a[2], int64(int32(a[3])), a[4], a[5])
}

func (k *Kernel) doEpollWait(t *Thread, epfdArg, evAddr, maxArg uint64, timeoutMs int64, maskAddr, maskSize uint64) (uint64, error) {
	done := func(n uint64, err error) (uint64, error) {
		t.sleepDeadline = 0
		if t.epollMaskSet && err != abi.EINTR {
			// No handler ran: the original mask comes back now.
			t.sigmask = t.savedMask
			t.hasSavedMask = false
		}
		t.epollMaskSet = false
		return n, err
	}
	epf, err := t.p.files.get(int(int32(epfdArg)))
	if err != nil {
		return done(0, err)
	}
	ep, ok := epf.ops.(*epollFile)
	if !ok {
		return done(0, abi.EINVAL)
	}
	max := int(int32(maxArg))
	if max <= 0 || max > (1<<31-1)/12 {
		return done(0, abi.EINVAL)
	}
	if maskAddr != 0 && !t.epollMaskSet {
		if maskSize != 8 {
			return done(0, abi.EINVAL)
		}
		m, err := t.readU64(maskAddr)
		if err != nil {
			return done(0, err)
		}
		if !t.hasSavedMask {
			t.savedMask = t.sigmask
			t.hasSavedMask = true
		}
		t.sigmask = m &^ unblockable
		t.epollMaskSet = true
	}
	if out := epollReady(ep, max); len(out) > 0 {
		if err := t.writeMem(evAddr, out); err != nil {
			return done(0, err)
		}
		return done(uint64(len(out)/12), nil)
	}
	if timeoutMs == 0 {
		return done(0, nil)
	}
	if t.interrupted || t.nextDeliverable() != 0 {
		return done(0, abi.EINTR)
	}
	if timeoutMs > 0 {
		if t.sleepDeadline == 0 {
			t.sleepDeadline = k.clock(abi.CLOCK_MONOTONIC) + timeoutMs*1e6
		}
		if k.clock(abi.CLOCK_MONOTONIC) >= t.sleepDeadline {
			return done(0, nil)
		}
	}
	k.sleepOn(t, &k.pollWait, t.sleepDeadline)
	return 0, errBlock
}

// sched_getaffinity and prctl ----------------------------------------------

// The emulated machine has one CPU.
func sysSchedGetaffinity(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, size, addr := int32(a[0]), a[1], a[2]
	if pid != 0 && k.tdfind(pid) == nil && k.pfind(pid) == nil {
		return 0, abi.ESRCH
	}
	if size < 8 || size&7 != 0 {
		return 0, abi.EINVAL
	}
	var b [8]byte
	b[0] = 1
	if err := t.writeMem(addr, b[:]); err != nil {
		return 0, err
	}
	return 8, nil
}

// sysGetcpu: the emulated machine has one CPU, 0, on NUMA node 0 (the
// same CPU sched_getaffinity reports).
func sysGetcpu(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	var zero [4]byte
	for _, addr := range []uint64{a[0], a[1]} {
		if addr != 0 {
			if err := t.writeMem(addr, zero[:]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

func sysSchedSetaffinity(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	pid, size, addr := int32(a[0]), a[1], a[2]
	if pid != 0 && k.tdfind(pid) == nil && k.pfind(pid) == nil {
		return 0, abi.ESRCH
	}
	if size == 0 {
		return 0, abi.EINVAL
	}
	var b [1]byte
	if err := t.readMem(addr, b[:]); err != nil {
		return 0, err
	}
	if b[0]&1 == 0 {
		return 0, abi.EINVAL // no CPU of the machine in the set
	}
	return 0, nil
}

func sysPrctl(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	switch int(a[0]) {
	case abi.PR_SET_NAME:
		var name []byte
		for i := uint64(0); i < abi.TASK_COMM_LEN-1; i++ {
			var c [1]byte
			if err := t.readMem(a[1]+i, c[:]); err != nil {
				return 0, err
			}
			if c[0] == 0 {
				break
			}
			name = append(name, c[0])
		}
		t.name = string(name)
		return 0, nil
	case abi.PR_GET_NAME:
		var b [abi.TASK_COMM_LEN]byte
		copy(b[:abi.TASK_COMM_LEN-1], t.name)
		return 0, t.writeMem(a[1], b[:])
	case abi.PR_GET_DUMPABLE:
		return 1, nil
	case abi.PR_SET_DUMPABLE:
		if a[1] > 1 {
			return 0, abi.EINVAL
		}
		return 0, nil
	case abi.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 {
			return 0, abi.EINVAL
		}
		return 0, nil
	}
	return 0, abi.EINVAL
}
