/*
 * hostile_fs: tries to reach files, the network and the host through the
 * file system. Each argument is one probe; each probe prints one line:
 *   read:PATH        open PATH read-only, print its first line or the errno
 *   write:PATH       create/truncate PATH and write "pwned"
 *   mkdir:PATH  unlink:PATH  symlink:TARGET=LINK  rename:OLD=NEW
 *   chdir:PATH       chdir, then print getcwd
 *   at:DIR=REL       open DIR (O_DIRECTORY), then openat(dirfd, REL), read
 *   readlink:PATH    print the link target
 *   socket:inet      socket(AF_INET, SOCK_STREAM, 0)
 *   env:NAME         print getenv(NAME)
 * Exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void result(const char *probe, int rc)
{
	if (rc < 0)
		printf("%s: %s\n", probe, strerror(errno));
}

static void show(const char *probe, int fd)
{
	char buf[128];
	if (fd < 0) {
		result(probe, -1);
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		result(probe, -1);
	} else {
		buf[n] = 0;
		char *nl = strchr(buf, '\n');
		if (nl)
			*nl = 0;
		printf("%s: ok %s\n", probe, buf);
	}
	close(fd);
}

static char *split(char *s)
{
	char *eq = strchr(s, '=');
	if (!eq)
		return "";
	*eq = 0;
	return eq + 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++) {
		char probe[512];
		snprintf(probe, sizeof probe, "%s", argv[i]);
		char *arg = strchr(argv[i], ':');
		if (!arg)
			continue;
		*arg++ = 0;
		const char *op = argv[i];
		if (!strcmp(op, "read")) {
			show(probe, open(arg, O_RDONLY));
		} else if (!strcmp(op, "write")) {
			int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, "pwned\n", 6) != 6)
				result(probe, -1);
			else
				printf("%s: ok\n", probe);
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(op, "mkdir")) {
			result(probe, mkdir(arg, 0755)) ;
		} else if (!strcmp(op, "unlink")) {
			result(probe, unlink(arg));
		} else if (!strcmp(op, "symlink")) {
			char *link = split(arg);
			result(probe, symlink(arg, link));
		} else if (!strcmp(op, "rename")) {
			char *to = split(arg);
			result(probe, rename(arg, to));
		} else if (!strcmp(op, "chdir")) {
			char cwd[256];
			if (chdir(arg) < 0 || !getcwd(cwd, sizeof cwd))
				result(probe, -1);
			else
				printf("%s: ok %s\n", probe, cwd);
		} else if (!strcmp(op, "at")) {
			char *rel = split(arg);
			int d = open(arg, O_RDONLY | O_DIRECTORY);
			if (d < 0)
				result(probe, -1);
			else
				show(probe, openat(d, rel, O_RDONLY));
		} else if (!strcmp(op, "readlink")) {
			char buf[256];
			ssize_t n = readlink(arg, buf, sizeof buf - 1);
			if (n < 0)
				result(probe, -1);
			else
				printf("%s: ok %.*s\n", probe, (int)n, buf);
		} else if (!strcmp(op, "socket")) {
			int s = socket(AF_INET, SOCK_STREAM, 0);
			if (s < 0)
				result(probe, -1);
			else
				printf("%s: ok\n", probe);
		} else if (!strcmp(op, "env")) {
			const char *v = getenv(arg);
			printf("%s: %s\n", probe, v ? v : "(unset)");
		}
	}
	return 0;
}
