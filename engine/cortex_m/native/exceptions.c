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
#include "core_state.h"

/* ---- the register file in place (engine/cpu/native/cpu_env.h), or the API when it was not found -------------- */
static const int FRAME_GPRS[6] = {UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R12,
                                  UC_ARM_REG_LR};
static const int FRAME_GPR_INDEX[6] = {0, 1, 2, 3, 12, 14};

/* r0-r3, r12, lr: the basic frame's registers. */
static inline void read_frame_gprs(uc_engine *uc, const exc_t *x, uint32_t out[6]) {
    if (x->env.found) {
        for (int i = 0; i < 6; i++) out[i] = x->env.regs[FRAME_GPR_INDEX[i]];
        return;
    }
    void *ptrs[6];
    for (int i = 0; i < 6; i++) ptrs[i] = &out[i];
    uc_reg_read_batch(uc, (int *)FRAME_GPRS, ptrs, 6);
}

static inline void write_frame_gprs(reg_writes *w, const exc_t *x, const uint32_t in[6]) {
    for (int i = 0; i < 6; i++) {
        if (x->env.found) x->env.regs[FRAME_GPR_INDEX[i]] = in[i];
        else queue(w, FRAME_GPRS[i], in[i]);
    }
}

/* d0-d7 (s0-s15) and FPSCR; FPSCR always through the API (qemu keeps it in several fields). */
static inline void read_fp_frame(uc_engine *uc, const exc_t *x, uint64_t d[8], uint32_t *fpscr) {
    if (x->env.found) {
        for (int i = 0; i < 8; i++) d[i] = *cpu_env_dreg(&x->env, i);
        uc_reg_read(uc, UC_ARM_REG_FPSCR, fpscr);
        return;
    }
    void *fp_ptrs[9];
    for (int i = 0; i < 8; i++) fp_ptrs[i] = &d[i];
    fp_ptrs[8] = fpscr;
    uc_reg_read_batch(uc, (int *)FP_REGS, fp_ptrs, 9);
}

static inline void write_fp_frame(reg_writes *w, const exc_t *x, const uint64_t d[8], uint32_t fpscr) {
    for (int i = 0; i < 8; i++) {
        if (x->env.found) *cpu_env_dreg(&x->env, i) = d[i];
        else queue(w, FP_REGS[i], d[i]);
    }
    queue(w, UC_ARM_REG_FPSCR, fpscr);
}

/* The PC, last. From an interrupt hook (the CPU loop is between blocks) it is written in place and the loop goes on
 * at the new address; from a block hook, or without the register file, through the API, which makes Unicorn leave
 * the block about to run (it runs after the handler returns). */
