/* A high-level app for the A7 GDB tests: plain calls (step/next/finish), A32 functions (main among them) among
 * Thumb-2 code, an IT block, a counter to watch, a thread, Log_Debug through libapplibs, and modes chosen by its first
 * argument: "steps" (the default: runs and exits with status 3), "busy" (spins until interrupted), "crash"
 * (a store through a null pointer: SIGSEGV), "sleeper" (a thread that sleeps in nanosleep while main waits). */
#include <applibs/log.h>

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int gdb_counter;
volatile unsigned gdb_spin;
volatile int gdb_stage;
int *volatile gdb_null_pointer;

__attribute__((noinline, target("thumb"))) int gdb_add(int a, int b)
{
    return a + b;
}

__attribute__((noinline, target("arm"))) int gdb_arm_scale(int x)
{
    return x * 3 + 1;
}

/* Thumb-2 IT block: 10 when x is 0, else 20. */
__attribute__((noinline, target("thumb"))) int gdb_it_select(int x)
{
    int r;
    __asm__ volatile("cmp %1, #0\n\t"
                     "ite eq\n\t"
                     "moveq %0, #10\n\t"
                     "movne %0, #20\n\t"
                     : "=r"(r)
                     : "r"(x)
                     : "cc");
    return r;
}

__attribute__((noinline, target("thumb"))) void gdb_count_to(int n)
{
    for (int i = 0; i < n; i++) {
        gdb_counter = gdb_counter + 1;
    }
}

static void *gdb_worker(void *arg)
{
    Log_Debug("gdb_app: worker %s\n", (const char *)arg);
    gdb_stage = 1;
    while (gdb_stage < 2) {
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    return NULL;
}

static void *gdb_sleeper(void *arg)
{
    struct timespec nap = {0, 5000000};
    for (;;) {
        nanosleep(&nap, NULL);
        gdb_spin++;
    }
    return arg;
}

__attribute__((target("arm"))) int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "steps";
    Log_Debug("gdb_app: start %s\n", mode);
    if (strcmp(mode, "busy") == 0) {
        Log_Debug("gdb_app: busy\n");
        for (;;) {
            gdb_spin++;
        }
    }
    if (strcmp(mode, "crash") == 0) {
        Log_Debug("gdb_app: crashing\n");
        *gdb_null_pointer = 1;
    }
    if (strcmp(mode, "sleeper") == 0) {
        pthread_t sleeper;
        pthread_create(&sleeper, NULL, gdb_sleeper, NULL);
        Log_Debug("gdb_app: sleeping\n");
        pthread_join(sleeper, NULL);
    }
    int sum = gdb_add(2, 3);
    int scaled = gdb_arm_scale(sum);
    int picked = gdb_it_select(0) + gdb_it_select(1);
    gdb_count_to(5);
    pthread_t thread;
    if (pthread_create(&thread, NULL, gdb_worker, "one") != 0) {
        return 1;
    }
    while (gdb_stage < 1) {
        usleep(1000);
    }
    gdb_stage = 2;
    pthread_join(thread, NULL);
    Log_Debug("gdb_app: sum %d scaled %d picked %d counter %d\n", sum, scaled, picked, gdb_counter);
    return 3;
}
