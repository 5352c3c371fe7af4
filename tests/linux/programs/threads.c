/* Threads and futexes: a mutex-protected counter from 4 threads, a condition variable hand-off, a timed wait
 * that times out after exactly its virtual-time deadline, thread ids, TLS. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;
static __thread int tls_value;

static void *adder(void *arg)
{
    tls_value = (int)(long)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
        if (i % 100 == 0) {
            sched_yield();
        }
    }
    return (void *)(long)(tls_value * 10);
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&lock);
    while (turn != 1) {
        pthread_cond_wait(&cond, &lock);
    }
    turn = 2;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static long ms_between(struct timespec a, struct timespec b)
{
    return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

int main(void)
{
    pthread_t threads[4];
    long sum = 0;
    for (long i = 0; i < 4; i++) {
        pthread_create(&threads[i], NULL, adder, (void *)(i + 1));
    }
    for (int i = 0; i < 4; i++) {
        void *result;
        pthread_join(threads[i], &result);
        sum += (long)result;
    }
    printf("counter %ld results %ld tls %d\n", counter, sum, tls_value);

    pthread_t w;
    pthread_create(&w, NULL, waiter, NULL);
    pthread_mutex_lock(&lock);
    turn = 1;
    pthread_cond_signal(&cond);
    while (turn != 2) {
        pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
    pthread_join(w, NULL);
    printf("handoff done\n");

    struct timespec start, deadline, end;
    clock_gettime(CLOCK_REALTIME, &start);
    deadline = start;
    deadline.tv_nsec += 250 * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&lock);
    int rc = pthread_cond_timedwait(&cond, &lock, &deadline);
    pthread_mutex_unlock(&lock);
    clock_gettime(CLOCK_REALTIME, &end);
    printf("timedwait %s after %ld ms\n", rc == ETIMEDOUT ? "ETIMEDOUT" : "woken", ms_between(start, end));
    printf("tid differs from pid: %d\n", (int)syscall(SYS_gettid) == getpid());
    return 0;
}
