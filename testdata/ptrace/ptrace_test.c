/*
 * ptrace_test: the scenarios of FreeBSD's tests/sys/kern/ptrace_test.c (as
 * it stood for the requests of sys_process.c), rewritten for ptrec's guest
 * ptrace ABI (syscall 101, fbsd_ptrace.h). Each test is a debugger running
 * inside ptrec. Usage: ptrace_test NAME (prints "ok NAME", exits 0), or
 * ptrace_test list.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbsd_ptrace.h"

static const char *self_path;
static const char *cur_test;

/* REQUIRE fails the test from the debugger (the test's main process). */
#define REQUIRE(e) do { if (!(e)) fail(__LINE__, #e, 1); } while (0)
/* CHILD_REQUIRE fails from a helper process: exit 32, the parent notices. */
#define CHILD_REQUIRE(e) do { if (!(e)) fail(__LINE__, #e, 0); } while (0)

static void
fail(int line, const char *what, int main_proc)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "FAIL %s:%d: %s (errno %d)\n",
	    cur_test, line, what, errno);
	write(2, buf, n);
	_exit(main_proc ? 1 : 32);
}

static void
trace_me(void)
{
	CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) != -1);
	/* FreeBSD's raise() is a plain thr_kill; kill() keeps the mask alone. */
	kill(getpid(), SIGSTOP);
}

/* FreeBSD pipes are bidirectional; a socket pair is. */
static int
bipipe(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
}

static void
attach_child(pid_t pid)
{
	int status;

	REQUIRE(fbsd_ptrace(PT_ATTACH, pid, NULL, 0) == 0);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFSTOPPED(status));
	REQUIRE(WSTOPSIG(status) == SIGSTOP);
}

static void
wait_stop(pid_t pid, int sig)
{
	int status;

	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFSTOPPED(status));
	REQUIRE(WSTOPSIG(status) == sig);
}

static void
wait_exit(pid_t pid, int code)
{
	int status;

	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status));
	REQUIRE(WEXITSTATUS(status) == code);
}

static void
wait_none(void)
{
	int status;

	REQUIRE(wait(&status) == -1);
	REQUIRE(errno == ECHILD);
}

static void
lwpinfo(pid_t pid, struct ptrace_lwpinfo *pl)
{
	memset(pl, 0xa5, sizeof(*pl));
	REQUIRE(fbsd_ptrace(PT_LWPINFO, pid, (void *)pl, sizeof(*pl)) != -1);
}

/*
 * Wait until pid is a zombie: a process not yet reaped is invisible to
 * pfind, so a request to it fails with ESRCH (live and traced by someone
 * else: EBUSY).
 */
static void
wait_for_zombie(pid_t pid)
{
	for (;;) {
		if (fbsd_ptrace(PT_GETNUMLWPS, pid, NULL, 0) == -1 &&
		    errno == ESRCH)
			return;
		sched_yield();
	}
}

/* ---- wait and attach ---- */

static void
ptrace__parent_wait_after_trace_me(void)
{
	pid_t child;

	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		trace_me();
		_exit(1);
	}
	wait_stop(child, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
	wait_exit(child, 1);
	/* The exit is reported exactly once. */
	wait_none();
}

static void
ptrace__parent_wait_after_attach(void)
{
	pid_t child;
	int cpipe[2];
	char c;

	REQUIRE(bipipe(cpipe) == 0);
	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		close(cpipe[0]);
		CHILD_REQUIRE(read(cpipe[1], &c, 1) == 0);
		_exit(1);
	}
	close(cpipe[1]);
	attach_child(child);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
	close(cpipe[0]);
	wait_exit(child, 1);
	wait_none();
}

