/* File locks, fadvise/readahead, statx and /proc/self/fd links, compared
 * with native: flock (shared/exclusive, non-blocking, blocking between
 * processes, attached to the open file description, released on its last
 * close), fcntl POSIX record locks (per process, split and merged ranges,
 * F_GETLK, blocking, deadlock detection, released on any close and on exit,
 * even by SIGKILL) and OFD locks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static void say(const char *fmt, ...) {
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (write(1, b, n) != n) _exit(9);
}

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case EAGAIN: return "EAGAIN";
	case EACCES: return "EACCES";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EDEADLK: return "EDEADLK";
	case ESPIPE: return "ESPIPE";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	}
	static char s[16];
	snprintf(s, sizeof s, "errno%d", e);
	return s;
}

static const char *rc(int r) { return en(r < 0 ? errno : 0); }

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, 0);
}

static int lk(int fd, int cmd, int type, off_t start, off_t len) {
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, cmd, &fl);
}

static const char *tname(int t) { return t == F_RDLCK ? "RD" : t == F_WRLCK ? "WR" : t == F_UNLCK ? "UN" : "?"; }

/* getlk prints what F_GETLK (or F_OFD_GETLK) reports; pid is shown as
 * "parent", "-1" or the raw number. */
static void getlk(const char *what, int fd, int cmd, int type, off_t start, off_t len) {
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	if (fcntl(fd, cmd, &fl) < 0) {
		say("%s: %s\n", what, en(errno));
		return;
	}
	if (fl.l_type == F_UNLCK) {
		say("%s: UN\n", what);
		return;
	}
	char pid[32];
	if (fl.l_pid == getppid()) strcpy(pid, "parent");
	else if (fl.l_pid == getpid()) strcpy(pid, "self");
	else snprintf(pid, sizeof pid, "%d", (int)fl.l_pid);
	say("%s: %s start=%lld len=%lld pid=%s\n", what, tname(fl.l_type), (long long)fl.l_start, (long long)fl.l_len, pid);
}

static void waitchild(pid_t p, const char *name) {
	int st;
	waitpid(p, &st, 0);
	if (WIFEXITED(st)) say("%s exited %d\n", name, WEXITSTATUS(st));
	else say("%s killed by %d\n", name, WTERMSIG(st));
}

static void flocks(const char *path) {
	int a = open(path, O_RDWR), b = open(path, O_RDWR);
	say("flock a EX: %s\n", rc(flock(a, LOCK_EX)));
	say("flock a EX again: %s\n", rc(flock(a, LOCK_EX)));
	say("flock b EX|NB: %s\n", rc(flock(b, LOCK_EX | LOCK_NB)));
	say("flock b SH|NB: %s\n", rc(flock(b, LOCK_SH | LOCK_NB)));
	int c = dup(a);
	close(a);
	say("after close(a), dup holds: b EX|NB: %s\n", rc(flock(b, LOCK_EX | LOCK_NB)));
	close(c);
	say("after last close: b EX|NB: %s\n", rc(flock(b, LOCK_EX | LOCK_NB)));
	say("flock b UN: %s\n", rc(flock(b, LOCK_UN)));
	a = open(path, O_RDONLY);
	say("flock a SH: %s\n", rc(flock(a, LOCK_SH)));
	say("flock b SH|NB: %s\n", rc(flock(b, LOCK_SH | LOCK_NB)));
	say("flock b EX|NB (drops b's SH): %s\n", rc(flock(b, LOCK_EX | LOCK_NB)));
	say("flock a EX|NB: %s\n", rc(flock(a, LOCK_EX | LOCK_NB)));
	say("flock bad op: %s\n", rc(flock(a, 0)));
	say("flock bad fd: %s\n", rc(flock(99, LOCK_SH)));
	close(b);

	/* a holds EX; a child shares the description, then blocks on its own. */
	int sync[2];
	pipe(sync);
	pid_t p = fork();
	if (p == 0) {
		say("child: flock inherited EX|NB: %s\n", rc(flock(a, LOCK_EX | LOCK_NB)));
		int d = open(path, O_RDONLY);
		say("child: flock own EX|NB: %s\n", rc(flock(d, LOCK_EX | LOCK_NB)));
		int w = open(path, O_RDWR);
		say("child: fcntl WR while flocked: %s\n", rc(lk(w, F_SETLK, F_WRLCK, 0, 0)));
		say("child: waiting\n");
		write(sync[1], "x", 1);
		int r = flock(d, LOCK_EX);
		say("child: flock own EX: %s\n", rc(r));
		_exit(0);
	}
	char x;
	read(sync[0], &x, 1);
	msleep(100);
	say("parent: unlocking\n");
	flock(a, LOCK_UN);
	waitchild(p, "child");
	say("parent: flock a EX|NB after child exit: %s\n", rc(flock(a, LOCK_EX | LOCK_NB)));
	close(a);
	close(sync[0]);
	close(sync[1]);
}

