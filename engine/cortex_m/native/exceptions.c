/* ARMv7-M exception entry, tail-chaining and return for an IO core on Unicorn, at native speed.
 *
 * This is the fast path of the exception model in engine/cortex_m/core.py (CortexM4._enter_exception,
 * _exception_return, _take_pending_exceptions, the SVC branch of _handle_intr) and engine/cortex_m/nvic.py
 * (ExceptionState): the same rules (ARMv7-M ARM DDI 0403E B1.5), the same Unicorn register writes in the same
 * order, so both paths leave the same registers, memory and instruction counts (tests/engine pin this).
 *
 * What it does without calling Python:
 *   - at the start of every translation block while something is pending, the block hook checks whether the
 *     highest pending exception pre-empts the current execution priority, and if so stacks the 8- or 26-word frame
 *     and jumps to the handler before the block runs (the block is not charged: it runs after the return);
 *   - exception return (Unicorn reports a branch to EXC_RETURN as an interrupt) including tail-chaining;
 *   - SVC;
 *   - writes of ICSR (PENDSVSET/CLR, PENDSTSET/CLR, NMIPENDSET) on the SCS page, the way RTOS ports pend PendSV.
 * Anything else (faults, lockup, NMI and fault handlers, unprivileged Thread mode, frames or vectors outside RAM,
 * sleep-on-exit, a debugger attached) "bails": nothing is changed and the run stops where the Python path takes
 * over, exactly where it would have acted itself. The block budget is charged by the same hook
 * (engine/cpu/native/block_budget.h), so there is one block hook per core. */
#include <string.h>
#include "block_budget.h"

#define NUM_EXC 160                       /* 16 system exceptions + up to 144 interrupts */
#define WORDS ((NUM_EXC + 31) / 32)
#define MAX_REGIONS 16

enum { RESET = 1, NMI = 2, HARDFAULT = 3, SVCALL = 11, PENDSV = 14, SYSTICK = 15, EXTERNAL_BASE = 16 };
#define THREAD_PRIORITY 256
#define CONTROL_NPRIV 1u
#define CONTROL_SPSEL 2u
#define CONTROL_FPCA 4u
#define XPSR_T (1u << 24)
#define CCR_NONBASETHRDENA 1u
#define CCR_STKALIGN (1u << 9)
#define SCR_SLEEPONEXIT 2u

/* qemu exception numbers that Unicorn hands to UC_HOOK_INTR (target/arm/cpu.h) */
#define EXCP_SWI 2
#define EXCP_EXCEPTION_EXIT 8

enum { STOP_NONE = 0, STOP_INTR = 1, STOP_BAIL = 2 };
enum { OK = 0, BAIL = 1 };

typedef uint64_t (*py_read_fn)(uint64_t offset, uint32_t size);
typedef void (*py_write_fn)(uint64_t offset, uint32_t size, uint64_t value);

/* Mirrored field by field by engine/cortex_m/native_exceptions.py (_ExcStruct): keep both in step. */
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
    int32_t check;                    /* something may be pending: look at every block start */
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
    /* statistics */
    uint64_t entries, returns, tail_chains, bails;
    /* links */
    budget_t *budget;
    py_read_fn py_read;               /* the Python SCS register block, for everything not handled here */
    py_write_fn py_write;
} exc_t;

/* ---- registers ------------------------------------------------------------------------------------------------ */
static inline uint32_t rd(uc_engine *uc, int reg) {
    uint32_t v = 0;
    uc_reg_read(uc, reg, &v);
    return v;
}