static void
ptrace__parent_sees_exit_after_child_debugger(void)
{
	pid_t child, debugger;
	int cpipe[2], dpipe[2], status;
	char c = 'x';

	REQUIRE(bipipe(cpipe) == 0);
	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		close(cpipe[0]);
		CHILD_REQUIRE(read(cpipe[1], &c, 1) == 1);
		_exit(1);
	}
	close(cpipe[1]);
	REQUIRE(bipipe(dpipe) == 0);
	REQUIRE((debugger = fork()) != -1);
	if (debugger == 0) {
		close(dpipe[0]);
		CHILD_REQUIRE(fbsd_ptrace(PT_ATTACH, child, NULL, 0) != -1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
		CHILD_REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
		CHILD_REQUIRE(write(dpipe[1], &c, 1) == 1);
		/* Wait for the parent's failed wait. */
		CHILD_REQUIRE(read(dpipe[1], &c, 1) == 0);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		_exit(0);
	}
	close(dpipe[1]);
	REQUIRE(read(dpipe[0], &c, 1) == 1);
	REQUIRE(write(cpipe[0], &c, 1) == 1);
	REQUIRE(read(cpipe[0], &c, 1) == 0);
	close(cpipe[0]);
	wait_for_zombie(child);
	/* The real parent sees nothing until the debugger has seen the exit. */
	REQUIRE(waitpid(child, &status, WNOHANG) == 0);
	close(dpipe[0]);
	wait_exit(debugger, 0);
	REQUIRE(waitpid(child, &status, WNOHANG) == child);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

static void
ptrace__parent_sees_exit_after_unrelated_debugger(void)
{
	pid_t child, debugger, fpid;
	int cpipe[2], dpipe[2], status;
	char c = 'x';

	REQUIRE(bipipe(cpipe) == 0);
	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		close(cpipe[0]);
		CHILD_REQUIRE(read(cpipe[1], &c, 1) == 1);
		_exit(1);
	}
	close(cpipe[1]);
	REQUIRE(bipipe(dpipe) == 0);
	REQUIRE((debugger = fork()) != -1);
	if (debugger == 0) {
		/* Fork again so the debugger is not a child of the parent. */
		CHILD_REQUIRE((fpid = fork()) != -1);
		if (fpid != 0)
			_exit(2);
		close(dpipe[0]);
		CHILD_REQUIRE(fbsd_ptrace(PT_ATTACH, child, NULL, 0) != -1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
		CHILD_REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
		CHILD_REQUIRE(write(dpipe[1], &c, 1) == 1);
		CHILD_REQUIRE(read(dpipe[1], &c, 1) == 1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		_exit(0);
	}
	close(dpipe[1]);
	wait_exit(debugger, 2);
	/* The child is not exited: 0, not ECHILD. */
	REQUIRE(waitpid(child, &status, WNOHANG) == 0);
	REQUIRE(read(dpipe[0], &c, 1) == 1);
	REQUIRE(write(cpipe[0], &c, 1) == 1);
	REQUIRE(read(cpipe[0], &c, 1) == 0);
	close(cpipe[0]);
	wait_for_zombie(child);
	/* Orphan list: the parent still counts its traced child. */
	REQUIRE(waitpid(child, &status, WNOHANG) == 0);
	REQUIRE(write(dpipe[0], &c, 1) == 1);
	REQUIRE(read(dpipe[0], &c, 1) == 0);
	close(dpipe[0]);
	/* The debugger reaped it; now it is ours. */
	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		REQUIRE(w == 0 || w == child);
		if (w == child)
			break;
		sched_yield();
	}
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

static void
ptrace__getppid(void)
{
	pid_t child, debugger, ppid;
	int cpipe[2], dpipe[2], status;
	char c = 'x';

	REQUIRE(bipipe(cpipe) == 0);
	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		close(cpipe[0]);
		CHILD_REQUIRE(read(cpipe[1], &c, 1) == 1);
		ppid = getppid();
		CHILD_REQUIRE(write(cpipe[1], &ppid, sizeof(ppid)) == sizeof(ppid));
		_exit(1);
	}
	close(cpipe[1]);
	REQUIRE(bipipe(dpipe) == 0);
	REQUIRE((debugger = fork()) != -1);
	if (debugger == 0) {
		close(dpipe[0]);
		CHILD_REQUIRE(fbsd_ptrace(PT_ATTACH, child, NULL, 0) != -1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
		CHILD_REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
		CHILD_REQUIRE(write(dpipe[1], &c, 1) == 1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		_exit(0);
	}
	close(dpipe[1]);
	REQUIRE(read(dpipe[0], &c, 1) == 1);
	REQUIRE(write(cpipe[0], &c, 1) == 1);
	REQUIRE(read(cpipe[0], &ppid, sizeof(ppid)) == sizeof(ppid));
	close(cpipe[0]);
	/* The child sees its real parent, not the debugger. */
	REQUIRE(ppid == getpid());
	wait_exit(debugger, 0);
	REQUIRE(waitpid(child, &status, WNOHANG) == child);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

/*
 * A debugger that exits without detaching kills its tracee; the exit goes
 * to the tracee's real parent (fixed FreeBSD), not to init.
 */
static void
ptrace__debugger_exits_without_detach(void)
{
	pid_t child, debugger;
	int cpipe[2], status;
	char c;

	REQUIRE(pipe(cpipe) == 0);
	REQUIRE((child = fork()) != -1);
	if (child == 0) {
		close(cpipe[1]);
		read(cpipe[0], &c, 1);
		_exit(1);
	}
	close(cpipe[0]);
	REQUIRE((debugger = fork()) != -1);
	if (debugger == 0) {
		CHILD_REQUIRE(fbsd_ptrace(PT_ATTACH, child, NULL, 0) != -1);
		CHILD_REQUIRE(waitpid(child, &status, 0) == child);
		CHILD_REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
		CHILD_REQUIRE(fbsd_ptrace(PT_CONTINUE, child, (void *)1, 0) != -1);
		_exit(0);
	}
	wait_exit(debugger, 0);
	REQUIRE(waitpid(child, &status, 0) == child);
	REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(cpipe[1]);
	wait_none();
}

/* ---- follow fork ---- */

static void
follow_fork_parent(int use_vfork)
{
	pid_t fpid;
	int status;

	if (use_vfork)
		CHILD_REQUIRE((fpid = vfork()) != -1);
	else
		CHILD_REQUIRE((fpid = fork()) != -1);
	if (fpid == 0)
		_exit(2);
	CHILD_REQUIRE(waitpid(fpid, &status, 0) == fpid);
	CHILD_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	_exit(1);
}

/*
 * Wait for the two stops of a followed fork, in either order: the parent's
 * SIGTRAP with PL_FLAG_FORKED and the child's SIGSTOP with PL_FLAG_CHILD.
 */
static pid_t
handle_fork_events(pid_t parent, struct ptrace_lwpinfo *ppl)
{
	struct ptrace_lwpinfo pl;
	int reported[2] = {0, 0};
	pid_t child = -1, wpid;
	int i, status;

	for (i = 0; i < 2; i++) {
		wpid = wait(&status);
		REQUIRE(wpid > 0);
		REQUIRE(WIFSTOPPED(status));
		lwpinfo(wpid, &pl);
		REQUIRE((pl.pl_flags & (PL_FLAG_FORKED | PL_FLAG_CHILD)) != 0);
		REQUIRE((pl.pl_flags & (PL_FLAG_FORKED | PL_FLAG_CHILD)) !=
		    (PL_FLAG_FORKED | PL_FLAG_CHILD));
		if (pl.pl_flags & PL_FLAG_CHILD) {
			REQUIRE(wpid != parent);
			REQUIRE(WSTOPSIG(status) == SIGSTOP);
			REQUIRE(!reported[1]);
			if (child == -1)
				child = wpid;
			else
				REQUIRE(child == wpid);
			if (ppl != NULL)
				ppl[1] = pl;
			reported[1] = 1;
		} else {
			REQUIRE(wpid == parent);
			REQUIRE(WSTOPSIG(status) == SIGTRAP);
			REQUIRE(!reported[0]);
			if (child == -1)
				child = pl.pl_child_pid;
			else
				REQUIRE(child == pl.pl_child_pid);
			if (ppl != NULL)
				ppl[0] = pl;
			reported[0] = 1;
		}
	}
	return child;
}

/* Fork a PT_TRACE_ME child that will fork; follow its forks. */
static pid_t
start_follow_fork_traceme(int use_vfork)
{
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		follow_fork_parent(use_vfork);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_FOLLOW_FORK, fpid, NULL, 1) != -1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) != -1);
	return fpid;
}

static void
attach_fork_parent(int cpipe[2])
{
	pid_t fpid;

	close(cpipe[0]);
	/* Double fork to disassociate from the debugger. */
	CHILD_REQUIRE((fpid = fork()) != -1);
	if (fpid != 0)
		_exit(3);
	fpid = getpid();
	CHILD_REQUIRE(write(cpipe[1], &fpid, sizeof(fpid)) == sizeof(fpid));
	CHILD_REQUIRE(read(cpipe[1], &fpid, sizeof(fpid)) == 0);
}

/* The forking process is a grandchild the debugger attaches to. */
static pid_t
start_follow_fork_unrelated(void)
{
	pid_t fpid, target;
	int cpipe[2];

	REQUIRE(bipipe(cpipe) == 0);
	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		attach_fork_parent(cpipe);
		follow_fork_parent(0);
	}
	close(cpipe[1]);
	wait_exit(fpid, 3);
	REQUIRE(read(cpipe[0], &target, sizeof(target)) == sizeof(target));
	attach_child(target);
	REQUIRE(fbsd_ptrace(PT_FOLLOW_FORK, target, NULL, 1) != -1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, target, (void *)1, 0) != -1);
	close(cpipe[0]);
	return target;
}

