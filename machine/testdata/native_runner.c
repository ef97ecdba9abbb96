// native_runner executes code snippets on the host CPU for the machine
// package's differential tests. Each input line is
//   <code hex> <16 regs hex> <rflags hex> <16 xmm as 32 hex digits> <data hex (256 bytes)>
// and each output line is the state after the snippet in the same layout
// (without the code). R15 holds the data address; RSP a private stack.
// Build: gcc -O1 -static -o native_runner native_runner.c
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
	uint64_t regs[16];
	uint64_t flags;
	uint8_t xmm[16][16];
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
	"movl $0x1f80, g_save(%rip)\n ldmxcsr g_save(%rip)\n"
	"lea g_in(%rip), %rax\n"
	"movdqu 136(%rax), %xmm0\n movdqu 152(%rax), %xmm1\n movdqu 168(%rax), %xmm2\n movdqu 184(%rax), %xmm3\n"
	"movdqu 200(%rax), %xmm4\n movdqu 216(%rax), %xmm5\n movdqu 232(%rax), %xmm6\n movdqu 248(%rax), %xmm7\n"
	"movdqu 264(%rax), %xmm8\n movdqu 280(%rax), %xmm9\n movdqu 296(%rax), %xmm10\n movdqu 312(%rax), %xmm11\n"
	"movdqu 328(%rax), %xmm12\n movdqu 344(%rax), %xmm13\n movdqu 360(%rax), %xmm14\n movdqu 376(%rax), %xmm15\n"
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
	"movdqu %xmm0, 136(%rax)\n movdqu %xmm1, 152(%rax)\n movdqu %xmm2, 168(%rax)\n movdqu %xmm3, 184(%rax)\n"
	"movdqu %xmm4, 200(%rax)\n movdqu %xmm5, 216(%rax)\n movdqu %xmm6, 232(%rax)\n movdqu %xmm7, 248(%rax)\n"
	"movdqu %xmm8, 264(%rax)\n movdqu %xmm9, 280(%rax)\n movdqu %xmm10, 296(%rax)\n movdqu %xmm11, 312(%rax)\n"
	"movdqu %xmm12, 328(%rax)\n movdqu %xmm13, 344(%rax)\n movdqu %xmm14, 360(%rax)\n movdqu %xmm15, 376(%rax)\n"
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
		for (int i = 0; i < 16; i++) gethex(&p, g_in.xmm[i], 16);
		gethex(&p, (uint8_t *)DATA, 256);
		g_in.regs[4] = STACK - 256;
		g_in.regs[15] = DATA;
		g_code = CODE;
		run_snippet();
		for (int i = 0; i < 16; i++) printf("%llx ", (unsigned long long)g_out.regs[i]);
		printf("%llx", (unsigned long long)g_out.flags);
		for (int i = 0; i < 16; i++) {
			putchar(' ');
			for (int j = 0; j < 16; j++) printf("%02x", g_out.xmm[i][j]);
		}
		putchar(' ');
		for (int j = 0; j < 256; j++) printf("%02x", ((uint8_t *)DATA)[j]);
		putchar('\n');
	}
	return 0;
}
