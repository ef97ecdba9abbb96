/* SIGFPE from unmasked floating-point exceptions: which si_code, trap
 * number and status flags a handler sees, for SSE (#XM) and x87 (#MF),
 * and which tiny results underflow (after rounding; exact ones only when
 * UE is unmasked).
 * Each case unmasks one exception, runs one instruction that raises it,
 * and the SA_SIGINFO handler prints what it got and siglongjmps back. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile int faults;

static void handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	/* fpregs points at the FXSAVE image: cwd at 0, swd at 2, mxcsr at 24. */
	const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
	uint16_t cwd, swd;
	uint32_t mxcsr;
	memcpy(&cwd, fp, 2);
	memcpy(&swd, fp + 2, 2);
	memcpy(&mxcsr, fp + 24, 4);
	faults++;
	printf("  SIGFPE code=%d trapno=%lld err=%lld mxcsr=%#x swd=%#x cwd=%#x\n",
	       si->si_code, (long long)uc->uc_mcontext.gregs[REG_TRAPNO],
	       (long long)uc->uc_mcontext.gregs[REG_ERR], mxcsr, swd, cwd);
	siglongjmp(env, 1);
}

static void set_mxcsr(uint32_t v) { __asm__ volatile("ldmxcsr %0" ::"m"(v)); }

static void sse(const char *name, uint32_t unmask, void (*op)(void))
{
	printf("sse %s\n", name);
	faults = 0;
	if (sigsetjmp(env, 1) == 0) {
		set_mxcsr(0x1f80 & ~(unmask << 7));
		op();
		uint32_t m;
		__asm__ volatile("stmxcsr %0" : "=m"(m));
		set_mxcsr(0x1f80);
		printf("  no fault, mxcsr=%#x\n", m);
	}
	set_mxcsr(0x1f80);
}

static volatile double d0 = 0.0, d1 = 1.0, dbig = 1e308, dtiny = 0x1p-1022, dneg = -1.0, dthird = 3.0;
static volatile float f1 = 1.0f, f0 = 0.0f;

static void div_zero(void) { double r; __asm__ volatile("movsd %1, %0; divsd %2, %0" : "=&x"(r) : "m"(d1), "m"(d0)); }
static void divss_zero(void) { float r; __asm__ volatile("movss %1, %0; divss %2, %0" : "=&x"(r) : "m"(f1), "m"(f0)); }
static void overflow(void) { double r; __asm__ volatile("movsd %1, %0; mulsd %1, %0" : "=&x"(r) : "m"(dbig)); }
static void underflow(void) { double r; __asm__ volatile("movsd %1, %0; mulsd %2, %0" : "=&x"(r) : "m"(dtiny), "m"(dthird)); (void)r; }
static void underflow_div(void) { double r; __asm__ volatile("movsd %1, %0; divsd %2, %0" : "=&x"(r) : "m"(dtiny), "m"(dthird)); }
static void exact_tiny(void) { static volatile double half = 0.5; double r; __asm__ volatile("movsd %1, %0; mulsd %2, %0" : "=&x"(r) : "m"(dtiny), "m"(half)); }
static void inexact(void) { double r; __asm__ volatile("movsd %1, %0; divsd %2, %0" : "=&x"(r) : "m"(d1), "m"(dthird)); }
static void invalid(void) { double r; __asm__ volatile("sqrtsd %1, %0" : "=x"(r) : "m"(dneg)); }
static void denormal(void) { static volatile double den = 0x1p-1030; double r; __asm__ volatile("movsd %1, %0; addsd %2, %0" : "=&x"(r) : "m"(d1), "m"(den)); }
static void packed_zero(void) { static volatile float v[4] __attribute__((aligned(16))) = {1, 2, 0, 4}; static volatile float o[4] __attribute__((aligned(16))) = {1, 1, 1, 1}; __asm__ volatile("movaps %0, %%xmm0; divps %1, %%xmm0" ::"m"(o), "m"(v) : "xmm0"); }

static void x87(const char *name, uint16_t unmask, int which)
{
	printf("x87 %s\n", name);
	faults = 0;
	if (sigsetjmp(env, 1) == 0) {
		uint16_t cw = 0x37f & ~unmask;
		long double r = 0;
		__asm__ volatile("fninit; fldcw %0" ::"m"(cw));
		switch (which) {
		case 0: __asm__ volatile("fld1; fldz; fdivrp; fwait; fstpt %0" : "=m"(r)); break; /* 1/0 */
		case 1: __asm__ volatile("fldz; fsqrt; fchs; fld1; fchs; fsqrt; fwait; fstpt %0; fstp %%st(0)" : "=m"(r)); break;
		case 2: __asm__ volatile("fld1; fld1; fld1; faddp; fdivrp; fwait; fstpt %0" : "=m"(r)); break; /* 1/2 exact */
		}
		uint16_t sw;
		__asm__ volatile("fnstsw %0; fninit" : "=m"(sw));
		printf("  no fault, swd=%#x\n", sw);
	}
	__asm__ volatile("fninit");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, 0);
	setvbuf(stdout, 0, _IONBF, 0);

	sse("divsd by zero (ZE)", 0x04, div_zero);
	sse("divss by zero (ZE)", 0x04, divss_zero);
	sse("divps lane 2 by zero (ZE)", 0x04, packed_zero);
	sse("overflow (OE)", 0x08, overflow);
	sse("overflow masked, inexact unmasked (PE)", 0x20, overflow);
	sse("underflow (UE)", 0x10, underflow);
	sse("underflow divsd (UE)", 0x10, underflow_div);
	sse("exact tiny result (UE)", 0x10, exact_tiny);
	sse("exact tiny result, UE masked", 0x00, exact_tiny);
	sse("inexact (PE)", 0x20, inexact);
	sse("sqrt of -1 (IE)", 0x01, invalid);
	sse("denormal operand (DE)", 0x02, denormal);
	sse("zero divide masked", 0x00, div_zero);

	x87("1/0 (ZE)", 0x04, 0);
	x87("sqrt(-1) (IE)", 0x01, 1);
	x87("1/2 exact, PE unmasked", 0x20, 2);
	/* Not here: an unmasked x87 PE, OE or UE, where the hardware
	 * completes the instruction (rounded or biased result) and reports
	 * #MF at the next waiting instruction; ptrec faults at the
	 * instruction, unchanged (machine/x87.go). */
	return 0;
}
