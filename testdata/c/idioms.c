/*
 * idioms: a CPU workload for the machine's lockstep test (machine/
 * lockstep_test.go) made of what compilers and libcs emit for ordinary C:
 * division by constants and variables, 128-bit multiplication, shifts and
 * rotates, bit builtins, cmov/setcc chains, switch jump tables, auto-
 * vectorised integer and floating-point loops (SSE2-SSE4.2 at -O3, and an
 * AVX2+BMI2 clone chosen at run time when CPUID advertises them; no FMA,
 * so no contraction changes a result), float
 * conversions and rounding, long double, the libc's string and memory
 * functions over many sizes and alignments, qsort, and printf/strtod.
 * Output is deterministic and the same whichever code path runs.
 *
 *   idioms [N]   N rounds (default 1: about 1.5 million instructions)
 */
#pragma GCC optimize("O3")
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 over every result */

static void mix(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static __attribute__((noinline)) void integer(int rounds)
{
	for (int r = 0; r < rounds * 400; r++) {
		uint64_t a = next(), b = next() | 1;
		int64_t sa = (int64_t)a, sb = (int64_t)b;
		uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b | 1;
		mix(a / 10 + a % 7 + a / 1000003);
		mix((uint64_t)(sa / 3) + (uint64_t)(sa % 10));
		mix(a / b + a % b);
		mix((uint64_t)(sa / sb) ^ (uint64_t)(sa % sb));
		mix(a32 / b32 + a32 % b32 + (uint32_t)((int32_t)a32 / (int32_t)b32));
		unsigned __int128 p = (unsigned __int128)a * b;
		__int128 sp = (__int128)sa * sb;
		mix((uint64_t)(p >> 64) ^ (uint64_t)p ^ (uint64_t)(sp >> 64));
		int s = (int)(b & 63);
		mix(a << s | a >> ((64 - s) % 64));
		mix((a >> s) ^ (uint64_t)(sa >> s) ^ (a32 << (s & 31)));
		mix((uint64_t)__builtin_clzll(b) | (uint64_t)__builtin_ctzll(b) << 8 |
		    (uint64_t)__builtin_popcountll(a) << 16 | (uint64_t)__builtin_parityll(a) << 24);
		mix(__builtin_bswap64(a) ^ __builtin_bswap32(a32) ^ __builtin_bswap16((uint16_t)a));
		mix((a > b) | (sa < sb) << 1 | (a32 == b32) << 2 | (sa >= 0) << 3);
		mix(a > b ? a - b : b - a);
		mix((uint64_t)(sa < 0 ? -sa : sa));
		uint64_t sum;
		mix(__builtin_add_overflow(a, b, &sum) ^ sum);
		int64_t ssum;
		mix(__builtin_mul_overflow(sa, sb, &ssum) ^ (uint64_t)ssum);
		uint16_t a16 = (uint16_t)a, b16 = (uint16_t)b;
		uint8_t a8 = (uint8_t)a, b8 = (uint8_t)b | 1;
		mix((uint64_t)(a16 * b16) ^ (uint64_t)(a8 / b8) ^ (uint64_t)(int8_t)a8 * (int8_t)b8);
		switch (a % 11) {
		case 0: mix(1); break;
		case 1: mix(a ^ 3); break;
		case 2: mix(b + 5); break;
		case 3: mix(a * 7); break;
		case 4: mix(b << 2); break;
		case 5: mix(a - b); break;
		case 6: mix(~a); break;
		case 7: mix(-b); break;
		case 8: mix(a & b); break;
		case 9: mix(a | b); break;
		default: mix(a ^ b); break;
		}
	}
}

#define N 1024
static int32_t ia[N], ib[N], ic[N];
static int16_t sa16[N], sb16[N];
static uint8_t ua8[N], ub8[N];
static float fa[N], fb[N], fc[N];
static double da[N], db[N], dc[N];

static void fill(void)
{
	for (int i = 0; i < N; i++) {
		uint64_t v = next();
		ia[i] = (int32_t)v;
		ib[i] = (int32_t)(v >> 32);
		sa16[i] = (int16_t)v;
		sb16[i] = (int16_t)(v >> 16);
		ua8[i] = (uint8_t)v;
		ub8[i] = (uint8_t)(v >> 8);
		fa[i] = (float)((int32_t)v % 100000) / 128.0f;
		fb[i] = (float)((int32_t)(v >> 20) % 1000 + 1001) / 64.0f;
		da[i] = (double)(int64_t)v / 9007199254740992.0;
		db[i] = (double)((int32_t)(v >> 32) % 4096 + 4097) / 16.0;
	}
}

/* The vector kernels, twice: the default target (SSE2; SSE4.2 inside
 * libc) and AVX2+BMI2, dispatched at run time. Results are exact or
 * correctly rounded, so both print the same. */
#define KERNELS(suffix, attr)                                                        \
	static attr __attribute__((noinline)) void vec##suffix(void)                 \
	{                                                                            \
		int64_t s = 0;                                                       \
		int32_t mx = INT32_MIN, mn = INT32_MAX;                              \
		for (int i = 0; i < N; i++) {                                        \
			ic[i] = ia[i] + ib[i] * 3 - (ia[i] >> 3);                    \
			s += ia[i] ^ ib[i];                                          \
			mx = ia[i] > mx ? ia[i] : mx;                                \
			mn = ib[i] < mn ? ib[i] : mn;                                \
		}                                                                    \
		mix((uint64_t)s ^ (uint32_t)mx ^ (uint64_t)(uint32_t)mn << 32);      \
		int32_t dot = 0;                                                     \
		for (int i = 0; i < N; i++)                                          \
			dot += sa16[i] * sb16[i];                                    \
		mix((uint32_t)dot);                                                  \
		uint32_t sad = 0;                                                    \
		for (int i = 0; i < N; i++)                                          \
			sad += ua8[i] > ub8[i] ? ua8[i] - ub8[i] : ub8[i] - ua8[i];  \
		mix(sad);                                                            \
		for (int i = 0; i < N; i++)                                          \
			ua8[i] = (uint8_t)(ua8[i] + ub8[i] > 255 ? 255 : ua8[i] + ub8[i]); \
		for (int i = 0; i < N; i++) {                                        \
			fc[i] = fa[i] * fb[i] + fa[i] / fb[i];                       \
			dc[i] = da[i] * db[i] - sqrt(db[i]);                         \
		}                                                                    \
		for (int i = 0; i < N; i++) {                                        \
			ic[i] += (int32_t)fc[i] + (int32_t)lrint(dc[i] * 1000.0);    \
			fc[i] = fc[i] < fa[i] ? fc[i] : fa[i];                       \
			dc[i] = dc[i] > db[i] ? dc[i] : db[i];                       \
		}                                                                    \
		uint64_t x = 0;                                                      \
		for (int i = 0; i < N; i++) {                                        \
			uint32_t f, d2;                                              \
			uint64_t d;                                                  \
			memcpy(&f, &fc[i], 4);                                       \
			memcpy(&d, &dc[i], 8);                                       \
			d2 = (uint32_t)ic[i];                                        \
			x = x * 31 + f + d + d2;                                     \
		}                                                                    \
		mix(x);                                                              \
	}

KERNELS(_sse, )
KERNELS(_avx2, __attribute__((target("avx2,bmi2"))))

static __attribute__((noinline)) void floats(int rounds)
{
	for (int r = 0; r < rounds * 150; r++) {
		uint64_t v = next();
		double d = (double)(int64_t)v / 4096.0;
		float f = (float)d;
		mix((uint64_t)(int64_t)d ^ (uint64_t)(int64_t)f);
		mix((uint64_t)lrint(d) ^ (uint64_t)llround(d / 3.0));
		double fl = floor(d / 7.0), ce = ceil(d / 7.0), tr = trunc(d / 7.0), ro = round(d / 7.0), ri = rint(d / 7.0);
		uint64_t bits[5];
		memcpy(&bits[0], &fl, 8);
		memcpy(&bits[1], &ce, 8);
		memcpy(&bits[2], &tr, 8);
		memcpy(&bits[3], &ro, 8);
		memcpy(&bits[4], &ri, 8);
		mix(bits[0] ^ bits[1] * 3 ^ bits[2] * 5 ^ bits[3] * 7 ^ bits[4] * 11);
		double q = sqrt(fabs(d)) + fma(d, 1.5, -d) + fmin(d, 2.0) + fmax(d, -2.0) + copysign(1.0, d);
		float qf = sqrtf(fabsf(f)) + fmaf(f, 0.5f, 1.0f);
		uint64_t qb;
		uint32_t qfb;
		memcpy(&qb, &q, 8);
		memcpy(&qfb, &qf, 4);
		mix(qb ^ qfb);
		long double ld = (long double)(int64_t)v / 3.0L;
		ld = ld * ld + sqrtl(fabsl(ld));
		uint64_t lm;
		uint16_t le;
		memcpy(&lm, &ld, 8);
		memcpy(&le, (char *)&ld + 8, 2);
		mix(lm ^ le);
		mix((uint64_t)(d < 0.0) | (uint64_t)(d == d) << 1 | (uint64_t)(isnan(d / 0.0 * 0.0)) << 2);
		mix((uint64_t)(unsigned)(float)(uint32_t)v ^ (uint64_t)(double)(v >> 1));
	}
}

static int cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static char buf1[4096 + 64], buf2[4096 + 64];

static __attribute__((noinline)) void strings(int rounds)
{
	for (int r = 0; r < rounds * 2; r++) {
		for (int i = 0; i < (int)sizeof buf1; i++)
			buf1[i] = (char)('a' + next() % 26);
		size_t lens[] = {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 255, 256, 1000, 4095};
		for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
			size_t n = lens[k];
			int off1 = (int)(next() % 64), off2 = (int)(next() % 64);
			memcpy(buf2 + off2, buf1 + off1, n);
			mix((uint64_t)memcmp(buf2 + off2, buf1 + off1, n));
			memmove(buf2 + off2 / 2, buf2 + off2, n);
			memset(buf2 + off1, 'z', n / 2);
			buf2[off1 + n] = 0;
			mix(strlen(buf2 + off1));
			char *p = memchr(buf1 + off1, 'q', n);
			mix(p ? (uint64_t)(p - buf1) : 1);
			buf1[off2 + n] = 0;
			p = strchr(buf1 + off2, 'k');
			mix(p ? (uint64_t)(p - buf1) : 2);
			p = strrchr(buf1 + off2, 'e');
			mix(p ? (uint64_t)(p - buf1) : 3);
			mix((uint64_t)(strcmp(buf1 + off2, buf2 + off1) > 0) ^ (uint64_t)strncmp(buf1, buf2, n % 9));
			mix(strspn(buf1 + off2, "abcdefghij") ^ strcspn(buf1 + off2, "xyz") << 12);
			buf1[off2 + n] = (char)('a' + n % 26);
		}
		static char hay[] = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs";
		char *s = strstr(hay, r % 2 ? "liquor" : "lazy");
		mix(s ? (uint64_t)(s - hay) : 4);
	}
}

