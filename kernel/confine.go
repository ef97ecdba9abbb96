package kernel

import (
	"strings"

	"ptrec/kernel/abi"
)

// Confinement (ptrec run/record --root DIR, --read-only).
//
// A ConfinedHost sits between the kernel and the real host, below the
// recorder's logging: every path the kernel hands to the Host is a guest
// path, and ConfinedHost turns it into a host path inside root by walking it
// component by component, as Linux's path walk does under
// openat2(RESOLVE_IN_ROOT):
//
//   - "." is skipped and ".." never climbs above the guest's "/";
//   - each component is examined with HostStat without following symlinks;
//     a symlink is read with HostReadlink and its target is resolved again
//     inside root (an absolute target restarts at the guest's "/", a relative
//     one continues from the link's directory), at most maxSymlinks times
//     (ELOOP), so "/proc/self/root", a link to "/" or "../../.." all land on
//     root itself;
//   - a non-directory in the middle of a path is ENOTDIR;
//   - the final component is followed or not as the operation says (O_NOFOLLOW,
//     lstat, readlink, unlink, rename, mkdir, ...), and the host call is then
//     made on a path in which no component is a symlink, with O_NOFOLLOW added
//     to opens and stat/chown/utimens switched to their no-follow forms, so
//     the host never follows a link ptrec did not check.
//
// Because the walk happens below the recorder, the trace holds guest paths
// only: replay never sees root and needs no flag. The kernel's own files
// (/proc/self/fd, /dev/null, ...) never reach the Host and are unaffected.
//
// What remains (documented in README "Security model"): the walk and the
// host call are separate system calls, so a *host* process that can write
// inside root may swap a checked directory for a symlink between the two
// (the guest itself cannot: the emulated kernel runs one guest syscall at a
// time); O_NOFOLLOW protects the final component of opens, not the
// directories above it, and HostReadFile (the ELF loader) follows the
// final component on the host. Host hard links inside root that point
// outside it are not detectable and are the caller's business.

// maxSymlinks is Linux's MAXSYMLINKS: the most symlinks one walk follows.
const maxSymlinks = 40

// pathMax is Linux's PATH_MAX.
const pathMax = 4096

// ConfinedHost confines a Host's file operations to a host directory and,
// optionally, refuses every write to the host filesystem.
type ConfinedHost struct {
	real     Host
	root     string // cleaned absolute host path; "" for no root (read-only only)
	readOnly bool
}

// NewConfinedHost returns a Host that resolves every path inside root (a
// host directory, "" for the host's "/" unchanged) and, when readOnly,
// answers EROFS to anything that would change the host filesystem.
func NewConfinedHost(real Host, root string, readOnly bool) *ConfinedHost {
	if root != "" {
		root = cleanAbs(root)
		if root == "/" {
			root = ""
		}
	}
	return &ConfinedHost{real: real, root: root, readOnly: readOnly}
}

func cleanAbs(p string) string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return "/" + strings.Join(out, "/")
}

// Call implements Host.Call.
func (h *ConfinedHost) Call(c *HostCall) HostReply {
	rofs := HostReply{Errno: abi.EROFS}
	switch c.Op {
	case HostOpen:
		flags := uint32(argAt(c.Args, 0))
		write := flags&abi.O_ACCMODE != abi.O_RDONLY || flags&(abi.O_CREAT|abi.O_TRUNC) != 0
		if h.readOnly && write {
			return rofs
		}
		follow := flags&abi.O_NOFOLLOW == 0 && flags&(abi.O_CREAT|abi.O_EXCL) != abi.O_CREAT|abi.O_EXCL
		hp, e := h.resolve(c.Path, follow)
		if e != 0 {
			return HostReply{Errno: e}
		}
		if h.root == "" {
			return h.real.Call(c)
		}
		args := append([]int64(nil), c.Args...)
		if len(args) == 0 {
			args = []int64{0}
		}
		args[0] |= abi.O_NOFOLLOW
		return h.real.Call(&HostCall{Op: c.Op, Path: hp, Handle: c.Handle, Args: args, In: c.In})
	case HostStat:
		return h.pathCall(c, argAt(c.Args, 0) == 1, func(n *HostCall) { n.Args = []int64{0} })
	case HostReadFile, HostStatfs:
		return h.pathCall(c, true, nil)
	case HostAccess:
		if h.readOnly && argAt(c.Args, 0)&2 != 0 { // W_OK
			if r := h.pathCall(c, true, func(n *HostCall) { n.Args = []int64{0} }); r.Errno != 0 {
				return r
			}
			return rofs
		}
		return h.pathCall(c, true, nil)
	case HostReadlink:
		return h.pathCall(c, false, nil)
	case HostMkdir, HostUnlink, HostRmdir:
		if h.readOnly {
			return rofs
		}
		return h.pathCall(c, false, nil)
	case HostChmod, HostTruncate:
		if h.readOnly {
			return rofs
		}
		return h.pathCall(c, true, nil)
	case HostChown:
		if h.readOnly {
			return rofs
		}
		return h.pathCall(c, argAt(c.Args, 2) == 1, func(n *HostCall) {
			n.Args = append([]int64(nil), c.Args...)
			if len(n.Args) > 2 {
				n.Args[2] = 0
			}
		})
	case HostUtimens:
		if h.readOnly {
			return rofs
		}
		return h.pathCall(c, len(c.In) > 0 && c.In[0] == 1, func(n *HostCall) { n.In = []byte{0} })
	case HostRename, HostLink:
		if h.readOnly {
			return rofs
		}
		a, b, ok := strings.Cut(c.Path, "\x00")
		if !ok {
			return HostReply{Errno: abi.EINVAL}
		}
		ha, e := h.resolve(a, false)
		if e != 0 {
			return HostReply{Errno: e}
		}
		hb, e := h.resolve(b, false)
		if e != 0 {
			return HostReply{Errno: e}
		}
		return h.real.Call(&HostCall{Op: c.Op, Path: ha + "\x00" + hb, Handle: c.Handle, Args: c.Args, In: c.In})
	case HostSymlink:
		if h.readOnly {
			return rofs
		}
		// The target is stored verbatim: it is a guest path, resolved
		// inside root whenever it is followed.
		target, link, ok := strings.Cut(c.Path, "\x00")
		if !ok {
			return HostReply{Errno: abi.EINVAL}
		}
		hl, e := h.resolve(link, false)
		if e != 0 {
			return HostReply{Errno: e}
		}
		return h.real.Call(&HostCall{Op: c.Op, Path: target + "\x00" + hl, Handle: c.Handle, Args: c.Args, In: c.In})
	}
	return h.real.Call(c)
}