enum ff_mode { FF_BOTH, FF_CHILD_DETACHED, FF_PARENT_DETACHED };

static void
follow_fork_finish(pid_t children[2], enum ff_mode mode, int unrelated)
{
	int status;

	REQUIRE(fbsd_ptrace(mode == FF_PARENT_DETACHED ? PT_DETACH : PT_CONTINUE,
	    children[0], (void *)1, 0) != -1);
	REQUIRE(fbsd_ptrace(mode == FF_CHILD_DETACHED ? PT_DETACH : PT_CONTINUE,
	    children[1], (void *)1, 0) != -1);
	switch (mode) {
	case FF_BOTH:
		/* The parent waits for its child, so the child exits first. */
		REQUIRE(wait(&status) == children[1]);
		REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
		REQUIRE(wait(&status) == children[0]);
		REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		break;
	case FF_CHILD_DETACHED:
		REQUIRE(wait(&status) == children[0]);
		REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		break;
	case FF_PARENT_DETACHED:
		REQUIRE(wait(&status) == children[1]);
		REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
		if (!unrelated) {
			/* Still our real child: its exit comes after. */
			REQUIRE(wait(&status) == children[0]);
			REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
		}
		break;
	}
	wait_none();
}

static void
follow_fork_test(enum ff_mode mode, int unrelated)
{
	pid_t children[2];

	children[0] = unrelated ? start_follow_fork_unrelated() :
	    start_follow_fork_traceme(0);
	children[1] = handle_fork_events(children[0], NULL);
	REQUIRE(children[1] > 0);
	follow_fork_finish(children, mode, unrelated);
}

static void ptrace__follow_fork_both_attached(void) { follow_fork_test(FF_BOTH, 0); }
static void ptrace__follow_fork_child_detached(void) { follow_fork_test(FF_CHILD_DETACHED, 0); }
static void ptrace__follow_fork_parent_detached(void) { follow_fork_test(FF_PARENT_DETACHED, 0); }
static void ptrace__follow_fork_both_attached_unrelated_debugger(void) { follow_fork_test(FF_BOTH, 1); }
static void ptrace__follow_fork_child_detached_unrelated_debugger(void) { follow_fork_test(FF_CHILD_DETACHED, 1); }
static void ptrace__follow_fork_parent_detached_unrelated_debugger(void) { follow_fork_test(FF_PARENT_DETACHED, 1); }

static void
new_child_syscall_code(int use_vfork)
{
	struct ptrace_lwpinfo pl[2];
	pid_t children[2];

	children[0] = start_follow_fork_traceme(use_vfork);
	children[1] = handle_fork_events(children[0], pl);
	REQUIRE(children[1] > 0);
	REQUIRE((pl[0].pl_flags & PL_FLAG_SCX) != 0);
	REQUIRE((pl[1].pl_flags & PL_FLAG_SCX) != 0);
	if (use_vfork)
		REQUIRE(pl[0].pl_syscall_code == SYS_vfork ||
		    pl[0].pl_syscall_code == SYS_clone);
	else
		REQUIRE(pl[0].pl_syscall_code == SYS_fork ||
		    pl[0].pl_syscall_code == SYS_clone);
	REQUIRE(pl[0].pl_syscall_code == pl[1].pl_syscall_code);
	REQUIRE(pl[0].pl_syscall_narg == pl[1].pl_syscall_narg);
	REQUIRE(pl[0].pl_child_pid == children[1]);
	follow_fork_finish(children, FF_BOTH, 0);
}

static void ptrace__new_child_pl_syscall_code_fork(void) { new_child_syscall_code(0); }
static void ptrace__new_child_pl_syscall_code_vfork(void) { new_child_syscall_code(1); }

static void *
simple_thread(void *arg)
{
	(void)arg;
	return NULL;
}

static void
ptrace__new_child_pl_syscall_code_thread(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;
	int32_t mainlwp;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		pthread_t thread;

		trace_me();
		CHILD_REQUIRE(pthread_create(&thread, NULL, simple_thread, NULL) == 0);
		CHILD_REQUIRE(pthread_join(thread, NULL) == 0);
		exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	lwpinfo(fpid, &pl);
	mainlwp = pl.pl_lwpid;
	REQUIRE(mainlwp > FBSD_PID_MAX);
	REQUIRE(fbsd_ptrace(PT_TO_SCX, fpid, (void *)1, 0) != -1);
	/* Every stop is a syscall exit, until the new thread's first. */
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE((pl.pl_flags & PL_FLAG_SCX) != 0);
		REQUIRE(pl.pl_syscall_code != 0);
		if (pl.pl_lwpid != mainlwp) {
			REQUIRE(pl.pl_syscall_code == SYS_clone);
			break;
		}
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	for (;;) {
		REQUIRE(waitpid(fpid, &status, 0) == fpid);
		if (WIFEXITED(status))
			break;
		REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE((pl.pl_flags & PL_FLAG_SCX) != 0);
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(WEXITSTATUS(status) == 1);
}

/* ---- exec ---- */

static void
ptrace__PT_TRACE_ME_exec(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		char *argv[] = {(char *)self_path, "exit7", NULL};
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) != -1);
		execv(self_path, argv);
		_exit(33);
	}
	/* No stop until the exec: then SIGTRAP with PL_FLAG_EXEC. */
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_event == PL_EVENT_SIGNAL);
	REQUIRE((pl.pl_flags & (PL_FLAG_EXEC | PL_FLAG_SCX)) == (PL_FLAG_EXEC | PL_FLAG_SCX));
	REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
	REQUIRE(pl.pl_syscall_code == SYS_execve);
	REQUIRE(pl.pl_syscall_narg == 3);
	REQUIRE(fbsd_ptrace(PT_GETREGS, fpid, &r, 0) == 0);
	REQUIRE(r.r_cs == 0x33 && r.r_trapno == 0 && r.r_err == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) != -1);
	wait_exit(fpid, 7);
	wait_none();
}

/* ---- signals ---- */

static volatile sig_atomic_t got_usr1, got_usr2;

static void usr1_exit2(int sig) { (void)sig; _exit(2); }
static void usr1_count(int sig) { (void)sig; got_usr1++; }
static void usr2_count(int sig) { (void)sig; got_usr2++; }

static void
ptrace__PT_CONTINUE_with_signal(void)
{
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		signal(SIGUSR1, usr1_exit2);
		trace_me();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	/* The debugger injects SIGUSR1: the handler runs, no new stop. */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, SIGUSR1) == 0);
	wait_exit(fpid, 2);
	wait_none();
}

