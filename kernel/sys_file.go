package kernel

import (
	"path"
	"strings"

	"ptrec/kernel/abi"
)

const maxIOChunk = 1 << 20

// resolvePath turns a guest path relative to dirfd into an absolute host path.
func (t *Thread) resolvePath(dirfd int32, p string) (string, error) {
	if p == "" {
		return "", abi.ENOENT
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p), nil
	}
	base := t.p.cwd
	if dirfd != abi.AT_FDCWD {
		f, err := t.p.files.get(int(dirfd))
		if err != nil {
			return "", err
		}
		if f.path == "" {
			return "", abi.ENOTDIR
		}
		base = f.path
	}
	return path.Join(base, p), nil
}

func (t *Thread) pathArg(dirfd int32, addr uint64) (string, error) {
	s, err := t.readString(addr, 4096)
	if err != nil {
		return "", err
	}
	return t.resolvePath(dirfd, s)
}

func sysRead(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doRead(t, int(a[0]), a[1], a[2], 0, false)
}

func sysPread64(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if int64(a[3]) < 0 {
		return 0, abi.EINVAL
	}
	return k.doRead(t, int(a[0]), a[1], a[2], int64(a[3]), true)
}

func (k *Kernel) doRead(t *Thread, fd int, buf, count uint64, off int64, pread bool) (uint64, error) {
	f, err := t.p.files.get(fd)
	if err != nil {
		return 0, err
	}
	if f.flags&abi.O_ACCMODE == abi.O_WRONLY {
		return 0, abi.EBADF
	}
	if count > maxIOChunk {
		count = maxIOChunk
	}
	b := make([]byte, count)
	if !pread {
		off = f.offset
	}
	n, err := f.ops.read(k, t, f, b, off, pread)
	if err != nil {
		return 0, err
	}
	if err := t.writeMem(buf, b[:n]); err != nil {
		return 0, err
	}
	if !pread {
		f.offset += int64(n)
	}
	return uint64(n), nil
}

func sysWrite(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doWrite(t, int(a[0]), a[1], a[2], 0, false)
}

func sysPwrite64(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if int64(a[3]) < 0 {
		return 0, abi.EINVAL
	}
	return k.doWrite(t, int(a[0]), a[1], a[2], int64(a[3]), true)
}

func (k *Kernel) doWrite(t *Thread, fd int, buf, count uint64, off int64, pwrite bool) (uint64, error) {
	f, err := t.writableFile(fd)
	if err != nil {
		return 0, err
	}
	if count > maxIOChunk {
		count = maxIOChunk
	}
	b := make([]byte, count)
	if err := t.readMem(buf, b); err != nil {
		return 0, err
	}
	return k.writeFile(t, f, b, off, pwrite)
}

// writableFile returns the file at fd if it is open for writing.
func (t *Thread) writableFile(fd int) (*File, error) {
	f, err := t.p.files.get(fd)
	if err != nil {
		return nil, err
	}
	if f.flags&abi.O_ACCMODE == abi.O_RDONLY {
		return nil, abi.EBADF
	}
	return f, nil
}

// writeFile writes b to f at its offset (or at off for pwrite), advancing
// the offset; a write to a pipe without readers also raises SIGPIPE.
func (k *Kernel) writeFile(t *Thread, f *File, b []byte, off int64, pwrite bool) (uint64, error) {
	if !pwrite {
		off = f.offset
	}
	n, err := f.ops.write(k, t, f, b, off, pwrite)
	if err != nil {
		if err == abi.EPIPE {
			k.postSignal(t.p, t, Siginfo{Signo: int32(abi.SIGPIPE), Code: abi.SI_USER, Pid: t.p.Pid})
		}
		return 0, err
	}
	if !pwrite {
		f.offset += int64(n)
	}
	return uint64(n), nil
}

// iovecs reads an iovec array.
func (t *Thread) iovecs(addr uint64, cnt uint64) ([][2]uint64, error) {
	if cnt > 1024 {
		return nil, abi.EINVAL
	}
	out := make([][2]uint64, cnt)
	for i := range out {
		base, err := t.readU64(addr + uint64(16*i))
		if err != nil {
			return nil, err
		}
		l, err := t.readU64(addr + uint64(16*i) + 8)
		if err != nil {
			return nil, err
		}
		if int64(l) < 0 {
			return nil, abi.EINVAL
		}
		out[i] = [2]uint64{base, l}
	}
	return out, nil
}

