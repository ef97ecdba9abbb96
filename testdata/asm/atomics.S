/*
 * atomics: lock cmpxchg16b (success and failure, with rdx:rax updated on
 * failure), cmpxchg8b, cmpxchg 8/32/64 (ZF and accumulator write-back),
 * lock xadd, xchg with memory, lock add/inc/or/and/sub,
 * lock neg/not/bts. Single-threaded: checks the architectural results.
 */
#include "common.h"

	.globl _start
	.text
_start:
	lea m16(%rip), %rsi
	movq $0x1111, (%rsi)
	movq $0x2222, 8(%rsi)

	/* cmpxchg16b success: rdx:rax == m -> m = rcx:rbx, ZF=1 */
	mov $0x1111, %eax
	mov $0x2222, %edx
	mov $0xaaaa, %ebx
	mov $0xbbbb, %ecx
	lock cmpxchg16b (%rsi)
	FLAGS cx16_ok_zf, F_ZF
	REPORT cx16_ok_lo, (%rsi)
	REPORT cx16_ok_hi, 8(%rsi)
	/* failure: rdx:rax loaded from memory, ZF=0 */
	mov $1, %eax
	mov $2, %edx
	mov $3, %ebx
	mov $4, %ecx
	lock cmpxchg16b (%rsi)
	FLAGS cx16_fail_zf, F_ZF
	REPORT cx16_fail_rax, %rax
	REPORT cx16_fail_rdx, %rdx
	REPORT cx16_fail_lo, (%rsi)

	/* cmpxchg8b */
	mov $0x0000000500000006, %rax
	mov %rax, m8(%rip)
	mov $6, %eax
	mov $5, %edx
	mov $0x77, %ebx
	mov $0x88, %ecx
	lock cmpxchg8b m8(%rip)
	FLAGS cx8_ok_zf, F_ZF
	REPORT cx8_mem, m8(%rip)
	mov $0, %eax
	lock cmpxchg8b m8(%rip)
	FLAGS cx8_fail_zf, F_ZF
	REPORT cx8_fail_rax, %rax
	REPORT cx8_fail_rdx, %rdx

	/* cmpxchg 64/32/8 */
	movq $100, m8(%rip)
	mov $100, %eax
	mov $200, %ebx
	lock cmpxchg %rbx, m8(%rip)
	FLAGS cx64_ok, F_ARITH
	REPORT cx64_mem, m8(%rip)
	mov $-1, %rax
	lock cmpxchg %rbx, m8(%rip)
	FLAGS cx64_fail, F_ARITH
	REPORT cx64_fail_rax, %rax
	mov $-1, %rax
	lock cmpxchgl %ebx, m8(%rip)   /* fail: eax loaded, zero-extended */
	REPORT cx32_fail_rax, %rax
	mov $-1, %rax
	movb $200, %al
	movb $7, %bl
	lock cmpxchgb %bl, m8(%rip)
	REPORT cx8b_ok_mem, m8(%rip)
	REPORT cx8b_rax, %rax
	/* register form */
	mov $5, %eax
	mov $5, %ecx
	mov $9, %edx
	cmpxchg %edx, %ecx
	REPORT cx_reg_rcx, %rcx

	/* xadd, xchg */
	movq $40, m8(%rip)
	mov $2, %eax
	lock xadd %rax, m8(%rip)
	FLAGS xadd_flags, F_ARITH
	REPORT xadd_old, %rax
	REPORT xadd_mem, m8(%rip)
	mov $-3, %ecx
	xaddl %ecx, m8(%rip)
	REPORT xadd32_old, %rcx
	mov $0x5555, %edx
	xchg %rdx, m8(%rip)
	REPORT xchg_old, %rdx
	REPORT xchg_mem, m8(%rip)

	/* locked read-modify-write arithmetic */
	mov $0x7fffffffffffaaa0, %rax
	lock add %rax, m8(%rip)
	lock incq m8(%rip)
	FLAGS lock_inc_flags, F_ZF | F_SF | F_OF | F_PF | F_AF
	lock orq $0x100, m8(%rip)
	lock andq $-2, m8(%rip)
	lock negq m8(%rip)
	FLAGS lock_neg_flags, F_ARITH
	lock notq m8(%rip)
	lock btsq $63, m8(%rip)
	FLAGS lock_bts_cf, F_CF
	lock subq $1, m8(%rip)
	FLAGS lock_sub_flags, F_ARITH
	REPORT lock_rmw_result, m8(%rip)

	EXIT

	COMMON_CODE
	.bss
	.balign 16
m16:	.skip 16
m8:	.skip 8
