/*
 * signals: sigaction handlers (plain and SA_SIGINFO with si_signo/si_code/
 * si_addr), SIGSEGV recovery via sigsetjmp/siglongjmp, sigprocmask blocking
 * and sigpending delivery on unblock, sa_mask during a handler, alarm+pause,
 * raise, kill(getpid()), SIG_IGN. Deterministic output.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, got_alrm, usr2_blocked_in_usr1;
static volatile int info_signo, info_code, info_pid_ok;
static volatile uintptr_t segv_addr;
static sigjmp_buf jb;

static void on_usr1(int sig)
{
	sigset_t cur;
	(void)sig;
	got_usr1++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr2_blocked_in_usr1 = sigismember(&cur, SIGUSR2);
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_usr2++;
	info_signo = si->si_signo;
	info_code = si->si_code;
	info_pid_ok = si->si_pid == getpid();
}

static void on_alrm(int sig) { (void)sig; got_alrm++; }

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	segv_addr = (uintptr_t)si->si_addr;
	info_code = si->si_code;
	siglongjmp(jb, 7);
}

int main(void)
{
	struct sigaction sa;
	sigset_t set, pend;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR2, &sa, NULL);

	/* raise and sa_mask */
	raise(SIGUSR1);
	printf("raise USR1: handled=%d usr2 masked in handler=%d\n", (int)got_usr1, (int)usr2_blocked_in_usr1);

	/* SA_SIGINFO via kill: si_code SI_USER */
	kill(getpid(), SIGUSR2);
	printf("kill USR2: handled=%d signo=%d si_user=%d pid_ok=%d\n", (int)got_usr2, info_signo,
	       info_code == SI_USER, info_pid_ok);

	/* sigprocmask: blocked signal stays pending until unblocked */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	sigpending(&pend);
	printf("blocked USR2: handled=%d pending=%d\n", (int)got_usr2, sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("unblocked USR2: handled=%d si_tkill=%d\n", (int)got_usr2, info_code == SI_TKILL || info_code == SI_USER);

	/* SIG_IGN */
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	printf("ignored USR1: handled=%d\n", (int)got_usr1);

	/* SIGSEGV recovery, twice (the mask must be restored by siglongjmp) */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 0; i < 2; i++) {
		volatile int *bad = (volatile int *)(uintptr_t)(0x10 + 0x1000 * i);
		int r = sigsetjmp(jb, 1);
		if (r == 0) {
			*bad = 1;
			printf("segv %d: no fault?!\n", i);
		} else {
			printf("segv %d: recovered r=%d addr=%#lx maperr=%d\n", i, r, (unsigned long)segv_addr,
			       info_code == SEGV_MAPERR);
		}
	}

	/* alarm + pause */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alrm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	int pr = pause();
	printf("alarm: pause=%d handled=%d\n", pr, (int)got_alrm);

	/* sigsuspend: block USR1, raise it, then wait with it unblocked */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	sigemptyset(&set);
	sigsuspend(&set);
	printf("sigsuspend: usr1 handled=%d\n", (int)got_usr1);
	return 0;
}