static void posix(const char *path) {
	int fd = open(path, O_RDWR);
	int ro = open(path, O_RDONLY);
	say("WR on O_RDONLY fd: %s\n", rc(lk(ro, F_SETLK, F_WRLCK, 0, 1)));
	say("bad type: %s\n", rc(lk(fd, F_SETLK, 7, 0, 1)));
	getlk("GETLK with UN", fd, F_GETLK, F_UNLCK, 0, 1);
	say("SETLK WR [0,100): %s\n", rc(lk(fd, F_SETLK, F_WRLCK, 0, 100)));
	say("SETLK UN [40,60): %s\n", rc(lk(fd, F_SETLK, F_UNLCK, 40, 20)));
	say("SETLK WR [300,EOF): %s\n", rc(lk(fd, F_SETLK, F_WRLCK, 300, 0)));
	getlk("own GETLK", fd, F_GETLK, F_WRLCK, 0, 10);
	int sync[2];
	pipe(sync);
	pid_t p = fork();
	if (p == 0) {
		int c = open(path, O_RDWR);
		getlk("child GETLK [0,100)", c, F_GETLK, F_WRLCK, 0, 100);
		getlk("child GETLK [40,20)", c, F_GETLK, F_WRLCK, 40, 20);
		getlk("child GETLK [50,100)", c, F_GETLK, F_WRLCK, 50, 100);
		getlk("child GETLK [1000,1)", c, F_GETLK, F_RDLCK, 1000, 1);
		getlk("child GETLK [200,-10)", c, F_GETLK, F_WRLCK, 200, -10);
		say("child SETLK [45,5): %s\n", rc(lk(c, F_SETLK, F_WRLCK, 45, 5)));
		say("child SETLK [30,20): %s\n", rc(lk(c, F_SETLK, F_WRLCK, 30, 20)));
		say("child: waiting\n");
		write(sync[1], "x", 1);
		say("child SETLKW [10,1): %s\n", rc(lk(c, F_SETLKW, F_WRLCK, 10, 1)));
		_exit(0);
	}
	char x;
	read(sync[0], &x, 1);
	msleep(100);
	/* Closing any descriptor of the file drops the process's locks. */
	int other = open(path, O_RDONLY);
	say("parent: closing another descriptor\n");
	close(other);
	waitchild(p, "child");
	getlk("parent GETLK after child", fd, F_GETLK, F_WRLCK, 0, 0);

	/* Read locks share; a write lock waits for them. */
	say("parent SETLK RD [0,10): %s\n", rc(lk(fd, F_SETLK, F_RDLCK, 0, 10)));
	p = fork();
	if (p == 0) {
		int c = open(path, O_RDWR);
		say("child SETLK RD [5,10): %s\n", rc(lk(c, F_SETLK, F_RDLCK, 5, 10)));
		say("child SETLK WR [5,10): %s\n", rc(lk(c, F_SETLK, F_WRLCK, 5, 10)));
		getlk("child GETLK WR [0,5)", c, F_GETLK, F_WRLCK, 0, 5);
		say("child SETLK WR [10,5) upgrades own RD: %s\n", rc(lk(c, F_SETLK, F_WRLCK, 10, 5)));
		_exit(0);
	}
	waitchild(p, "child");
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	/* Deadlock: parent holds 0, child holds 1 and waits for 0. */
	say("parent SETLK WR [0,1): %s\n", rc(lk(fd, F_SETLK, F_WRLCK, 0, 1)));
	p = fork();
	if (p == 0) {
		int c = open(path, O_RDWR);
		say("child SETLK WR [1,1): %s\n", rc(lk(c, F_SETLK, F_WRLCK, 1, 1)));
		write(sync[1], "x", 1);
		say("child SETLKW WR [0,1): %s\n", rc(lk(c, F_SETLKW, F_WRLCK, 0, 1)));
		_exit(0);
	}
	read(sync[0], &x, 1);
	msleep(100);
	say("parent SETLKW WR [1,1): %s\n", rc(lk(fd, F_SETLKW, F_WRLCK, 1, 1)));
	say("parent: unlocking [0,1)\n");
	lk(fd, F_SETLK, F_UNLCK, 0, 1);
	say("parent SETLKW WR [1,1) again: %s\n", rc(lk(fd, F_SETLKW, F_WRLCK, 1, 1)));
	waitchild(p, "child");
	lk(fd, F_SETLK, F_UNLCK, 0, 0);

	/* A holder that exits, and one killed by SIGKILL, releases. */
	int go[2];
	pipe(go);
	for (int kill_it = 0; kill_it < 2; kill_it++) {
		pid_t h = fork();
		if (h == 0) {
			int c = open(path, O_RDWR);
			lk(c, F_SETLK, F_WRLCK, 500, 1);
			write(sync[1], "x", 1);
			if (kill_it)
				for (;;) pause();
			read(go[0], &x, 1);
			_exit(3);
		}
		read(sync[0], &x, 1);
		pid_t w = fork();
		if (w == 0) {
			int c = open(path, O_RDWR);
			say("waiter SETLK: %s\n", rc(lk(c, F_SETLK, F_WRLCK, 500, 1)));
			write(sync[1], "x", 1);
			say("waiter SETLKW: %s\n", rc(lk(c, F_SETLKW, F_WRLCK, 500, 1)));
			_exit(0);
		}
		read(sync[0], &x, 1);
		msleep(100);
		if (kill_it)
			kill(h, SIGKILL);
		else
			write(go[1], "x", 1);
		waitchild(w, "waiter");
		waitchild(h, "holder");
	}
	getlk("parent GETLK at end", fd, F_GETLK, F_WRLCK, 0, 0);
	close(fd);
	close(ro);
	close(sync[0]);
	close(sync[1]);
}

