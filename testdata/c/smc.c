/*
 * smc: self-modifying code. Writes x86-64 machine code into an RWX mmap
 * page, calls it, overwrites an immediate and calls again (the emulator
 * must invalidate any cached translation); then does the same in an RW page
 * flipped to RX with mprotect, rewritten after flipping back; then patches
 * code in place from inside the generated code itself (a store to the
 * following instruction). Deterministic output.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn)(long);

/* mov rax, imm32 (sign-extended) ; add rax, rdi ; ret */
static const unsigned char addimm[] = {0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0x48, 0x01, 0xf8, 0xc3};

static void setimm(unsigned char *p, int32_t v) { memcpy(p + 3, &v, 4); }

int main(void)
{
	long sum = 0;
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap rwx");
		return 1;
	}
	memcpy(p, addimm, sizeof addimm);
	for (int i = 0; i < 5; i++) {
		setimm(p, 1000 * (i + 1));
		__builtin___clear_cache((char *)p, (char *)p + sizeof addimm);
		long r = ((fn)p)(i);
		printf("rwx call %d: %ld\n", i, r);
		sum += r;
	}

	/* rewrite the whole function: mov rax, rdi ; imul rax, rdi ; ret */
	static const unsigned char sq[] = {0x48, 0x89, 0xf8, 0x48, 0x0f, 0xaf, 0xc7, 0xc3};
	memcpy(p, sq, sizeof sq);
	long r = ((fn)p)(12);
	printf("rwx rewritten square(12): %ld\n", r);
	sum += r;

	/* self-patching: the code stores dil into the imm8 of its own next
	 * instruction, which the CPU must then execute with the new value
	 * (x86 detects stores into the prefetched instruction stream).
	 *   0: 40 88 3d 01 00 00 00   mov [rip+1], dil   (rip=7, so byte 8)
	 *   7: b8 11 00 00 00         mov eax, 0x11      (imm32 starts at 8)
	 *  12: c3                     ret                                   */
	unsigned char *q = p + 64;
	static const unsigned char selfpatch[] = {
		0x40, 0x88, 0x3d, 0x01, 0x00, 0x00, 0x00, /* mov [rip+1], dil */
		0xb8, 0x11, 0x00, 0x00, 0x00,             /* mov eax, 0x11 */
		0xc3,
	};
	memcpy(q, selfpatch, sizeof selfpatch);
	r = ((fn)q)(0x5a);
	printf("self-patch first call: %#lx\n", r);
	sum += r;
	r = ((fn)q)(0x33);
	printf("self-patch second call: %#lx\n", r);
	sum += r;
	munmap(p, 4096);

	/* W^X with mprotect */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap rw");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		unsigned char *f = p + 4096 - 5; /* straddles the page boundary */
		memcpy(f, addimm, sizeof addimm);
		setimm(f, -7 * (i + 1));
		if (mprotect(p, 8192, PROT_READ | PROT_EXEC) != 0) {
			perror("mprotect rx");
			return 1;
		}
		r = ((fn)f)(100);
		printf("mprotect call %d: %ld\n", i, r);
		sum += r;
		if (mprotect(p, 8192, PROT_READ | PROT_WRITE) != 0) {
			perror("mprotect rw");
			return 1;
		}
	}
	munmap(p, 8192);
	printf("sum=%ld\n", sum);
	return 0;
}
