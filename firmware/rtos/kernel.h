/* A small preemptive kernel for the IO core, written for the emulator's RTOS benchmarks and tests: the same
 * mechanisms FreeRTOS and ThreadX use on a Cortex-M4F (ARMv7-M ARM DDI 0403E B1.5), in a few hundred lines.
 *
 * - Tasks run on the process stack (PSP), switched by PendSV, which saves r4-r11 and, when the task's frame is an
 *   FP frame (EXC_RETURN bit 4 clear), s16-s31: FP state is saved only for tasks that used the FPU ("lazy FP
 *   frames" in the RTOS sense; the hardware stacks s0-s15 and FPSCR in the 26-word frame).
 * - SysTick ticks the kernel: sleeping tasks wake, tasks of equal priority share the CPU by time slices.
 * - Blocking objects: a queue of 32-bit items (direct hand-over to a waiting receiver, senders wait while full),
 *   a counting semaphore, event flags (wait for any, clear on wake), a recursive mutex without inheritance.
 * - Two ports (port.c), chosen at build time:
 *     RTOS_PORT_THREADX=0 "FreeRTOS-like": critical sections raise BASEPRI, SVC starts the first task, an idle
 *                         task runs at the lowest priority, PendSV and SysTick share the lowest priority;
 *     RTOS_PORT_THREADX=1 "ThreadX-like": critical sections set PRIMASK, PendSV starts the first task and waits
 *                         inside itself (WFI) while nothing is ready, SysTick pre-empts PendSV.
 * Priorities: 0 is the most urgent, K_PRIORITIES - 1 the least (ThreadX order). Waits are forever; only sleeps
 * have a time-out. */
#ifndef RTOS_KERNEL_H
#define RTOS_KERNEL_H

#include "rt.h"

#define K_PRIORITIES 32u

enum k_state { K_READY, K_BLOCKED, K_SLEEPING, K_DONE };

typedef struct k_task {
    uint32_t *sp;               /* saved PSP: must stay the first member (PendSV reads it at offset 0) */
    struct k_task *next, *prev; /* links in its ready list or in the wait list it is blocked on */
    struct k_task *sleep_next;  /* link in the sleep list */
    struct k_wait *waiting_on;
    uint32_t wake_tick;
    uint32_t value;             /* an item or event bits handed over while blocked */
    uint32_t switches_in;       /* times the scheduler gave it the CPU */
    uint16_t slice, slice_left; /* time slice in ticks (0: none) */
    uint8_t prio;
    uint8_t state;
    const char *name;
} k_task_t;

typedef struct k_wait {
    k_task_t *head;             /* first blocked task of a FIFO ring */
} k_wait_t;

typedef struct {
    uint32_t *items;
    uint32_t size, head, count;
    k_wait_t senders, receivers;
} k_queue_t;

typedef struct {
    uint32_t count;
    k_wait_t waiters;
} k_sem_t;

typedef struct {
    uint32_t flags;
    k_wait_t waiters;           /* each waiter's `value` holds the bits it waits for */
} k_events_t;

typedef struct {
    k_task_t *owner;
    uint32_t depth;
    k_wait_t waiters;
} k_mutex_t;

extern k_task_t *volatile k_current;   /* the task on the CPU */
extern k_task_t *volatile k_execute;   /* the task that should be (NULL: none ready) */
extern volatile uint32_t k_switches;   /* context switches done by PendSV */

/* Creates a ready task; `stack` holds `words` 32-bit words. Call before k_start() or from a task. */
void k_task_create(k_task_t *t, const char *name, void (*entry)(uint32_t), uint32_t arg, uint32_t *stack,
                   uint32_t words, unsigned prio, unsigned slice);
/* Starts the scheduler with a SysTick of `tick_hz`; never returns. */
_Noreturn void k_start(uint32_t tick_hz);
uint32_t k_ticks(void);
void k_sleep(uint32_t ticks);
void k_yield(void);

void k_queue_init(k_queue_t *q, uint32_t *items, uint32_t size);
void k_queue_send(k_queue_t *q, uint32_t item);
uint32_t k_queue_receive(k_queue_t *q);

void k_sem_init(k_sem_t *s, uint32_t count);
void k_sem_take(k_sem_t *s);
void k_sem_give(k_sem_t *s);

void k_events_set(k_events_t *e, uint32_t bits);
uint32_t k_events_wait_any(k_events_t *e, uint32_t bits);  /* returns the bits that woke it, cleared */

void k_mutex_lock(k_mutex_t *m);
void k_mutex_unlock(k_mutex_t *m);

/* ---- what port.c provides to the kernel ---- */
uint32_t port_lock(void);             /* enters a critical section, returns what port_unlock restores */
void port_unlock(uint32_t saved);
void port_request_switch(void);       /* pends PendSV */
_Noreturn void port_start(uint32_t tick_hz);
/* Lays out the first frame PendSV (or the start) pops: the task runs entry(arg), returning into exit_fn. */
void port_init_frame(k_task_t *t, void (*entry)(uint32_t), uint32_t arg, uint32_t *stack_top,
                     void (*exit_fn)(void));

/* ---- what the kernel provides to port.c ---- */
void k_tick(void);                    /* SysTick, in a critical section */
void k_switched(void);                /* PendSV: k_current = k_execute, counted */

#endif
