/* The native state of one IO core, shared by the exception path (exceptions.c) and the device fast path
 * (devices.c): the NVIC state and the SCS registers the exception model needs, the run's time base, the polling
 * detector and the UART served here; plus the helpers both use (registers, NVIC decisions, guest RAM). Mirrored
 * field by field by engine/cortex_m/native_exceptions.py (_ExcStruct): keep both in step. */
#ifndef MT3620_CORE_STATE_H
#define MT3620_CORE_STATE_H

#include <string.h>
#include "block_budget.h"
#include "cpu_env.h"

#define NUM_EXC 160                       /* 16 system exceptions + up to 144 interrupts */
#define WORDS ((NUM_EXC + 31) / 32)
#define MAX_REGIONS 16
#define UNMASK_SLOTS 1024                 /* open-addressing set of unmask points (a power of two) */
#define PAGE_BITS 10                      /* Unicorn's ARMv7-M target page (native/code_pages.c) */

/* `check`: what the block hook looks at. */
enum { CHECK_NONE = 0, CHECK_ALL = 1, CHECK_UNMASK = 2 };

enum { RESET = 1, NMI = 2, HARDFAULT = 3, SVCALL = 11, PENDSV = 14, SYSTICK = 15, EXTERNAL_BASE = 16 };
#define THREAD_PRIORITY 256
#define CONTROL_NPRIV 1u
#define CONTROL_SPSEL 2u
#define CONTROL_FPCA 4u
#define XPSR_T (1u << 24)
#define CCR_NONBASETHRDENA 1u
#define CCR_STKALIGN (1u << 9)
#define SCR_SLEEPONEXIT 2u
#define SCR_SEVONPEND 0x10u

/* qemu exception numbers that Unicorn hands to UC_HOOK_INTR (target/arm/cpu.h) */
#define EXCP_SWI 2
#define EXCP_EXCEPTION_EXIT 8

/* Why this code stopped a run: an interrupt Python handles, an exception left to Python at a block start, or a
 * line the native UART sent (the machine's window ends there, as it does at a UART event on the Python path). */
enum { STOP_NONE = 0, STOP_INTR = 1, STOP_BAIL = 2, STOP_YIELD = 3 };
enum { OK = 0, BAIL = 1 };

#define PS_PER_SECOND 1000000000000ull
#define NEVER UINT64_MAX                  /* no native event due */
#define UART_OUT_MAX 512                  /* bytes sent in one run before the run stops to hand them over */
#define UART_FIFO 16

typedef uint64_t (*py_read_fn)(uint64_t offset, uint32_t size);
typedef void (*py_write_fn)(uint64_t offset, uint32_t size, uint64_t value);

/* A UART's transmitter served here while the machine window lasts (peripherals/uart/mt3620_uart.py owns it
 * between windows; devices.c and engine/cortex_m/native_devices.py say when and how). */
typedef struct {
    int32_t attached;                 /* this core maps the UART's page through devices.c */
    int32_t engaged;                  /* the fields below are the model's TX state (the Python copy is stale) */
    uint32_t base;                    /* the UART's register block */
    uint32_t page;                    /* the page mapped here (other blocks on it go to Python) */
    uint32_t irq;                     /* its NVIC input */
    uint32_t ier, ier_mask;           /* IER and its writable bits */
    int32_t fifo_on, depth, tx_trigger;
    int32_t fifo_len;
    uint8_t fifo[UART_FIFO];
    int32_t shift;                    /* the byte in the shift register, -1: none */
    int32_t thre_pending;
    int32_t line;                     /* the level of its IRQ output */
    uint64_t frame_ps;                /* one frame on the line */
    uint64_t due_ps;                  /* the frame in the shift register ends (NEVER: idle) */
    int32_t n_out;                    /* bytes whose stop bit went out during the window, with their times */
    uint8_t out[UART_OUT_MAX];
    uint64_t out_ps[UART_OUT_MAX];
    uint64_t reads, writes, frames;   /* served here (statistics) */
    py_read_fn py_read;               /* the Python side of the page, for everything else */
    py_write_fn py_write;
} uart_t;

