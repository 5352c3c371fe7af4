/* Two applications of the kernel in kernel.h, built as two firmware (firmware/toolchain.py):
 *
 * rtos_pingpong (RTOS_APP_DEMO=0, FreeRTOS-like port): two tasks of equal priority ping-pong numbers through two
 *   queues, as fast as they can: "ping" sends n and waits for the answer, "pong" answers 2n + 1. Every exchange
 *   blocks each task once, so the scheduler switches twice per round trip through PendSV. Both tasks keep a
 *   floating-point value live across the kernel calls (x = x / 2 + c settles on exactly 2c), so their frames are FP
 *   frames and a lost s16-s31 or s0-s15 shows as "fp bad". A reporter task prints the counts once a second.
 *
 * rtos_threadx (RTOS_APP_DEMO=1, ThreadX-like port): the structure of Eclipse ThreadX's demo_threadx.c (the
 *   Azure Sphere sample CodethinkLabs/mt3620-m4-samples ThreadX_RTApp_MT3620_AzureRTOS runs it at a 100 Hz tick):
 *   eight threads: 0 sleeps 10 ticks and sets an event flag for 5; 1 and 2 pass messages through a 100-entry queue
 *   with 4-tick time slices; 3 and 4 share a semaphore, holding it for 2 ticks; 6 and 7 share a mutex taken twice,
 *   holding it for 2 ticks. Thread 0 prints every counter every 10 rounds (one second). */
#include "kernel.h"
#include "pingpong_stop.h"  /* empty except in builds that stop (rtos_pingpong_qemu) */
#ifndef RTOS_APP_DEMO
#define RTOS_APP_DEMO 0
#endif

#define STACK_WORDS 256u

#if !RTOS_APP_DEMO
/* ---------------------------------------------------------------------------------------------------------------- */
#define PINGPONG_PRIO 10u
#define REPORTER_PRIO 5u
#define QUEUE_SIZE 4u
#define REPORTS 10u

