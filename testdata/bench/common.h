/* Shared helpers for the benchmark guests: the scale argument and
 * integer-only output (musl's printf formats doubles with x87 long double,
 * which the guests avoid on purpose). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* scale returns argv[1] as a positive integer, else def. */
static long scale(int argc, char **argv, long def)
{
	if (argc > 1) {
		long n = strtol(argv[1], 0, 10);
		if (n > 0)
			return n;
	}
	return def;
}
