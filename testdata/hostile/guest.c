/*
 * hostile_guest: programs that misbehave on purpose. argv[1] picks one:
 *   wild       call an unmapped canonical address        -> SIGSEGV MAPERR
 *   nx         call into a non-executable data page      -> SIGSEGV ACCERR
 *   noncanon   call a non-canonical address              -> SIGSEGV (#GP)
 *   noncanonld load from a non-canonical address         -> SIGSEGV (#GP)
 *   misaligned movaps from a misaligned address (#GP); an unaligned
 *              plain load first, which x86 allows
 *   forkbomb   fork until fork fails; print how it failed
 *   membomb    mmap and touch 1 MiB blocks until mmap fails
 *   loop       spin forever without a syscall
 *   recurse    recurse until the stack's guard faults (handler on an
 *              alternate stack)
 *   sigstorm   2000 signals to itself, and a child sending more
 *   noyield    a thread that spins forever while main finishes its work
 *   smc        rewrite and call a function 10000 times
 * Fault modes catch the signal and print "signal S code C addr A", then exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void onfault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char buf[128];
	int n = snprintf(buf, sizeof buf, "signal %d code %d addr %#lx\n", sig, si->si_code, (unsigned long)si->si_addr);
	write(1, buf, n);
	_exit(0);
}

static void catchfaults(void)
{
	static char alt[64 << 10];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	sigaltstack(&ss, NULL);
	struct sigaction sa = {.sa_sigaction = onfault, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
}

static volatile unsigned long sink;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static unsigned long recurse(unsigned long n)
{
	volatile char pad[256];
	pad[n & 255] = (char)n;
	return recurse(n + 1) + pad[(n + 1) & 255];
}

static volatile long storm;
static void onusr(int s) { (void)s; storm++; }

static void *spinner(void *a)
{
	(void)a;
	for (;;)
		sink++;
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *m = argc > 1 ? argv[1] : "";
	catchfaults();
	if (!strcmp(m, "wild")) {
		((void (*)(void))0x7e0000000000UL)();
	} else if (!strcmp(m, "nx")) {
		static unsigned char data[64] __attribute__((aligned(4096))) = {0xc3};
		((void (*)(void))data)();
	} else if (!strcmp(m, "noncanon")) {
		((void (*)(void))0x800000000000UL)();
	} else if (!strcmp(m, "noncanonld")) {
		sink = *(volatile unsigned long *)0x8000000000000000UL;
	} else if (!strcmp(m, "misaligned")) {
		static char buf[64] __attribute__((aligned(16))) = "0123456789abcdef0123456789abcdef";
		printf("unaligned load %#lx\n", *(volatile unsigned long *)(buf + 3));
		__asm__ volatile("movaps (%0), %%xmm0" : : "r"(buf + 1) : "xmm0");
	} else if (!strcmp(m, "forkbomb")) {
		int p[2];
		pipe(p);
		int n = 0;
		for (;;) {
			pid_t c = fork();
			if (c < 0) {
				printf("fork failed after %d children: %s\n", n, strerror(errno));
				break;
			}
			if (c == 0) {
				char b;
				close(p[1]);
				read(p[0], &b, 1); /* until the parent closes the pipe */
				_exit(0);
			}
			if (++n == 10000) {
				printf("fork never failed\n");
				break;
			}
		}
		close(p[1]);
		while (wait(NULL) > 0)
			;
		printf("all children reaped\n");
		return 0;
	} else if (!strcmp(m, "membomb")) {
		long n = 0;
		for (;;) {
			char *b = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (b == MAP_FAILED) {
				printf("mmap failed after %ld MiB: %s\n", n, strerror(errno));
				break;
			}
			memset(b, 1, 1 << 20);
			if (++n == 1 << 16) {
				printf("mmap never failed\n");
				break;
			}
		}
		void *p = malloc(64 << 20);
		printf("malloc 64 MiB: %s\n", p ? "ok" : "NULL");
		return 0;
	} else if (!strcmp(m, "loop")) {
		for (;;)
			sink++;
	} else if (!strcmp(m, "recurse")) {
		sink = recurse(0);
	} else if (!strcmp(m, "sigstorm")) {
		signal(SIGUSR1, onusr);
		pid_t c = fork();
		if (c == 0) {
			for (int i = 0; i < 1000; i++)
				kill(getppid(), SIGUSR1);
			_exit(0);
		}
		for (int i = 0; i < 2000; i++)
			raise(SIGUSR1);
		waitpid(c, NULL, 0);
		printf("storm survived: %s\n", storm >= 2000 ? "all own signals handled" : "signals lost");
		return 0;
	} else if (!strcmp(m, "noyield")) {
		pthread_t t;
		pthread_create(&t, NULL, spinner, NULL);
		unsigned long x = 1;
		for (int i = 0; i < 1000000; i++)
			x = x * 6364136223846793005UL + 1;
		printf("main finished beside a spinning thread: %lx\n", x);
		exit(0);
	} else if (!strcmp(m, "smc")) {
		unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long sum = 0;
		for (uint32_t i = 0; i < 10000; i++) {
			code[0] = 0xb8; /* mov eax, imm32 */
			memcpy(code + 1, &i, 4);
			code[5] = 0xc3; /* ret */
			sum += ((uint32_t (*)(void))code)();
		}
		printf("smc sum %lu\n", sum);
		return 0;
	} else {
		fprintf(stderr, "usage: hostile_guest wild|nx|noncanon|noncanonld|misaligned|forkbomb|membomb|loop|recurse|sigstorm|noyield|smc\n");
		return 2;
	}
	printf("no fault\n");
	return 1;
}