static inline void jump(uc_engine *uc, const exc_t *x, uint32_t address, int between_blocks) {
    if (between_blocks && x->env.found) x->env.regs[15] = address & ~1u;
    else set_pc(uc, address);
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
static const int ENTRY_READS[4] = {UC_ARM_REG_XPSR, UC_ARM_REG_CONTROL, UC_ARM_REG_MSP, UC_ARM_REG_PSP};

/* `between_blocks`: called from the interrupt hook or between runs (not from a block hook). */
static int enter(uc_engine *uc, exc_t *x, int number, uint32_t return_address, int between_blocks) {
    /* Handled here: SVCall, PendSV, SysTick and interrupts. NMI, faults, DebugMonitor: Python. */
    if (!(number == SVCALL || number == PENDSV || number == SYSTICK || number >= EXTERNAL_BASE)) return BAIL;
    uint32_t r[4];
    void *ptrs[4];
    for (int i = 0; i < 4; i++) ptrs[i] = &r[i];
    uc_reg_read_batch(uc, (int *)ENTRY_READS, ptrs, 4);
    uint32_t xpsr = r[0], control = r[1], msp = r[2], psp = r[3];
    if (!(xpsr & 0x1FF) && (control & CONTROL_NPRIV)) return BAIL;  /* unprivileged Thread mode */
    int handler_mode = (xpsr & 0x1FF) != 0;
    int use_psp = !handler_mode && (control & CONTROL_SPSEL);
    int fp_frame = (control & CONTROL_FPCA) != 0;
    uint32_t sp = use_psp ? psp : msp;
    uint32_t frame_size = fp_frame ? 0x68 : 0x20;
    int realign = ((sp >> 2) & 1) && (x->ccr & CCR_STKALIGN);
    uint32_t new_sp = (sp - frame_size) & ~(realign ? 4u : 0u);
    if (ram_region(x, new_sp, frame_size) < 0) return BAIL;

    uint32_t frame[26];
    read_frame_gprs(uc, x, frame);                /* r0-r3, r12, lr */
    frame[6] = return_address & ~1u;
    frame[7] = (xpsr & ~(1u << 9)) | ((uint32_t)realign << 9);
    if (fp_frame) {
        uint64_t d[8];
        uint32_t fpscr = 0;
        read_fp_frame(uc, x, d, &fpscr);
        memcpy(&frame[8], d, sizeof d);           /* little-endian: s0, s1, ... s15 */
        frame[24] = fpscr;
        frame[25] = 0;
    }
    if (!ram_write(uc, x, new_sp, frame, frame_size)) return BAIL;
    /* The vector is read after stacking, as Python does. A bail from here leaves only the frame written, which
     * Python writes again with the same bytes. */
    uint32_t vector_address = x->vtor + 4u * (uint32_t)number, vector = 0;
    if (!ram_read(uc, x, vector_address, &vector, 4) || !(vector & 1)) return BAIL;

    uint32_t exc_return = handler_mode ? 0xFFFFFFF1u : (use_psp ? 0xFFFFFFFDu : 0xFFFFFFF9u);
    if (fp_frame) exc_return &= ~0x10u;
    reg_writes w;
    w.n = 0;                                  /* (not zeroed: 640 bytes, only the first n are used) */
    set_mode(&w, (xpsr & ~0x0600FC00u & ~0x1FFu & ~(1u << 9)) | XPSR_T | (uint32_t)number,
             control & ~(CONTROL_SPSEL | CONTROL_FPCA), use_psp ? msp : new_sp, use_psp ? new_sp : psp, xpsr,
             control & ~CONTROL_NPRIV, msp, psp);
    queue(&w, UC_ARM_REG_LR, exc_return);
    flush(uc, &w);
    jump(uc, x, vector, between_blocks);
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
        uint32_t primask = read_primask(uc, x), basepri = read_basepri(uc, x);
        chained = preempting(x, primask, 0, basepri, current, repend);  /* FAULTMASK clears on return */
    }
    uint32_t vector = 0, frame[26];
    int use_psp = (exc_return & 0x4) != 0, fp_frame = !(exc_return & 0x10);
    uint32_t sp = use_psp ? psp : msp, frame_size = fp_frame ? 0x68 : 0x20;
    if (chained >= 0) {
        uint32_t vector_address = x->vtor + 4u * (uint32_t)chained;
        if (!ram_read(uc, x, vector_address, &vector, 4)) return BAIL;
        if (!(chained == SVCALL || chained == PENDSV || chained == SYSTICK || chained >= EXTERNAL_BASE)) return BAIL;
    } else {
        if (to_thread && (x->scr & SCR_SLEEPONEXIT) && x->n_active == 1) return BAIL;  /* sleep-on-exit: Python */
        if (!ram_read(uc, x, sp, frame, frame_size)) return BAIL;
    }

    deactivate(x, current);
    x->event_register = 1;
    reg_writes w;
    w.n = 0;                                  /* (not zeroed: 640 bytes, only the first n are used) */
    if (faultmask) queue(&w, UC_ARM_REG_FAULTMASK, 0);  /* DeActivate() clears FAULTMASK (B1.5.8); NMI bailed */
    x->returns++;
    if (chained >= 0) {
        /* Tail-chaining: the pending exception is taken on the frame already stacked. */
        queue(&w, UC_ARM_REG_XPSR, (xpsr & ~0x1FFu) | (uint32_t)chained);
        queue(&w, UC_ARM_REG_LR, exc_return);
        flush(uc, &w);
        jump(uc, x, vector, 1);
        activate(x, chained);
        x->tail_chains++;
        return OK;
    }
    uint32_t stacked_xpsr = frame[7];
    uint32_t new_sp = sp + frame_size + ((stacked_xpsr & (1u << 9)) ? 4u : 0u);
    if (fp_frame) {
        uint64_t d[8];
        memcpy(d, &frame[8], sizeof d);
        write_fp_frame(&w, x, d, frame[24]);
    }
    write_frame_gprs(&w, x, frame);
    uint32_t ipsr = stacked_xpsr & 0x1FF;
    if (to_thread && ipsr) ipsr = 0;  /* inconsistent frame: returning to Thread is the safe choice (as Python) */
    uint32_t new_control = (control & ~(CONTROL_SPSEL | CONTROL_FPCA)) | (fp_frame ? CONTROL_FPCA : 0);
    if (to_thread && use_psp) new_control |= CONTROL_SPSEL;
    set_mode(&w, (stacked_xpsr & ~0x1FFu & ~(1u << 9)) | ipsr | XPSR_T, new_control, use_psp ? msp : new_sp,
             use_psp ? new_sp : psp, xpsr, control, msp, psp);
    flush(uc, &w);
    jump(uc, x, frame[6], 1);
    if (highest_pending(x, -1) >= 0) x->check = CHECK_ALL;  /* the execution priority dropped */
    return OK;
}