static inline void wr(uc_engine *uc, int reg, uint32_t v) { uc_reg_write(uc, reg, &v); }

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
static int highest_pending(const exc_t *x, int extra) {
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
static int execution_priority(const exc_t *x, uint32_t primask, uint32_t faultmask, uint32_t basepri, int skip) {
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

static int preempting(const exc_t *x, uint32_t primask, uint32_t faultmask, uint32_t basepri, int skip, int extra) {
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

static void deactivate(exc_t *x, int n) {
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

static inline int in_ram(const exc_t *x, uint64_t address, uint64_t length) {
    for (int i = 0; i < x->n_regions; i++)
        if (x->region_start[i] <= address && address < x->region_end[i]) return address + length <= x->region_end[i];
    return 0;
}

/* ---- mode switching (CortexM4._set_mode: the same Unicorn writes in the same order) ---------------------------- */
static void set_mode(reg_writes *w, uint32_t xpsr, uint32_t control, uint32_t msp, uint32_t psp,
                     uint32_t current_xpsr, uint32_t current_control, uint32_t old_msp, uint32_t old_psp) {
    uint32_t privileged_control = control & ~CONTROL_NPRIV;
    if (xpsr & 0x1FF) {
        if (!(current_xpsr & 0x1FF)) {
            queue(w, UC_ARM_REG_CONTROL, privileged_control & ~CONTROL_SPSEL);
            queue(w, UC_ARM_REG_XPSR, xpsr);
        } else {
            queue(w, UC_ARM_REG_XPSR, xpsr);
            queue(w, UC_ARM_REG_CONTROL, privileged_control);
        }
    } else {
        if (current_control & CONTROL_NPRIV) queue(w, UC_ARM_REG_CONTROL, current_control & ~CONTROL_NPRIV);
        queue(w, UC_ARM_REG_XPSR, xpsr);
        queue(w, UC_ARM_REG_CONTROL, privileged_control);
    }
    /* Python writes both stack pointers; writing one its own value again changes nothing, so only a changed one. */
    if (msp != old_msp) queue(w, UC_ARM_REG_MSP, msp);
    if (psp != old_psp) queue(w, UC_ARM_REG_PSP, psp);
    if (control & CONTROL_NPRIV) queue(w, UC_ARM_REG_CONTROL, control);
}

/* ---- exception entry (CortexM4._enter_exception) --------------------------------------------------------------- */
static const int ENTRY_READS[10] = {UC_ARM_REG_XPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
                                    UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
                                    UC_ARM_REG_LR};

static int enter(uc_engine *uc, exc_t *x, int number, uint32_t return_address) {
    /* Handled here: SVCall, PendSV, SysTick and interrupts. NMI, faults, DebugMonitor: Python. */
    if (!(number == SVCALL || number == PENDSV || number == SYSTICK || number >= EXTERNAL_BASE)) return BAIL;
    uint32_t r[10];
    void *ptrs[10];
    for (int i = 0; i < 10; i++) ptrs[i] = &r[i];
    uc_reg_read_batch(uc, (int *)ENTRY_READS, ptrs, 10);
    uint32_t xpsr = r[0], control = r[1], msp = r[2], psp = r[3];
    if (!(xpsr & 0x1FF) && (control & CONTROL_NPRIV)) return BAIL;  /* unprivileged Thread mode */
    int handler_mode = (xpsr & 0x1FF) != 0;
    int use_psp = !handler_mode && (control & CONTROL_SPSEL);
    int fp_frame = (control & CONTROL_FPCA) != 0;
    uint32_t sp = use_psp ? psp : msp;
    uint32_t frame_size = fp_frame ? 0x68 : 0x20;
    int realign = ((sp >> 2) & 1) && (x->ccr & CCR_STKALIGN);
    uint32_t new_sp = (sp - frame_size) & ~(realign ? 4u : 0u);
    if (!in_ram(x, new_sp, frame_size)) return BAIL;

    uint32_t frame[26];
    memcpy(frame, &r[4], 6 * sizeof(uint32_t));   /* r0-r3, r12, lr */
    frame[6] = return_address & ~1u;
    frame[7] = (xpsr & ~(1u << 9)) | ((uint32_t)realign << 9);
    if (fp_frame) {
        uint64_t d[8];
        uint32_t fpscr = 0;
        void *fp_ptrs[9];
        for (int i = 0; i < 8; i++) fp_ptrs[i] = &d[i];
        fp_ptrs[8] = &fpscr;
        uc_reg_read_batch(uc, (int *)FP_REGS, fp_ptrs, 9);
        memcpy(&frame[8], d, sizeof d);           /* little-endian: s0, s1, ... s15 */
        frame[24] = fpscr;
        frame[25] = 0;
    }
    if (uc_mem_write(uc, new_sp, frame, frame_size) != UC_ERR_OK) return BAIL;
    /* The vector is read after stacking, as Python does. A bail from here leaves only the frame written, which
     * Python writes again with the same bytes. */
    uint32_t vector_address = x->vtor + 4u * (uint32_t)number, vector = 0;
    if (!in_ram(x, vector_address, 4) || uc_mem_read(uc, vector_address, &vector, 4) != UC_ERR_OK || !(vector & 1))
        return BAIL;

    uint32_t exc_return = handler_mode ? 0xFFFFFFF1u : (use_psp ? 0xFFFFFFFDu : 0xFFFFFFF9u);
    if (fp_frame) exc_return &= ~0x10u;
    reg_writes w = {0};
    set_mode(&w, (xpsr & ~0x0600FC00u & ~0x1FFu & ~(1u << 9)) | XPSR_T | (uint32_t)number,
             control & ~(CONTROL_SPSEL | CONTROL_FPCA), use_psp ? msp : new_sp, use_psp ? new_sp : psp, xpsr,
             control & ~CONTROL_NPRIV, msp, psp);
    queue(&w, UC_ARM_REG_LR, exc_return);
    flush(uc, &w);
    set_pc(uc, vector);
    activate(x, number);
    x->event_register = 1;  /* exception entry and exit set the event register */
    x->entries++;
    return OK;
}

/* ---- exception return and tail-chaining (CortexM4._exception_return) -------------------------------------------- */
static const int RETURN_READS[5] = {UC_ARM_REG_XPSR, UC_ARM_REG_FAULTMASK, UC_ARM_REG_MSP, UC_ARM_REG_PSP,
                                    UC_ARM_REG_CONTROL};

static int exception_return(uc_engine *uc, exc_t *x, uint32_t exc_return) {
    uint32_t r[5];
    void *ptrs[5];
    for (int i = 0; i < 5; i++) ptrs[i] = &r[i];
    uc_reg_read_batch(uc, (int *)RETURN_READS, ptrs, 5);
    uint32_t xpsr = r[0], faultmask = r[1], msp = r[2], psp = r[3], control = r[4];
    int current = (int)(xpsr & 0x1FF);
    uint32_t kind = exc_return & 0xF;
    int valid = (exc_return & 0xFFFFFFE0u) == 0xFFFFFFE0u && (kind == 0x1 || kind == 0x9 || kind == 0xD);
    if (!valid || current == 0 || current == NMI || !is_active(x, current)) return BAIL;  /* INVPC, NMI: Python */
    int to_thread = (exc_return & 0x8) != 0;
    if (to_thread && x->n_active != 1 && !(x->ccr & CCR_NONBASETHRDENA)) return BAIL;
    /* Decide before changing anything: what the state will be once `current` is deactivated. The masks matter only
     * when something is pending. */
    int repend = current >= EXTERNAL_BASE && bit(x->line_level, current - EXTERNAL_BASE) ? current : -1;
    int chained = -1;
    if (highest_pending(x, repend) >= 0) {
        uint32_t primask = rd(uc, UC_ARM_REG_PRIMASK), basepri = rd(uc, UC_ARM_REG_BASEPRI);
        chained = preempting(x, primask, 0, basepri, current, repend);  /* FAULTMASK clears on return */
    }
    uint32_t vector = 0, frame[26];
    int use_psp = (exc_return & 0x4) != 0, fp_frame = !(exc_return & 0x10);
    uint32_t sp = use_psp ? psp : msp, frame_size = fp_frame ? 0x68 : 0x20;
    if (chained >= 0) {
        uint32_t vector_address = x->vtor + 4u * (uint32_t)chained;
        if (!in_ram(x, vector_address, 4) || uc_mem_read(uc, vector_address, &vector, 4) != UC_ERR_OK) return BAIL;
        if (!(chained == SVCALL || chained == PENDSV || chained == SYSTICK || chained >= EXTERNAL_BASE)) return BAIL;
    } else {
        if (to_thread && (x->scr & SCR_SLEEPONEXIT) && x->n_active == 1) return BAIL;  /* sleep-on-exit: Python */
        if (!in_ram(x, sp, frame_size) || uc_mem_read(uc, sp, frame, frame_size) != UC_ERR_OK) return BAIL;
    }

    deactivate(x, current);
    x->event_register = 1;
    reg_writes w = {0};
    if (faultmask) queue(&w, UC_ARM_REG_FAULTMASK, 0);  /* DeActivate() clears FAULTMASK (B1.5.8); NMI bailed */
    x->returns++;
    if (chained >= 0) {
        /* Tail-chaining: the pending exception is taken on the frame already stacked. */
        queue(&w, UC_ARM_REG_XPSR, (xpsr & ~0x1FFu) | (uint32_t)chained);
        queue(&w, UC_ARM_REG_LR, exc_return);
        flush(uc, &w);
        set_pc(uc, vector);
        activate(x, chained);
        x->tail_chains++;
        return OK;
    }
    uint32_t stacked_xpsr = frame[7];
    uint32_t new_sp = sp + frame_size + ((stacked_xpsr & (1u << 9)) ? 4u : 0u);
    if (fp_frame) {
        uint64_t d[8];
        memcpy(d, &frame[8], sizeof d);
        for (int i = 0; i < 8; i++) queue(&w, FP_REGS[i], d[i]);
        queue(&w, UC_ARM_REG_FPSCR, frame[24]);
    }
    queue(&w, UC_ARM_REG_R0, frame[0]);
    queue(&w, UC_ARM_REG_R1, frame[1]);
    queue(&w, UC_ARM_REG_R2, frame[2]);
    queue(&w, UC_ARM_REG_R3, frame[3]);
    queue(&w, UC_ARM_REG_R12, frame[4]);
    queue(&w, UC_ARM_REG_LR, frame[5]);
    uint32_t ipsr = stacked_xpsr & 0x1FF;
    if (to_thread && ipsr) ipsr = 0;  /* inconsistent frame: returning to Thread is the safe choice (as Python) */
    uint32_t new_control = (control & ~(CONTROL_SPSEL | CONTROL_FPCA)) | (fp_frame ? CONTROL_FPCA : 0);
    if (to_thread && use_psp) new_control |= CONTROL_SPSEL;
    set_mode(&w, (stacked_xpsr & ~0x1FFu & ~(1u << 9)) | ipsr | XPSR_T, new_control, use_psp ? msp : new_sp,
             use_psp ? new_sp : psp, xpsr, control, msp, psp);
    flush(uc, &w);
    set_pc(uc, frame[6]);
    return OK;
}

/* ---- hooks ------------------------------------------------------------------------------------------------------ */
static inline void masks(uc_engine *uc, uint32_t *primask, uint32_t *faultmask, uint32_t *basepri) {
    *primask = rd(uc, UC_ARM_REG_PRIMASK);
    *faultmask = rd(uc, UC_ARM_REG_FAULTMASK);
    *basepri = rd(uc, UC_ARM_REG_BASEPRI);
}

/* Whether `number` pre-empts now: the same decision as preempting(), reading the mask registers only as far as
 * needed (BASEPRI first: RTOS critical sections raise it; most blocks run while something waits behind it). */
static int can_preempt(uc_engine *uc, const exc_t *x, int number) {
    int group = group_priority(x, get_priority(x, number));
    uint32_t basepri = rd(uc, UC_ARM_REG_BASEPRI) & x->implemented_mask;
    if (basepri && group >= group_priority(x, (int)basepri)) return 0;
    if (group >= 0 && (rd(uc, UC_ARM_REG_PRIMASK) & 1)) return 0;
    if (group >= -1 && (rd(uc, UC_ARM_REG_FAULTMASK) & 1)) return 0;
    return group < execution_priority(x, 0, 0, basepri, -1);
}

/* Something is pending at a block start (`check`): take it if it pre-empts. Returns 1 when the block must not run
 * now (the handler comes first, or the run stops for Python to take it). */
static __attribute__((noinline)) int take_at_block(uc_engine *uc, exc_t *x, uint64_t address) {
    if (!x->fast || x->python_stop || x->stop_kind != STOP_NONE) return 0;
    int number = highest_pending(x, -1);
    if (number < 0) {
        x->check = 0;  /* nothing enabled is pending: nothing to look at until the state changes */
        return 0;
    }
    if (!can_preempt(uc, x, number)) return 0;
    if (enter(uc, x, number, (uint32_t)address) == OK) return 1;  /* the handler's block comes next */
    /* Python takes it from this block boundary, as it would have. */
    x->bails++;
    x->stop_kind = STOP_BAIL;
    uc_emu_stop(uc);
    return 1;
}

/* Block start: budget, then a pending exception that pre-empts (taken before the block runs), then charge. */
static void block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    budget_t *b = x->budget;
    if (budget_stop_if_spent(uc, b)) return;
    if (__builtin_expect(x->check, 0) && take_at_block(uc, x, address)) return;
    budget_charge(uc, b, address, size);
}

static void intr_hook(uc_engine *uc, uint32_t intno, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    uint32_t pc = rd(uc, UC_ARM_REG_PC);
    if (x->fast && !x->python_stop && x->stop_kind == STOP_NONE) {
        if (intno == EXCP_EXCEPTION_EXIT) {
            if (exception_return(uc, x, pc | 1u) == OK) return;
        } else if (intno == EXCP_SWI) {
            /* SVC (CortexM4._handle_intr): PC already points past it. Taken now, or escalated by Python. */
            uint32_t primask, faultmask, basepri;
            masks(uc, &primask, &faultmask, &basepri);
            int was = bit(x->pending, SVCALL);
            set_bit(x->pending, SVCALL);
            if (preempting(x, primask, faultmask, basepri, -1, -1) == SVCALL && enter(uc, x, SVCALL, pc) == OK) return;
            if (!was) clear_bit(x->pending, SVCALL);
        }
        x->bails++;
    }
    if (x->stop_kind == STOP_NONE && !x->python_stop) {
        x->stop_kind = STOP_INTR;
        x->stop_intno = (int32_t)intno;
        x->stop_pc = pc;
    }
    uc_emu_stop(uc);
}

/* MRS Rd, BASEPRI reads back only the implemented bits (CortexM4._mask_basepri). */
static void basepri_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    (void)address;
    (void)size;
    uint32_t value = rd(uc, UC_ARM_REG_BASEPRI);
    uint32_t masked = value & x->implemented_mask;
    if (masked != value) wr(uc, UC_ARM_REG_BASEPRI, masked);
}

/* ---- the SCS page (0xE000E000): ICSR writes here, everything else in the Python register block ------------------ */
#define ICSR 0xD04

static uint64_t scs_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    (void)uc;
    return x->py_read(offset, size);
}

static void scs_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    (void)uc;
    if (offset == ICSR && size == 4 && x->fast && x->native_scs && !x->python_stop) {
        uint32_t v = (uint32_t)value;
        /* SystemControlSpace._write_icsr */
        if (v & (1u << 31)) set_bit(x->pending, NMI);
        if (v & (1u << 28)) set_bit(x->pending, PENDSV);
        if (v & (1u << 27)) clear_bit(x->pending, PENDSV);
        if (v & (1u << 26)) set_bit(x->pending, SYSTICK);
        if (v & (1u << 25)) clear_bit(x->pending, SYSTICK);
        x->check = 1;                 /* the register keeps nothing: its set/clear bits act once */
        x->scs_writes++;
        x->clock_sync = 1;
        x->clock_sync_executed = x->budget->executed;
        return;
    }
    x->py_write(offset, size, value);
}

