// x87_runner executes x87 code snippets on the host CPU for the machine
// package's transcendental differential test (diff_x87_test.go). Input is
// binary, little endian, repeated until a zero code length:
//   u32 code length, code bytes, u32 record count, records of 64 bytes.
// For each record the runner copies it to DATA, calls the code (to which it
// appends a ret) with R15 = DATA, and writes the 108 bytes at DATA+64 (where
// the snippet stores its FNSAVE image) to stdout.
// Build: gcc -O1 -static -o x87_runner x87_runner.c
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define DATA 0x10000000UL
#define CODE 0x30000000UL

static void call_code(void) {
	__asm__ volatile("push %%r15\n mov %0, %%r15\n call *%1\n pop %%r15\n fninit\n"
			 :
			 : "r"(DATA), "r"(CODE)
			 : "memory", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc");
}

static int readfull(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }

int main(void) {
	if (mmap((void *)DATA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 1;
	if (mmap((void *)CODE, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	for (;;) {
		uint32_t n, nrec;
		if (!readfull(&n, 4) || n == 0 || n > 60000) break;
		if (!readfull((void *)CODE, n)) return 1;
		((uint8_t *)CODE)[n] = 0xc3;
		if (!readfull(&nrec, 4)) return 1;
		for (uint32_t i = 0; i < nrec; i++) {
			if (!readfull((void *)DATA, 64)) return 1;
			call_code();
			fwrite((uint8_t *)DATA + 64, 1, 108, stdout);
		}
	}
	fflush(stdout);
	return 0;
}
