package abi

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// cFact is a value the C compiler can compute on this machine (a sizeof,
// an offsetof or a header constant) and what this package says it is.
type cFact struct {
	expr string
	want int64
}

// cFacts lists the Linux facts checked against gcc and the system headers.
func cFacts() []cFact {
	f := []cFact{
		{"sizeof(struct stat)", StatSize},
		{"offsetof(struct stat, st_mode)", 24},
		{"offsetof(struct stat, st_rdev)", 40},
		{"offsetof(struct stat, st_size)", 48},
		{"offsetof(struct stat, st_blocks)", 64},
		{"offsetof(struct stat, st_atim)", 72},
		{"offsetof(struct stat, st_mtim)", 88},
		{"offsetof(struct stat, st_ctim)", 104},
		{"sizeof(struct statx)", StatxSize},
		{"offsetof(struct statx, stx_mode)", 28},
		{"offsetof(struct statx, stx_ino)", 32},
		{"offsetof(struct statx, stx_attributes_mask)", 56},
		{"offsetof(struct statx, stx_atime)", 64},
		{"offsetof(struct statx, stx_btime)", 80},
		{"offsetof(struct statx, stx_ctime)", 96},
		{"offsetof(struct statx, stx_mtime)", 112},
		{"offsetof(struct statx, stx_rdev_major)", 128},
		{"offsetof(struct statx, stx_dev_minor)", 140},
		{"sizeof(struct timespec)", TimespecSize},
		{"sizeof(struct timeval)", TimevalSize},
		{"sizeof(struct rusage)", RusageSize},
		{"offsetof(struct rusage, ru_maxrss)", 32},
		{"offsetof(struct rusage, ru_nivcsw)", 32 + 13*8},
		{"sizeof(struct utsname)", UtsnameSize},
		{"offsetof(struct utsname, machine)", 4 * UtsnameFieldSize},
		{"sizeof(struct sysinfo)", SysinfoSize},
		{"offsetof(struct sysinfo, procs)", 80},
		{"offsetof(struct sysinfo, totalhigh)", 88},
		{"offsetof(struct sysinfo, mem_unit)", 104},
		{"sizeof(struct rlimit)", RlimitSize},
		{"sizeof(siginfo_t)", SiginfoSize},
		{"offsetof(siginfo_t, si_pid)", 16 + siPid},
		{"offsetof(siginfo_t, si_uid)", 16 + siUid},
		{"offsetof(siginfo_t, si_value)", 16 + siValue},
		{"offsetof(siginfo_t, si_status)", 16 + siStatus},
		{"offsetof(siginfo_t, si_utime)", 16 + siUtime},
		{"offsetof(siginfo_t, si_stime)", 16 + siStime},
		{"offsetof(siginfo_t, si_addr)", 16 + siAddr},
		{"offsetof(siginfo_t, si_addr_lsb)", 16 + siAddrLsb},
		{"offsetof(siginfo_t, si_timerid)", 16 + siTimerid},
		{"offsetof(siginfo_t, si_overrun)", 16 + siOverrun},
		{"offsetof(siginfo_t, si_band)", 16 + siBand},
		{"offsetof(siginfo_t, si_fd)", 16 + siFd},
		{"offsetof(siginfo_t, si_call_addr)", 16 + siAddr},
		{"offsetof(siginfo_t, si_syscall)", 16 + siSyscall},
		{"offsetof(siginfo_t, si_arch)", 16 + siArch},
		{"sizeof(stack_t)", StackSize},
		{"offsetof(stack_t, ss_flags)", 8},
		{"offsetof(stack_t, ss_size)", 16},
		{"sizeof(struct sigcontext)", SigcontextSize},
		{"offsetof(struct sigcontext, cs)", SigcontextCS},
		{"offsetof(struct sigcontext, fpstate)", SigcontextFpstate},
		{"offsetof(struct sigcontext, rip)", 8 * REG_RIP},
		{"offsetof(struct sigcontext, eflags)", 8 * REG_EFL},
		{"offsetof(struct sigcontext, cr2)", 8 * REG_CR2},
		{"offsetof(struct sigcontext, oldmask)", 8 * REG_OLDMASK},
		{"offsetof(ucontext_t, uc_stack)", UcontextStack},
		{"offsetof(ucontext_t, uc_mcontext)", UcontextMcontext},
		{"offsetof(ucontext_t, uc_sigmask)", UcontextSigmask},
		{"NGREG", NGREG},
		{"REG_CSGSFS", REG_CSGSFS},
		{"REG_CR2", REG_CR2},
		{"sizeof(struct epoll_event)", EpollEventSize},
		{"offsetof(struct epoll_event, data)", 4},
		{"sizeof(struct pollfd)", PollfdSize},
		{"sizeof(struct iovec)", IovecSize},
		{"sizeof(struct termios)", TermiosSize},
		{"offsetof(struct termios, c_cc)", 17},
		{"sizeof(struct winsize)", WinsizeSize},
		{"sizeof(struct clone_args)", CloneArgsSizeVer2},
		{"CLONE_ARGS_SIZE_VER0", CloneArgsSizeVer0},
		{"sizeof(struct robust_list_head)", RobustListHeadSize},
		{"offsetof(struct linux_dirent64_probe, d_name)", 19},
		{"NSIG - 1", NSIG},
		{"__SIGRTMIN", int64(SIGRTMIN)},
		{"SIGRTMIN", int64(LibcSIGRTMIN)},
		{"WCOREFLAG", WCOREFLAG},
		{"NCCS", NCCS},
	}
	for s := SIGHUP; s <= SIGSYS; s++ {
		f = append(f, cFact{s.String(), int64(s)})
	}
	for e := Errno(1); e <= MaxErrno; e++ {
		if _, _, ok := e.entry(); ok {
			f = append(f, cFact{e.Name(), int64(e)})
		}
	}
	for nr := 0; nr <= MaxSyscall; nr++ {
		if SyscallValid(nr) {
			f = append(f, cFact{"?__NR_" + SyscallName(nr), int64(nr)})
		}
	}
	consts := map[string]int64{
		"AT_FDCWD": AT_FDCWD, "AT_SYMLINK_NOFOLLOW": AT_SYMLINK_NOFOLLOW, "AT_REMOVEDIR": AT_REMOVEDIR,
		"AT_EACCESS": AT_EACCESS, "AT_SYMLINK_FOLLOW": AT_SYMLINK_FOLLOW, "AT_EMPTY_PATH": AT_EMPTY_PATH,
		"AT_NO_AUTOMOUNT": AT_NO_AUTOMOUNT, "AT_STATX_FORCE_SYNC": AT_STATX_FORCE_SYNC,
		"AT_STATX_DONT_SYNC": AT_STATX_DONT_SYNC, "?AT_RECURSIVE": AT_RECURSIVE,
		"AT_PHDR": AT_PHDR, "AT_PAGESZ": AT_PAGESZ, "AT_ENTRY": AT_ENTRY, "AT_RANDOM": AT_RANDOM,
		"AT_EXECFN": AT_EXECFN, "AT_SYSINFO_EHDR": AT_SYSINFO_EHDR, "AT_SECURE": AT_SECURE,
		"AT_HWCAP2": AT_HWCAP2, "AT_PLATFORM": AT_PLATFORM, "AT_CLKTCK": AT_CLKTCK,
		"?AT_MINSIGSTKSZ": AT_MINSIGSTKSZ, "?AT_RSEQ_FEATURE_SIZE": AT_RSEQ_FEATURE_SIZE,
		"O_WRONLY": O_WRONLY, "O_RDWR": O_RDWR, "O_CREAT": O_CREAT, "O_EXCL": O_EXCL,
		"O_NOCTTY": O_NOCTTY, "O_TRUNC": O_TRUNC, "O_APPEND": O_APPEND, "O_NONBLOCK": O_NONBLOCK,
		"O_DSYNC": O_DSYNC, "O_ASYNC": O_ASYNC, "O_DIRECT": O_DIRECT, "O_DIRECTORY": O_DIRECTORY,
		"O_NOFOLLOW": O_NOFOLLOW, "O_NOATIME": O_NOATIME, "O_CLOEXEC": O_CLOEXEC, "O_SYNC": O_SYNC,
		"O_PATH": O_PATH, "O_TMPFILE": O_TMPFILE,
		"F_DUPFD": F_DUPFD, "F_GETFD": F_GETFD, "F_SETFD": F_SETFD, "F_GETFL": F_GETFL,
		"F_SETFL": F_SETFL, "F_GETLK": F_GETLK, "F_SETLK": F_SETLK, "F_SETLKW": F_SETLKW,
		"F_SETOWN": F_SETOWN, "F_GETOWN": F_GETOWN, "F_SETSIG": F_SETSIG, "F_GETSIG": F_GETSIG,
		"F_SETOWN_EX": F_SETOWN_EX, "F_GETOWN_EX": F_GETOWN_EX, "F_OFD_GETLK": F_OFD_GETLK,
		"F_OFD_SETLK": F_OFD_SETLK, "F_OFD_SETLKW": F_OFD_SETLKW, "F_SETLEASE": F_SETLEASE,
		"F_GETLEASE": F_GETLEASE, "F_NOTIFY": F_NOTIFY, "F_DUPFD_CLOEXEC": F_DUPFD_CLOEXEC,
		"F_SETPIPE_SZ": F_SETPIPE_SZ, "F_GETPIPE_SZ": F_GETPIPE_SZ, "F_ADD_SEALS": F_ADD_SEALS,
		"F_GET_SEALS": F_GET_SEALS, "FD_CLOEXEC": FD_CLOEXEC, "F_UNLCK": F_UNLCK, "F_WRLCK": F_WRLCK,
		"F_SEAL_WRITE": F_SEAL_WRITE, "SEEK_DATA": SEEK_DATA, "SEEK_HOLE": SEEK_HOLE, "R_OK": R_OK,
		"PROT_EXEC": PROT_EXEC, "PROT_GROWSDOWN": PROT_GROWSDOWN, "PROT_GROWSUP": PROT_GROWSUP,
		"MAP_SHARED": MAP_SHARED, "MAP_PRIVATE": MAP_PRIVATE, "MAP_SHARED_VALIDATE": MAP_SHARED_VALIDATE,
		"MAP_FIXED": MAP_FIXED, "MAP_ANONYMOUS": MAP_ANONYMOUS, "MAP_32BIT": MAP_32BIT,
		"MAP_GROWSDOWN": MAP_GROWSDOWN, "MAP_DENYWRITE": MAP_DENYWRITE, "MAP_EXECUTABLE": MAP_EXECUTABLE,
		"MAP_LOCKED": MAP_LOCKED, "MAP_NORESERVE": MAP_NORESERVE, "MAP_POPULATE": MAP_POPULATE,
		"MAP_NONBLOCK": MAP_NONBLOCK, "MAP_STACK": MAP_STACK, "MAP_HUGETLB": MAP_HUGETLB,
		"MAP_SYNC": MAP_SYNC, "MAP_FIXED_NOREPLACE": MAP_FIXED_NOREPLACE,
		"MREMAP_MAYMOVE": MREMAP_MAYMOVE, "MREMAP_FIXED": MREMAP_FIXED, "?MREMAP_DONTUNMAP": MREMAP_DONTUNMAP,
		"MADV_DONTNEED": MADV_DONTNEED, "MADV_FREE": MADV_FREE, "MADV_WIPEONFORK": MADV_WIPEONFORK,
		"MADV_HUGEPAGE": MADV_HUGEPAGE, "MADV_DODUMP": MADV_DODUMP, "MS_SYNC": MS_SYNC,
		"MS_INVALIDATE": MS_INVALIDATE,
		"CSIGNAL":       CSIGNAL, "CLONE_VM": CLONE_VM, "CLONE_FS": CLONE_FS, "CLONE_FILES": CLONE_FILES,
		"CLONE_SIGHAND": CLONE_SIGHAND, "CLONE_PIDFD": CLONE_PIDFD, "CLONE_PTRACE": CLONE_PTRACE,
		"CLONE_VFORK": CLONE_VFORK, "CLONE_PARENT": CLONE_PARENT, "CLONE_THREAD": CLONE_THREAD,
		"CLONE_NEWNS": CLONE_NEWNS, "CLONE_SYSVSEM": CLONE_SYSVSEM, "CLONE_SETTLS": CLONE_SETTLS,
		"CLONE_PARENT_SETTID": CLONE_PARENT_SETTID, "CLONE_CHILD_CLEARTID": CLONE_CHILD_CLEARTID,
		"CLONE_DETACHED": CLONE_DETACHED, "CLONE_UNTRACED": CLONE_UNTRACED,
		"CLONE_CHILD_SETTID": CLONE_CHILD_SETTID, "CLONE_NEWCGROUP": CLONE_NEWCGROUP,
		"CLONE_NEWUTS": CLONE_NEWUTS, "CLONE_NEWIPC": CLONE_NEWIPC, "CLONE_NEWUSER": CLONE_NEWUSER,
		"CLONE_NEWPID": CLONE_NEWPID, "CLONE_NEWNET": CLONE_NEWNET, "CLONE_IO": CLONE_IO,
		"?CLONE_NEWTIME": CLONE_NEWTIME, "?CLONE_CLEAR_SIGHAND": CLONE_CLEAR_SIGHAND,
		"?CLONE_INTO_CGROUP": CLONE_INTO_CGROUP,
		"FUTEX_WAIT":         FUTEX_WAIT, "FUTEX_WAKE": FUTEX_WAKE, "FUTEX_REQUEUE": FUTEX_REQUEUE,
		"FUTEX_CMP_REQUEUE": FUTEX_CMP_REQUEUE, "FUTEX_WAKE_OP": FUTEX_WAKE_OP,
		"FUTEX_LOCK_PI": FUTEX_LOCK_PI, "FUTEX_UNLOCK_PI": FUTEX_UNLOCK_PI,
		"FUTEX_TRYLOCK_PI": FUTEX_TRYLOCK_PI, "FUTEX_WAIT_BITSET": FUTEX_WAIT_BITSET,
		"FUTEX_WAKE_BITSET": FUTEX_WAKE_BITSET, "FUTEX_WAIT_REQUEUE_PI": FUTEX_WAIT_REQUEUE_PI,
		"FUTEX_CMP_REQUEUE_PI": FUTEX_CMP_REQUEUE_PI, "?FUTEX_LOCK_PI2": FUTEX_LOCK_PI2,
		"FUTEX_PRIVATE_FLAG": FUTEX_PRIVATE_FLAG, "FUTEX_CLOCK_REALTIME": FUTEX_CLOCK_REALTIME,
		"FUTEX_CMD_MASK": FUTEX_CMD_MASK, "FUTEX_WAITERS": FUTEX_WAITERS,
		"FUTEX_OWNER_DIED": FUTEX_OWNER_DIED, "FUTEX_TID_MASK": FUTEX_TID_MASK,
		"(unsigned)FUTEX_BITSET_MATCH_ANY": FUTEX_BITSET_MATCH_ANY,
		"S_IFMT":                           S_IFMT, "S_IFSOCK": S_IFSOCK, "S_IFLNK": S_IFLNK, "S_IFREG": S_IFREG,
		"S_IFBLK": S_IFBLK, "S_IFDIR": S_IFDIR, "S_IFCHR": S_IFCHR, "S_IFIFO": S_IFIFO,
		"S_ISUID": S_ISUID, "S_ISGID": S_ISGID, "S_ISVTX": S_ISVTX,
		"DT_FIFO": DT_FIFO, "DT_CHR": DT_CHR, "DT_DIR": DT_DIR, "DT_BLK": DT_BLK, "DT_REG": DT_REG,
		"DT_LNK": DT_LNK, "DT_SOCK": DT_SOCK, "DT_WHT": DT_WHT,
		"CLOCK_REALTIME": CLOCK_REALTIME, "CLOCK_MONOTONIC": CLOCK_MONOTONIC,
		"CLOCK_PROCESS_CPUTIME_ID": CLOCK_PROCESS_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID": CLOCK_THREAD_CPUTIME_ID,
		"CLOCK_MONOTONIC_RAW": CLOCK_MONOTONIC_RAW, "CLOCK_REALTIME_COARSE": CLOCK_REALTIME_COARSE,
		"CLOCK_MONOTONIC_COARSE": CLOCK_MONOTONIC_COARSE, "CLOCK_BOOTTIME": CLOCK_BOOTTIME,
		"CLOCK_REALTIME_ALARM": CLOCK_REALTIME_ALARM, "CLOCK_BOOTTIME_ALARM": CLOCK_BOOTTIME_ALARM,
		"CLOCK_TAI": CLOCK_TAI, "TIMER_ABSTIME": TIMER_ABSTIME,
		"ARCH_SET_GS": ARCH_SET_GS, "ARCH_SET_FS": ARCH_SET_FS, "ARCH_GET_FS": ARCH_GET_FS,
		"ARCH_GET_GS": ARCH_GET_GS, "ARCH_GET_CPUID": ARCH_GET_CPUID, "ARCH_SET_CPUID": ARCH_SET_CPUID,
		"?ARCH_GET_XCOMP_SUPP": ARCH_GET_XCOMP_SUPP, "?ARCH_REQ_XCOMP_PERM": ARCH_REQ_XCOMP_PERM,
		"ARCH_MAP_VDSO_64": ARCH_MAP_VDSO_64, "?ARCH_SHSTK_ENABLE": ARCH_SHSTK_ENABLE,
		"?ARCH_GET_UNTAG_MASK": ARCH_GET_UNTAG_MASK, "?ARCH_ENABLE_TAGGED_ADDR": ARCH_ENABLE_TAGGED,
		"PR_SET_PDEATHSIG": PR_SET_PDEATHSIG, "PR_GET_DUMPABLE": PR_GET_DUMPABLE,
		"PR_SET_DUMPABLE": PR_SET_DUMPABLE, "PR_SET_NAME": PR_SET_NAME, "PR_GET_NAME": PR_GET_NAME,
		"PR_SET_SECCOMP": PR_SET_SECCOMP, "PR_CAPBSET_READ": PR_CAPBSET_READ,
		"PR_SET_TSC": PR_SET_TSC, "PR_SET_TIMERSLACK": PR_SET_TIMERSLACK, "PR_SET_MM": PR_SET_MM,
		"PR_SET_CHILD_SUBREAPER": PR_SET_CHILD_SUBREAPER, "PR_SET_NO_NEW_PRIVS": PR_SET_NO_NEW_PRIVS,
		"PR_GET_TID_ADDRESS": PR_GET_TID_ADDRESS, "PR_GET_THP_DISABLE": PR_GET_THP_DISABLE,
		"PR_CAP_AMBIENT": PR_CAP_AMBIENT, "PR_SET_SPECULATION_CTRL": PR_SET_SPECULATION_CTRL,
		"?PR_SET_VMA": PR_SET_VMA, "PR_SET_PTRACER": PR_SET_PTRACER,
		"TCGETS": TCGETS, "TCSETS": TCSETS, "TCSETSW": TCSETSW, "TCSETSF": TCSETSF, "TCGETA": TCGETA,
		"TCSBRK": TCSBRK, "TCXONC": TCXONC, "TCFLSH": TCFLSH, "TIOCSCTTY": TIOCSCTTY,
		"TIOCGPGRP": TIOCGPGRP, "TIOCSPGRP": TIOCSPGRP, "TIOCOUTQ": TIOCOUTQ, "TIOCSTI": TIOCSTI,
		"TIOCGWINSZ": TIOCGWINSZ, "TIOCSWINSZ": TIOCSWINSZ, "TIOCMGET": TIOCMGET, "TIOCMSET": TIOCMSET,
		"FIONREAD": FIONREAD, "TIOCINQ": TIOCINQ, "TIOCLINUX": TIOCLINUX, "TIOCCONS": TIOCCONS,
		"TIOCPKT": TIOCPKT, "FIONBIO": FIONBIO, "TIOCNOTTY": TIOCNOTTY, "TIOCSETD": TIOCSETD,
		"TIOCGETD": TIOCGETD, "TCSBRKP": TCSBRKP, "TIOCGSID": TIOCGSID, "TCGETS2": TCGETS2,
		"TCSETS2": TCSETS2, "TIOCGPTN": TIOCGPTN, "TIOCSPTLCK": TIOCSPTLCK, "TIOCGPTPEER": TIOCGPTPEER,
		"FIONCLEX": FIONCLEX, "FIOCLEX": FIOCLEX, "FIOASYNC": FIOASYNC, "FIOQSIZE": FIOQSIZE,
		"VINTR": VINTR, "VMIN": VMIN, "VTIME": VTIME, "VSUSP": VSUSP, "VEOL2": VEOL2, "VLNEXT": VLNEXT,
		"ICRNL": ICRNL, "IXON": IXON, "IUTF8": IUTF8, "IMAXBEL": IMAXBEL, "OPOST": OPOST, "ONLCR": ONLCR,
		"CSIZE": CSIZE, "CS8": CS8, "CREAD": CREAD, "HUPCL": HUPCL, "CLOCAL": CLOCAL, "B38400": B38400,
		"CBAUD": CBAUD, "ISIG": ISIG, "ICANON": ICANON, "ECHO": ECHO, "ECHOE": ECHOE, "ECHOK": ECHOK,
		"ECHONL": ECHONL, "NOFLSH": NOFLSH, "TOSTOP": TOSTOP, "ECHOCTL": ECHOCTL, "ECHOKE": ECHOKE,
		"IEXTEN": IEXTEN, "PENDIN": PENDIN,
		"POLLIN": POLLIN, "POLLPRI": POLLPRI, "POLLOUT": POLLOUT, "POLLERR": POLLERR, "POLLHUP": POLLHUP,
		"POLLNVAL": POLLNVAL, "POLLRDNORM": POLLRDNORM, "POLLWRNORM": POLLWRNORM, "POLLRDHUP": POLLRDHUP,
		"EPOLLIN": EPOLLIN, "EPOLLOUT": EPOLLOUT, "EPOLLRDHUP": EPOLLRDHUP,
		"(unsigned)EPOLLEXCLUSIVE": EPOLLEXCLUSIVE, "(unsigned)EPOLLWAKEUP": EPOLLWAKEUP,
		"(unsigned)EPOLLONESHOT": EPOLLONESHOT, "(unsigned)EPOLLET": EPOLLET,
		"EPOLL_CTL_ADD": EPOLL_CTL_ADD, "EPOLL_CTL_DEL": EPOLL_CTL_DEL, "EPOLL_CTL_MOD": EPOLL_CTL_MOD,
		"EPOLL_CLOEXEC": EPOLL_CLOEXEC,
		"RLIMIT_CPU":    RLIMIT_CPU, "RLIMIT_STACK": RLIMIT_STACK, "RLIMIT_NOFILE": RLIMIT_NOFILE,
		"RLIMIT_AS": RLIMIT_AS, "RLIMIT_RTTIME": RLIMIT_RTTIME, "RLIMIT_NLIMITS": RLIM_NLIMITS,
		"RUSAGE_CHILDREN": RUSAGE_CHILDREN, "RUSAGE_THREAD": RUSAGE_THREAD,
		"STATX_BASIC_STATS": STATX_BASIC_STATS, "STATX_BTIME": STATX_BTIME, "STATX_MNT_ID": STATX_MNT_ID,
		"?STATX_DIOALIGN": STATX_DIOALIGN,
		"SI_USER":         SI_USER, "SI_KERNEL": SI_KERNEL, "SI_QUEUE": SI_QUEUE, "SI_TIMER": SI_TIMER,
		"SI_MESGQ": SI_MESGQ, "SI_ASYNCIO": SI_ASYNCIO, "SI_SIGIO": SI_SIGIO, "SI_TKILL": SI_TKILL,
		"SI_ASYNCNL": SI_ASYNCNL, "ILL_ILLOPN": ILL_ILLOPN, "ILL_BADSTK": ILL_BADSTK,
		"FPE_INTDIV": FPE_INTDIV, "FPE_FLTSUB": FPE_FLTSUB, "SEGV_MAPERR": SEGV_MAPERR,
		"SEGV_ACCERR": SEGV_ACCERR, "SEGV_PKUERR": SEGV_PKUERR, "BUS_ADRALN": BUS_ADRALN,
		"BUS_MCEERR_AO": BUS_MCEERR_AO, "TRAP_BRKPT": TRAP_BRKPT, "TRAP_TRACE": TRAP_TRACE,
		"TRAP_BRANCH": TRAP_BRANCH, "TRAP_HWBKPT": TRAP_HWBKPT, "CLD_EXITED": CLD_EXITED,
		"CLD_KILLED": CLD_KILLED, "CLD_DUMPED": CLD_DUMPED, "CLD_TRAPPED": CLD_TRAPPED,
		"CLD_STOPPED": CLD_STOPPED, "CLD_CONTINUED": CLD_CONTINUED, "POLL_HUP": POLL_HUP,
		"SYS_SECCOMP_CODE": SI_SYS_SECCOMP,
		"SA_NOCLDSTOP":     SA_NOCLDSTOP, "SA_NOCLDWAIT": SA_NOCLDWAIT, "SA_SIGINFO": SA_SIGINFO,
		"?SA_RESTORER": SA_RESTORER, "SA_ONSTACK": SA_ONSTACK, "SA_RESTART": SA_RESTART,
		"SA_NODEFER": SA_NODEFER, "(unsigned)SA_RESETHAND": SA_RESETHAND,
		"SIG_BLOCK": SIG_BLOCK, "SIG_UNBLOCK": SIG_UNBLOCK, "SIG_SETMASK": SIG_SETMASK,
		"SS_ONSTACK": SS_ONSTACK, "SS_DISABLE": SS_DISABLE, "?SS_AUTODISARM": SS_AUTODISARM,
		"WNOHANG": WNOHANG, "WUNTRACED": WUNTRACED, "WSTOPPED": WSTOPPED, "WEXITED": WEXITED,
		"WCONTINUED": WCONTINUED, "WNOWAIT": WNOWAIT, "__WNOTHREAD": WNOTHREAD, "__WALL": WALL,
		"(unsigned)__WCLONE": WCLONE, "P_ALL": P_ALL, "P_PID": P_PID, "P_PGID": P_PGID,
		"?P_PIDFD":      P_PIDFD,
		"?UC_FP_XSTATE": UC_FP_XSTATE, "?UC_SIGCONTEXT_SS": UC_SIGCONTEXT_SS,
		"?UC_STRICT_RESTORE_SS": UC_STRICT_RESTORE_SS, "?FP_XSTATE_MAGIC1": FP_XSTATE_MAGIC1,
		"?FP_XSTATE_MAGIC2": FP_XSTATE_MAGIC2,
	}
	for name, v := range consts {
		f = append(f, cFact{name, v})
	}
	return f
}

