// Package hostos is the kernel's Host backed by the real operating system:
// files, the terminal, clocks and randomness of the machine ptrec runs on.
// Recording wraps it and logs every reply.
package hostos

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"ptrec/kernel"
	"ptrec/kernel/abi"
)

// Host implements kernel.Host on the real machine. Handles are small
// integers chosen by Host (lowest free), not host descriptor numbers.
type Host struct {
	files []*os.File // by handle; 0, 1, 2 are stdin, stdout, stderr
	start time.Time
}

// New returns a Host whose handles 0, 1 and 2 are the given standard streams.
func New(stdin, stdout, stderr *os.File) *Host {
	return &Host{files: []*os.File{stdin, stdout, stderr}, start: time.Now()}
}

// Facts reads the facts of this machine.
func Facts() kernel.HostFacts {
	var u unix.Utsname
	_ = unix.Uname(&u)
	s := func(b []byte) string {
		for i, c := range b {
			if c == 0 {
				return string(b[:i])
			}
		}
		return string(b)
	}
	cwd, _ := os.Getwd()
	f := kernel.HostFacts{
		Sysname: s(u.Sysname[:]), Nodename: s(u.Nodename[:]), Release: s(u.Release[:]),
		Version: s(u.Version[:]), Machine: "x86_64", Domainname: s(u.Domainname[:]),
		Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Euid: uint32(os.Geteuid()), Egid: uint32(os.Getegid()),
		HostPid: int32(os.Getpid()), Cwd: cwd,
	}
	if gs, err := os.Getgroups(); err == nil {
		for _, g := range gs {
			f.Groups = append(f.Groups, uint32(g))
		}
	}
	return f
}

func errnoOf(err error) abi.Errno {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return abi.Errno(en)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return abi.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return abi.EACCES
	case errors.Is(err, fs.ErrExist):
		return abi.EEXIST
	}
	return abi.EIO
}

func (h *Host) file(handle int64) (*os.File, abi.Errno) {
	if handle < 0 || handle >= int64(len(h.files)) || h.files[handle] == nil {
		return nil, abi.EBADF
	}
	return h.files[handle], 0
}

func (h *Host) install(f *os.File) int64 {
	for i := 3; i < len(h.files); i++ {
		if h.files[i] == nil {
			h.files[i] = f
			return int64(i)
		}
	}
	h.files = append(h.files, f)
	return int64(len(h.files) - 1)
}

func arg(c *kernel.HostCall, i int) int64 {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return 0
}

// maxRead caps one read so a hostile count cannot exhaust memory.
const maxRead = 1 << 24

