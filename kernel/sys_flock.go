package kernel

import (
	"math"
	"sort"

	"ptrec/kernel/abi"
)

// File locks between guest processes: flock(2) locks, which belong to the
// open file description and go with its last close, and fcntl record locks
// — POSIX ones, which belong to the process and go when it closes any
// descriptor of the file or exits, and OFD ones, which belong to the open
// file description. Files are identified as Linux identifies inodes: by the
// st_dev and st_ino their fstat reports (the host's, for host files).
//
// Waiters sleep on the inode's queue and re-run the syscall. Unlocks and
// closes through close, dup2, dup3 and close_range wake them at once; a
// holder that goes away otherwise (its process exits or is killed, execs
// with the descriptor close-on-exec) is noticed when a waiter re-checks,
// which it does every lockPollNs as well.
//
// The lock table is a field of the Kernel, so a Snapshot copies it. Maps
// are only iterated in key order (inodesInOrder): wake-ups, and so the
// schedule, must not depend on Go's map order.

const (
	lockSH = 1
	lockEX = 2
	lockNB = 4
	lockUN = 8

	lockPollNs = 10_000_000 // a blocked waiter re-checks its holders this often
	lockEOF    = math.MaxInt64
	flockSize  = 32 // struct flock on x86-64
)

type lockKey struct{ dev, ino uint64 }

// flockEnt is one flock(2) lock: held by an open file description.
type flockEnt struct {
	file *File
	excl bool
}

// recLock is one fcntl record lock of [start, end).
type recLock struct {
	proc       *Process // POSIX owner, nil for an OFD lock
	file       *File    // OFD owner, nil for a POSIX lock
	start, end int64
	write      bool
}

func (l *recLock) sameOwner(o *recLock) bool {
	if l.proc != nil {
		return l.proc == o.proc
	}
	return o.proc == nil && l.file == o.file
}

type lockInode struct {
	flocks []flockEnt
	recs   []recLock
	q      waitQueue
}

// posixWait records which process a POSIX F_SETLKW waiter waits for, for
// deadlock detection.
type posixWait struct {
	holder *Process
	q      *waitQueue
}

type lockTable struct {
	inodes  map[lockKey]*lockInode
	waiting map[*Process]posixWait
}

func (k *Kernel) locks() *lockTable {
	if k.lockTable == nil {
		k.lockTable = &lockTable{inodes: map[lockKey]*lockInode{}, waiting: map[*Process]posixWait{}}
	}
	return k.lockTable
}

// lockTableIfAny returns k's table only if one exists (no locks ever taken).
func (k *Kernel) lockTableIfAny() *lockTable { return k.lockTable }

// inodesInOrder returns the table's inodes ordered by key.
func (lt *lockTable) inodesInOrder() []lockKey {
	keys := make([]lockKey, 0, len(lt.inodes))
	for key := range lt.inodes {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dev != keys[j].dev {
			return keys[i].dev < keys[j].dev
		}
		return keys[i].ino < keys[j].ino
	})
	return keys
}

// fileKey is the inode identity of an open file.
func (k *Kernel) fileKey(f *File) (lockKey, error) {
	st, err := f.ops.stat(k)
	if err != nil {
		return lockKey{}, err
	}
	if len(st) < 16 {
		return lockKey{}, abi.EINVAL
	}
	return lockKey{dev: le64(st[0:]), ino: le64(st[8:])}, nil
}

func procGone(p *Process) bool {
	return p == nil || p.zombie || p.reaped || p.flag&P_WEXIT != 0 || p.files == nil
}

// sweep drops locks whose owner is gone: closed descriptions, dead processes.
func (in *lockInode) sweep() bool {
	changed := false
	fl := in.flocks[:0]
	for _, e := range in.flocks {
		if e.file.refs > 0 {
			fl = append(fl, e)
		} else {
			changed = true
		}
	}
	in.flocks = fl
	rs := in.recs[:0]
	for _, l := range in.recs {
		if (l.proc != nil && !procGone(l.proc)) || (l.proc == nil && l.file != nil && l.file.refs > 0) {
			rs = append(rs, l)
		} else {
			changed = true
		}
	}
	in.recs = rs
	return changed
}

