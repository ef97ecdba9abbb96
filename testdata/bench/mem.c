/* bench_mem: memory-bound. A 32 MiB array of uint64: a sequential
 * read-modify-write sweep, a strided (4 KiB) walk that touches a new page on
 * every access, and a dependent pointer chase through a random cyclic
 * permutation (a cache and TLB miss per step natively).
 *
 *   bench_mem.musl [N]   N passes of each walk (default 4) */
#include "common.h"

#define WORDS (4u << 20) /* 32 MiB of uint64 */

int main(int argc, char **argv)
{
	long n = scale(argc, argv, 4);
	uint64_t *a = malloc(WORDS * sizeof *a);
	if (!a)
		return 1;
	/* Sattolo's algorithm: a single cycle through all words. */
	for (uint32_t i = 0; i < WORDS; i++)
		a[i] = i;
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	for (uint32_t i = WORDS - 1; i > 0; i--) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		uint32_t j = (uint32_t)(s % i);
		uint64_t t = a[i];
		a[i] = a[j], a[j] = t;
	}
	uint64_t sum = 0;
	for (long p = 0; p < n; p++) {
		for (uint32_t i = 0; i < WORDS; i++) /* sequential */
			sum += a[i];
		for (uint32_t off = 0; off < 512; off++) /* 4 KiB stride */
			for (uint32_t i = off; i < WORDS; i += 512)
				sum ^= a[i] + i;
		uint64_t k = p; /* pointer chase, WORDS/4 steps */
		for (uint32_t i = 0; i < WORDS / 4; i++)
			k = a[k];
		sum += k;
	}
	printf("mem passes=%ld sum=%016llx\n", n, (unsigned long long)sum);
	return 0;
}
