/*
 * fbsd_ptrace.h: ptrec's guest ptrace ABI. Syscall 101 speaks FreeBSD's
 * ptrace (sys_process.c): FreeBSD request numbers and amd64 structure
 * layouts, Linux signal and errno numbers (see /work/shared/FREEBSD-PTRACE.md).
 */
#ifndef FBSD_PTRACE_H
#define FBSD_PTRACE_H

#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define PT_TRACE_ME	0
#define PT_READ_I	1
#define PT_READ_D	2
#define PT_WRITE_I	4
#define PT_WRITE_D	5
#define PT_CONTINUE	7
#define PT_KILL		8
#define PT_STEP		9
#define PT_ATTACH	10
#define PT_DETACH	11
#define PT_IO		12
#define PT_LWPINFO	13
#define PT_GETNUMLWPS	14
#define PT_GETLWPLIST	15
#define PT_CLEARSTEP	16
#define PT_SETSTEP	17
#define PT_SUSPEND	18
#define PT_RESUME	19
#define PT_TO_SCE	20
#define PT_TO_SCX	21
#define PT_SYSCALL	22
#define PT_FOLLOW_FORK	23
#define PT_GETREGS	33
#define PT_SETREGS	34
#define PT_GETFPREGS	35
#define PT_SETFPREGS	36
#define PT_GETDBREGS	37
#define PT_SETDBREGS	38
#define PT_VM_TIMESTAMP	40
#define PT_VM_ENTRY	41
#define PT_FIRSTMACH	64

#define PIOD_READ_D	1
#define PIOD_WRITE_D	2
#define PIOD_READ_I	3
#define PIOD_WRITE_I	4

#define PL_EVENT_NONE	0
#define PL_EVENT_SIGNAL	1

#define PL_FLAG_SCE	0x04
#define PL_FLAG_SCX	0x08
#define PL_FLAG_EXEC	0x10
#define PL_FLAG_SI	0x20
#define PL_FLAG_FORKED	0x40
#define PL_FLAG_CHILD	0x80

#define FBSD_PID_MAX	99999

struct fbsd_siginfo {		/* struct __siginfo, amd64: 80 bytes */
	int32_t fsi_signo;
	int32_t fsi_errno;
	int32_t fsi_code;
	int32_t fsi_pid;
	uint32_t fsi_uid;
	int32_t fsi_status;
	uint64_t fsi_addr;
	uint64_t fsi_value;
	int32_t fsi_trapno;	/* _reason._fault._trapno */
	int32_t _reason[9];
};

struct ptrace_lwpinfo {		/* 160 bytes */
	int32_t pl_lwpid;
	int32_t pl_event;
	int32_t pl_flags;
	uint32_t pl_sigmask[4];
	uint32_t pl_siglist[4];
	struct fbsd_siginfo pl_siginfo;	/* at 48 */
	char pl_tdname[20];		/* at 128 */
	int32_t pl_child_pid;		/* at 148 */
	uint32_t pl_syscall_code;	/* at 152 */
	int32_t pl_syscall_narg;	/* at 156 */
};

struct ptrace_io_desc {		/* 32 bytes */
	int32_t piod_op;
	uint64_t piod_offs;	/* tracee address */
	uint64_t piod_addr;	/* tracer buffer */
	uint64_t piod_len;
};

struct ptrace_vm_entry {	/* 64 bytes */
	int32_t pve_entry;
	int32_t pve_timestamp;
	uint64_t pve_start;
	uint64_t pve_end;
	uint64_t pve_offset;
	uint32_t pve_prot;
	uint32_t pve_pathlen;
	int64_t pve_fileid;
	uint32_t pve_fsid;
	char *pve_path;
};

struct reg {			/* 176 bytes */
	int64_t r_r15, r_r14, r_r13, r_r12, r_r11, r_r10, r_r9, r_r8;
	int64_t r_rdi, r_rsi, r_rbp, r_rbx, r_rdx, r_rcx, r_rax;
	uint32_t r_trapno;
	uint16_t r_fs, r_gs;
	uint32_t r_err;
	uint16_t r_es, r_ds;
	int64_t r_rip, r_cs, r_rflags, r_rsp, r_ss;
};

struct dbreg {			/* 128 bytes */
	uint64_t dr[16];
};

_Static_assert(sizeof(struct ptrace_lwpinfo) == 160, "lwpinfo");
_Static_assert(sizeof(struct fbsd_siginfo) == 80, "siginfo");
_Static_assert(sizeof(struct ptrace_io_desc) == 32, "piod");
_Static_assert(sizeof(struct ptrace_vm_entry) == 64, "pve");
_Static_assert(sizeof(struct reg) == 176, "reg");

/*
 * fbsd_ptrace is ptrace(2): -1 with errno on failure. PT_READ_I/D return the
 * int read (the kernel zero-extends it, so a value of -1 is not an error).
 */
static inline long
fbsd_ptrace(int req, pid_t pid, void *addr, long data)
{
	long r = syscall(101, req, (long)pid, addr, data);
	if (req == PT_READ_I || req == PT_READ_D)
		return r == -1 ? -1 : (long)(int)r;
	return r;
}

#endif