// pathCall resolves c.Path and makes the call on the host path; adjust, if
// set, switches the call to its no-follow form.
func (h *ConfinedHost) pathCall(c *HostCall, follow bool, adjust func(*HostCall)) HostReply {
	if h.root == "" {
		return h.real.Call(c)
	}
	hp, e := h.resolve(c.Path, follow)
	if e != 0 {
		return HostReply{Errno: e}
	}
	n := &HostCall{Op: c.Op, Path: hp, Handle: c.Handle, Args: c.Args, In: c.In}
	if adjust != nil {
		adjust(n)
	}
	return h.real.Call(n)
}

func argAt(a []int64, i int) int64 {
	if i < len(a) {
		return a[i]
	}
	return 0
}

// Resolve returns the host path that guest path p names inside root, with
// every symlink resolved (the last one only when follow is set). Relative
// paths are taken from the guest's "/". It is the walk every confined host
// call makes; exported for tests and diagnostics.
func (h *ConfinedHost) Resolve(p string, follow bool) (string, error) {
	hp, e := h.resolve(p, follow)
	if e != 0 {
		return "", e
	}
	return hp, nil
}

func (h *ConfinedHost) resolve(p string, follow bool) (string, abi.Errno) {
	if p == "" {
		return "", abi.ENOENT
	}
	if len(p) >= pathMax {
		return "", abi.ENAMETOOLONG
	}
	if h.root == "" {
		return p, 0
	}
	todo := strings.Split(p, "/")
	var done []string // resolved guest components: none is a symlink
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		if len(name) > 255 {
			return "", abi.ENAMETOOLONG
		}
		last := len(todo) == 0
		cand := h.hostPath(append(done, name))
		if last && !follow {
			done = append(done, name)
			break
		}
		st := h.real.Call(&HostCall{Op: HostStat, Path: cand, Args: []int64{0}})
		if st.Errno != 0 {
			if st.Errno == abi.ENOENT && last {
				// Not there yet: the operation may create it.
				done = append(done, name)
				break
			}
			return "", st.Errno
		}
		if len(st.Out) < 32 {
			return "", abi.EIO
		}
		switch statMode(st.Out) & abi.S_IFMT {
		case abi.S_IFLNK:
			if links++; links > maxSymlinks {
				return "", abi.ELOOP
			}
			rl := h.real.Call(&HostCall{Op: HostReadlink, Path: cand})
			if rl.Errno != 0 {
				return "", rl.Errno
			}
			target := string(rl.Out)
			if target == "" {
				return "", abi.ENOENT
			}
			if strings.HasPrefix(target, "/") {
				done = done[:0]
			}
			todo = append(strings.Split(target, "/"), todo...)
			if len(todo) > pathMax {
				return "", abi.ENAMETOOLONG
			}
			continue
		case abi.S_IFDIR:
		default:
			if !last {
				return "", abi.ENOTDIR
			}
		}
		done = append(done, name)
	}
	return h.hostPath(done), 0
}

// hostPath joins resolved guest components under root.
func (h *ConfinedHost) hostPath(comps []string) string {
	if len(comps) == 0 {
		return h.root
	}
	return h.root + "/" + strings.Join(comps, "/")
}

// GuestPath returns the guest path of host path hp if it lies inside root
// (for a starting directory), and false otherwise.
func (h *ConfinedHost) GuestPath(hp string) (string, bool) {
	hp = cleanAbs(hp)
	if h.root == "" {
		return hp, true
	}
	if hp == h.root {
		return "/", true
	}
	if strings.HasPrefix(hp, h.root+"/") {
		return hp[len(h.root):], true
	}
	return "", false
}

// CleanGuestPath returns the lexically clean absolute form of guest path p.
func CleanGuestPath(p string) string { return cleanAbs(p) }
