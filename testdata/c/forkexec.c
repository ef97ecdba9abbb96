/*
 * forkexec: fork, pipe, dup2, execve of /proc/self/exe with a mode argument,
 * waitpid with WIFEXITED/WEXITSTATUS and WIFSIGNALED/WTERMSIG (child killed
 * by SIGKILL and by SIGSEGV), getpid/getppid, a pipeline (pipe2 O_CLOEXEC) parent->child->
 * parent through stdin/stdout. Deterministic output (no pids printed).
 *
 * Modes (argv[1]): none = parent driver; "child-upper" reads stdin, writes
 * it upper-cased to stdout; "child-exit N" exits N; "child-segv" faults.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int child_upper(void)
{
	char buf[256];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (write(1, buf, (size_t)n) != n)
			return 2;
	}
	return 0;
}

static void describe(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exited status=%d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: other status %#x\n", what, st);
}

static pid_t spawn(char *const argv[], int in, int out)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (in >= 0) {
			dup2(in, 0);
			close(in);
		}
		if (out >= 0) {
			dup2(out, 1);
			close(out);
		}
		execve("/proc/self/exe", argv, environ);
		perror("execve");
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child-upper") == 0)
		return child_upper();
	if (argc > 2 && strcmp(argv[1], "child-exit") == 0)
		return atoi(argv[2]);
	if (argc > 1 && strcmp(argv[1], "child-segv") == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)0 = 1;
		return 99;
	}

	int st;
	pid_t me = getpid();

	/* 1. plain fork: child checks getppid and exits 42 */
	pid_t pid = fork();
	if (pid == 0)
		_exit(getppid() == me ? 42 : 1);
	printf("fork: waitpid matches=%d\n", waitpid(pid, &st, 0) == pid);
	describe("fork child", st);

	/* 2. pipe + dup2 + execve: parent -> upper -> parent */
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0) {
		perror("pipe");
		return 1;
	}
	char *up[] = {argv[0], "child-upper", NULL};
	pid = spawn(up, to[0], from[1]);
	close(to[0]);
	close(from[1]);
	const char msg[] = "hello through a pipe\n";
	write(to[1], msg, sizeof msg - 1);
	close(to[1]);
	char buf[128];
	size_t got = 0;
	ssize_t n;
	while ((n = read(from[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(from[0]);
	printf("exec upper: %s", buf);
	waitpid(pid, &st, 0);
	describe("exec upper", st);

	/* 3. exec'd child with an exit status */
	char *ex[] = {argv[0], "child-exit", "7", NULL};
	pid = spawn(ex, -1, -1);
	waitpid(pid, &st, 0);
	describe("exec exit 7", st);

	/* 4. child killed by SIGKILL while blocked in pause */
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	describe("paused child", st);

	/* 5. exec'd child dies of SIGSEGV */
	char *sg[] = {argv[0], "child-segv", NULL};
	pid = spawn(sg, -1, -1);
	waitpid(pid, &st, 0);
	describe("exec segv", st);

	/* 6. several children, reaped with wait(-1); sum of statuses */
	int sum = 0;
	for (int i = 1; i <= 3; i++)
		if (fork() == 0)
			_exit(i * 10);
	for (int i = 0; i < 3; i++) {
		wait(&st);
		sum += WEXITSTATUS(st);
	}
	printf("three children: status sum=%d, more=%d\n", sum, wait(&st) < 0);
	return 0;
}