static void
ptrace__PT_CONTINUE_with_signal_system_call_entry(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		signal(SIGUSR1, usr1_exit2);
		trace_me();
		syscall(SYS_getpid);
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_TO_SCE, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE(pl.pl_flags & PL_FLAG_SCE);
		if (pl.pl_syscall_code == SYS_getpid)
			break;
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	/* A signal passed at a syscall stop is delivered (fixed FreeBSD). */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, SIGUSR1) == 0);
	for (;;) {
		REQUIRE(waitpid(fpid, &status, 0) == fpid);
		if (WIFEXITED(status))
			break;
		REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE(pl.pl_flags & (PL_FLAG_SCE | PL_FLAG_SCX));
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(WEXITSTATUS(status) == 2);
}

static void
ptrace__PT_CONTINUE_with_signal_system_call_entry_and_exit(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		signal(SIGUSR1, usr1_count);
		signal(SIGUSR2, usr2_count);
		trace_me();
		syscall(SYS_getpid);
		_exit(got_usr1 == 1 && got_usr2 == 1 ? 1 : 3);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_SYSCALL, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		if ((pl.pl_flags & PL_FLAG_SCE) && pl.pl_syscall_code == SYS_getpid)
			break;
		REQUIRE(fbsd_ptrace(PT_SYSCALL, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(fbsd_ptrace(PT_SYSCALL, fpid, (void *)1, SIGUSR1) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SCX);
	REQUIRE(pl.pl_syscall_code == SYS_getpid);
	REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, SIGUSR2) == 0);
	for (;;) {
		REQUIRE(waitpid(fpid, &status, 0) == fpid);
		if (WIFEXITED(status))
			break;
		REQUIRE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE(pl.pl_flags & (PL_FLAG_SCE | PL_FLAG_SCX));
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(WEXITSTATUS(status) == 1);
}

/* A signal stop: the debugger sees it (PL_FLAG_SI) and may discard it. */
static void
ptrace__PT_CONTINUE_discard_signal(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) != -1);
		kill(getpid(), SIGUSR1);	/* default action: terminate */
		_exit(1);
	}
	wait_stop(fpid, SIGUSR1);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_event == PL_EVENT_SIGNAL);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_signo == SIGUSR1);
	REQUIRE(pl.pl_siginfo.fsi_pid == fpid);
	REQUIRE(pl.pl_child_pid == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* The debugger replaces the reported signal with another one. */
static void
ptrace__PT_CONTINUE_substitute_signal(void)
{
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		signal(SIGUSR2, usr2_count);
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) != -1);
		kill(getpid(), SIGUSR1);
		_exit(got_usr2 == 1 ? 4 : 5);
	}
	wait_stop(fpid, SIGUSR1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, SIGUSR2) == 0);
	REQUIRE(waitpid(fpid, &status, 0) == fpid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 4);
}

/* A signal the debugger passes back unchanged kills with its default. */
static void
ptrace__PT_CONTINUE_same_signal(void)
{
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) != -1);
		kill(getpid(), SIGUSR1);
		_exit(1);
	}
	wait_stop(fpid, SIGUSR1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, SIGUSR1) == 0);
	REQUIRE(waitpid(fpid, &status, 0) == fpid);
	REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
}

/* kill(SIGKILL) of a traced process is a stop the debugger can cancel. */
static void
ptrace__SIGKILL_stop_discarded(void)
{
	pid_t fpid;
	int cpipe[2];
	char c;

	REQUIRE(pipe(cpipe) == 0);
	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		close(cpipe[1]);
		trace_me();
		while (read(cpipe[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(1);
	}
	close(cpipe[0]);
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	REQUIRE(kill(fpid, SIGKILL) == 0);
	wait_stop(fpid, SIGKILL);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	close(cpipe[1]);
	wait_exit(fpid, 1);
}

static void
ptrace__PT_LWPINFO_stale_siginfo(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		syscall(SYS_getpid);
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_signo == SIGSTOP);
	/* Short buffers: PL_FLAG_SI needs the whole siginfo. */
	memset(&pl, 0, sizeof(pl));
	REQUIRE(fbsd_ptrace(PT_LWPINFO, fpid, &pl, 127) != -1);
	REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
	REQUIRE(pl.pl_flags == 0 && pl.pl_event == PL_EVENT_SIGNAL);
	memset(&pl, 0, sizeof(pl));
	REQUIRE(fbsd_ptrace(PT_LWPINFO, fpid, &pl, 128) != -1);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(fbsd_ptrace(PT_LWPINFO, fpid, &pl, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_LWPINFO, fpid, &pl, 161) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_TO_SCE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SCE);
	REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
	REQUIRE(pl.pl_siginfo.fsi_signo == 0);
	REQUIRE(pl.pl_child_pid == 0);
	REQUIRE(fbsd_ptrace(PT_KILL, fpid, NULL, 0) == 0);
	{
		int status;
		REQUIRE(waitpid(fpid, &status, 0) == fpid);
		REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
}

/* ---- breakpoints, PT_KILL, stepping ---- */

extern char bp_after[], step_start[], step_after_nop[], step_after_mov[],
    step_after_syscall[];
__asm__(
    ".text\n"
    ".globl do_breakpoint\n"
    "do_breakpoint:\n"
    "	int3\n"
    ".globl bp_after\n"
    "bp_after:\n"
    "	ret\n"
    ".globl do_steps\n"
    "do_steps:\n"
    "	int3\n"
    ".globl step_start\n"
    "step_start:\n"
    "	nop\n"
    ".globl step_after_nop\n"
    "step_after_nop:\n"
    "	mov $39, %eax\n"
    ".globl step_after_mov\n"
    "step_after_mov:\n"
    "	syscall\n"
    ".globl step_after_syscall\n"
    "step_after_syscall:\n"
    "	nop\n"
    "	ret\n");
void do_breakpoint(void);
void do_steps(void);

static void
get_regs(pid_t pid, struct reg *r)
{
	memset(r, 0xa5, sizeof(*r));
	REQUIRE(fbsd_ptrace(PT_GETREGS, pid, r, 0) == 0);
}

static void
ptrace__PT_KILL_breakpoint(void)
{
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		do_breakpoint();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	REQUIRE(fbsd_ptrace(PT_KILL, fpid, NULL, 0) == 0);
	REQUIRE(waitpid(fpid, &status, 0) == fpid);
	REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	wait_none();
}

static void
ptrace__PT_KILL_system_call(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		syscall(SYS_getpid);
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_TO_SCE, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE(pl.pl_flags & PL_FLAG_SCE);
		if (pl.pl_syscall_code == SYS_getpid)
			break;
		REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(fbsd_ptrace(PT_KILL, fpid, NULL, 0) == 0);
	REQUIRE(waitpid(fpid, &status, 0) == fpid);
	REQUIRE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	wait_none();
}

static void
ptrace__breakpoint_siginfo(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		do_breakpoint();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_event == PL_EVENT_SIGNAL);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_signo == SIGTRAP);
	REQUIRE(pl.pl_siginfo.fsi_code == 1 /* TRAP_BRKPT */);
	REQUIRE(pl.pl_siginfo.fsi_trapno == 3);
	get_regs(fpid, &r);
	/* amd64: rip is after the int3, no adjustment. */
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)bp_after);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

