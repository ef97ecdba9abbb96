package abi

// AT_FDCWD and the *at() flags (include/uapi/linux/fcntl.h).
const (
	AT_FDCWD              = -100
	AT_SYMLINK_NOFOLLOW   = 0x100
	AT_EACCESS            = 0x200 // faccessat
	AT_REMOVEDIR          = 0x200 // unlinkat
	AT_SYMLINK_FOLLOW     = 0x400
	AT_NO_AUTOMOUNT       = 0x800
	AT_EMPTY_PATH         = 0x1000
	AT_STATX_SYNC_TYPE    = 0x6000
	AT_STATX_SYNC_AS_STAT = 0x0000
	AT_STATX_FORCE_SYNC   = 0x2000
	AT_STATX_DONT_SYNC    = 0x4000
	AT_RECURSIVE          = 0x8000
)

// Auxiliary vector entry types (include/uapi/linux/auxvec.h).
const (
	AT_NULL              = 0
	AT_IGNORE            = 1
	AT_EXECFD            = 2
	AT_PHDR              = 3
	AT_PHENT             = 4
	AT_PHNUM             = 5
	AT_PAGESZ            = 6
	AT_BASE              = 7
	AT_FLAGS             = 8
	AT_ENTRY             = 9
	AT_NOTELF            = 10
	AT_UID               = 11
	AT_EUID              = 12
	AT_GID               = 13
	AT_EGID              = 14
	AT_PLATFORM          = 15
	AT_HWCAP             = 16
	AT_CLKTCK            = 17
	AT_SECURE            = 23
	AT_BASE_PLATFORM     = 24
	AT_RANDOM            = 25
	AT_HWCAP2            = 26
	AT_RSEQ_FEATURE_SIZE = 27
	AT_RSEQ_ALIGN        = 28
	AT_EXECFN            = 31
	AT_SYSINFO_EHDR      = 33
	AT_MINSIGSTKSZ       = 51
)

// open(2) flags, Linux x86-64 values (octal, as in the C headers).
const (
	O_RDONLY    = 00
	O_WRONLY    = 01
	O_RDWR      = 02
	O_ACCMODE   = 03
	O_CREAT     = 0100
	O_EXCL      = 0200
	O_NOCTTY    = 0400
	O_TRUNC     = 01000
	O_APPEND    = 02000
	O_NONBLOCK  = 04000
	O_NDELAY    = O_NONBLOCK
	O_DSYNC     = 010000
	O_ASYNC     = 020000 // FASYNC
	O_DIRECT    = 040000
	O_LARGEFILE = 0100000
	O_DIRECTORY = 0200000
	O_NOFOLLOW  = 0400000
	O_NOATIME   = 01000000
	O_CLOEXEC   = 02000000
	O_SYNC      = 04010000 // __O_SYNC | O_DSYNC
	O_PATH      = 010000000
	O_TMPFILE   = 020200000 // __O_TMPFILE | O_DIRECTORY
)

// fcntl(2) commands and values.
const (
	F_DUPFD         = 0
	F_GETFD         = 1
	F_SETFD         = 2
	F_GETFL         = 3
	F_SETFL         = 4
	F_GETLK         = 5
	F_SETLK         = 6
	F_SETLKW        = 7
	F_SETOWN        = 8
	F_GETOWN        = 9
	F_SETSIG        = 10
	F_GETSIG        = 11
	F_SETOWN_EX     = 15
	F_GETOWN_EX     = 16
	F_OFD_GETLK     = 36
	F_OFD_SETLK     = 37
	F_OFD_SETLKW    = 38
	F_SETLEASE      = 1024
	F_GETLEASE      = 1025
	F_NOTIFY        = 1026
	F_DUPFD_CLOEXEC = 1030
	F_SETPIPE_SZ    = 1031
	F_GETPIPE_SZ    = 1032
	F_ADD_SEALS     = 1033
	F_GET_SEALS     = 1034

	FD_CLOEXEC = 1

	F_RDLCK = 0
	F_WRLCK = 1
	F_UNLCK = 2

	F_SEAL_SEAL   = 0x0001
	F_SEAL_SHRINK = 0x0002
	F_SEAL_GROW   = 0x0004
	F_SEAL_WRITE  = 0x0008
)