static __attribute__((noinline)) void sorting(int rounds)
{
	enum { NS = 256 };
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < NS; i++)
			ic[i] = (int32_t)next();
		qsort(ic, NS, sizeof ic[0], cmp);
		for (int i = 1; i < NS; i++)
			if (ic[i - 1] > ic[i])
				mix(0xbad);
		mix((uint32_t)ic[NS / 2]);
	}
}

static __attribute__((noinline)) void formatting(int rounds)
{
	char out[128];
	for (int r = 0; r < rounds * 15; r++) {
		uint64_t v = next();
		double d = (double)(int64_t)v / 1e6;
		int n = snprintf(out, sizeof out, "%d %lu %lx %o %.3f %e %g %10.4s|%-6d|%+05d", (int)v, (unsigned long)v,
				 (unsigned long)v, (unsigned)v, d, d, d / 1e9, "abcdefg", (int)(v % 1000), (int)(v % 77));
		for (int i = 0; i < n; i++)
			mix((uint8_t)out[i]);
		char *end;
		double back = strtod(out + n / 2, &end);
		uint64_t bb;
		memcpy(&bb, &back, 8);
		mix(bb ^ (uint64_t)(end - out));
		mix((uint64_t)strtol(out, &end, 10) ^ strtoull("18446744073709551615", 0, 10));
	}
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;
	int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
	integer(rounds);
	printf("integer %016llx\n", (unsigned long long)h);
	fill();
	for (int r = 0; r < rounds * 2; r++) {
		if (avx2)
			vec_avx2();
		else
			vec_sse();
	}
	printf("vector %016llx\n", (unsigned long long)h);
	floats(rounds);
	printf("float %016llx\n", (unsigned long long)h);
	strings(rounds);
	printf("string %016llx\n", (unsigned long long)h);
	sorting(rounds);
	printf("sort %016llx\n", (unsigned long long)h);
	formatting(rounds);
	printf("format %016llx\n", (unsigned long long)h);
	return 0;
}