/* ---- API for engine/cortex_m/native_exceptions.py ---------------------------------------------------------------- */
/* Registers the block hook (budget + entry), the interrupt hook (return, SVC) and the SCS page. */
int exc_install(uc_engine *uc, exc_t *x, budget_t *b, uint64_t scs_base, uc_hook *block, uc_hook *intr) {
    x->budget = b;
    uc_err err = uc_hook_add(uc, block, UC_HOOK_BLOCK, (void *)block_hook, x, 1, 0);
    if (err) return err;
    err = uc_hook_add(uc, intr, UC_HOOK_INTR, (void *)intr_hook, x, 1, 0);
    if (err) return err;
    return uc_mmio_map(uc, scs_base, 0x1000, scs_read, x, scs_write, x);
}

int exc_hook_basepri(uc_engine *uc, exc_t *x, uint64_t address, uc_hook *handle) {
    return uc_hook_add(uc, handle, UC_HOOK_CODE, (void *)basepri_hook, x, address, address);
}

/* Between runs (CortexM4._take_pending_exceptions): enter what pre-empts, with late arrival. Returns how many
 * exceptions were entered, or -1 - entered when one must be left to Python. */
int exc_take_pending(uc_engine *uc, exc_t *x) {
    int entered = 0;
    for (int i = 0; i < 8; i++) {
        if (highest_pending(x, -1) < 0) return entered;
        uint32_t primask, faultmask, basepri;
        masks(uc, &primask, &faultmask, &basepri);
        int number = preempting(x, primask, faultmask, basepri, -1, -1);
        if (number < 0) return entered;
        if (enter(uc, x, number, rd(uc, UC_ARM_REG_PC)) != OK) {
            x->bails++;
            return -1 - entered;
        }
        entered++;
    }
    return entered;
}

uint64_t exc_struct_size(void) { return sizeof(exc_t); }