static void
step_to(pid_t fpid, char *where)
{
	struct ptrace_lwpinfo pl;
	struct reg r;

	REQUIRE(fbsd_ptrace(PT_STEP, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_code == 2 /* TRAP_TRACE */);
	get_regs(fpid, &r);
	if (r.r_rip != (int64_t)(uintptr_t)where)
		fprintf(stderr, "rip %#lx, want %p\n", (long)r.r_rip, where);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)where);
	/* Stepping is one-shot: the trap handler cleared PSL_T. */
	REQUIRE((r.r_rflags & 0x100) == 0);
}

static void
ptrace__step_siginfo(void)
{
	struct reg r;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		do_steps();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	get_regs(fpid, &r);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)step_start);
	step_to(fpid, step_after_nop);
	step_to(fpid, step_after_mov);
	/* Stepping a syscall ends after it, with its result in rax. */
	step_to(fpid, step_after_syscall);
	get_regs(fpid, &r);
	REQUIRE(r.r_rax == fpid);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* Stepping a syscall with syscall-exit tracing: SCX stop, then the trap. */
static void
ptrace__PT_STEP_system_call_exit(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;
	int status;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		do_steps();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	/* Trace syscall exits up to the breakpoint before the steps. */
	REQUIRE(fbsd_ptrace(PT_TO_SCX, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		if (pl.pl_flags & PL_FLAG_SI)
			break;
		REQUIRE(pl.pl_flags & PL_FLAG_SCX);
		REQUIRE(fbsd_ptrace(PT_TO_SCX, fpid, (void *)1, 0) == 0);
	}
	REQUIRE(pl.pl_siginfo.fsi_code == 1 /* TRAP_BRKPT */);
	step_to(fpid, step_after_nop);
	step_to(fpid, step_after_mov);
	REQUIRE(fbsd_ptrace(PT_STEP, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SCX);
	REQUIRE(pl.pl_syscall_code == SYS_getpid);
	REQUIRE(pl.pl_syscall_narg == 0);
	REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
	get_regs(fpid, &r);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)step_after_syscall);
	REQUIRE(r.r_rax == fpid);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_code == 2 /* TRAP_TRACE */);
	get_regs(fpid, &r);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)step_after_syscall);
	/* p_stops is sticky: exit_group does not return, so no more stops. */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	REQUIRE(waitpid(fpid, &status, 0) == fpid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

/* PT_STEP with a signal: the handler runs unstepped, the step completes
 * after sigreturn. */
static void
ptrace__PT_STEP_with_signal(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		signal(SIGUSR1, usr1_count);
		trace_me();
		do_steps();
		_exit(got_usr1 == 1 ? 1 : 3);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	REQUIRE(fbsd_ptrace(PT_STEP, fpid, (void *)1, SIGUSR1) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_code == 2 /* TRAP_TRACE */);
	get_regs(fpid, &r);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)step_after_nop);
	errno = 0;
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (void *)&got_usr1, 0) == 1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* ---- syscall stops ---- */

static void
ptrace__syscall_entry_exit(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;
	int sce = 0;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		write(-1, "x", 1);
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_SYSCALL, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		REQUIRE((pl.pl_flags & PL_FLAG_SI) == 0);
		if (pl.pl_flags & PL_FLAG_SCE) {
			REQUIRE((pl.pl_flags & PL_FLAG_SCX) == 0);
			if (pl.pl_syscall_code == SYS_write) {
				REQUIRE(pl.pl_syscall_narg == 3);
				get_regs(fpid, &r);
				REQUIRE(r.r_rdi == -1 && r.r_rdx == 1);
				sce = 1;
			}
		} else {
			REQUIRE(pl.pl_flags & PL_FLAG_SCX);
			if (sce) {
				REQUIRE(pl.pl_syscall_code == SYS_write);
				REQUIRE(pl.pl_syscall_narg == 3);
				get_regs(fpid, &r);
				REQUIRE(r.r_rax == -EBADF);
				break;
			}
		}
		REQUIRE(fbsd_ptrace(PT_SYSCALL, fpid, (void *)1, 0) == 0);
	}
	/* PT_CONTINUE does not clear the sticky p_stops: exit_group still
	 * stops at its entry. */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SCE);
	REQUIRE(pl.pl_syscall_code == SYS_exit_group);
	REQUIRE(pl.pl_syscall_narg == 1);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* A debugger rewrites a syscall at its entry stop (TDB_USERWR refetch). */