static k_task_t ping_task, pong_task, reporter_task;
static uint32_t ping_stack[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t pong_stack[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t reporter_stack[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t ping_items[QUEUE_SIZE], pong_items[QUEUE_SIZE];
static k_queue_t to_pong, to_ping;
static volatile uint32_t round_trips, wrong_answers, fp_bad;

/* One step of x = x / 2 + c: from any start it reaches exactly 2c within a few dozen steps and stays there. */
static inline float settle(float x, float c) { return x * 0.5f + c; }

static void ping(uint32_t arg)
{
    (void)arg;
    float x = 0.0f;
    for (uint32_t n = 0;; n++) {
        x = settle(x, 1.0f);
        k_queue_send(&to_pong, n);
        uint32_t answer = k_queue_receive(&to_ping);
        if (answer != 2u * n + 1u) {
            wrong_answers++;
        }
        if (n >= 64u && x != 2.0f) {
            fp_bad++;
        }
        round_trips++; PINGPONG_AFTER_ROUND_TRIP(round_trips);
    }
}

static void pong(uint32_t arg)
{
    (void)arg;
    float y = 0.0f;
    for (uint32_t n = 0;; n++) {
        uint32_t v = k_queue_receive(&to_pong);
        y = settle(y, 3.0f);
        if (n >= 64u && y != 6.0f) {
            fp_bad++;
        }
        k_queue_send(&to_ping, 2u * v + 1u);
    }
}

static void reporter(uint32_t arg)
{
    (void)arg;
    uint32_t last = 0;
    for (uint32_t s = 1; s <= REPORTS; s++) {
        k_sleep(1000);
        uint32_t trips = round_trips;
        print("rtos_pingpong: %u s: %u round trips (+%u), %u context switches, answers %s, fp %s\r\n", s, trips,
              trips - last, k_switches, wrong_answers ? "wrong" : "ok", fp_bad ? "bad" : "ok");
        last = trips;
    }
    print("rtos_pingpong: done\r\n");
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("rtos_pingpong: start at %u Hz\r\n", hz);
    k_queue_init(&to_pong, ping_items, QUEUE_SIZE);
    k_queue_init(&to_ping, pong_items, QUEUE_SIZE);
    k_task_create(&ping_task, "ping", ping, 0, ping_stack, STACK_WORDS, PINGPONG_PRIO, 0);
    k_task_create(&pong_task, "pong", pong, 0, pong_stack, STACK_WORDS, PINGPONG_PRIO, 0);
    k_task_create(&reporter_task, "reporter", reporter, 0, reporter_stack, STACK_WORDS, REPORTER_PRIO, 0);
    k_start(1000);
}

#else
/* ---------------------------------------------------------------------------------------------------------------- */
#define QUEUE_SIZE 100u

static k_task_t threads[8];
static uint32_t stacks[8][STACK_WORDS] __attribute__((aligned(8)));
static uint32_t queue_items[QUEUE_SIZE];
static k_queue_t queue_0;
static k_sem_t semaphore_0;
static k_events_t event_flags_0;
static k_mutex_t mutex_0;
static volatile uint32_t counter[8], messages_sent, messages_received, broken;

static void thread_0(uint32_t arg)
{
    (void)arg;
    for (;;) {
        counter[0]++;
        if (counter[0] % 10u == 0u) {
            print("rtos_threadx: thread 0 events sent %u, 1 messages sent %u, 2 messages received %u, "
                  "3/4 semaphore %u/%u, 5 events %u, 6/7 mutex %u/%u, %u context switches%s\r\n",
                  counter[0], counter[1], counter[2], counter[3], counter[4], counter[5], counter[6], counter[7],
                  k_switches, broken ? ", BROKEN" : "");
        }
        k_sleep(10);
        k_events_set(&event_flags_0, 0x1);
    }
}

static void thread_1(uint32_t arg)
{
    (void)arg;
    for (;;) {
        counter[1]++;
        k_queue_send(&queue_0, messages_sent);
        messages_sent++;
    }
}

static void thread_2(uint32_t arg)
{
    (void)arg;
    for (;;) {
        counter[2]++;
        if (k_queue_receive(&queue_0) != messages_received) {
            broken++;
        }
        messages_received++;
    }
}

static void thread_3_and_4(uint32_t index)
{
    for (;;) {
        counter[index]++;
        k_sem_take(&semaphore_0);
        k_sleep(2);
        k_sem_give(&semaphore_0);
    }
}

static void thread_5(uint32_t arg)
{
    (void)arg;
    for (;;) {
        counter[5]++;
        if (k_events_wait_any(&event_flags_0, 0x1) != 0x1) {
            broken++;
        }
    }
}

static void thread_6_and_7(uint32_t index)
{
    for (;;) {
        counter[index]++;
        k_mutex_lock(&mutex_0);
        k_mutex_lock(&mutex_0);
        k_sleep(2);
        k_mutex_unlock(&mutex_0);
        k_mutex_unlock(&mutex_0);
    }
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("rtos_threadx: start at %u Hz\r\n", hz);
    k_queue_init(&queue_0, queue_items, QUEUE_SIZE);
    k_sem_init(&semaphore_0, 1);
    /* Thread, entry, argument, priority (0 most urgent), time slice in ticks: as demo_threadx.c. */
    static const struct {
        void (*entry)(uint32_t);
        unsigned prio, slice;
    } spec[8] = {
        {thread_0, 1, 0}, {thread_1, 16, 4}, {thread_2, 16, 4}, {thread_3_and_4, 8, 0},
        {thread_3_and_4, 8, 0}, {thread_5, 4, 0}, {thread_6_and_7, 8, 0}, {thread_6_and_7, 8, 0},
    };
    static const char *const names[8] = {"thread 0", "thread 1", "thread 2", "thread 3",
                                         "thread 4", "thread 5", "thread 6", "thread 7"};
    for (unsigned i = 0; i < 8; i++) {
        k_task_create(&threads[i], names[i], spec[i].entry, i, stacks[i], STACK_WORDS, spec[i].prio, spec[i].slice);
    }
    k_start(100);
}
#endif

#if !RTOS_APP_DEMO && defined(PINGPONG_ROUND_TRIPS)
/* The end of a ping-pong that stops (pingpong_stop.h): the counts, then halt(), which on QEMU exits. */
static _Noreturn void pingpong_stop(void)
{
    print("rtos_pingpong: stop after %u round trips, %u context switches, %u ticks, answers %s, fp %s\r\n",
          round_trips, k_switches, k_ticks(), wrong_answers ? "wrong" : "ok", fp_bad ? "bad" : "ok");
    halt();
}
#endif