const cPrologue = `#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <elf.h>
#include <dirent.h>
#include <time.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <asm/prctl.h>
#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <linux/stat.h>
#ifndef SYS_SECCOMP
#define SYS_SECCOMP_CODE 1
#else
#define SYS_SECCOMP_CODE SYS_SECCOMP
#endif
struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; };
struct linux_dirent64_probe { unsigned long long d_ino; long long d_off; unsigned short d_reclen; unsigned char d_type; char d_name[]; };
#define P(name, expr) printf("%s %lld\n", name, (long long)(expr))
int main(void) {
`

// TestAgainstC compiles a C program that prints every fact with the
// system's headers and compares. It is skipped without gcc or off
// linux/amd64.
func TestAgainstC(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs a linux/amd64 host")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found")
	}
	facts := cFacts()
	var src bytes.Buffer
	src.WriteString(cPrologue)
	for _, f := range facts {
		expr, optional := strings.CutPrefix(f.expr, "?")
		name := strings.TrimPrefix(expr, "(unsigned)")
		if optional {
			fmt.Fprintf(&src, "#ifdef %s\n", name)
		}
		fmt.Fprintf(&src, "P(%q, %s);\n", f.expr, expr)
		if optional {
			src.WriteString("#endif\n")
		}
	}
	src.WriteString("return 0; }\n")
	dir := t.TempDir()
	cfile := filepath.Join(dir, "facts.c")
	bin := filepath.Join(dir, "facts")
	if err := os.WriteFile(cfile, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-w", "-o", bin, cfile).CombinedOutput(); err != nil {
		t.Skipf("gcc failed (headers missing?): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		i := strings.LastIndexByte(sc.Text(), ' ')
		v, err := strconv.ParseInt(sc.Text()[i+1:], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		got[sc.Text()[:i]] = v
	}
	checked := 0
	for _, f := range facts {
		v, ok := got[f.expr]
		if !ok {
			if !strings.HasPrefix(f.expr, "?") {
				t.Errorf("%s: no output", f.expr)
			}
			continue
		}
		checked++
		if v != f.want {
			t.Errorf("%s = %d (%#x) in C, %d (%#x) here", f.expr, v, v, f.want, f.want)
		}
	}
	t.Logf("%d facts checked against gcc", checked)
}
