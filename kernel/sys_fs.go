package kernel

import (
	"strings"

	"ptrec/kernel/abi"
)

// statPath stats a path: kernel-provided files first, then the host.
func (k *Kernel) statPath(t *Thread, p string, follow bool) ([]byte, error) {
	if !follow {
		// The kernel's own links (/proc/self, /proc/PID/exe, fd/N) are
		// symbolic links to lstat.
		if st, ok := k.procLinkStat(t, p); ok {
			return st, nil
		}
	}
	if f, ok, err := k.openSpecial(t, p, abi.O_RDONLY); ok {
		if err != nil {
			return nil, err
		}
		return f.ops.stat(k)
	}
	if follow {
		if link, ok, err := k.readlinkSpecial(t, p); ok {
			if err != nil {
				return nil, err
			}
			p = link
		}
	}
	fl := int64(0)
	if follow {
		fl = 1
	}
	r := k.host.Call(&HostCall{Op: HostStat, Path: p, Args: []int64{fl}})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	return r.Out, nil
}

func sysStat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doStatat(t, abi.AT_FDCWD, a[0], a[1], 0)
}

func sysLstat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doStatat(t, abi.AT_FDCWD, a[0], a[1], abi.AT_SYMLINK_NOFOLLOW)
}

func sysNewfstatat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doStatat(t, int32(a[0]), a[1], a[2], int(a[3]))
}

func (k *Kernel) doStatat(t *Thread, dirfd int32, pathAddr, statAddr uint64, flags int) (uint64, error) {
	name, err := t.readString(pathAddr, 4096)
	if err != nil {
		return 0, err
	}
	var st []byte
	if name == "" && flags&abi.AT_EMPTY_PATH != 0 {
		f, err := t.p.files.get(int(dirfd))
		if err != nil {
			return 0, err
		}
		if st, err = f.ops.stat(k); err != nil {
			return 0, err
		}
	} else {
		p, err := t.resolvePath(dirfd, name)
		if err != nil {
			return 0, err
		}
		if st, err = k.statPath(t, p, flags&abi.AT_SYMLINK_NOFOLLOW == 0); err != nil {
			return 0, err
		}
	}
	return 0, t.writeMem(statAddr, st)
}

func sysFstat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	st, err := f.ops.stat(k)
	if err != nil {
		return 0, err
	}
	return 0, t.writeMem(a[1], st)
}

func sysStatx(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	dirfd, pathAddr, flags, mask, buf := int32(a[0]), a[1], int(a[2]), uint32(a[3]), a[4]
	const known = abi.AT_SYMLINK_NOFOLLOW | abi.AT_NO_AUTOMOUNT | abi.AT_EMPTY_PATH | abi.AT_STATX_SYNC_TYPE
	if flags&^known != 0 || flags&abi.AT_STATX_SYNC_TYPE == abi.AT_STATX_SYNC_TYPE || mask&0x80000000 != 0 {
		return 0, abi.EINVAL
	}
	name, err := t.readString(pathAddr, 4096)
	if err != nil {
		return 0, err
	}
	hostFlags := int64(flags & abi.AT_STATX_SYNC_TYPE)
	var sx []byte
	if name == "" && flags&abi.AT_EMPTY_PATH != 0 {
		f, err := t.p.files.get(int(dirfd))
		if err != nil {
			return 0, err
		}
		if sx, err = k.statxFile(f, hostFlags, mask); err != nil {
			return 0, err
		}
	} else {
		p, err := t.resolvePath(dirfd, name)
		if err != nil {
			return 0, err
		}
		if sx, err = k.statxPath(t, p, flags&abi.AT_SYMLINK_NOFOLLOW == 0, hostFlags, mask); err != nil {
			return 0, err
		}
	}
	return 0, t.writeMem(buf, sx)
}

// statxFile is statx of an open file: the host's own struct statx for a
// host file (birth time, attributes and mask as native), one built from
// struct stat for the kernel's files.
func (k *Kernel) statxFile(f *File, hostFlags int64, mask uint32) ([]byte, error) {
	if h, ok := f.ops.(*hostFile); ok {
		r := k.host.Call(&HostCall{Op: HostStatx, Handle: h.handle, Args: []int64{hostFlags, int64(mask)}})
		if r.Errno != 0 {
			return nil, r.Errno
		}
		return statxBytes(r.Out), nil
	}
	st, err := f.ops.stat(k)
	if err != nil {
		return nil, err
	}
	return statxOf(st), nil
}