/* SysTick (engine/cortex_m/systick.py) served here while the machine window lasts, as the UART's transmitter: the
 * model owns it between windows; engine/cortex_m/native_devices.py (NativeSysTick) hands it over and back. Reads of
 * its registers are served here; a write goes to the model, which takes the state back first. */
typedef struct {
    int32_t engaged;                  /* the fields below are the model's state (the Python copy is stale) */
    uint32_t base;                    /* SYST_CSR's address (the polling detector names registers by address) */
    uint32_t csr, csr_readable;       /* SYST_CSR as stored and its readable bits (COUNTFLAG is cleared by a read) */
    uint32_t rvr_read, calib_read;    /* what SYST_RVR and SYST_CALIB read */
    uint32_t reload;                  /* SYST_RVR.RELOAD */
    uint32_t pad;
    uint64_t hz;                      /* its clock (the core's HCLK when it was handed over) */
    uint64_t anchor_ps, anchor_value; /* the count runs down from anchor_value at anchor_ps (SysTick._value_at) */
    uint64_t due_ps;                  /* the next wrap (NEVER: none) */
    uint64_t floor_ps;                /* the machine's clock when handed over: a model never sees time go back */
    uint64_t reads, wraps;            /* served here (statistics) */
} systick_t;

typedef struct {
    /* NVIC state (ExceptionState) */
    uint32_t num_irqs;
    uint32_t implemented_mask;        /* priority bits implemented, e.g. 0xE0 */
    int32_t prigroup;
    int32_t n_active;
    uint32_t pending[WORDS];          /* by exception number */
    uint32_t enabled[WORDS];          /* external interrupt n at bit n */
    uint32_t line_level[WORDS];       /* external interrupt n at bit n */
    uint8_t priority[NUM_EXC];        /* 8-bit priority fields of the programmable exceptions */
    int32_t active[NUM_EXC];          /* active exceptions in activation order */
    /* SCS registers the exception model reads (copied from the Python SCS block) */
    uint32_t vtor, ccr, scr, pad0;
    /* control */
    int32_t fast;                     /* 1: take exceptions here; 0: leave everything to Python */
    int32_t check;                    /* CHECK_*: what is pending may be taken at a block start (ALL), or only
                                         once BASEPRI/PRIMASK/FAULTMASK change (UNMASK: at unmask points) */
    int32_t event_register;           /* WFE event register (set by exception entry and return) */
    int32_t python_stop;              /* Python stopped this run (a bus error): take nothing more here */
    int32_t native_scs;               /* 1: ICSR writes handled here (no access hooks on the bus view) */
    int32_t stop_kind;                /* STOP_*: why this code stopped the run */
    int32_t stop_intno;
    uint32_t stop_pc;
    /* SCS writes handled here, for the Python side */
    uint64_t scs_writes;              /* count (the polling-loop detector resets on any MMIO write) */
    uint64_t clock_sync_executed;     /* budget.executed at the last one (the clock follows the core) */
    int32_t clock_sync;
    int32_t n_regions;
    uint64_t region_start[MAX_REGIONS];   /* RAM where frames and vectors are read and written here */
    uint64_t region_end[MAX_REGIONS];
    uint64_t region_host[MAX_REGIONS];    /* the host buffer behind each region (mem_map_ptr) */
    int32_t region_writable[MAX_REGIONS];
    int32_t n_unmask;
    uint32_t unmask[UNMASK_SLOTS];        /* addresses right after an MSR to PRIMASK/BASEPRI/FAULTMASK or a CPS:
                                             where a block starts once a mask changed (qemu ends the block there) */
    const uint8_t *code_pages;            /* bit per 1 KB page from which code was fetched (native/code_pages.c) */
    /* time base of the run (CortexM4._anchor_*, instructions, _horizon): local time after `count` instructions
       retired since power-on is anchor_ps + ps_for_cycles(count - anchor_count, hz) */
    uint64_t anchor_ps, anchor_count, hz;
    uint64_t run_base;                /* instructions retired before this run (CortexM4.instructions) */
    uint64_t horizon_ps;              /* the run ends here (the next event Python keeps) */
    uint64_t due_count;               /* instructions retired when the next native event is due (NEVER: none) */
    uint64_t sleeps, slept_ps;        /* native WFI sleeps (statistics) */
    /* polling-loop detector (CortexM4._track_polling): the same register read SPIN_READS times in a row */
    uint32_t spin_address, spin_value;
    int32_t spin_count, skip_kind;    /* skip_kind 1: jump to the next event; 2: jump skip_ps ahead */
    uint64_t spin_at, spin_since, skip_ps;
    uart_t uart;
    systick_t systick;
    /* statistics */
    uint64_t entries, returns, tail_chains, bails;
    /* links */
    budget_t *budget;
    py_read_fn py_read;               /* the Python SCS register block, for everything not handled here */
    py_write_fn py_write;
    cpu_env_t env;                    /* the CPU's register file in place (cpu_env.h; env.found 0: the API) */
    int32_t track_polls;              /* CortexM4.idle_skip: register reads served here feed the polling detector */
    int32_t quiet_lines;              /* 1: a line's end does not end the run (CortexM4.lines_end_turn off) */
    uint64_t scs_reads;               /* ICSR reads served here (statistics) */
} exc_t;

