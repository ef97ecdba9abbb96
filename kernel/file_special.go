package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"ptrec/kernel/abi"
)

// memFile is a read-only file whose content the kernel generates at open
// (/proc files) — or a device (/dev/null, /dev/zero, /dev/urandom).
type memFile struct {
	data []byte
	kind memKind
	mode uint32
	dev  string // a device's path: its stat is the host's when the host has it
}

type memKind uint8

const (
	memContent memKind = iota
	memNull
	memZero
	memRandom
)

func (m *memFile) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	switch m.kind {
	case memNull:
		return 0, nil
	case memZero:
		clear(b)
		return len(b), nil
	case memRandom:
		r := k.host.Call(&HostCall{Op: HostRandom, Args: []int64{int64(len(b))}})
		return copy(b, r.Out), nil
	}
	if off >= int64(len(m.data)) {
		return 0, nil
	}
	return copy(b, m.data[off:]), nil
}

func (m *memFile) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	switch m.kind {
	case memNull, memZero, memRandom:
		return len(b), nil
	}
	return 0, abi.EACCES
}

func (m *memFile) stat(k *Kernel) ([]byte, error) {
	if m.kind != memContent && m.dev != "" {
		// The host's own device node (ino, times, owner), as a native
		// stat of it and of a standard stream redirected from it show.
		r := k.host.Call(&HostCall{Op: HostStat, Path: m.dev, Args: []int64{1}})
		if r.Errno == 0 && len(r.Out) >= abi.StatSize && statMode(r.Out)&abi.S_IFMT == abi.S_IFCHR {
			return r.Out, nil
		}
	}
	st := abi.Stat{Mode: m.mode, Nlink: 1, Blksize: 4096}
	if m.kind == memContent {
		st.Mode = abi.S_IFREG | 0o444
		st.Dev = 0x16
	} else {
		st.Mode = abi.S_IFCHR | 0o666
		st.Rdev = map[memKind]uint64{memNull: 0x103, memZero: 0x105, memRandom: 0x109}[m.kind]
		st.Dev = 0x5
	}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (m *memFile) close(k *Kernel) {}

func (m *memFile) seek(f *File, off int64, whence int) (uint64, error) {
	var nw int64
	switch whence {
	case 0:
		nw = off
	case 1:
		nw = f.offset + off
	case 2:
		nw = int64(len(m.data)) + off
	default:
		return 0, abi.EINVAL
	}
	if nw < 0 {
		return 0, abi.EINVAL
	}
	f.offset = nw
	return uint64(nw), nil
}

// openSpecial opens the files the kernel provides itself. ok reports
// whether p is one of them.
func (k *Kernel) openSpecial(t *Thread, p string, flags uint32) (*File, bool, error) {
	switch p {
	case "/dev/null":
		return newFile(&memFile{kind: memNull, dev: p}, flags, p), true, nil
	case "/dev/zero":
		return newFile(&memFile{kind: memZero, dev: p}, flags, p), true, nil
	case "/dev/urandom", "/dev/random":
		return newFile(&memFile{kind: memRandom, dev: p}, flags, p), true, nil
	case "/dev/stdin":
		p = "/proc/self/fd/0"
	case "/dev/stdout":
		p = "/proc/self/fd/1"
	case "/dev/stderr":
		p = "/proc/self/fd/2"
	case "/dev/fd", "/dev/fd/":
		p = "/proc/self/fd"
	}
	if strings.HasPrefix(p, "/dev/fd/") {
		p = "/proc/self/fd/" + p[len("/dev/fd/"):]
	}
	if p == "/proc" {
		p = "/proc/"
	}
	if !strings.HasPrefix(p, "/proc/") {
		return nil, false, nil
	}
	proc, rest := t.p, strings.TrimPrefix(p, "/proc/")
	if rest == "" {
		// /proc itself: the kernel's own process list, never the host's.
		if flags&abi.O_ACCMODE != abi.O_RDONLY {
			return nil, true, abi.EISDIR
		}
		return newFile(&procDir{list: func() []Dirent { return k.procRootEntries() }}, flags, "/proc"), true, nil
	}
	if pid, err := strconv.Atoi(strings.TrimSuffix(rest, "/")); rest == "self" || rest == "self/" || err == nil && !strings.Contains(strings.TrimSuffix(rest, "/"), "/") {
		if rest != "self" && rest != "self/" {
			if proc = k.pfind(int32(pid)); proc == nil || proc.system {
				return nil, true, abi.ENOENT
			}
		}
		if flags&abi.O_ACCMODE != abi.O_RDONLY {
			return nil, true, abi.EISDIR
		}
		return newFile(&procDir{list: procPidEntries}, flags, "/proc/"+strconv.Itoa(int(proc.Pid))), true, nil
	}
	if strings.HasPrefix(rest, "self/") {
		rest = rest[5:]
	} else if i := strings.IndexByte(rest, '/'); i > 0 {
		pid, err := strconv.Atoi(rest[:i])
		if err != nil {
			return nil, false, nil
		}
		proc = k.pfind(int32(pid))
		if proc == nil {
			return nil, true, abi.ENOENT
		}
		rest = rest[i+1:]
	} else {
		return nil, false, nil
	}
	if rest == "fd" || rest == "fd/" {
		if flags&abi.O_ACCMODE != abi.O_RDONLY {
			return nil, true, abi.EISDIR
		}
		return newFile(procFdDir(proc), flags, p), true, nil
	}
	if strings.HasPrefix(rest, "fd/") {
		// Opening /proc/PID/fd/N (and /dev/stdin, /dev/fd/N) reaches the
		// open file itself, never the host's descriptor of that number.
		fd, err := strconv.Atoi(rest[3:])
		if err != nil || fd < 0 {
			return nil, true, abi.ENOENT
		}
		f, err := proc.files.get(fd)
		if err != nil {
			return nil, true, abi.ENOENT
		}
		return f, true, nil
	}
	if flags&abi.O_ACCMODE != abi.O_RDONLY {
		return nil, true, abi.EACCES
	}
	var content string
	switch rest {
	case "maps":
		content = procMaps(proc)
	case "stat":
		content = fmt.Sprintf("%d (%s) R %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 %d 0 0 0 0\n", proc.Pid, proc.comm, ppidOf(proc), proc.pgid, proc.sid, proc.liveThreads())
	case "cmdline", "environ", "auxv":
		return nil, true, abi.ENOENT
	case "status":
		content = fmt.Sprintf("Name:\t%s\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nThreads:\t%d\n",
			proc.comm, proc.Pid, proc.Pid, ppidOf(proc), proc.cred.Ruid, proc.cred.Euid, proc.cred.Suid, proc.cred.Suid,
			proc.cred.Rgid, proc.cred.Egid, proc.cred.Sgid, proc.cred.Sgid, proc.liveThreads())
	default:
		return nil, false, nil
	}
	return newFile(&memFile{data: []byte(content)}, flags, p), true, nil
}

func ppidOf(p *Process) int32 {
	pp := p.pptr
	if pp == nil {
		return 0
	}
	if p.traced() && p.oppid != pp.Pid {
		// Reparented to its debugger: getppid reports the real parent
		// (Linux real_parent, FreeBSD's p_oppid / orphan list).
		pp = p.k.realParent(p)
	}
	if pp.system && pp != p.k.initp {
		return int32(p.k.facts.HostPid)
	}
	return pp.Pid
}

// procMaps renders /proc/PID/maps.
func procMaps(p *Process) string {
	var sb strings.Builder
	for _, r := range p.vm.regions {
		perm := []byte("---p")
		if r.Prot&1 != 0 {
			perm[0] = 'r'
		}
		if r.Prot&2 != 0 {
			perm[1] = 'w'
		}
		if r.Prot&4 != 0 {
			perm[2] = 'x'
		}
		if r.Shared {
			perm[3] = 's'
		}
		name := r.Path
		if name == "" {
			name = r.Name
		}
		ino := r.FileID
		if ino < 0 {
			ino = 0
		}
		line := fmt.Sprintf("%08x-%08x %s %08x 00:00 %d", r.Start, r.End, perm, r.Offset, ino)
		if name != "" {
			line += strings.Repeat(" ", max(1, 73-len(line))) + name
		}
		sb.WriteString(line + "\n")
	}
	return sb.String()
}

// fdLinkName is what /proc/PID/fd/N links to. For the standard streams ptrec
// was started with it is what the host's descriptor links to (a terminal,
// pipe:[ino], a file), asked through the Host so replay sees the same.
func (k *Kernel) fdLinkName(f *File) string {
	switch o := f.ops.(type) {
	case *hostFile:
		if o.std {
			if r := k.host.Call(&HostCall{Op: HostFdLink, Handle: o.handle}); r.Errno == 0 && len(r.Out) > 0 {
				return string(r.Out)
			}
		}
	case *pipeEnd:
		return fmt.Sprintf("pipe:[%d]", o.pipe.id)
	case *unixSocket:
		return fmt.Sprintf("socket:[%d]", o.rx.id)
	case *eventFD:
		return "anon_inode:[eventfd]"
	case *epollFile:
		return "anon_inode:[eventpoll]"
	}
	return f.path
}

// procDir is a directory the kernel lists itself (/proc/PID/fd). Like
// Linux it lists the descriptors open when it is read, not when opened.
type procDir struct {
	proc   *Process
	list   func() []Dirent // entries after . and .. (nil: the fd directory of proc)
	ents   []Dirent
	loaded bool
	pos    int
}

func procFdDir(p *Process) *procDir { return &procDir{proc: p} }

// procPidEntries is the content of /proc/PID that ptrec provides.
func procPidEntries() []Dirent {
	return []Dirent{{Ino: 2, Type: abi.DT_LNK, Name: "cwd"}, {Ino: 3, Type: abi.DT_LNK, Name: "exe"},
		{Ino: 4, Type: abi.DT_DIR, Name: "fd"}, {Ino: 5, Type: abi.DT_REG, Name: "maps"},
		{Ino: 6, Type: abi.DT_REG, Name: "stat"}, {Ino: 7, Type: abi.DT_REG, Name: "status"}}
}

// procRootEntries lists /proc: self and every live guest process, by pid.
func (k *Kernel) procRootEntries() []Dirent {
	ents := []Dirent{{Ino: 2, Type: abi.DT_LNK, Name: "self"}}
	for _, p := range k.procs {
		if !p.system && !p.zombie && !p.reaped {
			ents = append(ents, Dirent{Ino: uint64(p.Pid) << 16, Type: abi.DT_DIR, Name: strconv.Itoa(int(p.Pid))})
		}
	}
	return ents
}

// entries lists the directory on the first read after open or rewind.
func (d *procDir) entries() []Dirent {
	if d.loaded {
		return d.ents
	}
	d.loaded = true
	d.ents = []Dirent{{Ino: 1, Type: abi.DT_DIR, Name: "."}, {Ino: 1, Type: abi.DT_DIR, Name: ".."}}
	if d.list != nil {
		d.ents = append(d.ents, d.list()...)
		return d.ents
	}
	if d.proc.files == nil {
		return d.ents
	}
	for fd, e := range d.proc.files.fds {
		if e.file != nil {
			d.ents = append(d.ents, Dirent{Ino: uint64(1000 + fd), Type: abi.DT_LNK, Name: strconv.Itoa(fd)})
		}
	}
	return d.ents
}

func (d *procDir) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	return 0, abi.EISDIR
}

