/* Block-budget hook for Unicorn: charges every executed translation block with its instruction count and stops
 * the CPU when the budget is spent. Built at first use by engine/cpu/native/__init__.py with the system C
 * compiler; Python falls back to an equivalent (slower) hook when no compiler exists. Both cores use it: the IO
 * cores (Thumb-2 only) and the Cortex-A7 (A32 and Thumb-2 blocks mixed, told apart by CPSR.T per block).
 *
 * Why: emu_start(count=N) adds a per-instruction hook and cannot say how much ran when it stops early; charging
 * whole blocks keeps generated code chained, is deterministic and always knows how many instructions retired. */
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm.h>

#define CACHE_SIZE 8192u
#define MODE_AUTO 2
#define CPSR_T (1u << 5)

typedef struct {
    uint64_t address;
    uint32_t size;
    uint32_t count;
} cache_entry;

typedef struct {
    int64_t remaining;      /* instructions left in this quantum; <= 0 stops at the next block */
    uint64_t executed;      /* instructions charged since the counter was last cleared */
    uint64_t blocks;        /* blocks charged */
    int32_t thumb;          /* 1: Thumb-2 encoding (M-profile); 0: A32 (4 bytes each); 2: per block, from CPSR.T */
    int32_t stop_requested; /* set when this hook called uc_emu_stop */
    uint64_t last_block;    /* address of the last block charged */
    cache_entry cache[CACHE_SIZE];
} budget_t;

/* Thumb-2: a halfword whose top five bits are 0b11101, 0b11110 or 0b11111 starts a 32-bit instruction. */
static uint32_t count_thumb(const uint8_t *code, uint32_t size) {
    uint32_t n = 0, i = 0;
    while (i + 1 < size) {
        uint16_t hw = (uint16_t)(code[i] | (code[i + 1] << 8));
        uint16_t top = hw >> 11;
        i += (top == 0x1D || top == 0x1E || top == 0x1F) ? 4 : 2;
        n++;
    }
    return n ? n : 1;
}

static void block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    budget_t *b = (budget_t *)user_data;
    uint32_t count;
    /* A stop requested here happens before the block runs, so a spent budget stops without charging. The first
     * block of a quantum always runs, so every quantum makes progress (overshoot: at most one block). */
    if (b->remaining <= 0 && b->executed > 0) {
        if (!b->stop_requested) {
            b->stop_requested = 1;
            uc_emu_stop(uc);
        }
        return;
    }
    if (b->thumb) {
        cache_entry *e = &b->cache[(address >> 1) & (CACHE_SIZE - 1)];
        if (e->address == address && e->size == size && e->count) {
            count = e->count;
        } else {
            int thumb = 1;
            if (b->thumb == MODE_AUTO) {
                /* The A7 runs both instruction sets: the block being entered runs in the state CPSR.T gives. */
                uint32_t cpsr = 0;
                uc_reg_read(uc, UC_ARM_REG_CPSR, &cpsr);
                thumb = (cpsr & CPSR_T) != 0;
            }
            if (!thumb) {
                count = size / 4 ? size / 4 : 1;
            } else {
                uint8_t code[4096];
                uint32_t len = size < sizeof code ? size : sizeof code;
                if (uc_mem_read(uc, address, code, len) == UC_ERR_OK)
                    count = count_thumb(code, len);
                else
                    count = size / 2 ? size / 2 : 1;
            }
            e->address = address;
            e->size = size;
            e->count = count;
        }
    } else {
        count = size / 4 ? size / 4 : 1;
    }
    b->executed += count;
    b->blocks += 1;
    b->last_block = address;
    b->remaining -= count;
}

/* Registers the hook on every address; returns the uc_err of uc_hook_add. */
int budget_install(uc_engine *uc, budget_t *b, uc_hook *handle) {
    return uc_hook_add(uc, handle, UC_HOOK_BLOCK, (void *)block_hook, b, 1, 0);
}

void budget_flush_cache(budget_t *b) { memset(b->cache, 0, sizeof b->cache); }

uint64_t budget_struct_size(void) { return sizeof(budget_t); }
