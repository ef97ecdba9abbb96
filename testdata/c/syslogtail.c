/*
 * syslogtail: guests whose last syscalls come after their last ptrace stop,
 * for the syscall log's tail (record/record.go, kernel/syslog.go).
 *
 *   syslogtail self N      N writes of "line i\n" to stdout, then
 *                          kill(getpid(), SIGKILL)
 *   syslogtail parent N    a child writes N lines, tells the parent through
 *                          a pipe and blocks in read; the parent SIGKILLs
 *                          it, reaps it and prints how it ended (exit 0)
 *   syslogtail loop [P]    getppid() forever in P processes (default 1:
 *                          P-1 forked children) (for --max-insns, interrupts)
 *   syslogtail debugger    a guest debugger checks PT_PTREC_GETSYSLOG's
 *                          bounds (EINVAL, EFAULT, a capacity in records)
 *                          and fetches the log of its SIGKILLed tracee
 *                          from the zombie (waitid WNOWAIT); prints "ok
 *                          debugger" and exits 0 when every check passes
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../ptrace/fbsd_ptrace.h"

#define PT_PTREC_SYSLOG		83
#define PT_PTREC_GETSYSLOG	84

struct syscall_record {		/* kernel.SyscallRecord: 88 bytes */
	int32_t tid;
	uint32_t code;
	uint32_t flags;
	uint32_t pad;
	uint64_t icount;
	uint64_t rip;
	uint64_t args[6];
	int64_t ret;
};
_Static_assert(sizeof(struct syscall_record) == 88, "record");

static void
lines(int n)
{
	char buf[32];
	for (int i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof buf, "line %d\n", i);
		write(1, buf, len);
	}
}

static int
self(int n)
{
	lines(n);
	kill(getpid(), SIGKILL);
	return 1;
}

