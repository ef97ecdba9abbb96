/* debugme: a small guest with symbols for the replay debugger tests
 * (script commands, reverse execution, the gdb remote server).
 *
 * A worker thread sums into `total` while main waits for it; then main
 * calls bump() five times, each writing the global `counter`, and finally
 * spins a loop long enough for checkpoints to matter. */
#include <pthread.h>
#include <stdio.h>

volatile long counter;
volatile long total;
volatile unsigned long spin_acc;

__attribute__((noinline)) void worker_body(long n)
{
	for (long i = 0; i < n; i++)
		total += i;
}

static void *worker(void *arg)
{
	worker_body((long)arg);
	return 0;
}

__attribute__((noinline)) void bump(long i)
{
	counter = counter + i;
}

__attribute__((noinline)) void spin(long n)
{
	unsigned long x = 1;
	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	spin_acc = x;
}

int main(int argc, char **argv)
{
	pthread_t t;
	long n = 1000;
	if (argc > 1)
		sscanf(argv[1], "%ld", &n);
	pthread_create(&t, 0, worker, (void *)1000);
	pthread_join(t, 0);
	for (long i = 1; i <= 5; i++)
		bump(i);
	spin(n);
	printf("counter=%ld total=%ld spin=%lx\n", counter, total, spin_acc);
	return 0;
}