func sysReadv(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doReadv(t, int(a[0]), a[1], a[2], 0, false)
}

func sysPreadv(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doReadv(t, int(a[0]), a[1], a[2], int64(a[3]), true)
}

func (k *Kernel) doReadv(t *Thread, fd int, iov, cnt uint64, off int64, pread bool) (uint64, error) {
	vs, err := t.iovecs(iov, cnt)
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for _, v := range vs {
		if v[1] == 0 {
			continue
		}
		n, err := k.doRead(t, fd, v[0], v[1], off+int64(total), pread)
		if err != nil {
			if total > 0 {
				return total, nil // what was read before the error or a wait
			}
			return 0, err
		}
		total += n
		if n < v[1] {
			break
		}
	}
	return total, nil
}

func sysWritev(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doWritev(t, int(a[0]), a[1], a[2], 0, false)
}

func sysPwritev(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doWritev(t, int(a[0]), a[1], a[2], int64(a[3]), true)
}

func (k *Kernel) doWritev(t *Thread, fd int, iov, cnt uint64, off int64, pwrite bool) (uint64, error) {
	f, err := t.writableFile(fd)
	if err != nil {
		return 0, err
	}
	vs, err := t.iovecs(iov, cnt)
	if err != nil {
		return 0, err
	}
	// Gather into one write so a pipe or terminal sees it atomically.
	var all []byte
	for _, v := range vs {
		if v[1] == 0 {
			continue
		}
		if uint64(len(all))+v[1] > maxIOChunk {
			v[1] = maxIOChunk - uint64(len(all))
		}
		b := make([]byte, v[1])
		if err := t.readMem(v[0], b); err != nil {
			if len(all) == 0 {
				return 0, err
			}
			break
		}
		all = append(all, b...)
		if len(all) >= maxIOChunk {
			break
		}
	}
	if len(all) == 0 {
		return 0, nil
	}
	return k.writeFile(t, f, all, off, pwrite)
}

func sysOpen(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doOpen(t, abi.AT_FDCWD, a[0], uint32(a[1]), uint32(a[2]))
}

func sysOpenat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doOpen(t, int32(a[0]), a[1], uint32(a[2]), uint32(a[3]))
}

func sysCreat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doOpen(t, abi.AT_FDCWD, a[0], abi.O_CREAT|abi.O_WRONLY|abi.O_TRUNC, uint32(a[1]))
}