func (d *procDir) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	return 0, abi.EBADF
}

func (d *procDir) stat(k *Kernel) ([]byte, error) {
	st := abi.Stat{Mode: abi.S_IFDIR | 0o500, Nlink: 2, Blksize: 4096, Ino: 1, Dev: 0x16}
	if d.proc != nil {
		st.Uid, st.Gid = d.proc.cred.Euid, d.proc.cred.Egid
	}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (d *procDir) close(k *Kernel) {}

// readlinkSpecial answers readlink for /proc/self/exe and /proc/self/fd/N.
func (k *Kernel) readlinkSpecial(t *Thread, p string) (string, bool, error) {
	s, _, _, ok, err := k.procLink(t, p)
	return s, ok, err
}

// procLinkStat is lstat of one of the kernel's links: /proc/PID/fd/N as
// Linux shows it (mode from the open mode, size 64, the owner's ids),
// the others lrwxrwxrwx of size 0.
func (k *Kernel) procLinkStat(t *Thread, p string) ([]byte, bool) {
	_, proc, f, ok, err := k.procLink(t, p)
	if !ok || err != nil {
		return nil, false
	}
	st := abi.Stat{Mode: abi.S_IFLNK | 0o777, Nlink: 1, Blksize: 1024, Dev: 0x16,
		Uid: proc.cred.Euid, Gid: proc.cred.Egid}
	if f != nil {
		st.Mode, st.Size = abi.S_IFLNK, 64
		if f.flags&abi.O_ACCMODE != abi.O_WRONLY {
			st.Mode |= 0o500
		}
		if f.flags&abi.O_ACCMODE != abi.O_RDONLY {
			st.Mode |= 0o300
		}
	}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, true
}

// procLink resolves a kernel link: its target, the process it belongs to
// and, for fd/N, the open file.
func (k *Kernel) procLink(t *Thread, p string) (string, *Process, *File, bool, error) {
	proc, rest := t.p, ""
	switch {
	case p == "/proc/self" || p == "/proc/self/":
		return strconv.Itoa(int(t.p.Pid)), proc, nil, true, nil
	case strings.HasPrefix(p, "/proc/self/"):
		rest = p[len("/proc/self/"):]
	case strings.HasPrefix(p, "/proc/"):
		s := p[len("/proc/"):]
		i := strings.IndexByte(s, '/')
		if i < 0 {
			if _, err := strconv.Atoi(s); err == nil || s == "" {
				return "", nil, nil, true, abi.EINVAL // a directory, not a link
			}
			return "", nil, nil, false, nil
		}
		pid, err := strconv.Atoi(s[:i])
		if err != nil {
			return "", nil, nil, false, nil
		}
		if proc = k.pfind(int32(pid)); proc == nil {
			return "", nil, nil, true, abi.ENOENT
		}
		rest = s[i+1:]
	default:
		return "", nil, nil, false, nil
	}
	switch {
	case rest == "exe":
		return k.exeLink(proc), proc, nil, true, nil
	case rest == "cwd":
		return proc.cwd, proc, nil, true, nil
	case strings.HasPrefix(rest, "fd/"):
		fd, err := strconv.Atoi(rest[3:])
		if err != nil || proc.files == nil {
			return "", nil, nil, true, abi.ENOENT
		}
		f, err := proc.files.get(fd)
		if err != nil {
			return "", nil, nil, true, abi.ENOENT
		}
		return k.fdLinkName(f), proc, f, true, nil
	}
	return "", nil, nil, false, nil
}
