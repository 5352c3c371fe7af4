/* Stores to RAM at full speed on Unicorn: a TLB-fill hook that gives a page execute permission only once code was
 * fetched from it.
 *
 * Unicorn keeps every store to a page whose TLB entry allows execution on its slow path (notdirty_write: look up
 * the memory region, invalidate translated code on the page), because it cannot tell pages with code from pages
 * without. On an M-profile core every RAM page allows execution (the default memory map), so every store of the
 * guest was slow. With Unicorn's virtual TLB (UC_TLB_VIRTUAL) the permissions of a TLB entry come from this hook:
 * data pages get read/write only, and their stores take qemu's fast path after the first; a page from which code
 * is fetched gets execute permission from then on, so stores to it keep invalidating stale translations
 * (self-modifying code, code loaded at run time). Permissions of the memory regions themselves (read-only flash,
 * MMIO without execute) are still enforced by Unicorn after the TLB, as before. Identity-mapped: paddr = vaddr.
 *
 * Unicorn's virtual TLB restores the CPU state from the current instruction before every fill (unicorn_vtlb.c
 * calls cpu_restore_state(..., will_exit=false)), which sets the Thumb IT-block state of that instruction in the
 * middle of a translation block, where qemu keeps it zero (the translator tracks IT blocks itself and stores the
 * state only when a block ends inside one). A data access inside an IT block that misses the TLB would leave the
 * IT state set after the block and make the next block's instructions conditional on a stale condition (seen
 * here: the bss loop of MediaTek's startup_mt3620.s, `strlt` under `ittt lt`, then its `bx` to main skipped). So
 * a data fill puts the IT bits back to zero. */
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm.h>
#include "turn_gate.h"

#define PAGE_BITS 10                      /* Unicorn's ARMv7-M target page: 1 KB */
#define PAGES (1u << (32 - PAGE_BITS))

#define GATED_RANGES 4

typedef struct {
    uint8_t code[PAGES / 8];              /* bit per page: code was fetched from it */
    uint64_t fills, code_pages, it_cleared;
    turn_gate_t *gate;                    /* paired windows: fills of shared memory wait here (turn_gate.c) */
    int32_t n_gated, shared_filled;       /* shared_filled: the TLB may hold a page of gated memory */
    uint64_t gated_start[GATED_RANGES], gated_end[GATED_RANGES];   /* [start, end] of memory another core sees */
} code_pages_t;

#define XPSR_IT ((3u << 25) | (0x3Fu << 10))

static bool tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *entry, void *user_data) {
    code_pages_t *c = (code_pages_t *)user_data;
    for (int i = 0; i < c->n_gated; i++)
        if (vaddr >= c->gated_start[i] && vaddr <= c->gated_end[i]) {
            gate_wait(c->gate);
            c->shared_filled = 1;
        }
    if (type != UC_MEM_FETCH) {
        uint32_t xpsr = 0;
        uc_reg_read(uc, UC_ARM_REG_XPSR, &xpsr);
        if (xpsr & XPSR_IT) {
            xpsr &= ~XPSR_IT;
            uc_reg_write(uc, UC_ARM_REG_XPSR, &xpsr);
            c->it_cleared++;
        }
    }
    uint32_t page = (uint32_t)(vaddr >> PAGE_BITS) & (PAGES - 1);
    uint8_t mask = (uint8_t)(1u << (page & 7));
    if (type == UC_MEM_FETCH && !(c->code[page >> 3] & mask)) {
        c->code[page >> 3] |= mask;
        c->code_pages++;
    }
    c->fills++;
    entry->paddr = vaddr;
    entry->perms = UC_PROT_READ | UC_PROT_WRITE | ((c->code[page >> 3] & mask) ? UC_PROT_EXEC : 0);
    return true;
}

int code_pages_install(uc_engine *uc, code_pages_t *c, uc_hook *handle) {
    uc_err err = uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL);
    if (err) return err;
    return uc_hook_add(uc, handle, UC_HOOK_TLB_FILL, (void *)tlb_fill, c, 1, 0);
}

/* Fills of [start, end] (memory another core sees) wait at `gate` while it is closed. */
int code_pages_gate(code_pages_t *c, turn_gate_t *gate, uint64_t start, uint64_t end) {
    if (c->n_gated == GATED_RANGES) return -1;
    c->gate = gate;
    c->shared_filled = 1;                 /* whatever the TLB holds now goes at the first paired quantum */
    c->gated_start[c->n_gated] = start;
    c->gated_end[c->n_gated++] = end;
    return 0;
}

/* Before a paired quantum on the other thread: the gate closes, and the TLB empties if it may hold a page of gated
 * memory (so the first access to one is a fill, which waits); a TLB without one stays (its fills are not repeated). */
int code_pages_gate_close(uc_engine *uc, code_pages_t *c) {
    __atomic_store_n(&c->gate->closed, 1, __ATOMIC_RELEASE);
    if (!c->shared_filled) return 0;
    c->shared_filled = 0;
    return uc_ctl_flush_tlb(uc);
}

void code_pages_clear(code_pages_t *c) { memset(c->code, 0, sizeof c->code); }

uint64_t code_pages_struct_size(void) { return sizeof(code_pages_t); }