// statxPath is statx of a path. A host path is opened O_PATH (through the
// same, confined, HostOpen as any open) and asked by handle, so HostStatx
// never carries a path.
func (k *Kernel) statxPath(t *Thread, p string, follow bool, hostFlags int64, mask uint32) ([]byte, error) {
	if !follow {
		if st, ok := k.procLinkStat(t, p); ok {
			return statxOf(st), nil
		}
	}
	if f, ok, err := k.openSpecial(t, p, abi.O_RDONLY); ok {
		if err != nil {
			return nil, err
		}
		return k.statxFile(f, hostFlags, mask)
	}
	if follow {
		if link, ok, err := k.readlinkSpecial(t, p); ok {
			if err != nil {
				return nil, err
			}
			p = link
		}
	}
	oflags := int64(abi.O_PATH)
	if !follow {
		oflags |= abi.O_NOFOLLOW
	}
	r := k.host.Call(&HostCall{Op: HostOpen, Path: p, Args: []int64{oflags, 0}})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	h := r.Ret
	r = k.host.Call(&HostCall{Op: HostStatx, Handle: h, Args: []int64{hostFlags, int64(mask)}})
	k.host.Call(&HostCall{Op: HostClose, Handle: h})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	return statxBytes(r.Out), nil
}

// statxBytes sizes a host reply to struct statx.
func statxBytes(b []byte) []byte {
	out := make([]byte, abi.StatxSize)
	copy(out, b)
	return out
}

func statxOf(st []byte) []byte {
	var s abi.Stat
	s.Unmarshal(st)
	sx := statxFromStat(&s)
	b := make([]byte, abi.StatxSize)
	sx.Marshal(b)
	return b
}

func sysReadlink(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doReadlinkat(t, abi.AT_FDCWD, a[0], a[1], a[2])
}

func sysReadlinkat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doReadlinkat(t, int32(a[0]), a[1], a[2], a[3])
}

func (k *Kernel) doReadlinkat(t *Thread, dirfd int32, pathAddr, buf, size uint64) (uint64, error) {
	if int64(size) <= 0 {
		return 0, abi.EINVAL
	}
	p, err := t.pathArg(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	target, ok, err := k.readlinkSpecial(t, p)
	if !ok {
		r := k.host.Call(&HostCall{Op: HostReadlink, Path: p})
		if r.Errno != 0 {
			return 0, r.Errno
		}
		target = string(r.Out)
	} else if err != nil {
		return 0, err
	}
	b := []byte(target)
	if uint64(len(b)) > size {
		b = b[:size]
	}
	return uint64(len(b)), t.writeMem(buf, b)
}

func sysAccess(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doAccess(t, abi.AT_FDCWD, a[0], uint32(a[1]), 0)
}

func sysFaccessat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doAccess(t, int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysFaccessat2(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doAccess(t, int32(a[0]), a[1], uint32(a[2]), int(a[3]))
}

func (k *Kernel) doAccess(t *Thread, dirfd int32, pathAddr uint64, mode uint32, flags int) (uint64, error) {
	if mode&^7 != 0 {
		return 0, abi.EINVAL
	}
	p, err := t.pathArg(dirfd, pathAddr)
	if err != nil {
		return 0, err
	}
	if _, ok, err := k.openSpecial(t, p, abi.O_RDONLY); ok {
		return 0, err
	}
	r := k.host.Call(&HostCall{Op: HostAccess, Path: p, Args: []int64{int64(mode)}})
	if r.Errno != 0 {
		return 0, r.Errno
	}
	return 0, nil
}

func sysGetdents64(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	var ents []Dirent
	var pos *int
	switch h := f.ops.(type) {
	case *hostFile:
		if !h.isDir {
			return 0, abi.ENOTDIR
		}
		if !h.dirLoaded {
			r := k.host.Call(&HostCall{Op: HostReaddir, Handle: h.handle})
			if r.Errno != 0 {
				return 0, r.Errno
			}
			h.dirents = DecodeDirents(r.Out)
			h.dirLoaded = true
		}
		ents, pos = h.dirents, &h.dirPos
	case *procDir:
		ents, pos = h.entries(), &h.pos
	default:
		return 0, abi.ENOTDIR
	}
	size := int(min(a[2], 1<<20))
	var out []byte
	for *pos < len(ents) {
		e := ents[*pos]
		reclen := (19 + len(e.Name) + 1 + 7) &^ 7
		if len(out)+reclen > size {
			break
		}
		rec := make([]byte, reclen)
		putLE64(rec[0:], e.Ino)
		putLE64(rec[8:], uint64(*pos+1))
		rec[16], rec[17] = byte(reclen), byte(reclen>>8)
		rec[18] = e.Type
		copy(rec[19:], e.Name)
		out = append(out, rec...)
		*pos++
	}
	if len(out) == 0 && *pos < len(ents) {
		return 0, abi.EINVAL
	}
	return uint64(len(out)), t.writeMem(a[1], out)
}

// simple path operations -------------------------------------------------

func (k *Kernel) hostPathOp(op HostOp, p string, args ...int64) error {
	r := k.host.Call(&HostCall{Op: op, Path: p, Args: args})
	if r.Errno != 0 {
		return r.Errno
	}
	return nil
}

func sysUnlink(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostUnlink, p)
}

func sysUnlinkat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(int32(a[0]), a[1])
	if err != nil {
		return 0, err
	}
	if a[2]&abi.AT_REMOVEDIR != 0 {
		return 0, k.hostPathOp(HostRmdir, p)
	}
	return 0, k.hostPathOp(HostUnlink, p)
}

