/* The turn gate (engine/machine/paired.py): while io0 takes its turn of a paired machine window, io1's first quantum
 * may already run on another host thread, as long as it sees nothing io0 does in that turn. Memory both cores see
 * (intercore_shared) is the one place io1's code could: io1's TLB holds no page of it when such a quantum starts
 * (code_pages_gate_close), so its first access to a shared page is a TLB fill (code_pages.c), which waits here until
 * io0's turn is over (the gate opens).
 * io1 then reads and writes that memory exactly as if it had run after io0 on one thread. Waiting changes no value and
 * no timing; a page the fill admits stays admitted for the rest of the quantum, by which time the gate is open. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unicorn/unicorn.h>
#include <pthread.h>
#include "turn_gate.h"

/* Sleep while *word holds `value`; set *word and wake its sleepers. */
static void futex_wait_while(int32_t *word, int32_t value) {
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value)
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_set(int32_t *word, int32_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void gate_wait(turn_gate_t *g) {
    if (!__atomic_load_n(&g->closed, __ATOMIC_ACQUIRE)) return;
    g->waits++;
    futex_wait_while(&g->closed, 1);
}

void gate_open(turn_gate_t *g) { futex_set(&g->closed, 0); }

uint64_t gate_struct_size(void) { return sizeof(turn_gate_t); }

/* ---- the paired quantum's host thread ------------------------------------------------------------------------------
 * io1's first quantum of a paired window runs on this thread, started and waited for without Python (no GIL to take
 * before the run starts): the machine's thread hands it the core's engine and start address (runner_go), runs io0's
 * turn, then waits for the result (runner_wait, the uc_err of uc_emu_start). Hooks that reach Python from the run
 * take the GIL themselves (ctypes callbacks). */

typedef struct {
    uc_engine *uc;
    uint64_t begin;
    int32_t go, done, quit, err;
    pthread_t thread;
    int32_t started, pad;
} runner_t;

static void *runner_main(void *arg) {
    runner_t *r = (runner_t *)arg;
    for (;;) {
        futex_wait_while(&r->go, 0);
        if (__atomic_load_n(&r->quit, __ATOMIC_ACQUIRE)) return NULL;
        __atomic_store_n(&r->go, 0, __ATOMIC_RELAXED);
        r->err = (int32_t)uc_emu_start(r->uc, r->begin, 0xFFFFFFFF, 0, 0);
        futex_set(&r->done, 1);
    }
}

int runner_go(runner_t *r, uc_engine *uc, uint64_t begin) {
    if (!r->started) {
        if (pthread_create(&r->thread, NULL, runner_main, r) != 0) return -1;
        r->started = 1;
    }
    r->uc = uc;
    r->begin = begin;
    __atomic_store_n(&r->done, 0, __ATOMIC_RELEASE);
    futex_set(&r->go, 1);
    return 0;
}

int runner_wait(runner_t *r) {
    futex_wait_while(&r->done, 0);
    return r->err;
}

void runner_quit(runner_t *r) {
    if (!r->started) return;
    __atomic_store_n(&r->quit, 1, __ATOMIC_RELEASE);
    futex_set(&r->go, 1);
    pthread_join(r->thread, NULL);
    r->started = 0;
}

uint64_t runner_struct_size(void) { return sizeof(runner_t); }
