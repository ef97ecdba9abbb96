/* bench_hash: CPU-bound integer work. A 64-bit mixing hash (xorshift,
 * multiply, rotate: the splitmix/murmur finalizer family) over a counter,
 * plus an FNV-1a pass over a small in-cache buffer. No memory traffic to
 * speak of, no syscalls until the end.
 *
 *   bench_hash.musl [N]   N rounds of 1M mixes (default 200) */
#include "common.h"

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

int main(int argc, char **argv)
{
	long n = scale(argc, argv, 200);
	unsigned char buf[256];
	uint64_t acc = 0;
	for (int i = 0; i < 256; i++)
		buf[i] = (unsigned char)i;
	for (long r = 0; r < n; r++) {
		for (uint64_t i = 0; i < 1000000; i++) {
			uint64_t h = mix(acc + i);
			acc = (acc << 7 | acc >> 57) ^ h;
		}
		uint64_t f = 0xcbf29ce484222325ULL;
		for (int i = 0; i < 256; i++) {
			f ^= buf[i] ^ (unsigned char)acc;
			f *= 0x100000001b3ULL;
		}
		buf[r & 255] = (unsigned char)f;
		acc += f;
	}
	printf("hash rounds=%ld acc=%016llx\n", n, (unsigned long long)acc);
	return 0;
}