static void ofd(const char *path) {
	int o1 = open(path, O_RDWR), o2 = open(path, O_RDWR);
	say("OFD SETLK o1 [0,10): %s\n", rc(lk(o1, F_OFD_SETLK, F_WRLCK, 0, 10)));
	say("OFD SETLK o2 [5,1): %s\n", rc(lk(o2, F_OFD_SETLK, F_WRLCK, 5, 1)));
	getlk("OFD GETLK o2", o2, F_OFD_GETLK, F_RDLCK, 0, 0);
	getlk("OFD GETLK o1", o1, F_OFD_GETLK, F_WRLCK, 0, 0);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 1, .l_pid = 5};
	say("OFD with l_pid: %s\n", rc(fcntl(o2, F_OFD_SETLK, &fl)));
	say("POSIX SETLK o2 [5,1) vs OFD: %s\n", rc(lk(o2, F_SETLK, F_WRLCK, 5, 1)));
	int d = dup(o1);
	close(o1);
	say("after close(o1), dup holds: %s\n", rc(lk(o2, F_OFD_SETLK, F_WRLCK, 5, 1)));
	close(d);
	say("after last close: %s\n", rc(lk(o2, F_OFD_SETLK, F_WRLCK, 5, 1)));
	close(o2);
}

static void advise(const char *path) {
	int fd = open(path, O_RDWR), p[2];
	pipe(p);
	int wo = open(path, O_WRONLY);
	say("fadvise SEQUENTIAL: %s\n", en(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)));
	say("fadvise DONTNEED: %s\n", en(posix_fadvise(fd, 4096, 100, POSIX_FADV_DONTNEED)));
	say("fadvise bad advice: %s\n", en(posix_fadvise(fd, 0, 0, 99)));
	say("fadvise negative len: %s\n", en(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL)));
	say("fadvise pipe: %s\n", en(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL)));
	say("fadvise bad fd: %s\n", en(posix_fadvise(99, 0, 0, POSIX_FADV_NORMAL)));
	say("readahead file: %s\n", rc(readahead(fd, 0, 8192)));
	say("readahead pipe: %s\n", rc(readahead(p[0], 0, 8192)));
	say("readahead O_WRONLY: %s\n", rc(readahead(wo, 0, 8192)));
	close(fd);
	close(wo);
	close(p[0]);
	close(p[1]);
}