// Call implements kernel.Host.
func (h *Host) Call(c *kernel.HostCall) kernel.HostReply {
	fail := func(err error) kernel.HostReply { return kernel.HostReply{Errno: errnoOf(err)} }
	switch c.Op {
	case kernel.HostOpen:
		fd, err := unix.Open(c.Path, int(arg(c, 0))|unix.O_CLOEXEC, uint32(arg(c, 1)))
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: h.install(os.NewFile(uintptr(fd), c.Path))}
	case kernel.HostClose:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		if c.Handle > 2 {
			h.files[c.Handle] = nil
			return fail(f.Close())
		}
		return kernel.HostReply{}
	case kernel.HostRead, kernel.HostPread:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		n := min(max(arg(c, 0), 0), maxRead)
		buf := make([]byte, n)
		var got int
		var err error
		if c.Op == kernel.HostPread {
			got, err = unix.Pread(int(f.Fd()), buf, arg(c, 1))
		} else {
			got, err = unix.Read(int(f.Fd()), buf)
		}
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: int64(got), Out: buf[:got]}
	case kernel.HostWrite, kernel.HostPwrite:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		var n int
		var err error
		if c.Op == kernel.HostPwrite {
			n, err = unix.Pwrite(int(f.Fd()), c.In, arg(c, 0))
		} else {
			n, err = unix.Write(int(f.Fd()), c.In)
		}
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: int64(n)}
	case kernel.HostSeek:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		off, err := unix.Seek(int(f.Fd()), arg(c, 0), int(arg(c, 1)))
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: off}
	case kernel.HostStat:
		var st unix.Stat_t
		var err error
		if arg(c, 0) != 0 {
			err = unix.Stat(c.Path, &st)
		} else {
			err = unix.Lstat(c.Path, &st)
		}
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Out: marshalStat(&st)}
	case kernel.HostFstat:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return fail(err)
		}
		return kernel.HostReply{Out: marshalStat(&st)}
	case kernel.HostReadFile:
		b, err := os.ReadFile(c.Path)
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: int64(len(b)), Out: b}
	case kernel.HostReaddir:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		return readdir(f)
	case kernel.HostReadlink:
		s, err := os.Readlink(c.Path)
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: int64(len(s)), Out: []byte(s)}
	case kernel.HostMkdir:
		return fail(unix.Mkdir(c.Path, uint32(arg(c, 0))))
	case kernel.HostUnlink:
		return fail(unix.Unlink(c.Path))
	case kernel.HostRmdir:
		return fail(unix.Rmdir(c.Path))
	case kernel.HostRename, kernel.HostLink, kernel.HostSymlink:
		a, b, ok := split2(c.Path)
		if !ok {
			return kernel.HostReply{Errno: abi.EINVAL}
		}
		switch c.Op {
		case kernel.HostRename:
			return fail(unix.Rename(a, b))
		case kernel.HostLink:
			return fail(unix.Link(a, b))
		}
		return fail(unix.Symlink(a, b))
	case kernel.HostChmod:
		return fail(unix.Chmod(c.Path, uint32(arg(c, 0))))
	case kernel.HostTruncate:
		return fail(unix.Truncate(c.Path, arg(c, 0)))
	case kernel.HostFtruncate:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		return fail(unix.Ftruncate(int(f.Fd()), arg(c, 0)))
	case kernel.HostAccess:
		return fail(unix.Access(c.Path, uint32(arg(c, 0))))
	case kernel.HostFsync:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		return fail(unix.Fsync(int(f.Fd())))
	case kernel.HostClock:
		var ts unix.Timespec
		if err := unix.ClockGettime(int32(arg(c, 0)), &ts); err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: ts.Nano()}
	case kernel.HostRandom:
		n := min(max(arg(c, 0), 0), maxRead)
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return kernel.HostReply{Ret: n, Out: b}
	case kernel.HostSleep:
		time.Sleep(time.Duration(min(arg(c, 0), int64(time.Second))))
		return kernel.HostReply{}
	case kernel.HostPoll:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		ms := -1
		if ns := arg(c, 1); ns >= 0 {
			ms = int(min((ns+999_999)/1_000_000, 1<<30))
		}
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: int16(arg(c, 0))}}
		for {
			_, err := unix.Poll(fds, ms)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return fail(err)
			}
			return kernel.HostReply{Ret: int64(uint16(fds[0].Revents))}
		}
	case kernel.HostChown:
		var err error
		if arg(c, 2) != 0 {
			err = unix.Chown(c.Path, int(int32(arg(c, 0))), int(int32(arg(c, 1))))
		} else {
			err = unix.Lchown(c.Path, int(int32(arg(c, 0))), int(int32(arg(c, 1))))
		}
		return fail(err)
	case kernel.HostUtimens:
		ts := []unix.Timespec{{Sec: arg(c, 0), Nsec: arg(c, 1)}, {Sec: arg(c, 2), Nsec: arg(c, 3)}}
		flags := unix.AT_SYMLINK_NOFOLLOW
		if len(c.In) > 0 && c.In[0] == 1 {
			flags = 0
		}
		return fail(unix.UtimesNanoAt(unix.AT_FDCWD, c.Path, ts, flags))
	case kernel.HostStatfs:
		var st unix.Statfs_t
		if err := unix.Statfs(c.Path, &st); err != nil {
			return fail(err)
		}
		return kernel.HostReply{Out: marshalStatfs(&st)}
	case kernel.HostStatx:
		var sx unix.Statx_t
		dirfd, flags := unix.AT_FDCWD, int(arg(c, 0))&^unix.AT_EMPTY_PATH
		if c.Path == "" {
			f, e := h.file(c.Handle)
			if e != 0 {
				return kernel.HostReply{Errno: e}
			}
			dirfd, flags = int(f.Fd()), flags|unix.AT_EMPTY_PATH
		}
		if err := unix.Statx(dirfd, c.Path, flags, int(uint32(arg(c, 1))), &sx); err != nil {
			return fail(err)
		}
		b := make([]byte, unsafe.Sizeof(sx))
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&sx)), len(b)))
		return kernel.HostReply{Out: b}
	case kernel.HostFdLink:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		s, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if err != nil {
			return fail(err)
		}
		return kernel.HostReply{Ret: int64(len(s)), Out: []byte(s)}
	case kernel.HostIoctl:
		f, e := h.file(c.Handle)
		if e != 0 {
			return kernel.HostReply{Errno: e}
		}
		return ioctl(f, uint(arg(c, 0)))
	}
	return kernel.HostReply{Errno: abi.ENOSYS}
}

