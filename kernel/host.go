package kernel

import "ptrec/kernel/abi"

// HostOp names one kind of call across the Host boundary. The numeric values
// are recorded in traces (format.Input.Op) and must not change.
type HostOp uint16

// Host operations. Paths are host paths; Handle is a host handle returned by
// HostOpen (0, 1 and 2 are the host's stdin, stdout and stderr).
const (
	HostInvalid   HostOp = iota
	HostOpen             // Path, Args[0]=open flags, Args[1]=mode → Ret=handle
	HostClose            // Handle
	HostRead             // Handle, Args[0]=max bytes → Out=data
	HostWrite            // Handle, In=data → Ret=bytes written
	HostPread            // Handle, Args[0]=max bytes, Args[1]=offset → Out
	HostPwrite           // Handle, Args[0]=offset, In=data → Ret
	HostSeek             // Handle, Args[0]=offset, Args[1]=whence → Ret=new offset
	HostStat             // Path, Args[0]=1 to follow symlinks → Out=linux struct stat
	HostFstat            // Handle → Out=linux struct stat
	HostReadFile         // Path → Out=whole file content (executables)
	HostReaddir          // Handle → Out=encoded entries (see EncodeDirents)
	HostReadlink         // Path → Out=target
	HostMkdir            // Path, Args[0]=mode
	HostUnlink           // Path
	HostRmdir            // Path
	HostRename           // Path="old\x00new"
	HostSymlink          // Path="target\x00linkpath"
	HostLink             // Path="old\x00new"
	HostChmod            // Path, Args[0]=mode
	HostTruncate         // Path, Args[0]=length
	HostFtruncate        // Handle, Args[0]=length
	HostAccess           // Path, Args[0]=mode
	HostClock            // Args[0]=clock id → Ret=nanoseconds
	HostRandom           // Args[0]=count → Out=random bytes
	HostSleep            // Args[0]=nanoseconds: the kernel is idle until a timer
	HostIoctl            // Handle, Args[0]=request → Ret, Out=result struct (TCGETS, TIOCGWINSZ)
	HostFsync            // Handle
	HostChown            // Path, Args[0]=uid, Args[1]=gid, Args[2]=1 to follow symlinks
	HostUtimens          // Path, Args[0..3]=atime sec,nsec, mtime sec,nsec, In[0]=1 to follow
	HostStatfs           // Path → Out=linux struct statfs
	HostPoll             // Handle, Args[0]=events, Args[1]=timeout ns → Ret=revents
	HostStatx            // Path (or Handle when Path is ""), Args[0]=AT_* flags, Args[1]=mask → Out=linux struct statx
	HostFdLink           // Handle → Out=what the host's descriptor links to (/proc/self/fd/N: a tty path, pipe:[ino], a file)
	hostOpCount
)

var hostOpNames = [...]string{
	"invalid", "open", "close", "read", "write", "pread", "pwrite", "seek", "stat", "fstat",
	"readfile", "readdir", "readlink", "mkdir", "unlink", "rmdir", "rename", "symlink", "link",
	"chmod", "truncate", "ftruncate", "access", "clock", "random", "sleep", "ioctl", "fsync",
	"chown", "utimens", "statfs", "poll", "statx", "fdlink",
}

// String returns the operation's name.
func (op HostOp) String() string {
	if int(op) < len(hostOpNames) {
		return hostOpNames[op]
	}
	return "hostop?"
}

// HostCall is one request across the Host boundary.
type HostCall struct {
	Op     HostOp
	Path   string
	Handle int64
	Args   []int64
	In     []byte
}

// HostReply is the host's answer to a HostCall.
type HostReply struct {
	Ret   int64
	Errno abi.Errno
	Out   []byte
}

// Host is the kernel's only door to the outside world: files, the terminal,
// clocks and randomness. Recording wraps a real host and logs every reply;
// replay answers from the trace. Nothing else may introduce variation into
// guest-visible state.
type Host interface {
	// Call performs c and returns the reply. It must not retain c.In.
	Call(c *HostCall) HostReply
}

// HostFacts are the facts about the host that the guest can observe from the
// start (uname, ids, limits). They are recorded in the trace header.
type HostFacts struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
	Uid, Gid, Euid, Egid                                     uint32
	Groups                                                   []uint32 // supplementary groups
	HostPid                                                  int32
	Cwd                                                      string
	Limits                                                   Limits // resource limits of the guest (limits.go)
	// LegacyScheduler is set when replaying a trace recorded before the
	// scheduler's fairness rules (no "scheduler" fact): threads resume in
	// thread order after a stop and sched_yield does not end the slice.
	LegacyScheduler bool
}

// Dirent is one directory entry in a HostReaddir reply.
type Dirent struct {
	Ino  uint64
	Type uint8 // DT_* value
	Name string
}

// EncodeDirents serialises entries for a HostReaddir reply.
func EncodeDirents(ents []Dirent) []byte {
	var b []byte
	for _, e := range ents {
		b = appendU64(b, e.Ino)
		b = append(b, e.Type)
		b = appendU64(b, uint64(len(e.Name)))
		b = append(b, e.Name...)
	}
	return b
}

// DecodeDirents parses a HostReaddir reply; malformed input yields the
// entries decoded so far.
func DecodeDirents(b []byte) []Dirent {
	var out []Dirent
	for len(b) >= 17 {
		ino := le64(b)
		typ := b[8]
		n := le64(b[9:])
		b = b[17:]
		if n > uint64(len(b)) {
			break
		}
		out = append(out, Dirent{Ino: ino, Type: typ, Name: string(b[:n])})
		b = b[n:]
	}
	return out
}

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