struct sx_ts { int64_t sec; uint32_t nsec; int32_t pad; };
struct sx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad1;
	uint64_t ino, size, blocks, attributes_mask;
	struct sx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

static long sys_statx(int dirfd, const char *p, int flags, unsigned mask, struct sx *b) {
	return syscall(332, dirfd, p, flags, mask, b);
}

static void statxes(const char *path) {
	struct sx a, b;
	struct stat st;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	stat(path, &st);
	say("statx: %s\n", rc(sys_statx(AT_FDCWD, path, 0, 0xfff, &a)));
	say("statx mask=%#x btime=%s ino=%s dev=%s size=%llu mode=%o\n", a.mask & 0xfff,
	    (a.mask & 0x800) ? (a.btime.sec > 0 ? "set" : "zero") : "absent",
	    a.ino == st.st_ino ? "same" : "differs",
	    makedev(a.dev_major, a.dev_minor) == st.st_dev ? "same" : "differs",
	    (unsigned long long)a.size, a.mode & 07777);
	int fd = open(path, O_RDONLY);
	say("statx fd: %s\n", rc(sys_statx(fd, "", AT_EMPTY_PATH, 0xfff, &b)));
	say("statx fd btime %s, mask %s\n", a.btime.sec == b.btime.sec && a.btime.nsec == b.btime.nsec ? "same" : "differs",
	    a.mask == b.mask ? "same" : "differs");
	close(fd);
	symlink(path, "sx.link");
	memset(&b, 0, sizeof b);
	say("statx nofollow: %s\n", rc(sys_statx(AT_FDCWD, "sx.link", AT_SYMLINK_NOFOLLOW, 0xfff, &b)));
	say("statx link is %s, size %llu\n", S_ISLNK(b.mode) ? "a link" : "not a link", (unsigned long long)b.size);
	memset(&b, 0, sizeof b);
	sys_statx(AT_FDCWD, "sx.link", 0, 0xfff, &b);
	say("statx follow: ino %s\n", b.ino == st.st_ino ? "same" : "differs");
	unlink("sx.link");
	say("statx bad flags: %s\n", rc(sys_statx(AT_FDCWD, path, 0x1, 0xfff, &b)));
	say("statx missing: %s\n", rc(sys_statx(AT_FDCWD, "no-such-file", 0, 0xfff, &b)));
}

static void fdlink(int fd) {
	char t[256], p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(p, t, sizeof t - 1);
	if (n < 0) {
		say("fd %d: readlink %s\n", fd, en(errno));
		return;
	}
	t[n] = 0;
	struct stat ls, fs, ts;
	lstat(p, &ls);
	fstat(fd, &fs);
	const char *verdict = "unknown";
	unsigned long long ino;
	if (sscanf(t, "pipe:[%llu]", &ino) == 1)
		verdict = ino == fs.st_ino ? "names it" : "wrong pipe";
	else if (t[0] == '/')
		verdict = stat(t, &ts) == 0 && ts.st_ino == fs.st_ino && ts.st_dev == fs.st_dev ? "names it" : "wrong file";
	say("fd %d: link %s, lstat mode %o size %lld uid %s\n", fd, verdict, ls.st_mode & 07777, (long long)ls.st_size,
	    ls.st_uid == geteuid() ? "euid" : "other");
}

int main(void) {
	const char *path = "locks.tmp";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, "0123456789", 10);
	close(fd);
	flocks(path);
	posix(path);
	ofd(path);
	advise(path);
	statxes(path);
	for (int i = 0; i < 3; i++) fdlink(i);
	int p[2];
	pipe(p);
	fdlink(p[0]);
	fdlink(p[1]);
	fd = open(path, O_RDONLY);
	fdlink(fd);
	unlink(path);
	say("done\n");
	return 0;
}