func (lt *lockTable) inode(key lockKey) *lockInode {
	in := lt.inodes[key]
	if in == nil {
		in = &lockInode{}
		lt.inodes[key] = in
	}
	return in
}

// blockOn puts t to sleep on the inode's queue (re-checking every
// lockPollNs), or returns ERESTARTSYS when a signal is pending.
func (k *Kernel) lockBlock(t *Thread, in *lockInode) error {
	if t.interrupted {
		return abi.ERESTARTSYS
	}
	k.sleepOn(t, &in.q, k.clock(abi.CLOCK_MONOTONIC)+lockPollNs)
	return errBlock
}

func sysFlock(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	cmd := uint32(a[1])
	nb := cmd&lockNB != 0
	var excl bool
	switch cmd &^ lockNB {
	case lockSH:
	case lockEX:
		excl = true
	case lockUN:
	default:
		return 0, abi.EINVAL
	}
	key, err := k.fileKey(f)
	if err != nil {
		return 0, err
	}
	lt := k.locks()
	in := lt.inode(key)
	in.sweep()
	// Linux converts by dropping the old lock first (not atomically).
	for i, e := range in.flocks {
		if e.file == f {
			if cmd&^lockNB != lockUN && e.excl == excl {
				return 0, nil
			}
			in.flocks = append(in.flocks[:i], in.flocks[i+1:]...)
			k.wakeAll(&in.q)
			break
		}
	}
	if cmd&^lockNB == lockUN {
		return 0, nil
	}
	for _, e := range in.flocks {
		if e.excl || excl {
			if nb {
				return 0, abi.EWOULDBLOCK
			}
			return 0, k.lockBlock(t, in)
		}
	}
	in.flocks = append(in.flocks, flockEnt{file: f, excl: excl})
	return 0, nil
}