/* ---- hooks ------------------------------------------------------------------------------------------------------ */
static inline void masks(uc_engine *uc, const exc_t *x, uint32_t *primask, uint32_t *faultmask, uint32_t *basepri) {
    *primask = read_primask(uc, x);
    *faultmask = read_faultmask(uc, x);
    *basepri = read_basepri(uc, x);
}

/* Whether `number` pre-empts now: the same decision as preempting(). When it does not, the next chance comes when
 * the execution priority drops: at an exception return (which sets CHECK_ALL) if the active exceptions keep it out,
 * else when a mask register changes (CHECK_UNMASK: only blocks that start right after an MSR or CPS are looked at).
 * The masks are read only when the active exceptions would let it in (BASEPRI first: RTOS critical sections raise
 * it). */
static int can_preempt(uc_engine *uc, exc_t *x, int number) {
    int group = group_priority(x, get_priority(x, number));
    if (group >= execution_priority(x, 0, 0, 0, -1)) {
        x->check = CHECK_NONE;
        return 0;
    }
    uint32_t basepri = read_basepri(uc, x) & x->implemented_mask;
    if ((basepri && group >= group_priority(x, (int)basepri)) || (group >= 0 && (read_primask(uc, x) & 1)) ||
        (group >= -1 && (read_faultmask(uc, x) & 1))) {
        x->check = CHECK_UNMASK;
        return 0;
    }
    return 1;
}

/* Something is pending at a block start (`check`): take it if it pre-empts. Returns 1 when the block must not run
 * now (the handler comes first, or the run stops for Python to take it). */
static __attribute__((noinline)) int take_at_block(uc_engine *uc, exc_t *x, uint64_t address) {
    if (!x->fast || x->python_stop || x->stop_kind != STOP_NONE) return 0;
    int number = highest_pending(x, -1);
    if (number < 0) {
        x->check = CHECK_NONE;  /* nothing enabled is pending: nothing to look at until the state changes */
        return 0;
    }
    if (!can_preempt(uc, x, number)) return 0;
    if (enter(uc, x, number, (uint32_t)address, 0) == OK) return 1;  /* the handler's block comes next */
    /* Python takes it from this block boundary, as it would have. */
    x->bails++;
    x->stop_kind = STOP_BAIL;
    uc_emu_stop(uc);
    return 1;
}

/* Block start: budget, then the native events due (devices.c), then a pending exception that pre-empts (taken
 * before the block runs), then charge. */
static void block_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    budget_t *b = x->budget;
    if (budget_stop_if_spent(uc, b)) return;
    if (__builtin_expect(retired(x) >= x->due_count, 0) && devices_at_block(uc, x)) return;
    if (__builtin_expect(x->check, 0) && (x->check == CHECK_ALL || is_unmask_point(x, (uint32_t)address)) &&
        take_at_block(uc, x, address))
        return;
    budget_charge(uc, b, address, size);
}