func (k *Kernel) doOpen(t *Thread, dirfd int32, pathAddr uint64, flags, mode uint32) (uint64, error) {
	p, err := t.pathArg(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	f, err := k.openPath(t, p, flags, mode&^t.p.umask)
	if err != nil {
		return 0, err
	}
	fd := t.p.files.install(f, 0, flags&abi.O_CLOEXEC != 0)
	return uint64(fd), nil
}

// openPath opens a file: a kernel-provided one (/dev, /proc) or a host file.
func (k *Kernel) openPath(t *Thread, p string, flags, mode uint32) (*File, error) {
	if f, ok, err := k.openSpecial(t, p, flags); ok {
		return f, err
	}
	r := k.host.Call(&HostCall{Op: HostOpen, Path: p, Args: []int64{int64(flags &^ abi.O_CLOEXEC), int64(mode)}})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	h := &hostFile{handle: r.Ret}
	st, err := h.stat(k)
	if err == nil {
		switch statMode(st) & abi.S_IFMT {
		case abi.S_IFDIR:
			h.isDir = true
		case abi.S_IFREG, abi.S_IFBLK:
			h.seekable = true
		}
	}
	return newFile(h, flags&^(abi.O_CREAT|abi.O_EXCL|abi.O_TRUNC|abi.O_NOCTTY|abi.O_CLOEXEC), p), nil
}

func sysClose(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return 0, k.closeFDLocked(t, int(int32(a[0])))
}

func sysLseek(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	off, whence := int64(a[1]), int(a[2])
	if whence < 0 || whence > 4 {
		return 0, abi.EINVAL
	}
	switch ops := f.ops.(type) {
	case *hostFile:
		if ops.std {
			r := k.host.Call(&HostCall{Op: HostSeek, Handle: ops.handle, Args: []int64{off, int64(whence)}})
			if r.Errno != 0 {
				return 0, r.Errno
			}
			return uint64(r.Ret), nil
		}
		if !ops.seekable && !ops.isDir {
			return 0, abi.ESPIPE
		}
		if ops.isDir {
			if whence == 0 && off == 0 {
				ops.dirPos = 0
				f.offset = 0
				return 0, nil
			}
			return 0, abi.EINVAL
		}
		// The host keeps no offset of ours: we pass absolute positions.
		var nw int64
		switch whence {
		case 0:
			nw = off
		case 1:
			nw = f.offset + off
		case 2:
			st, err := ops.stat(k)
			if err != nil {
				return 0, err
			}
			nw = int64(le64(st[48:56])) + off
		default:
			return 0, abi.EINVAL
		}
		if nw < 0 {
			return 0, abi.EINVAL
		}
		f.offset = nw
		return uint64(nw), nil
	case *memFile:
		return ops.seek(f, off, whence)
	case *procDir:
		if whence == 0 && off == 0 {
			ops.pos, ops.loaded = 0, false
			return 0, nil
		}
		return 0, abi.EINVAL
	}
	return 0, abi.ESPIPE
}

func sysDup(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	return uint64(t.p.files.install(f, 0, false)), nil
}

func sysDup2(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	old, nw := int(int32(a[0])), int(int32(a[1]))
	f, err := t.p.files.get(old)
	if err != nil {
		return 0, err
	}
	if old == nw {
		return uint64(nw), nil
	}
	if nw < 0 || nw > 65535 {
		return 0, abi.EBADF
	}
	k.dupOverLocked(t, nw)
	t.p.files.installAt(k, f, nw, false)
	k.locksAfterClose()
	return uint64(nw), nil
}

func sysDup3(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	old, nw, flags := int(int32(a[0])), int(int32(a[1])), uint32(a[2])
	if old == nw || flags&^abi.O_CLOEXEC != 0 {
		return 0, abi.EINVAL
	}
	f, err := t.p.files.get(old)
	if err != nil {
		return 0, err
	}
	if nw < 0 || nw > 65535 {
		return 0, abi.EBADF
	}
	k.dupOverLocked(t, nw)
	t.p.files.installAt(k, f, nw, flags&abi.O_CLOEXEC != 0)
	k.locksAfterClose()
	return uint64(nw), nil
}

func sysFcntl(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	fd, cmd, arg := int(int32(a[0])), int(a[1]), a[2]
	ft := t.p.files
	f, err := ft.get(fd)
	if err != nil {
		return 0, err
	}
	switch cmd {
	case abi.F_DUPFD, abi.F_DUPFD_CLOEXEC:
		if int64(arg) < 0 || arg > 65535 {
			return 0, abi.EINVAL
		}
		return uint64(ft.install(f, int(arg), cmd == abi.F_DUPFD_CLOEXEC)), nil
	case abi.F_GETFD:
		if ft.fds[fd].cloexec {
			return abi.FD_CLOEXEC, nil
		}
		return 0, nil
	case abi.F_SETFD:
		ft.fds[fd].cloexec = arg&abi.FD_CLOEXEC != 0
		return 0, nil
	case abi.F_GETFL:
		return uint64(f.flags | abi.O_LARGEFILE), nil
	case abi.F_SETFL:
		const settable = abi.O_APPEND | abi.O_NONBLOCK | abi.O_ASYNC | abi.O_DIRECT | abi.O_NOATIME
		f.flags = f.flags&^settable | uint32(arg)&settable
		return 0, nil
	case abi.F_GETLK, abi.F_SETLK, abi.F_SETLKW, abi.F_OFD_GETLK, abi.F_OFD_SETLK, abi.F_OFD_SETLKW:
		return k.fcntlLock(t, f, cmd, arg)
	case abi.F_GETPIPE_SZ:
		return pipeCapacity, nil
	case abi.F_SETPIPE_SZ:
		return pipeCapacity, nil
	}
	return 0, abi.EINVAL
}