static void
ptrace__PT_SETREGS_system_call_entry(void)
{
	struct ptrace_lwpinfo pl;
	struct reg r;
	pid_t fpid;
	long got;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		got = syscall(SYS_getpid);
		_exit(got == getppid() ? 1 : 3);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_TO_SCE, fpid, (void *)1, 0) == 0);
	for (;;) {
		wait_stop(fpid, SIGTRAP);
		lwpinfo(fpid, &pl);
		if (pl.pl_syscall_code == SYS_getpid)
			break;
		REQUIRE(fbsd_ptrace(PT_TO_SCE, fpid, (void *)1, 0) == 0);
	}
	get_regs(fpid, &r);
	r.r_rax = SYS_getppid;
	REQUIRE(fbsd_ptrace(PT_SETREGS, fpid, &r, 0) == 0);
	/* Privileged rflags bits and cs cannot change. */
	r.r_rflags ^= 0x200;
	REQUIRE(fbsd_ptrace(PT_SETREGS, fpid, &r, 0) == -1 && errno == EINVAL);
	r.r_rflags ^= 0x200;
	r.r_cs = 0x30;
	REQUIRE(fbsd_ptrace(PT_SETREGS, fpid, &r, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_TO_SCX, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SCX);
	REQUIRE(pl.pl_syscall_code == SYS_getppid);
	get_regs(fpid, &r);
	REQUIRE(r.r_rax == getpid());
	REQUIRE(fbsd_ptrace(PT_DETACH, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* ---- memory ---- */

static volatile int32_t data_words[2] = {0x11223344, 0x55};
#define data_word data_words[0]
static char io_buf[64] = "the quick brown fox jumps over the lazy dog";

__attribute__((noinline)) static int
victim(void)
{
	return data_word == 0x55667788 ? 7 : 8;
}

static void
ptrace__PT_READ_D_PT_WRITE_D(void)
{
	pid_t fpid;
	int32_t expect;
	long v;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		_exit(victim());
	}
	wait_stop(fpid, SIGSTOP);
	errno = 0;
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (void *)&data_word, 0) == 0x11223344);
	/* Any alignment: the same bytes as in our (forked) copy. */
	memcpy(&expect, (char *)data_words + 1, 4);
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (char *)&data_word + 1, 0) == expect);
	/* A value of -1 is not an error. */
	REQUIRE(fbsd_ptrace(PT_WRITE_D, fpid, (void *)&data_word, -1) == 0);
	errno = 0;
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (void *)&data_word, 0) == -1 && errno == 0);
	REQUIRE(fbsd_ptrace(PT_WRITE_D, fpid, (void *)&data_word, 0x55667788) == 0);
	/* Our copy is untouched. */
	REQUIRE(data_word == 0x11223344);
	/* Unmapped memory: ENOMEM (the seed). */
	v = fbsd_ptrace(PT_READ_D, fpid, (void *)8, 0);
	REQUIRE(v == -1 && errno == ENOMEM);
	REQUIRE(fbsd_ptrace(PT_WRITE_I, fpid, (void *)8, 0) == -1 && errno == ENOMEM);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 7);
}

static void
ptrace__PT_IO_breakpoint_in_text(void)
{
	struct ptrace_io_desc piod;
	struct ptrace_lwpinfo pl;
	struct reg r;
	unsigned char orig, bp = 0xcc;
	char buf[64];
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		_exit(victim() + 10 * (io_buf[0] == 'T'));
	}
	wait_stop(fpid, SIGSTOP);
	/* Read the start of victim() and plant an int3 in read-only text. */
	piod = (struct ptrace_io_desc){PIOD_READ_I, (uintptr_t)victim, (uintptr_t)&orig, 1};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == 0);
	REQUIRE(piod.piod_len == 1);
	REQUIRE(orig == *(unsigned char *)victim);
	piod = (struct ptrace_io_desc){PIOD_WRITE_I, (uintptr_t)victim, (uintptr_t)&bp, 1};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == 0);
	REQUIRE(piod.piod_len == 1);
	/* Data: read a string, write a byte. */
	memset(buf, 0, sizeof(buf));
	piod = (struct ptrace_io_desc){PIOD_READ_D, (uintptr_t)io_buf, (uintptr_t)buf, sizeof(io_buf)};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == 0);
	REQUIRE(piod.piod_len == sizeof(io_buf));
	REQUIRE(strcmp(buf, io_buf) == 0);
	buf[0] = 'T';
	piod = (struct ptrace_io_desc){PIOD_WRITE_D, (uintptr_t)io_buf, (uintptr_t)buf, 1};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == 0);
	/* Bad op, unmapped memory. */
	piod = (struct ptrace_io_desc){5, (uintptr_t)io_buf, (uintptr_t)buf, 1};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == -1 && errno == EINVAL);
	piod = (struct ptrace_io_desc){PIOD_READ_D, 8, (uintptr_t)buf, 4};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == -1 && errno == EFAULT);
	REQUIRE(fbsd_ptrace(PT_IO, fpid, (void *)8, 0) == -1 && errno == EFAULT);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_siginfo.fsi_code == 1 /* TRAP_BRKPT */);
	get_regs(fpid, &r);
	REQUIRE(r.r_rip == (int64_t)(uintptr_t)victim + 1);
	/* Restore the byte and back up the pc. */
	piod = (struct ptrace_io_desc){PIOD_WRITE_I, (uintptr_t)victim, (uintptr_t)&orig, 1};
	REQUIRE(fbsd_ptrace(PT_IO, fpid, &piod, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_WRITE_D, fpid, (void *)&data_word, 0x55667788) == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)(uintptr_t)victim, 0) == 0);
	wait_exit(fpid, 17);
}

static void
ptrace__PT_VM_ENTRY(void)
{
	struct ptrace_vm_entry pve;
	char path[256];
	pid_t fpid;
	int found = 0, n = 0, ts;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	ts = fbsd_ptrace(PT_VM_TIMESTAMP, fpid, NULL, 0);
	memset(&pve, 0, sizeof(pve));
	for (;;) {
		pve.pve_path = path;
		pve.pve_pathlen = sizeof(path);
		if (fbsd_ptrace(PT_VM_ENTRY, fpid, &pve, 0) == -1) {
			REQUIRE(errno == ENOENT);
			break;
		}
		n++;
		REQUIRE(pve.pve_entry == n);
		REQUIRE(pve.pve_timestamp == ts);
		REQUIRE(pve.pve_start < pve.pve_end);
		if (pve.pve_start <= (uintptr_t)victim && (uintptr_t)victim <= pve.pve_end) {
			REQUIRE(pve.pve_prot & 4 /* VM_PROT_EXECUTE */);
			REQUIRE(pve.pve_pathlen == strlen(self_path) + 1);
			REQUIRE(strcmp(path, self_path) == 0);
			REQUIRE(pve.pve_fileid != -1);
			found = 1;
		}
	}
	REQUIRE(found && n >= 3);
	/* Past the end: EINVAL; a short path buffer: ENAMETOOLONG. */
	pve.pve_entry = n + 1;
	REQUIRE(fbsd_ptrace(PT_VM_ENTRY, fpid, &pve, 0) == -1 && errno == EINVAL);
	memset(&pve, 0, sizeof(pve));
	pve.pve_path = path;
	pve.pve_pathlen = 2;
	for (;;) {
		if (fbsd_ptrace(PT_VM_ENTRY, fpid, &pve, 0) == -1) {
			REQUIRE(errno == ENAMETOOLONG);
			/* Not copied out on error (the seed's sys_ptrace). */
			REQUIRE(pve.pve_pathlen == 2);
			break;
		}
		pve.pve_pathlen = 2;
	}
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* ---- debug registers ---- */

static volatile int32_t watched;

static void
ptrace__PT_SETDBREGS_watchpoint(void)
{
	struct ptrace_lwpinfo pl;
	struct dbreg d;
	pid_t fpid;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		trace_me();
		watched = 5;
		_exit(watched);
	}
	wait_stop(fpid, SIGSTOP);
	memset(&d, 0xa5, sizeof(d));
	REQUIRE(fbsd_ptrace(PT_GETDBREGS, fpid, &d, 0) == 0);
	REQUIRE(d.dr[7] == 0 && d.dr[4] == 0 && d.dr[8] == 0);
	memset(&d, 0, sizeof(d));
	d.dr[0] = (uintptr_t)&watched;
	/* L0, RW0 = write (1), LEN0 = 4 bytes (3). */
	d.dr[7] = 1 | (1 << 16) | (3 << 18);
	REQUIRE(fbsd_ptrace(PT_SETDBREGS, fpid, &d, 0) == 0);
	/* set_dbregs validation: I/O breakpoints, kernel addresses. */
	d.dr[7] = 1 | (2 << 16);
	REQUIRE(fbsd_ptrace(PT_SETDBREGS, fpid, &d, 0) == -1 && errno == EINVAL);
	d.dr[7] = 1 | (1 << 16) | (3 << 18);
	d.dr[0] = 0x0000800000000000ULL;
	REQUIRE(fbsd_ptrace(PT_SETDBREGS, fpid, &d, 0) == -1 && errno == EINVAL);
	d.dr[0] = (uintptr_t)&watched;
	d.dr[6] = 1ULL << 32;
	REQUIRE(fbsd_ptrace(PT_SETDBREGS, fpid, &d, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_GETDBREGS, fpid, &d, 0) == 0);
	REQUIRE(d.dr[0] == (uintptr_t)&watched);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGTRAP);
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_flags & PL_FLAG_SI);
	REQUIRE(pl.pl_siginfo.fsi_code == 4 /* TRAP_HWBKPT */);
	errno = 0;
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (void *)&watched, 0) == 5);
	memset(&d, 0, sizeof(d));
	REQUIRE(fbsd_ptrace(PT_SETDBREGS, fpid, &d, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 5);
}

