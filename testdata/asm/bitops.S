/*
 * bitops: shld/shrd (imm and %cl counts, 16/32/64-bit, count 0 leaves flags,
 * counts masked to 5/6 bits), bt/bts/btr/btc with register and immediate
 * offsets on registers and memory (register bit offsets address outside
 * the operand, including negative ones), bswap 32/64, movbe load/store
 * 16/32/64, plus bsf/bsr/popcnt/lzcnt-free rotates rcl/rcr. Flags are masked
 * to the architecturally defined ones.
 */
#include "common.h"

	.globl _start
	.text
_start:
	mov $0x0123456789abcdef, %rax
	mov $0xfedcba9876543210, %rdx

	mov %rax, %rbx
	shld $12, %rdx, %rbx
	FLAGS shld64_imm_flags, F_CF | F_ZF | F_SF | F_PF
	REPORT shld64_imm, %rbx
	mov %rax, %rbx
	mov $68, %ecx             /* masked to 4 */
	shrd %cl, %rdx, %rbx
	FLAGS shrd64_cl_flags, F_CF | F_ZF | F_SF | F_PF
	REPORT shrd64_cl68, %rbx
	mov %rax, %rbx
	mov $1, %ecx
	shld %cl, %rdx, %rbx
	FLAGS shld64_1_flags, F_CF | F_ZF | F_SF | F_PF | F_OF
	REPORT shld64_1, %rbx
	mov %rax, %rbx
	stc
	mov $64, %ecx             /* masked to 0: no change, flags kept */
	shrd %cl, %rdx, %rbx
	FLAGS shrd64_0_flags, F_CF | F_ZF | F_SF | F_PF | F_OF
	REPORT shrd64_0, %rbx
	mov %rax, %rbx
	shld $7, %edx, %ebx       /* 32-bit: zero-extends */
	REPORT shld32_imm, %rbx
	mov %rax, %rbx
	mov $33, %ecx             /* masked to 1 for 32-bit */
	shrd %cl, %edx, %ebx
	REPORT shrd32_cl33, %rbx
	mov %rax, %rbx
	shld $5, %dx, %bx         /* 16-bit: upper bits preserved */
	REPORT shld16_imm, %rbx
	mov %rax, %rbx
	shrd $9, %dx, %bx
	REPORT shrd16_imm, %rbx
	mov %rax, mem(%rip)
	shldq $20, %rdx, mem(%rip)
	REPORT shld_mem, mem(%rip)

	/* bt family on registers */
	mov %rax, %rbx
	bt $0, %rbx
	FLAGS bt0_cf, F_CF
	bts $1, %rbx
	FLAGS bts1_cf, F_CF
	btr $63, %rbx
	FLAGS btr63_cf, F_CF
	mov $67, %ecx             /* register offset masked to 6 bits for reg */
	btc %rcx, %rbx
	FLAGS btc67_cf, F_CF
	REPORT bt_reg_result, %rbx
	mov $36, %ecx
	btsl %ecx, %ebx           /* 32-bit: masked to 4, zero-extends */
	REPORT btsl_reg_result, %rbx

	/* bt family on memory with large and negative register offsets */
	lea bits+64(%rip), %rsi
	movq $0, -64(%rsi)
	movq $0, -56(%rsi)
	movq $0, (%rsi)
	movq $0, 8(%rsi)
	movq $0, 16(%rsi)
	mov $131, %rcx            /* bit 3 of qword at +16 */
	bts %rcx, (%rsi)
	REPORT bts_mem_131, 16(%rsi)
	mov $-61, %rcx            /* bit 3 of qword at -8: byte -8+0 */
	bts %rcx, (%rsi)
	REPORT bts_mem_neg61, -8(%rsi)
	mov $-448, %rcx           /* bit 0 of qword at -56 */
	btc %rcx, (%rsi)
	REPORT btc_mem_neg448, -56(%rsi)
	bt %rcx, (%rsi)
	FLAGS bt_mem_neg448_cf, F_CF
	btr %rcx, (%rsi)
	FLAGS btr_mem_cf, F_CF
	REPORT btr_mem_after, -56(%rsi)
	movl $0xffffffff, 8(%rsi)
	btrl $35, 8(%rsi)         /* imm offset masked to 5 bits for 32-bit mem */
	REPORT btrl_mem_imm35, 8(%rsi)
	movw $0, 4(%rsi)
	mov $20, %cx
	btsw %cx, 4(%rsi)         /* 16-bit: bit 4 of word at +6 */
	REPORT btsw_mem_20, (%rsi)

	/* bswap, movbe */
	mov %rax, %rbx
	bswap %rbx
	REPORT bswap64, %rbx
	mov %rax, %rbx
	bswap %ebx
	REPORT bswap32, %rbx
	mov %rax, mem(%rip)
	movbe mem(%rip), %rbx
	REPORT movbe_load64, %rbx
	mov %rdx, %rbx
	movbe mem(%rip), %ebx
	REPORT movbe_load32, %rbx
	mov %rdx, %rbx
	movbe mem(%rip), %bx
	REPORT movbe_load16, %rbx
	movbe %rdx, mem(%rip)
	REPORT movbe_store64, mem(%rip)
	movbe %dx, mem(%rip)
	REPORT movbe_store16, mem(%rip)

	/* bsf/bsr/popcnt, rcl/rcr through carry */
	bsf %rax, %rbx
	REPORT bsf, %rbx
	bsr %rax, %rbx
	REPORT bsr, %rbx
	popcnt %rdx, %rbx
	REPORT popcnt, %rbx
	mov %rax, %rbx
	stc
	rcl $3, %rbx
	FLAGS rcl3_cf, F_CF
	REPORT rcl3, %rbx
	stc
	mov $5, %ecx
	rcr %cl, %ebx
	FLAGS rcr5_cf, F_CF
	REPORT rcr5_32, %rbx

	EXIT

	COMMON_CODE
	.bss
	.balign 16
mem:	.skip 16
bits:	.skip 160