/* ---- registers ------------------------------------------------------------------------------------------------ */
static inline uint32_t rd(uc_engine *uc, int reg) {
    uint32_t v = 0;
    uc_reg_read(uc, reg, &v);
    return v;
}

static inline void wr(uc_engine *uc, int reg, uint32_t v) { uc_reg_write(uc, reg, &v); }

/* Reads without side effects in qemu come from the register file in place when it was found (cpu_env.h). */
static inline uint32_t read_pc(uc_engine *uc, const exc_t *x) {
    return x->env.found ? x->env.regs[15] : rd(uc, UC_ARM_REG_PC);
}
static inline uint32_t read_primask(uc_engine *uc, const exc_t *x) {
    return x->env.primask ? *x->env.primask : rd(uc, UC_ARM_REG_PRIMASK);
}
static inline uint32_t read_faultmask(uc_engine *uc, const exc_t *x) {
    return x->env.faultmask ? *x->env.faultmask : rd(uc, UC_ARM_REG_FAULTMASK);
}
static inline uint32_t read_basepri(uc_engine *uc, const exc_t *x) {
    return x->env.basepri ? *x->env.basepri : rd(uc, UC_ARM_REG_BASEPRI);
}

/* Register writes queued and made in one Unicorn call, in order (the order matters for CONTROL, xPSR and the SPs,
 * exactly as in CortexM4._set_mode). 64-bit values for d0-d7. */
typedef struct {
    int n;
    int regs[32];
    void *ptrs[32];
    uint64_t values[32];
} reg_writes;

static inline void queue(reg_writes *w, int reg, uint64_t value) {
    w->regs[w->n] = reg;
    w->values[w->n] = value;
    w->ptrs[w->n] = &w->values[w->n];
    w->n++;
}

static inline void flush(uc_engine *uc, reg_writes *w) {
    if (w->n) uc_reg_write_batch(uc, w->regs, (void *const *)w->ptrs, w->n);
    w->n = 0;
}

/* s0-s15 as d0-d7: the same 64 bytes in half the accesses (s2n is the low half of dn). */
static const int FP_REGS[9] = {UC_ARM_REG_D0, UC_ARM_REG_D1, UC_ARM_REG_D2, UC_ARM_REG_D3, UC_ARM_REG_D4,
                               UC_ARM_REG_D5, UC_ARM_REG_D6, UC_ARM_REG_D7, UC_ARM_REG_FPSCR};

/* A PC write is last: Unicorn leaves the current block at once and resumes there (Thumb bit always set). */
static inline void set_pc(uc_engine *uc, uint32_t address) { wr(uc, UC_ARM_REG_PC, (address & ~1u) | 1u); }

/* ---- NVIC decisions (ExceptionState) -------------------------------------------------------------------------- */
static inline int bit(const uint32_t *words, int n) { return (words[n >> 5] >> (n & 31)) & 1; }
static inline void set_bit(uint32_t *words, int n) { words[n >> 5] |= 1u << (n & 31); }
static inline void clear_bit(uint32_t *words, int n) { words[n >> 5] &= ~(1u << (n & 31)); }

