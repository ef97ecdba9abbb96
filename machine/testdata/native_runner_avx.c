// native_runner_avx executes code snippets on the host CPU for the machine
// package's AVX differential tests (vex_diff_test.go). Each input line is
//   <code hex> <16 regs hex> <rflags hex> <mxcsr hex> <16 ymm as 64 hex digits> <data hex (256 bytes)>
// and each output line is the state after the snippet in the same layout
// (without the code). R15 holds the data address; RSP a private stack.
// Build: gcc -O1 -static -mavx -o native_runner_avx native_runner_avx.c
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>

#define DATA  0x10000000UL
#define STACK 0x20000000UL
#define CODE  0x30000000UL

struct state {
	uint64_t regs[16];   // 0
	uint64_t flags;      // 128
	uint32_t mxcsr, pad; // 136
	uint8_t ymm[16][32]; // 144
};

struct state g_in, g_out;
uint64_t g_sp, g_code, g_save;

void run_snippet(void);
__asm__(
	".text\n"
	".globl run_snippet\n"
	"run_snippet:\n"
	"push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"mov %rsp, g_sp(%rip)\n"
	"fninit\n"
	"lea g_in(%rip), %rax\n"
	"ldmxcsr 136(%rax)\n"
	"vmovdqu 144(%rax), %ymm0\n vmovdqu 176(%rax), %ymm1\n vmovdqu 208(%rax), %ymm2\n vmovdqu 240(%rax), %ymm3\n"
	"vmovdqu 272(%rax), %ymm4\n vmovdqu 304(%rax), %ymm5\n vmovdqu 336(%rax), %ymm6\n vmovdqu 368(%rax), %ymm7\n"
	"vmovdqu 400(%rax), %ymm8\n vmovdqu 432(%rax), %ymm9\n vmovdqu 464(%rax), %ymm10\n vmovdqu 496(%rax), %ymm11\n"
	"vmovdqu 528(%rax), %ymm12\n vmovdqu 560(%rax), %ymm13\n vmovdqu 592(%rax), %ymm14\n vmovdqu 624(%rax), %ymm15\n"
	"mov 32(%rax), %rsp\n"
	"pushq 128(%rax)\n popfq\n"
	"mov 8(%rax), %rcx\n mov 16(%rax), %rdx\n mov 24(%rax), %rbx\n mov 40(%rax), %rbp\n"
	"mov 48(%rax), %rsi\n mov 56(%rax), %rdi\n mov 64(%rax), %r8\n mov 72(%rax), %r9\n"
	"mov 80(%rax), %r10\n mov 88(%rax), %r11\n mov 96(%rax), %r12\n mov 104(%rax), %r13\n"
	"mov 112(%rax), %r14\n mov 120(%rax), %r15\n mov 0(%rax), %rax\n"
	"jmp *g_code(%rip)\n"
	".globl snippet_back\n"
	"snippet_back:\n"
	"mov %rax, g_save(%rip)\n"
	"lea g_out(%rip), %rax\n"
	"mov %rcx, 8(%rax)\n mov %rdx, 16(%rax)\n mov %rbx, 24(%rax)\n mov %rsp, 32(%rax)\n mov %rbp, 40(%rax)\n"
	"mov %rsi, 48(%rax)\n mov %rdi, 56(%rax)\n mov %r8, 64(%rax)\n mov %r9, 72(%rax)\n"
	"mov %r10, 80(%rax)\n mov %r11, 88(%rax)\n mov %r12, 96(%rax)\n mov %r13, 104(%rax)\n"
	"mov %r14, 112(%rax)\n mov %r15, 120(%rax)\n"
	"pushfq\n pop 128(%rax)\n"
	"stmxcsr 136(%rax)\n"
	"vmovdqu %ymm0, 144(%rax)\n vmovdqu %ymm1, 176(%rax)\n vmovdqu %ymm2, 208(%rax)\n vmovdqu %ymm3, 240(%rax)\n"
	"vmovdqu %ymm4, 272(%rax)\n vmovdqu %ymm5, 304(%rax)\n vmovdqu %ymm6, 336(%rax)\n vmovdqu %ymm7, 368(%rax)\n"
	"vmovdqu %ymm8, 400(%rax)\n vmovdqu %ymm9, 432(%rax)\n vmovdqu %ymm10, 464(%rax)\n vmovdqu %ymm11, 496(%rax)\n"
	"vmovdqu %ymm12, 528(%rax)\n vmovdqu %ymm13, 560(%rax)\n vmovdqu %ymm14, 592(%rax)\n vmovdqu %ymm15, 624(%rax)\n"
	"vzeroupper\n"
	"mov g_save(%rip), %rcx\n mov %rcx, 0(%rax)\n"
	"mov g_sp(%rip), %rsp\n"
	"pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"ret\n");
extern char snippet_back[];

static int hexval(int c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}
static int gethex(const char **p, uint8_t *b, int max) {
	int n = 0;
	while (**p == ' ') (*p)++;
	while (hexval((*p)[0]) >= 0 && hexval((*p)[1]) >= 0 && n < max) {
		b[n++] = hexval((*p)[0]) << 4 | hexval((*p)[1]);
		*p += 2;
	}
	return n;
}
static uint64_t getu64(const char **p) {
	while (**p == ' ') (*p)++;
	return strtoull(*p, (char **)p, 16);
}

static char line[1 << 16];

int main(void) {
	if (mmap((void *)DATA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 1;
	if (mmap((void *)(STACK - 65536), 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 1;
	if (mmap((void *)CODE, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) return 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	while (fgets(line, sizeof line, stdin)) {
		const char *p = line;
		uint8_t *code = (uint8_t *)CODE;
		int n = gethex(&p, code, 60000);
		// jmp *0(%rip); .quad snippet_back
		code[n] = 0xff; code[n + 1] = 0x25; memset(code + n + 2, 0, 4);
		uint64_t back = (uint64_t)snippet_back;
		memcpy(code + n + 6, &back, 8);
		for (int i = 0; i < 16; i++) g_in.regs[i] = getu64(&p);
		g_in.flags = getu64(&p);
		g_in.mxcsr = (uint32_t)getu64(&p);
		for (int i = 0; i < 16; i++) gethex(&p, g_in.ymm[i], 32);
		gethex(&p, (uint8_t *)DATA, 256);
		g_in.regs[4] = STACK - 256;
		g_in.regs[15] = DATA;
		g_code = CODE;
		run_snippet();
		for (int i = 0; i < 16; i++) printf("%llx ", (unsigned long long)g_out.regs[i]);
		printf("%llx %x", (unsigned long long)g_out.flags, g_out.mxcsr);
		for (int i = 0; i < 16; i++) {
			putchar(' ');
			for (int j = 0; j < 32; j++) printf("%02x", g_out.ymm[i][j]);
		}
		putchar(' ');
		for (int j = 0; j < 256; j++) printf("%02x", ((uint8_t *)DATA)[j]);
		putchar('\n');
	}
	return 0;
}
