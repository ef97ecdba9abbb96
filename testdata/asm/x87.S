/*
 * x87: transcendental-free x87 arithmetic: fld/fild/fld1/fldz/fldpi,
 * fadd/fsub/fsubr/fmul/fdiv/fdivr (st and memory forms, p variants),
 * fsqrt, fabs, fchs, fxch, frndint under all four rounding modes (fldcw),
 * fprem/fprem1, fscale, fxtract, fist/fistp/fisttp, fcomi/fucomi flags,
 * fnstsw condition codes, 80-bit fstp tbyte. Reports raw bit patterns.
 */
#include "common.h"

.macro ST0 label
	fstl tmp(%rip)          /* st0 as a double, no pop */
	REPORT \label, tmp(%rip)
.endm

	.globl _start
	.text
_start:
	finit
	fnstcw cw(%rip)
	movzwl cw(%rip), %eax
	REPORT fcw_default, %rax

	fld1
	fldpi
	faddp                    /* pi+1 */
	ST0 pi_plus_1
	fildl three(%rip)
	fdivrp                   /* (pi+1)/3 ... fdivrp: st1 = st0/st1 */
	ST0 fdivrp
	fsqrt
	ST0 fsqrt
	fstpt ext(%rip)
	REPORT fsqrt_ext_lo, ext(%rip)
	movzwl ext+8(%rip), %eax
	REPORT fsqrt_ext_hi, %rax

	fldl dval(%rip)          /* 2.5 */
	fmull dval2(%rip)        /* * -1.75 */
	ST0 fmul_mem
	fchs
	ST0 fchs
	fsubl dval(%rip)
	ST0 fsub_mem
	fsubrl dval(%rip)
	ST0 fsubr_mem
	fabs
	ST0 fabs

	/* frndint in each rounding mode on 2.5 and -2.5 */
	xor %ebx, %ebx
1:	movzwl cw(%rip), %eax
	and $0xf3ff, %eax
	mov %ebx, %ecx
	shl $10, %ecx
	or %ecx, %eax
	mov %ax, cw2(%rip)
	fldcw cw2(%rip)
	fldl dval(%rip)
	frndint
	fistpq tmpi(%rip)
	REPORT frndint_pos, tmpi(%rip)
	fldl dval(%rip)
	fchs
	fistpq tmpi(%rip)        /* fist rounds with the current mode too */
	REPORT fistp_neg, tmpi(%rip)
	inc %ebx
	cmp $4, %ebx
	jne 1b
	fldcw cw(%rip)

	/* fisttp truncates regardless of mode */
	fldl dval2(%rip)
	fisttpq tmpi(%rip)
	REPORT fisttp, tmpi(%rip)

	/* fprem / fprem1: 17.25 rem 4 */
	fildl four(%rip)
	fldl d1725(%rip)
	fprem
	fnstsw %ax
	movzwl %ax, %eax
	and $0x4700, %eax        /* C3 C2 C1 C0 */
	REPORT fprem_sw, %rax
	ST0 fprem
	fstp %st(0)
	fldl d1725(%rip)
	fprem1
	ST0 fprem1
	fstp %st(0)
	fstp %st(0)

	/* fscale and fxtract */
	fildl three(%rip)
	fldl dval(%rip)
	fscale                   /* 2.5 * 2^3 */
	ST0 fscale
	fxtract                  /* st0 = significand, st1 = exponent */
	ST0 fxtract_sig
	fxch
	ST0 fxtract_exp
	fstp %st(0)
	fstp %st(0)
	fstp %st(0)

	/* compares */
	fldl dval(%rip)
	fldl dval2(%rip)
	fcomi %st(1), %st
	FLAGS fcomi_lt, F_CF | F_ZF | F_PF
	fxch
	fucomi %st(1), %st
	FLAGS fucomi_gt, F_CF | F_ZF | F_PF
	fld %st(0)
	fucomip %st(1), %st
	FLAGS fucomip_eq, F_CF | F_ZF | F_PF
	fcompp
	fnstsw %ax
	movzwl %ax, %eax
	and $0x4500, %eax
	REPORT fcompp_sw, %rax

	/* fsqrt of -1 -> default NaN, status IE */
	fld1
	fchs
	fsqrt
	ST0 fsqrt_neg
	fnstsw %ax
	movzwl %ax, %eax
	and $0x3f, %eax
	REPORT sw_exceptions, %rax
	fstp %st(0)
	fnclex

	/* stack depth: fnstsw TOP after pushes */
	fld1
	fldz
	fnstsw %ax
	shr $11, %eax
	and $7, %eax
	REPORT top_after_2_pushes, %rax
	faddp
	fistpl tmpi(%rip)
	movl tmpi(%rip), %eax
	REPORT sum_1_0, %rax

	EXIT

	COMMON_CODE
	.section .rodata
	.balign 8
dval:	.double 2.5
dval2:	.double -1.75
d1725:	.double 17.25
three:	.long 3
four:	.long 4
	.bss
	.balign 16
ext:	.skip 16
tmp:	.skip 8
tmpi:	.skip 8
cw:	.skip 2
cw2:	.skip 2
