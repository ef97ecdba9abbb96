/* /dev/tty: opened when the process has a controlling terminal (ENXIO
 * otherwise), the same terminal as stdin, named by /proc/self/fd/0. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0) {
		printf("open /dev/tty: %s\n", errno == ENXIO ? "ENXIO" : strerror(errno));
		return 0;
	}
	printf("open /dev/tty: ok\n");
	printf("isatty: %d\n", isatty(fd));
	struct stat a, b;
	fstat(fd, &a);
	fstat(0, &b);
	printf("same terminal as stdin: %s\n", S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev ? "yes" : "no");
	char link[256], *name = ttyname(0);
	ssize_t n = readlink("/proc/self/fd/0", link, sizeof link - 1);
	link[n > 0 ? n : 0] = 0;
	printf("ttyname(0) is /proc/self/fd/0: %s\n", name && strcmp(name, link) == 0 ? "yes" : "no");
	printf("starts with /dev/pts/: %s\n", strncmp(link, "/dev/pts/", 9) == 0 ? "yes" : "no");
	const char msg[] = "written to /dev/tty\n";
	printf("write: %zd\n", write(fd, msg, sizeof msg - 1));
	close(fd);
	return 0;
}
