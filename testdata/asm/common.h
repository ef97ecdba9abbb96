/*
 * common.h: shared helpers for the hand-written assembly guests (AT&T
 * syntax, built with gcc -nostdlib -static). Included by each .S file.
 *
 *   REPORT label, src     print "label=<16 hex digits>\n" for a 64-bit
 *                         value (register, immediate or memory, but not
 *                         %rsp-relative) and fold it into the checksum.
 *   FLAGS  label, mask    report the current RFLAGS & mask (use the mask to
 *                         drop flags the SDM leaves undefined).
 *   EXIT                  exit(checksum & 0xff) via the exit syscall.
 *
 * All registers and RFLAGS are preserved by REPORT and FLAGS.
 */
#define F_CF 0x001
#define F_PF 0x004
#define F_AF 0x010
#define F_ZF 0x040
#define F_SF 0x080
#define F_DF 0x400
#define F_OF 0x800
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

.macro SAVE
	pushfq
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
.endm

.macro RESTORE
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	popfq
.endm

.macro REPORT label, src
	SAVE
	mov \src, %rsi
	lea 9901f(%rip), %rdi
	call report
	RESTORE
	.pushsection .rodata
9901:	.asciz "\label"
	.popsection
.endm

.macro FLAGS label, mask
	SAVE
	mov 72(%rsp), %rsi       /* the RFLAGS pushed first by SAVE */
	and $\mask, %rsi
	lea 9902f(%rip), %rdi
	call report
	RESTORE
	.pushsection .rodata
9902:	.asciz "\label"
	.popsection
.endm

.macro EXIT
	movzbl checksum(%rip), %edi
	mov $60, %eax
	syscall
.endm

.macro COMMON_CODE
	.text
/* report: %rdi = NUL-terminated label, %rsi = value. */
report:
	mov checksum(%rip), %rax
	rol $7, %rax
	xor %rsi, %rax
	mov %rax, checksum(%rip)
	lea outbuf(%rip), %r8
	mov %r8, %r9
1:	movb (%rdi), %al
	test %al, %al
	jz 2f
	movb %al, (%r9)
	inc %rdi
	inc %r9
	jmp 1b
2:	movb $'=', (%r9)
	inc %r9
	mov $16, %ecx
3:	rol $4, %rsi
	mov %esi, %eax
	and $15, %eax
	lea hexdigits(%rip), %rdx
	movb (%rdx,%rax), %al
	movb %al, (%r9)
	inc %r9
	dec %ecx
	jnz 3b
	movb $'\n', (%r9)
	inc %r9
	mov $1, %eax             /* write(1, outbuf, len) */
	mov $1, %edi
	mov %r8, %rsi
	mov %r9, %rdx
	sub %r8, %rdx
	syscall
	ret

	.section .rodata
hexdigits: .ascii "0123456789abcdef"
	.data
	.balign 8
checksum: .quad 0x243f6a8885a308d3
	.bss
outbuf: .skip 256
	.text
.endm
