/* Waiting without spinning: epoll on a periodic timerfd, an eventfd written by another thread, poll and select
 * time-outs, nanosleep. Every wait advances virtual time only. */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int efd;

static void *poster(void *arg)
{
    struct timespec d = {0, 30 * 1000000};
    nanosleep(&d, NULL);
    uint64_t one = 5;
    write(efd, &one, sizeof one);
    return NULL;
}

int main(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec spec = {{0, 100 * 1000000}, {0, 100 * 1000000}};
    timerfd_settime(tfd, 0, &spec, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    long start = now_ms();
    for (int i = 0; i < 5; i++) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, -1);
        uint64_t expirations;
        read(tfd, &expirations, sizeof expirations);
        printf("tick %d n=%d data=%llx expirations=%llu at %ld ms\n", i, n, (unsigned long long)out.data.u64,
               (unsigned long long)expirations, now_ms() - start);
    }

    efd = eventfd(0, 0);
    pthread_t t;
    long before = now_ms();
    pthread_create(&t, NULL, poster, NULL);
    uint64_t value;
    read(efd, &value, sizeof value);       /* blocks until the other thread writes */
    pthread_join(t, NULL);
    printf("eventfd %llu after %ld ms\n", (unsigned long long)value, now_ms() - before);

    struct pollfd p = {.fd = efd, .events = POLLIN};
    before = now_ms();
    int n = poll(&p, 1, 40);
    printf("poll %d after %ld ms\n", n, now_ms() - before);

    fd_set set;
    FD_ZERO(&set);
    FD_SET(efd, &set);
    struct timeval tv = {0, 60000};
    before = now_ms();
    n = select(efd + 1, &set, NULL, NULL, &tv);
    printf("select %d after %ld ms\n", n, now_ms() - before);

    struct itimerspec left;
    timerfd_gettime(tfd, &left);
    printf("timer interval %ld ms\n", left.it_interval.tv_nsec / 1000000);
    return 0;
}