static int
parent(int n)
{
	int ready[2], never[2];
	if (pipe(ready) || pipe(never))
		return 2;
	pid_t c = fork();
	if (c < 0)
		return 3;
	if (c == 0) {
		char b;
		lines(n);
		write(ready[1], "r", 1);
		read(never[0], &b, 1);
		_exit(4);
	}
	char b;
	if (read(ready[0], &b, 1) != 1)
		return 5;
	kill(c, SIGKILL);
	int st;
	if (waitpid(c, &st, 0) != c)
		return 6;
	printf("child %s %d\n", WIFSIGNALED(st) ? "signaled" : "exited",
	    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return 0;
}

static int
loop(int procs)
{
	for (int i = 1; i < procs; i++)
		if (fork() == 0)
			break;
	for (;;)
		getppid();
	return 0;
}

static int fails;

#define CHECK(cond, ...) do { if (!(cond)) { fails++; printf("FAIL %d: ", __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static long
getsyslog(pid_t pid, void *addr, long data)
{
	errno = 0;
	return fbsd_ptrace(PT_PTREC_GETSYSLOG, pid, addr, data);
}

static int
debugger(void)
{
	pid_t c = fork();
	if (c < 0)
		return 2;
	if (c == 0) {
		if (fbsd_ptrace(PT_TRACE_ME, 0, 0, 0) < 0)
			_exit(10);
		kill(getpid(), SIGSTOP);
		for (int i = 0; i < 5; i++)
			getppid();
		write(1, "child\n", 6);
		kill(getpid(), SIGKILL);
		_exit(11);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st))
		return 3;
	struct syscall_record recs[8];
	long r;

	/* A tracer buffer needs a capacity: data <= 0 is EINVAL. */
	r = getsyslog(c, recs, 0);
	CHECK(r == -1 && errno == EINVAL, "GETSYSLOG data 0 = %ld errno %d, want EINVAL", r, errno);
	r = getsyslog(c, recs, -1);
	CHECK(r == -1 && errno == EINVAL, "GETSYSLOG data -1 = %ld errno %d, want EINVAL", r, errno);
	/* Logging is off: nothing to fetch. */
	r = getsyslog(c, recs, 8);
	CHECK(r == 0, "GETSYSLOG without a log = %ld errno %d, want 0", r, errno);

	if (fbsd_ptrace(PT_PTREC_SYSLOG, c, 0, 64) < 0)
		return 4;
	if (fbsd_ptrace(PT_CONTINUE, c, (void *)1, 0) < 0)
		return 5;
	/*
	 * The child logs 5 getppid, a write, getpid and kill; it stops with
	 * SIGKILL, and dies of it when continued, without a fetch: its log is
	 * in the zombie.
	 */
	if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGKILL)
		return 6;
	if (fbsd_ptrace(PT_CONTINUE, c, (void *)1, SIGKILL) < 0)
		return 7;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, c, &si, WEXITED | WNOWAIT) != 0)
		return 8;
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL, "waitid: code %d status %d, want killed by SIGKILL", si.si_code, si.si_status);

	/* The zombie keeps its log until it is reaped. */
	r = getsyslog(c, (void *)8, 2);
	CHECK(r == -1 && errno == EFAULT, "GETSYSLOG to a bad buffer = %ld errno %d, want EFAULT", r, errno);
	r = getsyslog(c, recs, 0);
	CHECK(r == -1 && errno == EINVAL, "GETSYSLOG on the zombie with data 0 = %ld errno %d, want EINVAL", r, errno);
	memset(recs, 0xff, sizeof recs);
	r = getsyslog(c, recs, 2);
	CHECK(r == 2, "GETSYSLOG capacity 2 = %ld errno %d, want 2", r, errno);
	CHECK(recs[0].tid > FBSD_PID_MAX && recs[0].code == SYS_getppid && recs[0].ret == getpid(), "record 0: tid %d code %u ret %ld", recs[0].tid, recs[0].code, (long)recs[0].ret);
	CHECK(recs[1].code == SYS_getppid && recs[1].icount > recs[0].icount, "record 1: code %u", recs[1].code);
	CHECK(recs[2].tid == -1 && recs[2].code == 0xffffffffu, "a third record was written past the capacity");
	r = getsyslog(c, recs, 8);
	CHECK(r == 6, "GETSYSLOG of the rest = %ld errno %d, want 6", r, errno);
	CHECK(recs[2].code == SYS_getppid, "record 4: code %u, want getppid", recs[2].code);
	CHECK(recs[3].code == SYS_write && recs[3].args[0] == 1 && recs[3].args[2] == 6 && recs[3].ret == 6, "record 5: code %u ret %ld, want write of 6 bytes", recs[3].code, (long)recs[3].ret);
	CHECK(recs[5].code == SYS_kill && recs[5].args[0] == (uint64_t)c && recs[5].args[1] == SIGKILL && recs[5].ret == 0, "record 7: code %u, want kill", recs[5].code);
	r = getsyslog(c, recs, 8);
	CHECK(r == 0, "GETSYSLOG of an empty log = %ld errno %d, want 0", r, errno);

	/* Reaped, it is gone. */
	if (waitpid(c, &st, 0) != c)
		return 9;
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x, want killed by SIGKILL", st);
	r = getsyslog(c, recs, 8);
	CHECK(r == -1 && errno == ESRCH, "GETSYSLOG after the reap = %ld errno %d, want ESRCH", r, errno);
	if (fails)
		return 1;
	printf("ok debugger\n");
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "self"))
		return self(argc >= 3 ? atoi(argv[2]) : 10);
	if (argc >= 2 && !strcmp(argv[1], "parent"))
		return parent(argc >= 3 ? atoi(argv[2]) : 10);
	if (argc >= 2 && !strcmp(argv[1], "loop"))
		return loop(argc >= 3 ? atoi(argv[2]) : 1);
	if (argc >= 2 && !strcmp(argv[1], "debugger"))
		return debugger();
	fprintf(stderr, "usage: syslogtail self|parent|loop|debugger [N]\n");
	return 2;
}
