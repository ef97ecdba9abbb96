/*
 * sse42: SSE4.2 string and CRC instructions: crc32 b/w/l/q (CRC-32C) over a
 * buffer, pcmpistri (equal-any, ranges, equal-each, equal-ordered; LSB and
 * MSB index, with ecx and flags CF/ZF/SF/OF), pcmpistrm mask into xmm0,
 * pcmpestri with explicit lengths in eax/edx, and popcnt.
 */
#include "common.h"

.macro XLO label, xr
	movq \xr, %r12
	REPORT \label, %r12
.endm

	.globl _start
	.text
_start:
	/* CRC-32C of "123456789" (=0xe3069283) bytewise, and mixed widths */
	xor %eax, %eax
	not %eax
	lea digits(%rip), %rsi
	mov $9, %ecx
1:	crc32b (%rsi), %eax
	inc %rsi
	dec %ecx
	jnz 1b
	not %eax
	REPORT crc32c_123456789, %rax
	mov $-1, %eax
	crc32q text(%rip), %rax
	crc32l text+8(%rip), %eax
	crc32w text+12(%rip), %eax
	crc32b text+14(%rip), %eax
	REPORT crc32_mixed, %rax

	/* pcmpistri equal-any (imm 0x00): first vowel in text */
	movdqu vowels(%rip), %xmm1
	movdqu text(%rip), %xmm2
	pcmpistri $0x00, %xmm2, %xmm1
	FLAGS istri_any_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT istri_any_ecx, %rcx
	/* same, most significant index (imm 0x40) */
	pcmpistri $0x40, %xmm2, %xmm1
	REPORT istri_any_msb_ecx, %rcx
	/* ranges (imm 0x04): first char in 'A'..'Z' */
	movdqu upper(%rip), %xmm1
	pcmpistri $0x04, %xmm2, %xmm1
	FLAGS istri_range_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT istri_range_ecx, %rcx
	/* equal-ordered substring search (imm 0x0c) */
	movdqu needle(%rip), %xmm1
	pcmpistri $0x0c, %xmm2, %xmm1
	REPORT istri_substr_ecx, %rcx
	/* equal-each with negative polarity (imm 0x18): first difference */
	movdqu text2(%rip), %xmm1
	pcmpistri $0x18, %xmm2, %xmm1
	FLAGS istri_each_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT istri_each_ecx, %rcx
	/* no match: ecx = 16 */
	movdqu none(%rip), %xmm1
	pcmpistri $0x00, %xmm2, %xmm1
	FLAGS istri_none_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT istri_none_ecx, %rcx

	/* pcmpistrm bit mask and byte mask */
	movdqu vowels(%rip), %xmm1
	pcmpistrm $0x00, %xmm2, %xmm1
	XLO istrm_bitmask, %xmm0
	pcmpistrm $0x40, %xmm2, %xmm1
	XLO istrm_bytemask_lo, %xmm0
	pextrq $1, %xmm0, %r12
	REPORT istrm_bytemask_hi, %r12

	/* pcmpestri with explicit lengths: words (imm 0x01), eq-any */
	movdqu wset(%rip), %xmm1
	movdqu wdata(%rip), %xmm2
	mov $2, %eax
	mov $8, %edx
	pcmpestri $0x01, %xmm2, %xmm1
	FLAGS estri_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT estri_ecx, %rcx
	mov $5, %edx              /* shorter data length: no match within */
	pcmpestri $0x01, %xmm2, %xmm1
	FLAGS estri_short_flags, F_CF | F_ZF | F_SF | F_OF
	REPORT estri_short_ecx, %rcx

	mov text(%rip), %rax
	popcnt %rax, %rbx
	REPORT popcnt, %rbx

	EXIT

	COMMON_CODE
	.section .rodata
	.balign 16
digits:	.ascii "123456789"
	.balign 16
text:	.ascii "The Quick brOwn fox\0\0\0\0\0\0\0\0\0\0\0\0\0"
text2:	.ascii "The Quick brown fox\0\0\0\0\0\0\0\0\0\0\0\0\0"
vowels:	.ascii "aeiouAEIOU\0\0\0\0\0\0"
upper:	.ascii "AZ\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
needle:	.ascii "ick\0\0\0\0\0\0\0\0\0\0\0\0\0"
none:	.ascii "#$%\0\0\0\0\0\0\0\0\0\0\0\0\0"
wset:	.short 0x1234, 0xbeef, 0, 0, 0, 0, 0, 0
wdata:	.short 1, 2, 3, 4, 5, 6, 0xbeef, 8