static inline int get_priority(const exc_t *x, int n) {
    if (n == RESET) return -3;
    if (n == NMI) return -2;
    if (n == HARDFAULT) return -1;
    return x->priority[n];
}

static inline int group_priority(const exc_t *x, int p) {
    if (p < 0) return p;
    int sub = x->prigroup + 1;  /* PRIGROUP n: bits [n:0] are subpriority */
    return (p >> sub) << sub;
}

static inline int is_enabled(const exc_t *x, int n) {
    return n >= EXTERNAL_BASE ? bit(x->enabled, n - EXTERNAL_BASE) : 1;
}

/* The pending, enabled exception taken next: lowest (group priority, priority, number). `extra` (>= 0) counts as
 * pending too (a level interrupt pending again after its return). */
static inline int highest_pending(const exc_t *x, int extra) {
    int best = -1, best_group = 0, best_prio = 0;
    for (int w = 0; w < WORDS; w++) {
        uint32_t bits = x->pending[w];
        if (extra >= 0 && (extra >> 5) == w) bits |= 1u << (extra & 31);
        while (bits) {
            int n = w * 32 + __builtin_ctz(bits);
            bits &= bits - 1;
            if (!is_enabled(x, n)) continue;
            int p = get_priority(x, n), g = group_priority(x, p);
            if (best < 0 || g < best_group || (g == best_group && p < best_prio)) {
                best = n;
                best_group = g;
                best_prio = p;
            }
        }
    }
    return best;
}

/* Execution priority with the first activation of `skip` (>= 0) left out (it is returning). */
static inline int execution_priority(const exc_t *x, uint32_t primask, uint32_t faultmask, uint32_t basepri, int skip) {
    int prio = THREAD_PRIORITY;
    for (int i = 0; i < x->n_active; i++) {
        if (x->active[i] == skip) {
            skip = -1;
            continue;
        }
        int g = group_priority(x, get_priority(x, x->active[i]));
        if (g < prio) prio = g;
    }
    basepri &= x->implemented_mask;
    if (basepri) {
        int g = group_priority(x, (int)basepri);
        if (g < prio) prio = g;
    }
    if ((primask & 1) && prio > 0) prio = 0;
    if ((faultmask & 1) && prio > -1) prio = -1;
    return prio;
}

static inline int preempting(const exc_t *x, uint32_t primask, uint32_t faultmask, uint32_t basepri, int skip, int extra) {
    int n = highest_pending(x, extra);
    if (n < 0) return -1;
    if (group_priority(x, get_priority(x, n)) < execution_priority(x, primask, faultmask, basepri, skip)) return n;
    return -1;
}

static inline int is_active(const exc_t *x, int n) {
    for (int i = 0; i < x->n_active; i++)
        if (x->active[i] == n) return 1;
    return 0;
}

static inline void activate(exc_t *x, int n) {
    clear_bit(x->pending, n);
    if (x->n_active < NUM_EXC) x->active[x->n_active++] = n;
}

static inline void deactivate(exc_t *x, int n) {
    for (int i = 0; i < x->n_active; i++) {
        if (x->active[i] == n) {
            memmove(&x->active[i], &x->active[i + 1], (size_t)(x->n_active - i - 1) * sizeof x->active[0]);
            x->n_active--;
            break;
        }
    }
    /* A level-sensitive line still asserted pends its interrupt again on return (ARMv7-M B3.4.1). */
    if (n >= EXTERNAL_BASE && bit(x->line_level, n - EXTERNAL_BASE)) set_bit(x->pending, n);
}

/* The region holding [address, address + length), or -1. */
static inline int ram_region(const exc_t *x, uint64_t address, uint64_t length) {
    for (int i = 0; i < x->n_regions; i++)
        if (x->region_start[i] <= address && address < x->region_end[i])
            return address + length <= x->region_end[i] ? i : -1;
    return -1;
}

static inline int in_ram(const exc_t *x, uint64_t address, uint64_t length) { return ram_region(x, address, length) >= 0; }

static inline int code_page(const exc_t *x, uint64_t address) {
    uint32_t page = (uint32_t)(address >> PAGE_BITS);
    return x->code_pages && (x->code_pages[page >> 3] >> (page & 7) & 1);
}

