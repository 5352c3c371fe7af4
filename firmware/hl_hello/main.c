/* The project's high-level hello app: Log_Debug lines from main and from a second thread, a floating-point
 * check, its own arguments, then it exits with status 7 (so tests see the exit status travel back). */
#include <applibs/log.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void *worker(void *arg)
{
    Log_Debug("hl_hello: thread says %s\n", (const char *)arg);
    return NULL;
}

int main(int argc, char *argv[])
{
    Log_Debug("hl_hello: Hello from the A7\n");
    for (int i = 1; i < argc; i++) {
        Log_Debug("hl_hello: arg %d = %s\n", i, argv[i]);
    }
    volatile double x = 2.0;
    double root = x;
    for (int i = 0; i < 20; i++) {
        root = 0.5 * (root + x / root);
    }
    Log_Debug("hl_hello: sqrt(2) = %.6f\n", root);

    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, "hi") != 0 || pthread_join(thread, NULL) != 0) {
        Log_Debug("hl_hello: pthread failed\n");
        return 1;
    }
    struct timespec delay = {0, 20 * 1000 * 1000};
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    nanosleep(&delay, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long slept_ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    Log_Debug("hl_hello: slept %ld ms\n", slept_ms);
    Log_Debug("hl_hello: done\n");
    return 7;
}
