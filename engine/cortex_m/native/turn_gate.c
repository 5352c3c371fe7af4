/* The turn gate (engine/machine/paired.py): while io0 takes its turn of a paired machine window, io1's first quantum
 * may already run on another host thread, as long as it sees nothing io0 does in that turn. Memory both cores see
 * (intercore_shared) is the one place io1's code could: io1's TLB is emptied before such a quantum, so its first
 * access to a shared page is a TLB fill (code_pages.c), which waits here until io0's turn is over (the gate opens).
 * io1 then reads and writes that memory exactly as if it had run after io0 on one thread. Waiting changes no value and
 * no timing; a page the fill admits stays admitted for the rest of the quantum, by which time the gate is open. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unicorn/unicorn.h>
#include "turn_gate.h"

void gate_wait(turn_gate_t *g) {
    if (!__atomic_load_n(&g->closed, __ATOMIC_ACQUIRE)) return;
    g->waits++;
    while (__atomic_load_n(&g->closed, __ATOMIC_ACQUIRE))
        syscall(SYS_futex, &g->closed, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
}

/* Before io1's quantum starts on the other thread: the gate closes and io1's TLB empties (its next access to each page
 * is a fill, code_pages.c). */
int gate_close(uc_engine *uc, turn_gate_t *g) {
    __atomic_store_n(&g->closed, 1, __ATOMIC_RELEASE);
    return uc_ctl_flush_tlb(uc);
}

void gate_open(turn_gate_t *g) {
    __atomic_store_n(&g->closed, 0, __ATOMIC_RELEASE);
    syscall(SYS_futex, &g->closed, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

uint64_t gate_struct_size(void) { return sizeof(turn_gate_t); }
