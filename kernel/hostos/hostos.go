// Package hostos is the kernel's Host backed by the real operating system:
// files, the terminal, clocks and randomness of the machine ptrec runs on.
// Recording wraps it and logs every reply.
package hostos

import (
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"sort"
	"syscall"
	"time"

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
	for i := 0; i < 3; i++ {
		_, err := unix.IoctlGetTermios(i, unix.TCGETS)
		f.TTY[i] = err == nil
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

// readdir lists a directory (with . and ..), sorted by name so the listing
// does not depend on the host filesystem's order.
func readdir(f *os.File) kernel.HostReply {
	d, err := os.Open(f.Name())
	if err != nil {
		return kernel.HostReply{Errno: errnoOf(err)}
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return kernel.HostReply{Errno: errnoOf(err)}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var st unix.Stat_t
	out := []kernel.Dirent{}
	if unix.Stat(f.Name(), &st) == nil {
		out = append(out, kernel.Dirent{Ino: st.Ino, Type: abi.DT_DIR, Name: "."})
	}
	if unix.Stat(f.Name()+"/..", &st) == nil {
		out = append(out, kernel.Dirent{Ino: st.Ino, Type: abi.DT_DIR, Name: ".."})
	}
	for _, e := range ents {
		var ino uint64
		if info, err := e.Info(); err == nil {
			if s, ok := info.Sys().(*syscall.Stat_t); ok {
				ino = s.Ino
			}
		}
		out = append(out, kernel.Dirent{Ino: ino, Type: abi.DTFromMode(uint32(fsModeToUnix(e.Type()))), Name: e.Name()})
	}
	return kernel.HostReply{Ret: int64(len(out)), Out: kernel.EncodeDirents(out)}
}

func fsModeToUnix(m fs.FileMode) uint32 {
	switch {
	case m&fs.ModeDir != 0:
		return abi.S_IFDIR
	case m&fs.ModeSymlink != 0:
		return abi.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		return abi.S_IFIFO
	case m&fs.ModeSocket != 0:
		return abi.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		return abi.S_IFCHR
	case m&fs.ModeDevice != 0:
		return abi.S_IFBLK
	}
	return abi.S_IFREG
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
