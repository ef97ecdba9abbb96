// sysio: the Linux syscalls real programs lean on beyond plain file I/O:
// poll/ppoll/select/pselect6 readiness and timeouts on pipes, AF_UNIX
// socketpairs (stream and datagram), sendfile, copy_file_range,
// close_range, statfs/fstatfs, utimensat, chown to oneself, process groups
// and sessions, getgroups, getpriority, rt_sigtimedwait, times/getrusage
// and /proc/self/fd. Output is deterministic.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s (errno %d)\n", __FILE__, __LINE__, #c, errno); exit(1); } } while (0)

static void test_poll(void) {
	int p[2];
	CHECK(pipe(p) == 0);
	struct pollfd fds[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	int n = poll(fds, 2, 0);
	printf("poll empty: n=%d in=%#x out=%#x\n", n, fds[0].revents, fds[1].revents);
	n = poll(fds, 1, 30);
	printf("poll timeout: n=%d\n", n);
	CHECK(write(p[1], "x", 1) == 1);
	n = poll(fds, 1, -1);
	printf("poll data: n=%d in=%#x\n", n, fds[0].revents);
	struct timespec ts = {0, 20 * 1000 * 1000};
	sigset_t none;
	sigemptyset(&none);
	n = ppoll(fds, 1, &ts, &none);
	printf("ppoll data: n=%d\n", n);

	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {1, 0};
	n = select(p[1] + 1, &r, &w, NULL, &tv);
	printf("select: n=%d r=%d w=%d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	char c;
	CHECK(read(p[0], &c, 1) == 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ts.tv_nsec = 10 * 1000 * 1000;
	n = pselect(p[0] + 1, &r, NULL, NULL, &ts, &none);
	printf("pselect timeout: n=%d r=%d\n", n, FD_ISSET(p[0], &r));
	FD_ZERO(&r);
	FD_SET(100, &r);
	tv.tv_sec = 0;
	n = select(101, &r, NULL, NULL, &tv);
	printf("select bad fd: n=%d errno=%s\n", n, n < 0 && errno == EBADF ? "EBADF" : "?");

	// A child writes after a while; the parent blocks in poll.
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		usleep(20000);
		CHECK(write(p[1], "hello", 5) == 5);
		_exit(0);
	}
	fds[0].revents = 0;
	n = poll(fds, 1, 5000);
	char buf[16] = {0};
	CHECK(read(p[0], buf, sizeof buf) == 5);
	printf("poll wakeup: n=%d in=%#x data=%s\n", n, fds[0].revents, buf);
	CHECK(waitpid(pid, NULL, 0) == pid);
	close(p[1]);
	fds[0].revents = 0;
	n = poll(fds, 1, -1);
	printf("poll hangup: n=%d revents=%#x\n", n, fds[0].revents);
	close(p[0]);
	fds[0].fd = 77;
	n = poll(fds, 1, 0);
	printf("poll nval: n=%d revents=%#x\n", n, fds[0].revents);
}

static void test_socketpair(void) {
	int sv[2], n;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write(sv[0], "ping", 4) == 4);
	char buf[32] = {0};
	CHECK(read(sv[1], buf, sizeof buf) == 4);
	CHECK(send(sv[1], "pong!", 5, 0) == 5);
	memset(buf, 0, sizeof buf);
	CHECK(recv(sv[0], buf, sizeof buf, 0) == 5);
	printf("stream: %s\n", buf);
	int type = 0;
	socklen_t len = sizeof type;
	CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len) == 0);
	printf("so_type=%d len=%d\n", type, (int)len);
	CHECK(shutdown(sv[0], SHUT_WR) == 0);
	printf("read after peer shutdown: %zd\n", read(sv[1], buf, sizeof buf));
	struct pollfd pf = {sv[1], POLLIN | POLLRDHUP, 0};
	n = poll(&pf, 1, 0);
	printf("poll after shutdown: n=%d revents=%#x\n", n, pf.revents);
	close(sv[0]);
	close(sv[1]);

	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(send(sv[0], "one", 3, 0) == 3);
	CHECK(send(sv[0], "second", 6, 0) == 6);
	memset(buf, 0, sizeof buf);
	ssize_t a = recv(sv[1], buf, 2, 0);
	printf("dgram truncated: %zd %.2s\n", a, buf);
	struct iovec iov = {buf, sizeof buf};
	struct msghdr mh = {0};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	memset(buf, 0, sizeof buf);
	a = recvmsg(sv[1], &mh, 0);
	printf("dgram recvmsg: %zd %s flags=%d\n", a, buf, mh.msg_flags);
	printf("cloexec: %d\n", fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	close(sv[0]);
	close(sv[1]);

	int notsock = open("/dev/null", O_RDONLY);
	struct sockaddr sa;
	len = sizeof sa;
	n = getpeername(notsock, &sa, &len);
	printf("getpeername on file: %d %s\n", n, errno == ENOTSOCK ? "ENOTSOCK" : "?");
	close(notsock);
}

