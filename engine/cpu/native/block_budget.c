/* Block-budget hook for Unicorn: charges every executed translation block with its instruction count and stops
 * the CPU when the budget is spent. Built at first use by engine/cpu/native/__init__.py with the system C
 * compiler; Python falls back to an equivalent (slower) hook when no compiler exists. Both cores use it: the IO
 * cores (Thumb-2 only) and the Cortex-A7 (A32 and Thumb-2 blocks mixed, told apart by CPSR.T per block). The
 * charging itself is in block_budget.h, which the IO core's exception hook shares.
 *
 * Why: emu_start(count=N) adds a per-instruction hook and cannot say how much ran when it stops early; charging
 * whole blocks keeps generated code chained, is deterministic and always knows how many instructions retired. */
#include <string.h>
#include "block_budget.h"

static void block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    budget_t *b = (budget_t *)user_data;
    if (budget_stop_if_spent(uc, b))
        return;
    budget_charge(uc, b, address, size);
}

/* Registers the hook on every address; returns the uc_err of uc_hook_add. */
int budget_install(uc_engine *uc, budget_t *b, uc_hook *handle) {
    return uc_hook_add(uc, handle, UC_HOOK_BLOCK, (void *)block_hook, b, 1, 0);
}

void budget_flush_cache(budget_t *b) { memset(b->cache, 0, sizeof b->cache); }

uint64_t budget_struct_size(void) { return sizeof(budget_t); }
