/* Block budget: the struct engine/cpu/budget.py mirrors and the two steps of charging a translation block, shared
 * by the plain budget hook (block_budget.c, every core) and the IO core's exception hook
 * (engine/cortex_m/native/exceptions.c), so each core has one block hook. */
#ifndef MT3620_BLOCK_BUDGET_H
#define MT3620_BLOCK_BUDGET_H

#include <stdint.h>
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
static inline uint32_t budget_count_thumb(const uint8_t *code, uint32_t size) {
    uint32_t n = 0, i = 0;
    while (i + 1 < size) {
        uint16_t hw = (uint16_t)(code[i] | (code[i + 1] << 8));
        uint16_t top = hw >> 11;
        i += (top == 0x1D || top == 0x1E || top == 0x1F) ? 4 : 2;
        n++;
    }
    return n ? n : 1;
}

/* Step 1, at the start of a block: a spent budget stops the CPU before the block runs, uncharged. The first block
 * of a quantum always runs, so every quantum makes progress (overshoot: at most one block). Returns 1 if stopped. */
static inline __attribute__((always_inline)) int budget_stop_if_spent(uc_engine *uc, budget_t *b) {
    if (__builtin_expect(b->remaining <= 0, 0) && b->executed > 0) {
        if (!b->stop_requested) {
            b->stop_requested = 1;
            uc_emu_stop(uc);
        }
        return 1;
    }
    return 0;
}

/* Counts a block's instructions on a cache miss (once per block address and size). */
static __attribute__((noinline)) uint32_t budget_count_block(uc_engine *uc, budget_t *b, cache_entry *e,
                                                              uint64_t address, uint32_t size) {
    uint32_t count;
    int thumb = b->thumb != 0;
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
            count = budget_count_thumb(code, len);
        else
            count = size / 2 ? size / 2 : 1;
    }
    e->address = address;
    e->size = size;
    e->count = count;
    return count;
}

/* Step 2: charge the block its instruction count (cached per address and size; a size of 0 never matches). */
static inline __attribute__((always_inline)) void budget_charge(uc_engine *uc, budget_t *b, uint64_t address,
                                                                uint32_t size) {
    uint32_t count;
    if (b->thumb) {
        cache_entry *e = &b->cache[(address >> 1) & (CACHE_SIZE - 1)];
        count = __builtin_expect(e->address == address && e->size == size, 1)
                    ? e->count : budget_count_block(uc, b, e, address, size);
    } else {
        count = size / 4 ? size / 4 : 1;
    }
    b->executed += count;
    b->blocks += 1;
    b->last_block = address;
    b->remaining -= count;
}

#endif