// fcntlLock implements F_GETLK, F_SETLK, F_SETLKW and their OFD variants.
func (k *Kernel) fcntlLock(t *Thread, f *File, cmd int, addr uint64) (uint64, error) {
	var b [flockSize]byte
	if err := t.readMem(addr, b[:]); err != nil {
		return 0, err
	}
	typ := int16(uint16(b[0]) | uint16(b[1])<<8)
	whence := int16(uint16(b[2]) | uint16(b[3])<<8)
	lstart, llen := int64(le64(b[8:])), int64(le64(b[16:]))
	lpid := int32(uint32(le64(b[24:]) & 0xffffffff))
	ofd := cmd == abi.F_OFD_GETLK || cmd == abi.F_OFD_SETLK || cmd == abi.F_OFD_SETLKW
	get := cmd == abi.F_GETLK || cmd == abi.F_OFD_GETLK
	wait := cmd == abi.F_SETLKW || cmd == abi.F_OFD_SETLKW
	if ofd && lpid != 0 {
		return 0, abi.EINVAL
	}
	switch typ {
	case abi.F_RDLCK:
		if !get && f.flags&abi.O_ACCMODE == abi.O_WRONLY {
			return 0, abi.EBADF
		}
	case abi.F_WRLCK:
		if !get && f.flags&abi.O_ACCMODE == abi.O_RDONLY {
			return 0, abi.EBADF
		}
	case abi.F_UNLCK:
		if get {
			return 0, abi.EINVAL
		}
	default:
		return 0, abi.EINVAL
	}
	var base int64
	switch whence {
	case 0:
	case 1:
		base = f.offset
	case 2:
		st, err := f.ops.stat(k)
		if err != nil {
			return 0, err
		}
		base = int64(le64(st[48:56]))
	default:
		return 0, abi.EINVAL
	}
	start := base + lstart
	if lstart > 0 && start < base {
		return 0, abi.EOVERFLOW
	}
	end := int64(lockEOF)
	switch {
	case llen > 0:
		if start > lockEOF-llen {
			return 0, abi.EOVERFLOW
		}
		end = start + llen
	case llen < 0:
		end = start
		start += llen
	}
	if start < 0 {
		return 0, abi.EINVAL
	}
	key, err := k.fileKey(f)
	if err != nil {
		return 0, err
	}
	lt := k.locks()
	in := lt.inode(key)
	if in.sweep() {
		k.wakeAll(&in.q)
	}
	req := recLock{start: start, end: end, write: typ == abi.F_WRLCK}
	if ofd {
		req.file = f
	} else {
		req.proc = t.p
	}
	conflict := func() *recLock {
		for i := range in.recs {
			l := &in.recs[i]
			if l.sameOwner(&req) || l.end <= req.start || req.end <= l.start {
				continue
			}
			if l.write || req.write {
				return l
			}
		}
		return nil
	}
	if get {
		c := conflict()
		if c == nil {
			b[0], b[1] = abi.F_UNLCK, 0
			return 0, t.writeMem(addr, b[:2])
		}
		var out [flockSize]byte
		if c.write {
			out[0] = abi.F_WRLCK
		}
		putLE64(out[8:], uint64(c.start))
		if c.end != lockEOF {
			putLE64(out[16:], uint64(c.end-c.start))
		}
		pid := int32(-1)
		if c.proc != nil {
			pid = c.proc.Pid
		}
		putLE64(out[24:], uint64(uint32(pid)))
		return 0, t.writeMem(addr, out[:])
	}
	if req.proc != nil {
		delete(lt.waiting, req.proc)
	}
	if typ != abi.F_UNLCK {
		if c := conflict(); c != nil {
			if !wait {
				return 0, abi.EAGAIN
			}
			if req.proc != nil && c.proc != nil && lt.deadlock(req.proc, c.proc) {
				return 0, abi.EDEADLK
			}
			if err := k.lockBlock(t, in); err != errBlock {
				return 0, err
			}
			if req.proc != nil && c.proc != nil {
				lt.waiting[req.proc] = posixWait{holder: c.proc, q: &in.q}
			}
			return 0, errBlock
		}
	}
	in.setRange(req, typ == abi.F_UNLCK)
	k.wakeAll(&in.q)
	return 0, nil
}

// deadlock reports whether p waiting for holder closes a cycle of POSIX
// waiters (Linux posix_locks_deadlock).
func (lt *lockTable) deadlock(p, holder *Process) bool {
	for i := 0; i < 10 && holder != nil; i++ {
		if holder == p {
			return true
		}
		w, ok := lt.waiting[holder]
		if !ok || !procBlockedOn(holder, w.q) {
			return false
		}
		holder = w.holder
	}
	return false
}

func procBlockedOn(p *Process, q *waitQueue) bool {
	for _, t := range p.threads {
		if !t.exited && t.blocked == q {
			return true
		}
	}
	return false
}

// setRange replaces the owner's locks over [req.start, req.end) by req (or
// by nothing, unlock), merging adjacent locks of the same type.
func (in *lockInode) setRange(req recLock, unlock bool) {
	var out []recLock
	for _, l := range in.recs {
		if !l.sameOwner(&req) || l.end <= req.start || req.end <= l.start {
			out = append(out, l)
			continue
		}
		if l.start < req.start {
			left := l
			left.end = req.start
			out = append(out, left)
		}
		if l.end > req.end {
			right := l
			right.start = req.end
			out = append(out, right)
		}
	}
	if !unlock {
		n := req
		var keep []recLock
		for _, l := range out {
			if l.sameOwner(&req) && l.write == req.write && l.end >= n.start && n.end >= l.start {
				n.start, n.end = min(n.start, l.start), max(n.end, l.end)
				continue
			}
			keep = append(keep, l)
		}
		out = append(keep, n)
	}
	in.recs = out
}