/* ---- threads ---- */

static int thr_pipe[2];
static volatile int thr_done, thr_started;

static void *
blocked_thread(void *arg)
{
	char c;

	(void)arg;
	__atomic_add_fetch(&thr_started, 1, __ATOMIC_SEQ_CST);
	CHILD_REQUIRE(read(thr_pipe[0], &c, 1) == 1);
	thr_done++;
	return NULL;
}

static void
ptrace__PT_GETLWPLIST_threads(void)
{
	struct ptrace_lwpinfo pl;
	int32_t lwps[8];
	pid_t fpid;
	int i, nsig = 0;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		pthread_t t[2];

		CHILD_REQUIRE(pipe(thr_pipe) == 0);
		CHILD_REQUIRE(pthread_create(&t[0], NULL, blocked_thread, NULL) == 0);
		CHILD_REQUIRE(pthread_create(&t[1], NULL, blocked_thread, NULL) == 0);
		/* Let both threads block in read(). */
		while (thr_started != 2)
			sched_yield();
		for (i = 0; i < 10; i++)
			sched_yield();
		trace_me();
		CHILD_REQUIRE(write(thr_pipe[1], "ab", 2) == 2);
		CHILD_REQUIRE(pthread_join(t[0], NULL) == 0);
		CHILD_REQUIRE(pthread_join(t[1], NULL) == 0);
		_exit(thr_done == 2 ? 1 : 3);
	}
	wait_stop(fpid, SIGSTOP);
	REQUIRE(fbsd_ptrace(PT_GETNUMLWPS, fpid, NULL, 0) == 3);
	memset(lwps, 0, sizeof(lwps));
	REQUIRE(fbsd_ptrace(PT_GETLWPLIST, fpid, lwps, 8) == 3);
	REQUIRE(fbsd_ptrace(PT_GETLWPLIST, fpid, lwps + 4, 1) == 1);
	REQUIRE(lwps[4] == lwps[0]);
	REQUIRE(fbsd_ptrace(PT_GETLWPLIST, fpid, lwps, 0) == -1 && errno == EINVAL);
	for (i = 0; i < 3; i++) {
		REQUIRE(lwps[i] > FBSD_PID_MAX);
		/* A thread id selects that thread. */
		memset(&pl, 0, sizeof(pl));
		REQUIRE(fbsd_ptrace(PT_LWPINFO, lwps[i], &pl, sizeof(pl)) == 0);
		REQUIRE(pl.pl_lwpid == lwps[i]);
		if (pl.pl_event == PL_EVENT_SIGNAL) {
			nsig++;
			REQUIRE(pl.pl_siginfo.fsi_signo == SIGSTOP);
		} else {
			REQUIRE(pl.pl_event == PL_EVENT_NONE);
			REQUIRE(pl.pl_flags == PL_FLAG_SCE);	/* blocked in read */
			REQUIRE(pl.pl_syscall_code == SYS_read);
		}
	}
	REQUIRE(nsig == 1);
	/* The pid selects the thread that reported the stop. */
	lwpinfo(fpid, &pl);
	REQUIRE(pl.pl_event == PL_EVENT_SIGNAL);
	REQUIRE(fbsd_ptrace(PT_LWPINFO, FBSD_PID_MAX + 99999, &pl, sizeof(pl)) == -1 &&
	    errno == ESRCH);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

