/*
 * fp: floating point formatting and libm. printf of float/double/long double
 * with %f %e %g %a %Lf %Le %La, special values (inf, nan, -0, denormals),
 * libm sin/cos/exp/log/pow/sqrt/fmod/floor/ceil/round/trunc/fma/atan2, and
 * strtod/strtold parsing with bit-exact hex dumps. Deterministic output for
 * a given libc (musl and glibc may differ in the last libm ulp; compare
 * against the same build's native output).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double vd[] = {0.1, 1.0 / 3.0, 2.5, -1e-300, 6.02214076e23, 4.9e-324, 1.7976931348623157e308};

static uint64_t bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

int main(void)
{
	float f = 1.1f;
	long double ld = 1.0L / 3.0L;

	for (unsigned i = 0; i < sizeof vd / sizeof vd[0]; i++) {
		double d = vd[i];
		printf("d[%u] %%f=%f %%e=%e %%g=%g %%.17g=%.17g %%a=%a\n", i, d, d, d, d, d);
	}
	printf("float %%f=%f %%.10e=%.10e %%a=%a\n", f, f, (double)f);
	printf("long double %%Lf=%Lf %%.20Le=%.20Le %%La=%La\n", ld, ld, ld);
	printf("LDBL %%Lg max=%Lg min=%Lg eps=%Lg\n", LDBL_MAX, LDBL_MIN, LDBL_EPSILON);
	printf("specials: %f %f %f %e %g %a\n", (double)INFINITY, -(double)INFINITY, -0.0, (double)NAN, 1e-5, 0.0);
	printf("widths: [%10.3f] [%-10.2e] [%+g] [%#g] [%010.4f]\n", M_PI, M_E, 100.0, 1.0, -2.5);

	volatile double x = 0.7, y = 2.3;
	printf("sin=%.17g cos=%.17g tan=%.17g\n", sin(x), cos(x), tan(x));
	printf("exp=%.17g log=%.17g log10=%.17g log2=%.17g\n", exp(y), log(y), log10(y), log2(y));
	printf("pow=%.17g sqrt=%.17g cbrt=%.17g hypot=%.17g\n", pow(x, y), sqrt(y), cbrt(y), hypot(x, y));
	printf("fmod=%.17g remainder=%.17g atan2=%.17g fma=%.17g\n", fmod(10.0, y), remainder(10.0, y), atan2(x, -y),
	       fma(x, y, 1.0));
	printf("floor=%g ceil=%g round=%g trunc=%g rint=%g lround=%ld\n", floor(-y), ceil(-y), round(2.5), trunc(-2.7),
	       rint(2.5), lround(-2.5));
	printf("sqrtf=%.9g sinf=%.9g expl=%.20Lg sqrtl=%.20Lg\n", sqrtf(2.0f), sinf(0.5f), expl(1.0L), sqrtl(2.0L));

	const char *in[] = {"3.14159", "1e-310", "0x1.8p3", "-0", "inf", "nan", "1e400", "2.2250738585072011e-308",
			    "123456789012345678901234567890", "  42.5xyz"};
	for (unsigned i = 0; i < sizeof in / sizeof in[0]; i++) {
		char *end;
		double d = strtod(in[i], &end);
		printf("strtod(\"%s\")=%.17g bits=%016llx used=%d\n", in[i], d, (unsigned long long)bits(d),
		       (int)(end - in[i]));
	}
	long double l = strtold("0.1", NULL);
	printf("strtold(0.1)=%.25Lg %La\n", l, l);

	/* accumulate: harmonic series in float, double, long double */
	float hf = 0;
	double hd = 0;
	long double hl = 0;
	for (int i = 1; i <= 100000; i++) {
		hf += 1.0f / (float)i;
		hd += 1.0 / i;
		hl += 1.0L / i;
	}
	printf("harmonic float=%.9g double=%.17g long double=%.21Lg\n", hf, hd, hl);
	return 0;
}