// releasePosix drops p's POSIX locks on the file f refers to (close of any
// descriptor of it). It asks the host nothing unless p holds locks.
func (k *Kernel) releasePosix(p *Process, f *File) {
	lt := k.lockTableIfAny()
	if lt == nil {
		return
	}
	var keyed []lockKey
	for _, key := range lt.inodesInOrder() {
		in := lt.inodes[key]
		for _, l := range in.recs {
			if l.proc == p {
				keyed = append(keyed, key)
				break
			}
		}
	}
	if len(keyed) == 0 {
		return
	}
	key, err := k.fileKey(f)
	if err != nil {
		return
	}
	for _, kk := range keyed {
		if kk == key {
			in := lt.inodes[key]
			in.setRange(recLock{proc: p, start: 0, end: lockEOF}, true)
			k.wakeAll(&in.q)
		}
	}
}

// locksAfterClose wakes the waiters of every inode whose locks went with a
// close (a last close drops flock and OFD locks; an exit POSIX ones).
func (k *Kernel) locksAfterClose() {
	lt := k.lockTableIfAny()
	if lt == nil {
		return
	}
	for _, key := range lt.inodesInOrder() {
		in := lt.inodes[key]
		if in.sweep() {
			k.wakeAll(&in.q)
		}
		if len(in.flocks) == 0 && len(in.recs) == 0 && len(in.q.waiters) == 0 {
			delete(lt.inodes, key)
		}
	}
}

// hasPosixLocks reports whether p holds any POSIX record lock.
func (k *Kernel) hasPosixLocks(p *Process) bool {
	lt := k.lockTableIfAny()
	if lt == nil {
		return false
	}
	for _, in := range lt.inodes {
		for _, l := range in.recs {
			if l.proc == p {
				return true
			}
		}
	}
	return false
}

// closeFDLocked closes fd of t's process, releasing the process's POSIX
// locks on that file first.
func (k *Kernel) closeFDLocked(t *Thread, fd int) error {
	f, err := t.p.files.get(fd)
	if err != nil {
		return err
	}
	if k.hasPosixLocks(t.p) {
		k.releasePosix(t.p, f)
	}
	err = t.p.files.closeFD(k, fd)
	k.locksAfterClose()
	return err
}

// sysCloseRangeLocked is close_range with lock release.
func sysCloseRangeLocked(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if k.hasPosixLocks(t.p) && uint32(a[2])&closeRangeCloexec == 0 && uint32(a[0]) <= uint32(a[1]) {
		ft := t.p.files
		for fd := int(uint32(a[0])); fd < len(ft.fds) && uint32(fd) <= uint32(a[1]); fd++ {
			if ft.fds[fd].file != nil {
				k.releasePosix(t.p, ft.fds[fd].file)
			}
		}
	}
	r, err := sysCloseRange(k, t, a)
	k.locksAfterClose()
	return r, err
}

func sysExitGroupLocked(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	k.dropProcessLocks(t.p)
	r, err := sysExitGroup(k, t, a)
	k.locksAfterClose()
	return r, err
}

func sysExitLocked(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	r, err := sysExit(k, t, a)
	k.locksAfterClose()
	return r, err
}

// dropProcessLocks releases every POSIX lock of p (it is exiting).
func (k *Kernel) dropProcessLocks(p *Process) {
	lt := k.lockTableIfAny()
	if lt == nil {
		return
	}
	delete(lt.waiting, p)
	for _, key := range lt.inodesInOrder() {
		in := lt.inodes[key]
		before := len(in.recs)
		in.setRange(recLock{proc: p, start: 0, end: lockEOF}, true)
		if len(in.recs) != before {
			k.wakeAll(&in.q)
		}
	}
}

// dupOverLocked releases t's POSIX locks on the file at fd, which dup2 or
// dup3 is about to close.
func (k *Kernel) dupOverLocked(t *Thread, fd int) {
	if old, err := t.p.files.get(fd); err == nil && k.hasPosixLocks(t.p) {
		k.releasePosix(t.p, old)
	}
}