static void test_files(void) {
	int fd = open("sysio.src", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	for (int i = 0; i < 1000; i++)
		dprintf(fd, "line %04d\n", i);
	int out = open("sysio.dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(out >= 0);
	off_t off = 100;
	ssize_t n = sendfile(out, fd, &off, 50);
	printf("sendfile: %zd off=%ld\n", n, (long)off);
	loff_t in = 0, o2 = 50;
	n = copy_file_range(fd, &in, out, &o2, 20, 0);
	printf("copy_file_range: %zd in=%ld out=%ld\n", n, (long)in, (long)o2);
	char buf[80] = {0};
	CHECK(pread(out, buf, 70, 0) == 70);
	printf("dst: [%.70s]\n", buf);

	// sendfile into a pipe, read back.
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(lseek(fd, 9990, SEEK_SET) == 9990);
	n = sendfile(p[1], fd, NULL, 100);
	memset(buf, 0, sizeof buf);
	CHECK(read(p[0], buf, sizeof buf) == n);
	printf("sendfile pipe: %zd [%s] pos=%ld\n", n, buf, (long)lseek(fd, 0, SEEK_CUR));

	struct statfs sf;
	CHECK(fstatfs(p[0], &sf) == 0);
	printf("pipefs magic: %#lx\n", (unsigned long)sf.f_type);
	CHECK(statfs(".", &sf) == 0);
	printf("statfs bsize>0: %d\n", sf.f_bsize > 0);

	struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
	CHECK(utimensat(AT_FDCWD, "sysio.dst", ts, 0) == 0);
	struct stat st;
	CHECK(stat("sysio.dst", &st) == 0);
	printf("mtime: %ld.%09ld atime: %ld\n", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long)st.st_atim.tv_sec);
	CHECK(fchown(out, getuid(), getgid()) == 0);
	CHECK(chown("sysio.dst", -1, -1) == 0);
	printf("chown self: ok\n");

	// close_range: 3 fresh descriptors above the others.
	int base = dup(0);
	int d1 = dup(0), d2 = dup(0);
	CHECK(syscall(SYS_close_range, base, d2, 4 /* CLOSE_RANGE_CLOEXEC */) == 0);
	printf("close_range cloexec: %d %d\n", fcntl(d1, F_GETFD), fcntl(d2, F_GETFD));
	CHECK(syscall(SYS_close_range, base, ~0U, 0) == 0);
	printf("close_range closed: %d %d\n", fcntl(base, F_GETFD) < 0 && errno == EBADF, fcntl(p[0], F_GETFD) < 0);
	unlink("sysio.src");
	unlink("sysio.dst");
	close(fd);
	close(out);
}

static void test_proc(void) {
	int n = getgroups(0, NULL);
	printf("getgroups>=0: %d\n", n >= 0);
	errno = 0;
	int pr = getpriority(PRIO_PROCESS, 0);
	printf("getpriority: %d errno=%d\n", pr, errno);
	CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
	printf("after setpriority: %d\n", getpriority(PRIO_PROCESS, 0));

	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		pid_t me = getpid();
		int a = setsid() == me;
		int b = getsid(0) == me, c = getpgrp() == me;
		printf("child: setsid=%d getsid=%d pgrp=%d\n", a, b, c);
		a = setsid();
		printf("child: setsid again: %d %s\n", a, errno == EPERM ? "EPERM" : "?");
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	pid = fork();
	if (pid == 0) {
		CHECK(setpgid(0, 0) == 0);
		printf("child: own group %d\n", getpgid(0) == getpid());
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	n = setpgid(0, 99998);
	printf("setpgid bad group: %d %s\n", n, errno == EPERM ? "EPERM" : "?");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct timespec ts = {0, 10 * 1000 * 1000};
	int sig = sigtimedwait(&set, NULL, &ts);
	printf("sigtimedwait timeout: %d %s\n", sig, errno == EAGAIN ? "EAGAIN" : "?");
	kill(getpid(), SIGUSR1);
	siginfo_t si;
	sig = sigtimedwait(&set, &si, &ts);
	printf("sigtimedwait: %d code=%d pid_ok=%d\n", sig, si.si_code, si.si_pid == getpid());
	pid = fork();
	if (pid == 0) {
		usleep(10000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo from child: %d pid_ok=%d\n", sig, si.si_pid == pid);
	CHECK(waitpid(pid, NULL, 0) == pid);
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	printf("mask kept: %d\n", sigismember(&cur, SIGUSR1));

	struct tms t;
	CHECK(times(&t) != (clock_t)-1);
	struct rusage ru;
	CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
	CHECK(getrusage(RUSAGE_CHILDREN, &ru) == 0);
	printf("times/getrusage: ok\n");

	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int fds = 0, has0 = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fds++;
		if (strcmp(e->d_name, "0") == 0)
			has0 = 1;
	}
	closedir(d);
	printf("/proc/self/fd: %d entries, has 0: %d\n", fds, has0);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_poll();
	test_socketpair();
	test_files();
	test_proc();
	printf("done\n");
	return 0;
}