static void intr_hook(uc_engine *uc, uint32_t intno, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    uint32_t pc = read_pc(uc, x);
    if (x->fast && !x->python_stop && x->stop_kind == STOP_NONE) {
        if (intno == EXCP_EXCEPTION_EXIT) {
            if (exception_return(uc, x, pc | 1u) == OK) return;
        } else if (intno == EXCP_SWI) {
            /* SVC (CortexM4._handle_intr): PC already points past it. Taken now, or escalated by Python. */
            uint32_t primask, faultmask, basepri;
            masks(uc, x, &primask, &faultmask, &basepri);
            int was = bit(x->pending, SVCALL);
            set_bit(x->pending, SVCALL);
            if (preempting(x, primask, faultmask, basepri, -1, -1) == SVCALL && enter(uc, x, SVCALL, pc, 1) == OK) return;
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
#define SCS_PAGE 0xE000E000u
#define ICSR 0xD04

/* SystemControlSpace._read_icsr over the same state: the live pending bits, VECTPENDING (the pending exception
 * taken next, regardless of masking), ISRPENDING, RETTOBASE and VECTACTIVE (the last activated exception). RTOS
 * ports read it in every critical section (FreeRTOS's vPortEnterCritical asserts VECTACTIVE == 0). */
static int external_pending(const exc_t *x) {
    for (int w = 0; w < WORDS; w++) {
        uint32_t bits = x->pending[w] & (w == 0 ? ~0xFFFFu : ~0u);     /* exception numbers >= 16 */
        for (; bits; bits &= bits - 1)
            if (is_enabled(x, w * 32 + __builtin_ctz(bits))) return 1;
    }
    return 0;
}

static uint32_t icsr_value(const exc_t *x) {
    uint32_t value = 0;
    if (bit(x->pending, NMI)) value |= 1u << 31;
    if (bit(x->pending, PENDSV)) value |= 1u << 28;
    if (bit(x->pending, SYSTICK)) value |= 1u << 26;
    if (external_pending(x)) value |= 1u << 22;
    int pending = highest_pending(x, -1);
    value |= (uint32_t)(pending > 0 ? pending & 0x1FF : 0) << 12;
    if (x->n_active <= 1) value |= 1u << 11;
    if (x->n_active) value |= (uint32_t)x->active[x->n_active - 1] & 0x1FF;
    return value;
}

static uint64_t scs_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    (void)uc;
    if (offset == ICSR && size == 4 && x->fast && x->native_scs && !x->python_stop) {
        uint32_t value = icsr_value(x);
        x->scs_reads++;
        served_read(x, SCS_PAGE + ICSR, value, 0);
        return value;
    }
    if (offset - 0x10u < 0x10u) return dev_systick_read(x, offset, size);   /* SysTick: devices.c */
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
        x->check = CHECK_ALL;         /* the register keeps nothing: its set/clear bits act once */
        x->scs_writes++;
        x->spin_count = 0;            /* an MMIO write ends a polling loop */
        clock_follows(x);
        return;
    }
    x->py_write(offset, size, value);
}

/* An interrupt input changed level (CortexM4.set_irq, ExceptionState.set_line): a high level pends it; a newly
 * pending one is a WFE event with SCR.SEVONPEND. Used by the devices served here (devices.c). */
void exc_set_line(exc_t *x, int irq, int level) {
    if (irq < 0 || irq >= (int)x->num_irqs || irq >= NUM_EXC - EXTERNAL_BASE) return;
    int n = EXTERNAL_BASE + irq;
    if (!level) {
        clear_bit(x->line_level, irq);
        return;
    }
    if (!bit(x->pending, n) && (x->scr & SCR_SEVONPEND)) x->event_register = 1;
    set_bit(x->line_level, irq);
    set_bit(x->pending, n);
    x->check = CHECK_ALL;
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
        masks(uc, x, &primask, &faultmask, &basepri);
        int number = preempting(x, primask, faultmask, basepri, -1, -1);
        if (number < 0) return entered;
        if (enter(uc, x, number, read_pc(uc, x), 1) != OK) {
            x->bails++;
            return -1 - entered;
        }
        entered++;
    }
    return entered;
}

/* Adds an unmask point (the address of the instruction after an MSR to a mask register or a CPS). */
int exc_add_unmask_point(exc_t *x, uint32_t address) {
    if (!address || x->n_unmask >= UNMASK_SLOTS / 2) return -1;
    for (uint32_t i = unmask_slot(address);; i = (i + 1) & (UNMASK_SLOTS - 1)) {
        if (x->unmask[i] == address) return 0;
        if (x->unmask[i] == 0) {
            x->unmask[i] = address;
            x->n_unmask++;
            return 0;
        }
    }
}

uint64_t exc_struct_size(void) { return sizeof(exc_t); }
