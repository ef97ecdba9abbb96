/*
 * spin: a workload guest for recorder tests and benchmarks.
 *   spin cpu N     N iterations of integer arithmetic, no syscalls
 *   spin sys N     N getppid() syscalls
 *   spin mem MB    writes MB megabytes of memory, one syscall per 64 KiB
 *   spin forever   arithmetic and a syscall per iteration, never ends
 *                  (for tests that kill the recorder mid-run)
 * Prints one deterministic line and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long mix(unsigned long x, long n)
{
	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "cpu";
	long n = argc > 2 ? atol(argv[2]) : 1000000;
	unsigned long x = 1;

	if (strcmp(mode, "cpu") == 0) {
		x = mix(x, n);
	} else if (strcmp(mode, "sys") == 0) {
		for (long i = 0; i < n; i++)
			x += (unsigned long)getppid();
	} else if (strcmp(mode, "mem") == 0) {
		size_t size = (size_t)n << 20;
		unsigned char *p = malloc(size);
		if (p == NULL)
			return 1;
		for (size_t i = 0; i < size; i += 8) {
			*(unsigned long *)(p + i) = x = x * 6364136223846793005UL + i;
			if ((i & 0xffff) == 0)
				x += (unsigned long)getppid();
		}
		free(p);
	} else if (strcmp(mode, "forever") == 0) {
		for (;;)
			x = mix(x, 1000) + (unsigned long)getppid();
	} else {
		fprintf(stderr, "usage: spin cpu|sys|mem|forever [N]\n");
		return 2;
	}
	printf("spin %s %ld: %lx\n", mode, n, x);
	return 0;
}