func sysRmdir(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostRmdir, p)
}

func sysMkdir(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostMkdir, p, int64(uint32(a[1])&^t.p.umask))
}

func sysMkdirat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(int32(a[0]), a[1])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostMkdir, p, int64(uint32(a[2])&^t.p.umask))
}

func (k *Kernel) twoPaths(t *Thread, op HostOp, d1 int32, a1 uint64, d2 int32, a2 uint64) (uint64, error) {
	p1, err := t.pathArg(d1, a1)
	if err != nil {
		return 0, err
	}
	p2, err := t.pathArg(d2, a2)
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(op, p1+"\x00"+p2)
}

func sysRename(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.twoPaths(t, HostRename, abi.AT_FDCWD, a[0], abi.AT_FDCWD, a[1])
}

func sysRenameat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.twoPaths(t, HostRename, int32(a[0]), a[1], int32(a[2]), a[3])
}

func sysRenameat2(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[4] != 0 {
		return 0, abi.EINVAL
	}
	return k.twoPaths(t, HostRename, int32(a[0]), a[1], int32(a[2]), a[3])
}

func sysLink(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.twoPaths(t, HostLink, abi.AT_FDCWD, a[0], abi.AT_FDCWD, a[1])
}

func sysLinkat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.twoPaths(t, HostLink, int32(a[0]), a[1], int32(a[2]), a[3])
}

func sysSymlink(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doSymlink(t, a[0], abi.AT_FDCWD, a[1])
}

func sysSymlinkat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doSymlink(t, a[0], int32(a[1]), a[2])
}

func (k *Kernel) doSymlink(t *Thread, targetAddr uint64, dirfd int32, linkAddr uint64) (uint64, error) {
	target, err := t.readString(targetAddr, 4096)
	if err != nil {
		return 0, err
	}
	if target == "" || strings.IndexByte(target, 0) >= 0 {
		return 0, abi.ENOENT
	}
	lp, err := t.pathArg(dirfd, linkAddr)
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostSymlink, target+"\x00"+lp)
}

func sysChmod(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostChmod, p, int64(a[1]&0o7777))
}

func sysFchmodat(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(int32(a[0]), a[1])
	if err != nil {
		return 0, err
	}
	return 0, k.hostPathOp(HostChmod, p, int64(a[2]&0o7777))
}

func sysFchmod(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if _, ok := f.ops.(*hostFile); !ok || f.path == "" {
		return 0, nil
	}
	return 0, k.hostPathOp(HostChmod, f.path, int64(a[1]&0o7777))
}

func sysTruncate(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p, err := t.pathArg(abi.AT_FDCWD, a[0])
	if err != nil {
		return 0, err
	}
	if int64(a[1]) < 0 {
		return 0, abi.EINVAL
	}
	return 0, k.hostPathOp(HostTruncate, p, int64(a[1]))
}

func sysFtruncate(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	h, ok := f.ops.(*hostFile)
	if !ok || !h.seekable {
		return 0, abi.EINVAL
	}
	if int64(a[1]) < 0 {
		return 0, abi.EINVAL
	}
	r := k.host.Call(&HostCall{Op: HostFtruncate, Handle: h.handle, Args: []int64{int64(a[1])}})
	if r.Errno != 0 {
		return 0, r.Errno
	}
	return 0, nil
}

func sysFsync(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, err := t.p.files.get(int(int32(a[0])))
	if err != nil {
		return 0, err
	}
	if h, ok := f.ops.(*hostFile); ok {
		r := k.host.Call(&HostCall{Op: HostFsync, Handle: h.handle})
		if r.Errno != 0 && r.Errno != abi.EINVAL {
			return 0, r.Errno
		}
	}
	return 0, nil
}

// statxFromStat fills a struct statx from a struct stat (basic fields).
func statxFromStat(s *abi.Stat) abi.Statx {
	ts := func(t abi.Timespec) abi.StatxTimestamp { return abi.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)} }
	return abi.Statx{
		Mask: abi.STATX_BASIC_STATS, Blksize: uint32(s.Blksize), Nlink: uint32(s.Nlink), Uid: s.Uid, Gid: s.Gid,
		Mode: uint16(s.Mode), Ino: s.Ino, Size: uint64(s.Size), Blocks: uint64(s.Blocks),
		Atime: ts(s.Atim), Ctime: ts(s.Ctim), Mtime: ts(s.Mtim),
		RdevMajor: uint32(s.Rdev >> 8 & 0xfff), RdevMinor: uint32(s.Rdev&0xff | s.Rdev>>12&^0xff),
		DevMajor: uint32(s.Dev >> 8 & 0xfff), DevMinor: uint32(s.Dev&0xff | s.Dev>>12&^0xff),
	}
}