// lseek whence values and access(2) modes.
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4

	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// mmap(2), mprotect(2), mremap(2), madvise(2) and msync(2) values.
const (
	PROT_NONE      = 0x0
	PROT_READ      = 0x1
	PROT_WRITE     = 0x2
	PROT_EXEC      = 0x4
	PROT_GROWSDOWN = 0x01000000
	PROT_GROWSUP   = 0x02000000

	MAP_SHARED          = 0x01
	MAP_PRIVATE         = 0x02
	MAP_SHARED_VALIDATE = 0x03
	MAP_TYPE            = 0x0f
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20
	MAP_ANON            = MAP_ANONYMOUS
	MAP_32BIT           = 0x40
	MAP_GROWSDOWN       = 0x0100
	MAP_DENYWRITE       = 0x0800
	MAP_EXECUTABLE      = 0x1000
	MAP_LOCKED          = 0x2000
	MAP_NORESERVE       = 0x4000
	MAP_POPULATE        = 0x8000
	MAP_NONBLOCK        = 0x10000
	MAP_STACK           = 0x20000
	MAP_HUGETLB         = 0x40000
	MAP_SYNC            = 0x80000
	MAP_FIXED_NOREPLACE = 0x100000
	MAP_UNINITIALIZED   = 0x4000000

	MREMAP_MAYMOVE   = 1
	MREMAP_FIXED     = 2
	MREMAP_DONTUNMAP = 4

	MADV_NORMAL      = 0
	MADV_RANDOM      = 1
	MADV_SEQUENTIAL  = 2
	MADV_WILLNEED    = 3
	MADV_DONTNEED    = 4
	MADV_FREE        = 8
	MADV_REMOVE      = 9
	MADV_DONTFORK    = 10
	MADV_DOFORK      = 11
	MADV_MERGEABLE   = 12
	MADV_UNMERGEABLE = 13
	MADV_HUGEPAGE    = 14
	MADV_NOHUGEPAGE  = 15
	MADV_DONTDUMP    = 16
	MADV_DODUMP      = 17
	MADV_WIPEONFORK  = 18
	MADV_KEEPONFORK  = 19

	MS_ASYNC      = 1
	MS_INVALIDATE = 2
	MS_SYNC       = 4
)

// clone(2) flags (include/uapi/linux/sched.h). The low byte (CSIGNAL) is
// the exit signal.
const (
	CSIGNAL              = 0x000000ff
	CLONE_NEWTIME        = 0x00000080
	CLONE_VM             = 0x00000100
	CLONE_FS             = 0x00000200
	CLONE_FILES          = 0x00000400
	CLONE_SIGHAND        = 0x00000800
	CLONE_PIDFD          = 0x00001000
	CLONE_PTRACE         = 0x00002000
	CLONE_VFORK          = 0x00004000
	CLONE_PARENT         = 0x00008000
	CLONE_THREAD         = 0x00010000
	CLONE_NEWNS          = 0x00020000
	CLONE_SYSVSEM        = 0x00040000
	CLONE_SETTLS         = 0x00080000
	CLONE_PARENT_SETTID  = 0x00100000
	CLONE_CHILD_CLEARTID = 0x00200000
	CLONE_DETACHED       = 0x00400000
	CLONE_UNTRACED       = 0x00800000
	CLONE_CHILD_SETTID   = 0x01000000
	CLONE_NEWCGROUP      = 0x02000000
	CLONE_NEWUTS         = 0x04000000
	CLONE_NEWIPC         = 0x08000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000
	CLONE_CLEAR_SIGHAND  = 0x100000000 // clone3 only
	CLONE_INTO_CGROUP    = 0x200000000 // clone3 only
)