/* Guest RAM read straight from the host buffer behind it (Unicorn maps it with mem_map_ptr): what a load sees. */
static inline int ram_read(uc_engine *uc, const exc_t *x, uint64_t address, void *data, uint32_t length) {
    int r = ram_region(x, address, length);
    if (r < 0) return 0;
    if (x->region_host[r]) {
        memcpy(data, (const uint8_t *)(uintptr_t)x->region_host[r] + (address - x->region_start[r]), length);
        return 1;
    }
    return uc_mem_read(uc, address, data, length) == UC_ERR_OK;
}

/* A frame write. Straight into the host buffer when no page it touches holds translated code (a store there must
 * go through Unicorn, which drops stale translations); read-only memory is left to Python. */
static inline int ram_write(uc_engine *uc, const exc_t *x, uint64_t address, const void *data, uint32_t length) {
    int r = ram_region(x, address, length);
    if (r < 0 || !x->region_writable[r]) return 0;
    if (x->region_host[r] && !code_page(x, address) && !code_page(x, address + length - 1)) {
        memcpy((uint8_t *)(uintptr_t)x->region_host[r] + (address - x->region_start[r]), data, length);
        return 1;
    }
    return uc_mem_write(uc, address, data, length) == UC_ERR_OK;
}

/* ---- unmask points ---------------------------------------------------------------------------------------------- */
static inline uint32_t unmask_slot(uint32_t address) { return (address * 2654435761u) >> (32 - 10 /* log2 UNMASK_SLOTS */); }

static inline int is_unmask_point(const exc_t *x, uint32_t address) {
    for (uint32_t i = unmask_slot(address), n = 0; n < UNMASK_SLOTS; i = (i + 1) & (UNMASK_SLOTS - 1), n++) {
        if (x->unmask[i] == address) return 1;
        if (x->unmask[i] == 0) return 0;
    }
    return 0;
}


/* ---- time (engine/simulation/clock.py: ps_for_cycles rounds up, cycles_in down) -------------------------------- */
static inline uint64_t ps_for_cycles(uint64_t cycles, uint64_t hz) {
    return (uint64_t)(((unsigned __int128)cycles * PS_PER_SECOND + hz - 1) / hz);
}

static inline uint64_t cycles_in(uint64_t ps, uint64_t hz) {
    return (uint64_t)((unsigned __int128)ps * hz / PS_PER_SECOND);
}

/* Instructions retired since power-on: at a block start, before that block; in an access, with its block. */
static inline uint64_t retired(const exc_t *x) { return x->run_base + x->budget->executed; }

static inline uint64_t local_time(const exc_t *x, uint64_t count) {
    return x->anchor_ps + ps_for_cycles(count > x->anchor_count ? count - x->anchor_count : 0, x->hz);
}

/* The instruction count at which an event due at `when` is reached (CortexM4._instructions_to). */
static inline uint64_t count_at(const exc_t *x, uint64_t when) {
    return x->anchor_count + cycles_in(when > x->anchor_ps ? when - x->anchor_ps : 0, x->hz);
}

/* ---- shared by exceptions.c and devices.c ------------------------------------------------------------------------ */
void exc_set_line(exc_t *x, int irq, int level);                        /* CortexM4.set_irq */
void exc_track_poll(exc_t *x, uint32_t address, uint32_t value, int varying);  /* CortexM4._track_polling */
int devices_at_block(uc_engine *uc, exc_t *x);                          /* 1: the block must not run now */
uint64_t dev_systick_read(exc_t *x, uint64_t offset, uint32_t size);     /* the SCS page's SysTick registers */

/* The clock follows the core to this access (the Python side moves it after the run: CortexM4._after_native_run). */
static inline void clock_follows(exc_t *x) {
    x->clock_sync = 1;
    x->clock_sync_executed = x->budget->executed;
}

/* A register read served here acts as one through Python (CortexM4._mmio_read): the clock follows the core and, with
 * idle_skip on, the polling detector sees it (`varying`: the register changes with time alone). */
static inline void served_read(exc_t *x, uint32_t address, uint32_t value, int varying) {
    clock_follows(x);
    if (x->track_polls) exc_track_poll(x, address, value, varying);
}

#endif
