/*
 * threads: pthread_create/join, a mutex-protected counter, a condvar
 * handshake (producer/consumer ring), C11 atomics (fetch_add, CAS loop),
 * pthread_once and thread-specific data. Output is deterministic: only
 * final totals are printed, never interleavings.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define ITERS 20000
#define NITEMS 1000
#define RING 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_long acounter;
static atomic_ulong casmax;

static pthread_mutex_t rmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER;
static int ring[RING], rhead, rtail, rcount;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int oncecount;
static pthread_key_t key;
static atomic_int dtorcount;

static void once_fn(void) { oncecount++; }
static void dtor(void *p) { (void)p; atomic_fetch_add(&dtorcount, 1); }

static void *worker(void *arg)
{
	long id = (long)arg;
	pthread_once(&once, once_fn);
	pthread_setspecific(key, (void *)(id + 1));
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		atomic_fetch_add_explicit(&acounter, 2, memory_order_relaxed);
		unsigned long v = (unsigned long)(id * ITERS + i), cur = atomic_load(&casmax);
		while (v > cur && !atomic_compare_exchange_weak(&casmax, &cur, v))
			;
	}
	if ((long)pthread_getspecific(key) != id + 1)
		return (void *)1;
	return (void *)(id * 10);
}

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= NITEMS; i++) {
		pthread_mutex_lock(&rmu);
		while (rcount == RING)
			pthread_cond_wait(&notfull, &rmu);
		ring[rtail] = i;
		rtail = (rtail + 1) % RING;
		rcount++;
		pthread_cond_signal(&notempty);
		pthread_mutex_unlock(&rmu);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long long *sum = arg;
	for (int i = 0; i < NITEMS; i++) {
		pthread_mutex_lock(&rmu);
		while (rcount == 0)
			pthread_cond_wait(&notempty, &rmu);
		int v = ring[rhead];
		rhead = (rhead + 1) % RING;
		rcount--;
		pthread_cond_signal(&notfull);
		pthread_mutex_unlock(&rmu);
		*sum += (long long)v * v;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS], p, c;
	long rets = 0;
	long long sum = 0;

	pthread_key_create(&key, dtor);
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		rets += (long)r;
	}
	printf("mutex counter=%ld (want %d)\n", counter, NTHREADS * ITERS);
	printf("atomic counter=%ld (want %d)\n", (long)atomic_load(&acounter), 2 * NTHREADS * ITERS);
	printf("cas max=%lu (want %d)\n", (unsigned long)atomic_load(&casmax), NTHREADS * ITERS - 1);
	printf("join sum=%ld once=%d tsd dtors=%d\n", rets, oncecount, (int)atomic_load(&dtorcount));

	pthread_create(&c, NULL, consumer, &sum);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	printf("condvar ring sum of squares=%lld (want %lld)\n", sum,
	       (long long)NITEMS * (NITEMS + 1) * (2 * NITEMS + 1) / 6);
	int ok = counter == NTHREADS * ITERS && atomic_load(&acounter) == 2 * NTHREADS * ITERS &&
		 rets == 60 && oncecount == 1 && atomic_load(&dtorcount) == NTHREADS;
	printf("%s\n", ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}
