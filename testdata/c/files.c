/*
 * files: open/creat/write/lseek/pread/pwrite/fstat/stat/lstat/ftruncate,
 * mkdir/opendir/readdir/rename/unlink/rmdir/symlink/readlink/getcwd/chdir,
 * O_APPEND, O_EXCL errors (errno values), dup. Works inside a directory
 * named by argv[1], else $FILES_DIR, else "files.tmp" (created, removed at
 * the end). Output is deterministic: no inode numbers, times or absolute
 * paths are printed (getcwd is checked, not printed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fails;

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c)) {                                             \
			printf("FAIL line %d: %s (errno=%d)\n", __LINE__, #c, errno); \
			fails++;                                        \
		}                                                       \
	} while (0)

static int cmpstr(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void listdir(const char *path)
{
	DIR *d = opendir(path);
	char *names[32];
	int n = 0;
	struct dirent *e;
	CHECK(d != NULL);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 32)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmpstr);
	printf("ls %s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("FILES_DIR");
	char buf[256], cwd0[4096], cwd1[4096];
	struct stat st;
	ssize_t n;
	int fd;

	if (dir == NULL || *dir == 0)
		dir = "files.tmp";
	CHECK(getcwd(cwd0, sizeof cwd0) != NULL);
	umask(022);
	CHECK(mkdir(dir, 0755) == 0);
	errno = 0;
	CHECK(mkdir(dir, 0755) < 0 && errno == EEXIST);
	printf("mkdir again: errno=%s\n", errno == EEXIST ? "EEXIST" : "?");
	CHECK(chdir(dir) == 0);
	CHECK(getcwd(cwd1, sizeof cwd1) != NULL);
	CHECK(strlen(cwd1) > strlen(cwd0) && strncmp(cwd0, cwd1, strlen(cwd0)) == 0);
	printf("chdir: cwd extends old cwd=%d\n", strncmp(cwd0, cwd1, strlen(cwd0)) == 0);

	/* creat + write + lseek + read */
	fd = creat("a.txt", 0640);
	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);
	CHECK(lseek(fd, 0, SEEK_CUR) == 10);
	CHECK(lseek(fd, 100, SEEK_SET) == 100);
	CHECK(write(fd, "END", 3) == 3);
	CHECK(fstat(fd, &st) == 0);
	printf("a.txt: size=%lld mode=%o reg=%d\n", (long long)st.st_size, (unsigned)(st.st_mode & 07777),
	       S_ISREG(st.st_mode));
	close(fd);

	fd = open("a.txt", O_RDWR);
	CHECK(fd >= 0);
	n = pread(fd, buf, 5, 3);
	buf[n > 0 ? n : 0] = 0;
	printf("pread(5,@3)=%zd \"%s\" offset=%lld\n", n, buf, (long long)lseek(fd, 0, SEEK_CUR));
	CHECK(pwrite(fd, "xyz", 3, 4) == 3);
	n = read(fd, buf, 10);
	buf[n > 0 ? n : 0] = 0;
	printf("after pwrite read(10)=%zd \"%s\"\n", n, buf);
	n = pread(fd, buf, 10, 50);
	printf("hole bytes all zero=%d\n", n == 10 && memcmp(buf, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
	CHECK(lseek(fd, -3, SEEK_END) == 100);
	n = read(fd, buf, 10);
	buf[n > 0 ? n : 0] = 0;
	ssize_t eof = read(fd, buf + 8, 1);
	printf("tail read=%zd \"%s\" eof read=%zd\n", n, buf, eof);
	CHECK(ftruncate(fd, 6) == 0);
	int fd2 = dup(fd);
	CHECK(fstat(fd2, &st) == 0 && st.st_size == 6);
	printf("ftruncate: size=%lld via dup\n", (long long)st.st_size);
	close(fd2);
	close(fd);

	/* O_APPEND, O_EXCL */
	fd = open("a.txt", O_WRONLY | O_APPEND);
	CHECK(write(fd, "+app", 4) == 4);
	close(fd);
	errno = 0;
	fd = open("a.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
	printf("O_EXCL on existing: fd=%d errno=%s\n", fd, errno == EEXIST ? "EEXIST" : "?");
	errno = 0;
	fd = open("missing", O_RDONLY);
	printf("open missing: fd=%d errno=%s\n", fd, errno == ENOENT ? "ENOENT" : "?");

	CHECK(stat("a.txt", &st) == 0);
	fd = open("a.txt", O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	printf("a.txt content=\"%s\" size=%lld\n", buf, (long long)st.st_size);

	/* directories, rename, symlink */
	CHECK(mkdir("sub", 0700) == 0);
	CHECK(rename("a.txt", "sub/b.txt") == 0);
	CHECK(symlink("sub/b.txt", "link") == 0);
	n = readlink("link", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("readlink=%zd \"%s\"\n", n, buf);
	CHECK(lstat("link", &st) == 0);
	printf("lstat link: lnk=%d size=%lld\n", S_ISLNK(st.st_mode), (long long)st.st_size);
	CHECK(stat("link", &st) == 0);
	printf("stat link: reg=%d size=%lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
	CHECK(stat("sub", &st) == 0);
	printf("sub: dir=%d mode=%o\n", S_ISDIR(st.st_mode), (unsigned)(st.st_mode & 07777));
	fd = open("sub/c.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	close(fd);
	listdir(".");
	listdir("sub");
	errno = 0;
	int rr = rmdir("sub");
	printf("rmdir non-empty: %d errno=%s\n", rr, errno == ENOTEMPTY ? "ENOTEMPTY" : "?");

	/* cleanup */
	CHECK(unlink("link") == 0);
	CHECK(unlink("sub/b.txt") == 0);
	CHECK(unlink("sub/c.txt") == 0);
	CHECK(rmdir("sub") == 0);
	listdir(".");
	CHECK(chdir("..") == 0);
	CHECK(rmdir(dir) == 0);
	errno = 0;
	rr = stat(dir, &st);
	printf("stat removed dir: %d errno=%s\n", rr, errno == ENOENT ? "ENOENT" : "?");
	printf("%s (%d failures)\n", fails ? "FAIL" : "ok", fails);
	return fails ? 1 : 0;
}
