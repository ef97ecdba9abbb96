package kernel

import "ptrec/kernel/abi"

// sendfile, copy_file_range, close_range, statfs, the chown and utime
// families, and rt_sigtimedwait.

// outRoom reports how many bytes a write to f can take now without
// blocking (-1: no limit known, the write goes to the host) and, when it is
// full, the queue a blocked writer sleeps on.
func outRoom(f *File) (int, *waitQueue) {
	switch o := f.ops.(type) {
	case *pipeEnd:
		if o.writeEnd && o.pipe.readers > 0 {
			return pipeCapacity - len(o.pipe.buf), &o.pipe.wq
		}
	case *unixSocket:
		if o.tx.readers > 0 && !o.wrShut {
			return pipeCapacity - len(o.tx.buf), &o.tx.wq
		}
	}
	return -1, nil
}

// transfer copies up to count bytes from in (at *inOff, or its file offset
// when inOff is nil) to out, the body of sendfile and copy_file_range. It
// never reads more than the output can take at once, so a write that would
// block does not lose data already read.
func (k *Kernel) transfer(t *Thread, in, out *File, inOff *int64, outOff *int64, count uint64) (uint64, error) {
	if in.flags&abi.O_ACCMODE == abi.O_WRONLY || out.flags&abi.O_ACCMODE == abi.O_RDONLY {
		return 0, abi.EBADF
	}
	if count == 0 {
		return 0, nil
	}
	n := min(count, maxIOChunk)
	room, wq := outRoom(out)
	if room == 0 {
		if out.flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, wq, 0)
		return 0, errBlock
	}
	if room > 0 {
		n = min(n, uint64(room))
	}
	b := make([]byte, n)
	off := in.offset
	if inOff != nil {
		off = *inOff
	}
	got, err := in.ops.read(k, t, in, b, off, inOff != nil)
	if err != nil {
		return 0, err
	}
	if got == 0 {
		return 0, nil
	}
	woff := out.offset
	if outOff != nil {
		woff = *outOff
	}
	if out.flags&abi.O_APPEND != 0 && outOff == nil {
		if h, ok := out.ops.(*hostFile); ok && h.seekable {
			if st, err := h.stat(k); err == nil {
				woff = statSize(st)
			}
		}
	}
	wrote, err := out.ops.write(k, t, out, b[:got], woff, outOff != nil)
	if err == errBlock {
		// Only a host-side short write can get here; nothing was consumed
		// from a seekable input, and a stream input was sized to fit.
		return 0, errBlock
	}
	if err != nil {
		if err == abi.EPIPE {
			k.postSignal(t.p, t, Siginfo{Signo: int32(abi.SIGPIPE), Code: abi.SI_USER, Pid: t.p.Pid})
		}
		return 0, err
	}
	if inOff != nil {
		*inOff += int64(wrote)
	} else {
		in.offset += int64(wrote)
	}
	if outOff != nil {
		*outOff += int64(wrote)
	} else {
		out.offset = woff + int64(wrote)
	}
	return uint64(wrote), nil
}

func statSize(st []byte) int64 {
	var s abi.Stat
	if len(st) < abi.StatSize {
		return 0
	}
	s.Unmarshal(st)
	return s.Size
}