static void
ptrace__PT_SUSPEND_thread(void)
{
	struct ptrace_lwpinfo pl;
	int32_t lwps[4], other = 0;
	pid_t fpid;
	int i;

	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		pthread_t t;

		CHILD_REQUIRE(pipe(thr_pipe) == 0);
		CHILD_REQUIRE(pthread_create(&t, NULL, blocked_thread, NULL) == 0);
		trace_me();
		CHILD_REQUIRE(write(thr_pipe[1], "a", 1) == 1);
		for (i = 0; i < 200; i++)
			sched_yield();
		/* The suspended thread must not have run. */
		kill(getpid(), SIGSTOP);
		while (!thr_done)
			sched_yield();
		CHILD_REQUIRE(pthread_join(t, NULL) == 0);
		_exit(1);
	}
	wait_stop(fpid, SIGSTOP);
	lwpinfo(fpid, &pl);
	REQUIRE(fbsd_ptrace(PT_GETLWPLIST, fpid, lwps, 4) == 2);
	for (i = 0; i < 2; i++)
		if (lwps[i] != pl.pl_lwpid)
			other = lwps[i];
	REQUIRE(other != 0);
	REQUIRE(fbsd_ptrace(PT_SUSPEND, other, NULL, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_stop(fpid, SIGSTOP);
	errno = 0;
	REQUIRE(fbsd_ptrace(PT_READ_D, fpid, (void *)&thr_done, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_RESUME, other, NULL, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	wait_exit(fpid, 1);
}

/* ---- errors seen by a guest debugger ---- */

static void
ptrace__errors(void)
{
	struct ptrace_lwpinfo pl;
	pid_t fpid, other;
	int cpipe[2];
	char c;

	REQUIRE(fbsd_ptrace(PT_ATTACH, getpid(), NULL, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, 99998, (void *)1, 0) == -1 && errno == ESRCH);
	REQUIRE(fbsd_ptrace(PT_LWPINFO, 123456, &pl, sizeof(pl)) == -1 && errno == ESRCH);
	/* Copy-in happens before the lookup: EFAULT beats ESRCH. */
	REQUIRE(fbsd_ptrace(PT_SETREGS, 99998, (void *)8, 0) == -1 && errno == EFAULT);
	REQUIRE(pipe(cpipe) == 0);
	REQUIRE((fpid = fork()) != -1);
	if (fpid == 0) {
		close(cpipe[1]);
		CHILD_REQUIRE(read(cpipe[0], &c, 1) == 0);
		_exit(1);
	}
	close(cpipe[0]);
	/* Not traced: EPERM, even for an unknown request. */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == -1 && errno == EPERM);
	REQUIRE(fbsd_ptrace(3, fpid, NULL, 0) == -1 && errno == EPERM);
	attach_child(fpid);
	/* Already traced. */
	REQUIRE(fbsd_ptrace(PT_ATTACH, fpid, NULL, 0) == -1 && errno == EBUSY);
	/* Bad signal numbers; unknown requests after the checks: EINVAL. */
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, -1) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 129) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_DETACH, fpid, (void *)1, 200) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(3, fpid, NULL, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_FIRSTMACH + 40, fpid, NULL, 0) == -1 && errno == EINVAL);
	REQUIRE(fbsd_ptrace(PT_CONTINUE, fpid, (void *)1, 0) == 0);
	/* Not stopped. */
	REQUIRE(fbsd_ptrace(PT_GETNUMLWPS, fpid, NULL, 0) == -1 && errno == EBUSY);
	/* Traced by someone else: a second debugger gets EBUSY. */
	REQUIRE((other = fork()) != -1);
	if (other == 0) {
		CHILD_REQUIRE(fbsd_ptrace(PT_ATTACH, fpid, NULL, 0) == -1 && errno == EBUSY);
		CHILD_REQUIRE(fbsd_ptrace(PT_GETNUMLWPS, fpid, NULL, 0) == -1 && errno == EBUSY);
		/* PT_TRACE_ME twice. */
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) == 0);
		CHILD_REQUIRE(fbsd_ptrace(PT_TRACE_ME, 0, NULL, 0) == -1 && errno == EBUSY);
		_exit(0);
	}
	wait_exit(other, 0);
	REQUIRE(kill(fpid, SIGUSR2) == 0);
	wait_stop(fpid, SIGUSR2);
	REQUIRE(fbsd_ptrace(PT_DETACH, fpid, (void *)1, 0) == 0);
	REQUIRE(fbsd_ptrace(PT_GETNUMLWPS, fpid, NULL, 0) == -1 && errno == EPERM);
	close(cpipe[1]);
	wait_exit(fpid, 1);
	wait_none();
}

struct test {
	const char *name;
	void (*fn)(void);
};

#define T(n) {#n, n}
static const struct test tests[] = {
	T(ptrace__parent_wait_after_trace_me),
	T(ptrace__parent_wait_after_attach),
	T(ptrace__parent_sees_exit_after_child_debugger),
	T(ptrace__parent_sees_exit_after_unrelated_debugger),
	T(ptrace__getppid),
	T(ptrace__debugger_exits_without_detach),
	T(ptrace__follow_fork_both_attached),
	T(ptrace__follow_fork_child_detached),
	T(ptrace__follow_fork_parent_detached),
	T(ptrace__follow_fork_both_attached_unrelated_debugger),
	T(ptrace__follow_fork_child_detached_unrelated_debugger),
	T(ptrace__follow_fork_parent_detached_unrelated_debugger),
	T(ptrace__new_child_pl_syscall_code_fork),
	T(ptrace__new_child_pl_syscall_code_vfork),
	T(ptrace__new_child_pl_syscall_code_thread),
	T(ptrace__PT_TRACE_ME_exec),
	T(ptrace__PT_CONTINUE_with_signal),
	T(ptrace__PT_CONTINUE_with_signal_system_call_entry),
	T(ptrace__PT_CONTINUE_with_signal_system_call_entry_and_exit),
	T(ptrace__PT_CONTINUE_discard_signal),
	T(ptrace__PT_CONTINUE_substitute_signal),
	T(ptrace__PT_CONTINUE_same_signal),
	T(ptrace__SIGKILL_stop_discarded),
	T(ptrace__PT_LWPINFO_stale_siginfo),
	T(ptrace__PT_KILL_breakpoint),
	T(ptrace__PT_KILL_system_call),
	T(ptrace__breakpoint_siginfo),
	T(ptrace__step_siginfo),
	T(ptrace__PT_STEP_system_call_exit),
	T(ptrace__PT_STEP_with_signal),
	T(ptrace__syscall_entry_exit),
	T(ptrace__PT_SETREGS_system_call_entry),
	T(ptrace__PT_READ_D_PT_WRITE_D),
	T(ptrace__PT_IO_breakpoint_in_text),
	T(ptrace__PT_VM_ENTRY),
	T(ptrace__PT_SETDBREGS_watchpoint),
	T(ptrace__PT_GETLWPLIST_threads),
	T(ptrace__PT_SUSPEND_thread),
	T(ptrace__errors),
};

int
main(int argc, char **argv)
{
	size_t i;

	/* The executable's canonical path, as the vm map names it (argv[0]
	 * may be relative). */
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	self_path = argv[0];
	if (n > 0) {
		exe[n] = 0;
		self_path = exe;
	}
	if (argc == 2 && strcmp(argv[1], "exit7") == 0)
		return 7;
	if (argc == 2 && strcmp(argv[1], "forkexecthreads") == 0) {
		/* A recording target (kernel/ptrace_record_test.go). */
		pthread_t th;
		pid_t c;
		int st;

		if (pthread_create(&th, NULL, simple_thread, NULL) != 0 ||
		    pthread_join(th, NULL) != 0)
			return 1;
		if ((c = fork()) == 0) {
			char *a[] = {(char *)self_path, "exit7", NULL};
			execv(self_path, a);
			_exit(33);
		}
		if (c == -1 || waitpid(c, &st, 0) != c)
			return 1;
		return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: ptrace_test NAME|list\n");
		return 2;
	}
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(argv[1], tests[i].name) == 0) {
			cur_test = tests[i].name;
			tests[i].fn();
			printf("ok %s\n", cur_test);
			return 0;
		}
	}
	fprintf(stderr, "unknown test %s\n", argv[1]);
	return 2;
}