// futex(2) operations and flags (include/uapi/linux/futex.h).
const (
	FUTEX_WAIT            = 0
	FUTEX_WAKE            = 1
	FUTEX_FD              = 2
	FUTEX_REQUEUE         = 3
	FUTEX_CMP_REQUEUE     = 4
	FUTEX_WAKE_OP         = 5
	FUTEX_LOCK_PI         = 6
	FUTEX_UNLOCK_PI       = 7
	FUTEX_TRYLOCK_PI      = 8
	FUTEX_WAIT_BITSET     = 9
	FUTEX_WAKE_BITSET     = 10
	FUTEX_WAIT_REQUEUE_PI = 11
	FUTEX_CMP_REQUEUE_PI  = 12
	FUTEX_LOCK_PI2        = 13

	FUTEX_PRIVATE_FLAG   = 128
	FUTEX_CLOCK_REALTIME = 256
	FUTEX_CMD_MASK       = ^(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

	FUTEX_BITSET_MATCH_ANY = 0xffffffff
	FUTEX_WAITERS          = 0x80000000
	FUTEX_OWNER_DIED       = 0x40000000
	FUTEX_TID_MASK         = 0x3fffffff
)

// File mode bits (include/uapi/linux/stat.h) and directory entry types.
const (
	S_IFMT   = 0170000
	S_IFSOCK = 0140000
	S_IFLNK  = 0120000
	S_IFREG  = 0100000
	S_IFBLK  = 0060000
	S_IFDIR  = 0040000
	S_IFCHR  = 0020000
	S_IFIFO  = 0010000
	S_ISUID  = 0004000
	S_ISGID  = 0002000
	S_ISVTX  = 0001000

	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
	DT_WHT     = 14
)

// DTFromMode returns the d_type for file mode m (IFTODT).
func DTFromMode(m uint32) uint8 { return uint8((m & S_IFMT) >> 12) }

// Clock ids (include/uapi/linux/time.h).
const (
	CLOCK_REALTIME           = 0
	CLOCK_MONOTONIC          = 1
	CLOCK_PROCESS_CPUTIME_ID = 2
	CLOCK_THREAD_CPUTIME_ID  = 3
	CLOCK_MONOTONIC_RAW      = 4
	CLOCK_REALTIME_COARSE    = 5
	CLOCK_MONOTONIC_COARSE   = 6
	CLOCK_BOOTTIME           = 7
	CLOCK_REALTIME_ALARM     = 8
	CLOCK_BOOTTIME_ALARM     = 9
	CLOCK_TAI                = 11

	TIMER_ABSTIME = 1
)

// arch_prctl(2) codes (arch/x86/include/uapi/asm/prctl.h).
const (
	ARCH_SET_GS          = 0x1001
	ARCH_SET_FS          = 0x1002
	ARCH_GET_FS          = 0x1003
	ARCH_GET_GS          = 0x1004
	ARCH_GET_CPUID       = 0x1011
	ARCH_SET_CPUID       = 0x1012
	ARCH_GET_XCOMP_SUPP  = 0x1021
	ARCH_GET_XCOMP_PERM  = 0x1022
	ARCH_REQ_XCOMP_PERM  = 0x1023
	ARCH_MAP_VDSO_X32    = 0x2001
	ARCH_MAP_VDSO_32     = 0x2002
	ARCH_MAP_VDSO_64     = 0x2003
	ARCH_SHSTK_ENABLE    = 0x5001
	ARCH_SHSTK_DISABLE   = 0x5002
	ARCH_SHSTK_LOCK      = 0x5003
	ARCH_SHSTK_STATUS    = 0x5005
	ARCH_GET_UNTAG_MASK  = 0x4001
	ARCH_ENABLE_TAGGED   = 0x4002 // ARCH_ENABLE_TAGGED_ADDR
	ARCH_GET_MAX_TAG_BIT = 0x4003
)

// Commonly used prctl(2) options (include/uapi/linux/prctl.h).
const (
	PR_SET_PDEATHSIG        = 1
	PR_GET_PDEATHSIG        = 2
	PR_GET_DUMPABLE         = 3
	PR_SET_DUMPABLE         = 4
	PR_GET_KEEPCAPS         = 7
	PR_SET_KEEPCAPS         = 8
	PR_SET_NAME             = 15
	PR_GET_NAME             = 16
	PR_GET_SECCOMP          = 21
	PR_SET_SECCOMP          = 22
	PR_CAPBSET_READ         = 23
	PR_CAPBSET_DROP         = 24
	PR_GET_TSC              = 25
	PR_SET_TSC              = 26
	PR_SET_TIMERSLACK       = 29
	PR_GET_TIMERSLACK       = 30
	PR_SET_MM               = 35
	PR_SET_CHILD_SUBREAPER  = 36
	PR_GET_CHILD_SUBREAPER  = 37
	PR_SET_NO_NEW_PRIVS     = 38
	PR_GET_NO_NEW_PRIVS     = 39
	PR_GET_TID_ADDRESS      = 40
	PR_SET_THP_DISABLE      = 41
	PR_GET_THP_DISABLE      = 42
	PR_CAP_AMBIENT          = 47
	PR_GET_SPECULATION_CTRL = 52
	PR_SET_SPECULATION_CTRL = 53
	PR_SET_VMA              = 0x53564d41
	PR_SET_PTRACER          = 0x59616d61

	TASK_COMM_LEN = 16 // PR_SET_NAME buffer, NUL included
)

// Terminal and file ioctl request numbers (asm-generic/ioctls.h).
const (
	TCGETS      = 0x5401
	TCSETS      = 0x5402
	TCSETSW     = 0x5403
	TCSETSF     = 0x5404
	TCGETA      = 0x5405
	TCSETA      = 0x5406
	TCSETAW     = 0x5407
	TCSETAF     = 0x5408
	TCSBRK      = 0x5409
	TCXONC      = 0x540A
	TCFLSH      = 0x540B
	TIOCEXCL    = 0x540C
	TIOCNXCL    = 0x540D
	TIOCSCTTY   = 0x540E
	TIOCGPGRP   = 0x540F
	TIOCSPGRP   = 0x5410
	TIOCOUTQ    = 0x5411
	TIOCSTI     = 0x5412
	TIOCGWINSZ  = 0x5413
	TIOCSWINSZ  = 0x5414
	TIOCMGET    = 0x5415
	TIOCMBIS    = 0x5416
	TIOCMBIC    = 0x5417
	TIOCMSET    = 0x5418
	FIONREAD    = 0x541B
	TIOCINQ     = FIONREAD
	TIOCLINUX   = 0x541C
	TIOCCONS    = 0x541D
	TIOCPKT     = 0x5420
	FIONBIO     = 0x5421
	TIOCNOTTY   = 0x5422
	TIOCSETD    = 0x5423
	TIOCGETD    = 0x5424
	TCSBRKP     = 0x5425
	TIOCGSID    = 0x5429
	TCGETS2     = 0x802C542A
	TCSETS2     = 0x402C542B
	TIOCGPTN    = 0x80045430
	TIOCSPTLCK  = 0x40045431
	TIOCGPTPEER = 0x5441
	FIONCLEX    = 0x5450
	FIOCLEX     = 0x5451
	FIOASYNC    = 0x5452
	FIOQSIZE    = 0x5460
)

// Kernel termios (struct termios, 36 bytes): sizes, c_cc indices and
// common flag bits (asm-generic/termbits.h).
const (
	NCCS = 19

	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSWTC    = 7
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VDISCARD = 13
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16

	IGNBRK  = 0000001
	BRKINT  = 0000002
	IGNPAR  = 0000004
	PARMRK  = 0000010
	INPCK   = 0000020
	ISTRIP  = 0000040
	INLCR   = 0000100
	IGNCR   = 0000200
	ICRNL   = 0000400
	IUCLC   = 0001000
	IXON    = 0002000
	IXANY   = 0004000
	IXOFF   = 0010000
	IMAXBEL = 0020000
	IUTF8   = 0040000

	OPOST  = 0000001
	OLCUC  = 0000002
	ONLCR  = 0000004
	OCRNL  = 0000010
	ONOCR  = 0000020
	ONLRET = 0000040

	CBAUD  = 0010017
	B38400 = 0000017
	CSIZE  = 0000060
	CS8    = 0000060
	CSTOPB = 0000100
	CREAD  = 0000200
	PARENB = 0000400
	PARODD = 0001000
	HUPCL  = 0002000
	CLOCAL = 0004000

	ISIG    = 0000001
	ICANON  = 0000002
	XCASE   = 0000004
	ECHO    = 0000010
	ECHOE   = 0000020
	ECHOK   = 0000040
	ECHONL  = 0000100
	NOFLSH  = 0000200
	TOSTOP  = 0000400
	ECHOCTL = 0001000
	ECHOPRT = 0002000
	ECHOKE  = 0004000
	FLUSHO  = 0010000
	PENDIN  = 0040000
	IEXTEN  = 0100000
)

// poll(2) and epoll(7) event bits and epoll_ctl operations.
const (
	POLLIN     = 0x0001
	POLLPRI    = 0x0002
	POLLOUT    = 0x0004
	POLLERR    = 0x0008
	POLLHUP    = 0x0010
	POLLNVAL   = 0x0020
	POLLRDNORM = 0x0040
	POLLRDBAND = 0x0080
	POLLWRNORM = 0x0100
	POLLWRBAND = 0x0200
	POLLMSG    = 0x0400
	POLLRDHUP  = 0x2000

	EPOLLIN        = 0x00000001
	EPOLLPRI       = 0x00000002
	EPOLLOUT       = 0x00000004
	EPOLLERR       = 0x00000008
	EPOLLHUP       = 0x00000010
	EPOLLNVAL      = 0x00000020
	EPOLLRDNORM    = 0x00000040
	EPOLLRDBAND    = 0x00000080
	EPOLLWRNORM    = 0x00000100
	EPOLLWRBAND    = 0x00000200
	EPOLLMSG       = 0x00000400
	EPOLLRDHUP     = 0x00002000
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	EPOLL_CTL_ADD = 1
	EPOLL_CTL_DEL = 2
	EPOLL_CTL_MOD = 3
	EPOLL_CLOEXEC = O_CLOEXEC
)

// Resource limits (include/uapi/asm-generic/resource.h).
const (
	RLIMIT_CPU        = 0
	RLIMIT_FSIZE      = 1
	RLIMIT_DATA       = 2
	RLIMIT_STACK      = 3
	RLIMIT_CORE       = 4
	RLIMIT_RSS        = 5
	RLIMIT_NPROC      = 6
	RLIMIT_NOFILE     = 7
	RLIMIT_MEMLOCK    = 8
	RLIMIT_AS         = 9
	RLIMIT_LOCKS      = 10
	RLIMIT_SIGPENDING = 11
	RLIMIT_MSGQUEUE   = 12
	RLIMIT_NICE       = 13
	RLIMIT_RTPRIO     = 14
	RLIMIT_RTTIME     = 15
	RLIM_NLIMITS      = 16

	RLIM_INFINITY = ^uint64(0)

	RUSAGE_SELF     = 0
	RUSAGE_CHILDREN = -1
	RUSAGE_THREAD   = 1
)

// statx(2) mask bits (include/uapi/linux/stat.h).
const (
	STATX_TYPE        = 0x00000001
	STATX_MODE        = 0x00000002
	STATX_NLINK       = 0x00000004
	STATX_UID         = 0x00000008
	STATX_GID         = 0x00000010
	STATX_ATIME       = 0x00000020
	STATX_MTIME       = 0x00000040
	STATX_CTIME       = 0x00000080
	STATX_INO         = 0x00000100
	STATX_SIZE        = 0x00000200
	STATX_BLOCKS      = 0x00000400
	STATX_BASIC_STATS = 0x000007ff
	STATX_BTIME       = 0x00000800
	STATX_MNT_ID      = 0x00001000
	STATX_DIOALIGN    = 0x00002000
)

// sigcontext/ucontext flags and the extended FPU state markers
// (arch/x86/include/uapi/asm/ucontext.h, sigcontext.h).
const (
	UC_FP_XSTATE         = 0x1
	UC_SIGCONTEXT_SS     = 0x2
	UC_STRICT_RESTORE_SS = 0x4

	FP_XSTATE_MAGIC1 = 0x46505853 // in fpstate sw_reserved
	FP_XSTATE_MAGIC2 = 0x46505845 // after the xsave area
	// FPStateSwReservedOffset is the offset of struct _fpx_sw_bytes in the
	// 512-byte fxsave area of a signal frame.
	FPStateSwReservedOffset = 464
)

// glibc mcontext_t gregs indices (REG_R8 ... REG_CR2): the order of the
// first 23 words of struct sigcontext.
const (
	REG_R8 = iota
	REG_R9
	REG_R10
	REG_R11
	REG_R12
	REG_R13
	REG_R14
	REG_R15
	REG_RDI
	REG_RSI
	REG_RBP
	REG_RBX
	REG_RDX
	REG_RAX
	REG_RCX
	REG_RSP
	REG_RIP
	REG_EFL
	REG_CSGSFS
	REG_ERR
	REG_TRAPNO
	REG_OLDMASK
	REG_CR2
	NGREG
)
