/* bench_fp: floating point, SSE2 doubles only (no x87 long double, no libm,
 * no printf of doubles: musl formats those with long double). A leapfrog
 * integration of 8 bodies under gravity (mulsd, addsd, divsd, sqrtsd) and a
 * midpoint-rule integral; the result is printed as the bits of the doubles.
 *
 *   bench_fp.musl [N]   N thousand steps (default 300) */
#include <string.h>
#include "common.h"

#define NB 8

static uint64_t bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

int main(int argc, char **argv)
{
	long n = scale(argc, argv, 300) * 1000;
	double x[NB], y[NB], vx[NB], vy[NB], m[NB];
	for (int i = 0; i < NB; i++) {
		x[i] = i * 1.5 - 5.0, y[i] = (i & 3) * 0.75 - 1.0;
		vx[i] = (i & 1) ? 0.1 : -0.1, vy[i] = 0.01 * i;
		m[i] = 1.0 + i * 0.125;
	}
	const double dt = 1e-4;
	for (long s = 0; s < n; s++) {
		for (int i = 0; i < NB; i++) {
			double ax = 0, ay = 0;
			for (int j = 0; j < NB; j++) {
				if (j == i)
					continue;
				double dx = x[j] - x[i], dy = y[j] - y[i];
				double r2 = dx * dx + dy * dy + 1e-3;
				double inv = m[j] / (r2 * __builtin_sqrt(r2));
				ax += dx * inv, ay += dy * inv;
			}
			vx[i] += ax * dt, vy[i] += ay * dt;
		}
		for (int i = 0; i < NB; i++)
			x[i] += vx[i] * dt, y[i] += vy[i] * dt;
	}
	double integral = 0, h = 1.0 / n;
	for (long i = 0; i < n; i++) {
		double t = (i + 0.5) * h;
		integral += 4.0 / (1.0 + t * t);
	}
	integral *= h;
	uint64_t e = 0;
	for (int i = 0; i < NB; i++)
		e ^= bits(x[i]) + bits(vy[i]);
	printf("fp steps=%ld pi=%016llx state=%016llx\n", n, (unsigned long long)bits(integral), (unsigned long long)e);
	return 0;
}
