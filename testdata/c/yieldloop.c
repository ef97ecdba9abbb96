/*
 * yieldloop: a scheduling-fairness guest. The main thread loops on
 * getppid() and sched_yield() forever; a second thread prints N lines and
 * ends the process with exit_group(0). It ends only if the second thread
 * gets to run: under a recorder that stops the main thread more often
 * than once a time slice, and whether or not sched_yield yields.
 *   yieldloop [N]   (default 5)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

static long lines = 5;

static void *writer(void *arg)
{
	(void)arg;
	for (long i = 0; i < lines; i++)
		printf("line %ld\n", i);
	fflush(stdout);
	syscall(SYS_exit_group, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	if (argc > 1)
		lines = atol(argv[1]);
	if (pthread_create(&th, NULL, writer, NULL) != 0)
		return 1;
	for (;;) {
		getppid();
		sched_yield();
	}
}
