/* bench_sys: syscall-heavy. Each round writes 16 bytes to /dev/null, then
 * writes 64 bytes into a pipe and reads them back: three small syscalls that
 * do almost no work, so the cost is the syscall path itself.
 *
 *   bench_sys.musl [N]   N thousand rounds (default 200) */
#include <fcntl.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	long n = scale(argc, argv, 200) * 1000;
	int null = open("/dev/null", O_WRONLY);
	int p[2];
	if (null < 0 || pipe(p) < 0)
		return 1;
	char buf[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		buf[0] = (char)i;
		if (write(null, buf, 16) != 16 || write(p[1], buf, 64) != 64)
			return 2;
		if (read(p[0], buf, 64) != 64)
			return 3;
		sum += (unsigned char)buf[0];
	}
	printf("sys rounds=%ld sum=%llu\n", n, (unsigned long long)sum);
	return 0;
}