func sysSendfile(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	out, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	in, err := t.p.files.get(int(int32(a[1])))
	if err != nil {
		return 0, err
	}
	if h, ok := in.ops.(*hostFile); ok && h.isDir {
		return 0, abi.EINVAL
	}
	var offp *int64
	var off int64
	if a[2] != 0 {
		v, err := t.readU64(a[2])
		if err != nil {
			return 0, err
		}
		if int64(v) < 0 {
			return 0, abi.EINVAL
		}
		off, offp = int64(v), &off
	}
	n, err := k.transfer(t, in, out, offp, nil, a[3])
	if err != nil {
		return 0, err
	}
	if offp != nil {
		if err := t.writeU64(a[2], uint64(off)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func sysCopyFileRange(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[5] != 0 {
		return 0, abi.EINVAL
	}
	in, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	out, err := t.p.files.get(int(int32(a[2])))
	if err != nil {
		return 0, err
	}
	hi, ok1 := in.ops.(*hostFile)
	ho, ok2 := out.ops.(*hostFile)
	if !ok1 || !ok2 || !hi.seekable || !ho.seekable {
		return 0, abi.EINVAL
	}
	if out.flags&abi.O_APPEND != 0 {
		return 0, abi.EBADF
	}
	var inOff, outOff int64
	var inp, outp *int64
	for _, x := range []struct {
		addr uint64
		v    *int64
		p    **int64
	}{{a[1], &inOff, &inp}, {a[3], &outOff, &outp}} {
		if x.addr == 0 {
			continue
		}
		v, err := t.readU64(x.addr)
		if err != nil {
			return 0, err
		}
		if int64(v) < 0 {
			return 0, abi.EINVAL
		}
		*x.v, *x.p = int64(v), x.v
	}
	n, err := k.transfer(t, in, out, inp, outp, a[4])
	if err != nil {
		return 0, err
	}
	if inp != nil {
		if err := t.writeU64(a[1], uint64(inOff)); err != nil {
			return 0, err
		}
	}
	if outp != nil {
		if err := t.writeU64(a[3], uint64(outOff)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// close_range flags.
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

func sysCloseRange(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	first, last, flags := uint32(a[0]), uint32(a[1]), uint32(a[2])
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, abi.EINVAL
	}
	ft := t.p.files
	if flags&closeRangeUnshare != 0 && ft.refs > 1 {
		nt := ft.clone()
		ft.refs--
		t.p.files = nt
		ft = nt
	}
	for fd := int(first); fd < len(ft.fds) && uint32(fd) <= last; fd++ {
		if ft.fds[fd].file == nil {
			continue
		}
		if flags&closeRangeCloexec != 0 {
			ft.fds[fd].cloexec = true
		} else {
			ft.closeFD(k, fd)
		}
	}
	return 0, nil
}

// statfs ----------------------------------------------------------------

// Filesystem magic numbers for files that live in the kernel.
const (
	pipefsMagic  = 0x50495045
	sockfsMagic  = 0x534f434b
	tmpfsMagic   = 0x01021994
	procMagic    = 0x9fa0
	anonfsMagic  = 0x09041934
	statfsLength = 120
)

func kernelStatfs(magic uint64) []byte {
	b := make([]byte, statfsLength)
	putLE64(b[0:], magic)
	putLE64(b[8:], 4096)  // f_bsize
	putLE64(b[64:], 255)  // f_namelen
	putLE64(b[72:], 4096) // f_frsize
	return b
}

func (k *Kernel) statfsPath(p string) ([]byte, error) {
	switch {
	case p == "/proc" || len(p) > 6 && p[:6] == "/proc/":
		return kernelStatfs(procMagic), nil
	case p == "/dev/null" || p == "/dev/zero" || p == "/dev/urandom" || p == "/dev/random" || p == "/dev/full":
		return kernelStatfs(tmpfsMagic), nil
	}
	r := k.host.Call(&HostCall{Op: HostStatfs, Path: p})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	if len(r.Out) != statfsLength {
		return nil, abi.EIO
	}
	return r.Out, nil
}

func sysStatfs(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	b, err := k.statfsPath(p)
	if err != nil {
		return 0, err
	}
	return 0, t.writeMem(a[1], b)
}

func sysFstatfs(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	var b []byte
	switch f.ops.(type) {
	case *pipeEnd:
		b = kernelStatfs(pipefsMagic)
	case *unixSocket:
		b = kernelStatfs(sockfsMagic)
	case *eventFD, *epollFile:
		b = kernelStatfs(anonfsMagic)
	default:
		p := f.path
		if p == "" {
			p = "/dev"
		}
		if b, err = k.statfsPath(p); err != nil {
			return 0, err
		}
	}
	return 0, t.writeMem(a[1], b)
}

// chown family ------------------------------------------------------------

func (k *Kernel) chown(p string, uid, gid uint64, follow bool) error {
	fl := int64(0)
	if follow {
		fl = 1
	}
	return k.hostPathOp(HostChown, p, int64(int32(uid)), int64(int32(gid)), fl)
}

func sysChown(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.chown(p, a[1], a[2], true)
}

func sysLchown(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.chown(p, a[1], a[2], false)
}

// fdPath is the host path of a descriptor for the f* variants of path
// operations; kernel-side files have none (EBADF-free no-ops are wrong for
// them, so they report EPERM like an unsupported filesystem).
func (t *Thread) fdPath(fd int32) (string, error) {
	f, err := t.p.files.get(int(fd))
	if err != nil {
		return "", err
	}
	if _, ok := f.ops.(*hostFile); !ok || f.path == "" {
		return "", abi.EPERM
	}
	return f.path, nil
}

func sysFchown(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.fdPath(int32(a[0]))
	if err != nil {
		return 0, err
	}
	return 0, k.chown(p, a[1], a[2], true)
}

func sysFchownat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	flags := a[4]
	if flags&^uint64(abi.AT_SYMLINK_NOFOLLOW|abi.AT_EMPTY_PATH) != 0 {
		return 0, abi.EINVAL
	}
	p, err := t.pathOrEmpty(int32(a[0]), a[1], flags)
	if err != nil {
		return 0, err
	}
	return 0, k.chown(p, a[2], a[3], flags&abi.AT_SYMLINK_NOFOLLOW == 0)
}

// pathOrEmpty resolves a path argument, or the dirfd itself for an empty
// path with AT_EMPTY_PATH.
func (t *Thread) pathOrEmpty(dirfd int32, addr uint64, flags uint64) (string, error) {
	s, err := t.readString(addr, 4096)
	if err != nil {
		return "", err
	}
	if s == "" {
		if flags&abi.AT_EMPTY_PATH == 0 {
			return "", abi.ENOENT
		}
		if dirfd == abi.AT_FDCWD {
			return t.p.cwd, nil
		}
		return t.fdPath(dirfd)
	}
	return t.resolvePath(dirfd, s)
}

// utime family --------------------------------------------------------------

const (
	utimeNow  = 1<<30 - 1
	utimeOmit = 1<<30 - 2
)

// utimens sets the times of p; nil times means both now.
func (k *Kernel) utimens(p string, ts *[4]int64, follow bool) error {
	if ts == nil {
		ts = &[4]int64{0, utimeNow, 0, utimeNow}
	}
	in := []byte{0}
	if follow {
		in[0] = 1
	}
	r := k.host.Call(&HostCall{Op: HostUtimens, Path: p, Args: ts[:], In: in})
	if r.Errno != 0 {
		return r.Errno
	}
	return nil
}

func sysUtimensat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	dirfd, pathAddr, tsAddr, flags := int32(a[0]), a[1], a[2], a[3]
	if flags&^uint64(abi.AT_SYMLINK_NOFOLLOW|abi.AT_EMPTY_PATH) != 0 {
		return 0, abi.EINVAL
	}
	var ts *[4]int64
	if tsAddr != 0 {
		var b [32]byte
		if err := t.readMem(tsAddr, b[:]); err != nil {
			return 0, err
		}
		ts = &[4]int64{int64(le64(b[0:])), int64(le64(b[8:])), int64(le64(b[16:])), int64(le64(b[24:]))}
		for _, ns := range []int64{ts[1], ts[3]} {
			if ns != utimeNow && ns != utimeOmit && (ns < 0 || ns >= 1e9) {
				return 0, abi.EINVAL
			}
		}
		if ts[1] == utimeOmit && ts[3] == utimeOmit {
			return 0, nil
		}
	}
	var p string
	var err error
	if pathAddr == 0 {
		// futimens: the descriptor itself.
		p, err = t.fdPath(dirfd)
	} else {
		p, err = t.pathOrEmpty(dirfd, pathAddr, flags)
	}
	if err != nil {
		return 0, err
	}
	return 0, k.utimens(p, ts, flags&abi.AT_SYMLINK_NOFOLLOW == 0)
}

// utimesAt is utimes and futimesat: struct timeval[2].
func (k *Kernel) utimesAt(t *Thread, dirfd int32, pathAddr, tvAddr uint64) (uint64, error) {
	p, err := t.pathArg(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	var ts *[4]int64
	if tvAddr != 0 {
		var b [32]byte
		if err := t.readMem(tvAddr, b[:]); err != nil {
			return 0, err
		}
		us1, us2 := int64(le64(b[8:])), int64(le64(b[24:]))
		if us1 < 0 || us1 >= 1e6 || us2 < 0 || us2 >= 1e6 {
			return 0, abi.EINVAL
		}
		ts = &[4]int64{int64(le64(b[0:])), us1 * 1000, int64(le64(b[16:])), us2 * 1000}
	}
	return 0, k.utimens(p, ts, true)
}

func sysUtimes(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.utimesAt(t, abi.AT_FDCWD, a[0], a[1])
}

func sysFutimesat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.utimesAt(t, int32(a[0]), a[1], a[2])
}

func sysUtime(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	var ts *[4]int64
	if a[1] != 0 {
		var b [16]byte
		if err := t.readMem(a[1], b[:]); err != nil {
			return 0, err
		}
		ts = &[4]int64{int64(le64(b[0:])), 0, int64(le64(b[8:])), 0}
	}
	return 0, k.utimens(p, ts, true)
}

// rt_sigtimedwait -----------------------------------------------------------

// sysRtSigtimedwait waits for a signal of the set, as Linux's
// do_sigtimedwait: while it sleeps the set is unblocked (so that a signal of
// the set wakes it) but taken here instead of delivered; the caller's mask
// comes back before it returns.
func sysRtSigtimedwait(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	done := func(v uint64, err error) (uint64, error) {
		if t.sigwaitActive {
			t.sigmask = t.sigwaitMask
			t.sigwaitActive = false
		}
		t.sleepDeadline = 0
		return v, err
	}
	if a[3] != 8 {
		return done(0, abi.EINVAL)
	}
	set, err := t.readU64(a[0])
	if err != nil {
		return done(0, err)
	}
	set &^= unblockable
	if pend := (t.pending.set() | t.p.pending.set()) & set; pend != 0 {
		sig := int32(0)
		for s := int32(1); s <= abi.NSIG; s++ {
			if pend&sigbit(s) != 0 {
				sig = s
				break
			}
		}
		si := t.dequeue(sig)
		if a[1] != 0 {
			var b [abi.SiginfoSize]byte
			si.marshalLinux(b[:])
			if err := t.writeMem(a[1], b[:]); err != nil {
				return done(0, err)
			}
		}
		return done(uint64(sig), nil)
	}
	if t.interrupted {
		return done(0, abi.EINTR)
	}
	if a[2] != 0 && t.sleepDeadline == 0 {
		ns, err := t.readTimespec(a[2])
		if err != nil {
			return done(0, err)
		}
		if ns == 0 {
			return done(0, abi.EAGAIN)
		}
		t.sleepDeadline = k.clock(abi.CLOCK_MONOTONIC) + ns
	}
	if t.sleepDeadline != 0 && k.clock(abi.CLOCK_MONOTONIC) >= t.sleepDeadline {
		return done(0, abi.EAGAIN)
	}
	if !t.sigwaitActive {
		t.sigwaitMask = t.sigmask
		t.sigwaitActive = true
		t.sigmask &^= set
	}
	if t.nextDeliverable() != 0 {
		return done(0, abi.EINTR)
	}
	k.sleepOn(t, &t.sleepQ, t.sleepDeadline)
	return 0, errBlock
}