func split2(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

func marshalStat(st *unix.Stat_t) []byte {
	s := abi.Stat{
		Dev: st.Dev, Ino: st.Ino, Nlink: st.Nlink, Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Rdev: st.Rdev,
		Size: st.Size, Blksize: st.Blksize, Blocks: st.Blocks,
		Atim: abi.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec},
		Mtim: abi.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
		Ctim: abi.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec},
	}
	b := make([]byte, abi.StatSize)
	s.Marshal(b)
	return b
}

// readdir lists a directory in the host filesystem's own order (what
// getdents64 returns natively, "." and ".." included), so a guest walking a
// tree prints it in the same order as a native run. The listing is recorded,
// so replay sees the same order on any machine.
func readdir(f *os.File) kernel.HostReply {
	d, err := os.Open(f.Name())
	if err != nil {
		return kernel.HostReply{Errno: errnoOf(err)}
	}
	defer d.Close()
	fd := int(d.Fd())
	out := []kernel.Dirent{}
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return kernel.HostReply{Errno: errnoOf(err)}
		}
		if n <= 0 {
			break
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.LittleEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			out = append(out, kernel.Dirent{Ino: binary.LittleEndian.Uint64(b), Type: b[18], Name: string(name)})
			b = b[reclen:]
		}
	}
	return kernel.HostReply{Ret: int64(len(out)), Out: kernel.EncodeDirents(out)}
}

func ioctl(f *os.File, req uint) kernel.HostReply {
	fd := int(f.Fd())
	switch req {
	case abi.TCGETS:
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			return kernel.HostReply{Errno: errnoOf(err)}
		}
		b := make([]byte, abi.TermiosSize)
		tt := abi.Termios{Iflag: t.Iflag, Oflag: t.Oflag, Cflag: t.Cflag, Lflag: t.Lflag, Line: t.Line}
		copy(tt.Cc[:], t.Cc[:])
		tt.Marshal(b)
		return kernel.HostReply{Out: b}
	case abi.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		if err != nil {
			return kernel.HostReply{Errno: errnoOf(err)}
		}
		b := make([]byte, 8)
		ws := abi.Winsize{Row: w.Row, Col: w.Col, Xpixel: w.Xpixel, Ypixel: w.Ypixel}
		ws.Marshal(b)
		return kernel.HostReply{Out: b}
	case abi.FIONREAD:
		n, err := unix.IoctlGetInt(fd, 0x541B)
		if err != nil {
			return kernel.HostReply{Errno: errnoOf(err)}
		}
		return kernel.HostReply{Ret: int64(n)}
	case abi.TIOCGPGRP:
		_, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		return kernel.HostReply{Errno: errnoOf(err)}
	}
	return kernel.HostReply{Errno: abi.ENOTTY}
}

// marshalStatfs encodes the Linux x86-64 struct statfs (120 bytes).
func marshalStatfs(st *unix.Statfs_t) []byte {
	b := make([]byte, 120)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(st.Type))
	le.PutUint64(b[8:], uint64(st.Bsize))
	le.PutUint64(b[16:], st.Blocks)
	le.PutUint64(b[24:], st.Bfree)
	le.PutUint64(b[32:], st.Bavail)
	le.PutUint64(b[40:], st.Files)
	le.PutUint64(b[48:], st.Ffree)
	le.PutUint32(b[56:], uint32(st.Fsid.Val[0]))
	le.PutUint32(b[60:], uint32(st.Fsid.Val[1]))
	le.PutUint64(b[64:], uint64(st.Namelen))
	le.PutUint64(b[72:], uint64(st.Frsize))
	le.PutUint64(b[80:], uint64(st.Flags))
	return b
}
