/*
 * strops: string instructions with REP prefixes and the direction flag:
 * rep movsb/movsq forward and backward (std), overlapping moves, rep stosb/
 * stosq, repe cmpsb (stops at mismatch), repne scasb (finds a byte), lodsq,
 * and rep with rcx=0. Reports final rcx/rsi/rdi offsets, flags and buffer
 * checksums; exits with a checksum byte.
 */
#include "common.h"

	.globl _start
	.text
_start:
	/* fill src with bytes i*7+3 */
	lea src(%rip), %rdi
	xor %ecx, %ecx
1:	lea 3(%rcx,%rcx,2), %eax
	lea (%rax,%rcx,4), %eax
	movb %al, (%rdi,%rcx)
	inc %ecx
	cmp $256, %ecx
	jne 1b

	/* rep movsb forward, 100 bytes */
	cld
	lea src(%rip), %rsi
	lea dst(%rip), %rdi
	mov $100, %ecx
	rep movsb
	lea src(%rip), %rax
	sub %rax, %rsi
	REPORT movsb_fwd_rsi, %rsi
	REPORT movsb_fwd_rcx, %rcx
	REPORT dst_q0, dst(%rip)
	REPORT dst_q12, dst+96(%rip)

	/* rep movsq backward with std, 4 qwords ending at src+64 */
	std
	lea src+56(%rip), %rsi
	lea dst+184(%rip), %rdi
	mov $4, %ecx
	rep movsq
	FLAGS movsq_bwd_flags, F_DF
	cld
	lea dst(%rip), %rax
	sub %rax, %rdi
	REPORT movsq_bwd_rdi, %rdi
	REPORT dst_q20, dst+160(%rip)
	REPORT dst_q23, dst+184(%rip)

	/* overlapping forward movsb (propagates a pattern) */
	lea dst(%rip), %rsi
	lea dst+1(%rip), %rdi
	mov $31, %ecx
	rep movsb
	REPORT overlap_q0, dst(%rip)
	REPORT overlap_q3, dst+24(%rip)

	/* rep stosb / stosq */
	lea dst+32(%rip), %rdi
	mov $0xa5, %eax
	mov $13, %ecx
	rep stosb
	mov $0x1122334455667788, %rax
	lea dst+48(%rip), %rdi
	mov $3, %ecx
	rep stosq
	REPORT stos_q4, dst+32(%rip)
	REPORT stos_q5, dst+40(%rip)
	REPORT stos_q7, dst+56(%rip)

	/* rep with rcx=0 does nothing and keeps flags */
	xor %ecx, %ecx
	lea dst(%rip), %rdi
	stc
	rep stosb
	FLAGS rep0_flags, F_CF
	lea dst(%rip), %rax
	sub %rax, %rdi
	REPORT rep0_rdi, %rdi

	/* repe cmpsb: src vs copy with byte 37 changed */
	lea src(%rip), %rsi
	lea cmpbuf(%rip), %rdi
	mov $64, %ecx
	rep movsb
	xorb $0x40, cmpbuf+37(%rip)
	lea src(%rip), %rsi
	lea cmpbuf(%rip), %rdi
	mov $64, %ecx
	repe cmpsb
	FLAGS repe_cmpsb_flags, F_ARITH
	REPORT repe_cmpsb_rcx, %rcx
	lea src(%rip), %rax
	sub %rax, %rsi
	REPORT repe_cmpsb_rsi, %rsi

	/* repne scasb: find byte value of src[200] */
	movzbl src+200(%rip), %eax
	lea src(%rip), %rdi
	mov $256, %ecx
	repne scasb
	FLAGS repne_scasb_flags, F_ARITH
	REPORT repne_scasb_rcx, %rcx
	/* backward scan with std for the same byte from the end */
	std
	lea src+255(%rip), %rdi
	mov $256, %ecx
	repne scasb
	cld
	REPORT repne_scasb_bwd_rcx, %rcx

	/* lodsq loop: sum 8 qwords */
	lea src(%rip), %rsi
	xor %edx, %edx
	mov $8, %ecx
2:	lodsq
	add %rax, %rdx
	loop 2b
	REPORT lodsq_sum, %rdx

	/* scasw / cmpsd sizes */
	lea src(%rip), %rsi
	lea src+2(%rip), %rdi
	cmpsl
	FLAGS cmpsl_flags, F_ARITH
	movw src+8(%rip), %ax
	lea src+8(%rip), %rdi
	scasw
	FLAGS scasw_flags, F_ARITH

	EXIT

	COMMON_CODE
	.bss
	.balign 16
src:	.skip 256
dst:	.skip 256
cmpbuf:	.skip 64
