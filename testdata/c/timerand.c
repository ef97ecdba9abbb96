/*
 * timerand: sources of nondeterminism that record must capture and replay
 * must reproduce: clock_gettime (REALTIME, MONOTONIC, PROCESS_CPUTIME_ID,
 * BOOTTIME), gettimeofday, time, getrandom, /dev/urandom, getpid, rdtsc.
 * Prints the raw values, so native runs differ; a replay's output must equal
 * its recording's. Sanity checks (monotonic non-decreasing, sizes) are
 * printed as ok/FAIL and are stable.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void hex(const char *what, const unsigned char *p, int n)
{
	printf("%s=", what);
	for (int i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(void)
{
	struct timespec rt, m1, m2, cpu, boot;
	struct timeval tv;
	unsigned char rnd[16], ur[16];
	int ok = 1;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	printf("realtime=%lld.%09ld\n", (long long)rt.tv_sec, rt.tv_nsec);
	printf("monotonic=%lld.%09ld\n", (long long)m1.tv_sec, m1.tv_nsec);
	printf("cputime=%lld.%09ld\n", (long long)cpu.tv_sec, cpu.tv_nsec);
	printf("boottime=%lld.%09ld\n", (long long)boot.tv_sec, boot.tv_nsec);
	printf("gettimeofday=%lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
	printf("time=%lld\n", (long long)t);
	if (t < rt.tv_sec || tv.tv_sec < rt.tv_sec)
		ok = 0;

	ssize_t n = getrandom(rnd, sizeof rnd, 0);
	if (n != sizeof rnd)
		ok = 0;
	hex("getrandom", rnd, sizeof rnd);

	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, ur, sizeof ur) != sizeof ur)
		ok = 0;
	if (fd >= 0)
		close(fd);
	hex("urandom", ur, sizeof ur);

	unsigned lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	printf("rdtsc=%llu\n", ((unsigned long long)hi << 32) | lo);
	printf("pid=%d\n", (int)getpid());

	struct timespec d = {0, 2000000};
	nanosleep(&d, NULL);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	long long dt = (m2.tv_sec - m1.tv_sec) * 1000000000LL + (m2.tv_nsec - m1.tv_nsec);
	printf("monotonic2=%lld.%09ld\n", (long long)m2.tv_sec, m2.tv_nsec);
	if (dt < 2000000)
		ok = 0;
	printf("%s\n", ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}
