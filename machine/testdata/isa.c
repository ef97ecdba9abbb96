// isa.c exercises the integer, SSE and x87 code that musl and gcc -O2
// emit; TestGuestProgram runs it natively and on the machine and compares
// the output. Build: musl-gcc -static -O2 -o isa isa.c -lm
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	printf("argc=%d argv0=%s\n", argc, argv[0] ? "set" : "null");
	printf("%d %u %ld %lx %s %c %5.2s|\n", -42, 3000000000u, -1234567890123L, 0xdeadbeefcafeL, "str", 'z', "abc");
	double d = 1.0 / 3;
	printf("%.17g %e %f %a %g\n", d, d * 1e100, d, d, d * 1e-300);
	long double ld = 1.0L / 3;
	printf("%.25Lg %Le %La\n", ld, ld * 1e1000L, ld);
	printf("%.20Lf %Lg\n", 3.14159265358979323846264338327950288L, 1e4000L / 7);
	printf("%g %g %g %g %g %g\n", sqrt(2.0), sin(1.0), exp(1.0), log(10.0), pow(2.0, 0.5), atan2(1.0, 3.0));
	printf("%.10Lg %.10Lg %.10Lg\n", sqrtl(2.0L), expl(1.0L), logl(10.0L));
	printf("%f %f %g\n", strtod("123.456e-7", 0), atof("  -9.75"), strtod("0x1.8p3", 0));
	float f = 1.1f;
	printf("%.9g %.9g %.9g\n", f * f, sqrtf(f), floorf(-f) + ceilf(f) + roundf(2.5f));
	printf("%.17g %.17g %.17g %ld\n", floor(-2.5), ceil(2.1), trunc(-3.7), lrint(2.5));
	int arr[40];
	uint32_t s = 12345;
	for (int i = 0; i < 40; i++) {
		s = s * 1103515245 + 12345;
		arr[i] = (int)(s >> 8) % 1000 - 500;
	}
	qsort(arr, 40, sizeof arr[0], cmp);
	for (int i = 0; i < 40; i += 4) printf("%d ", arr[i]);
	printf("\n");
	char buf[300], buf2[300];
	memset(buf, 'x', sizeof buf);
	buf[299] = 0;
	memcpy(buf2, buf, sizeof buf);
	strcpy(buf2 + 10, "hello world");
	printf("%zu %zu %d %s %s\n", strlen(buf), strlen(buf2), strcmp(buf, buf2), strchr(buf2, 'w'), strstr(buf2, "lo w"));
	memmove(buf2 + 1, buf2, 50);
	printf("%.30s\n", buf2);
	uint64_t x = 0x123456789abcdefULL;
	for (int i = 0; i < 1000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		x ^= x >> 33;
		x = (x << 7) | (x >> 57);
	}
	printf("%llx %d %d %d\n", (unsigned long long)x, __builtin_popcountll(x), __builtin_clzll(x), __builtin_ctzll(x));
	int64_t q = -7;
	volatile int64_t two = 2;
	printf("%ld %ld %lu %lu\n", q / two, q % two, (uint64_t)-1 / 7, (uint64_t)x % 1000003);
	unsigned __int128 big = (unsigned __int128)x * x;
	printf("%llx %llx\n", (unsigned long long)(big >> 64), (unsigned long long)big);
	long double acc = 0;
	double dacc = 0;
	for (int i = 1; i <= 1000; i++) {
		acc += 1.0L / i;
		dacc += 1.0 / ((double)i * i);
	}
	printf("%.21Lg %.17g\n", acc, dacc);
	char num[64];
	snprintf(num, sizeof num, "%08.3f|%-6d|%+d|%x", 3.14159, 42, 7, 255);
	printf("%s %ld %lu\n", num, strtol("-0x7fff", 0, 0), strtoul("777", 0, 8));
	return 3;
}
