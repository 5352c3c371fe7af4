/* The device fast path of an IO core: what a core does between interrupts without leaving Unicorn.
 *
 * SysTick (engine/cortex_m/systick.py) is served here while the core runs alone (NativeSysTick in
 * engine/cortex_m/native_devices.py hands it over and back): its wrap is a native event (COUNTFLAG, SysTick pended
 * with TICKINT, the next wrap by the model's anchor arithmetic) and reads of its registers are served here
 * (exceptions.c forwards SysTick's offsets of the SCS page); a write goes to the model, which takes the state back.
 *
 * A UART's transmitter (peripherals/uart/mt3620_uart.py) is served here for the length of a machine window when
 * the core may own it (engine/cortex_m/native_devices.py engages it at the window's start and hands the state back
 * at its end): THR and IER writes and IIR, LSR, IER and TX_OFFSET reads, the end of each frame (a native event at
 * its virtual time), the THR-empty interrupt into the NVIC. Everything else on the page, and any register the
 * fast path does not serve, goes to the Python model, which takes the state back first. A WFI hook sleeps the core
 * here until the next native event when nothing can wake it sooner, so a core that sends a byte per interrupt and
 * sleeps in between never returns to Python for it.
 *
 * The rules are the Python path's, step for step, so both give the same instruction counts and times
 * (tests/engine/test_engine_native_path.py):
 *   - an event is due at the first block start where the instructions retired reach its time
 *     (CortexM4._instructions_to), which is where the Python path's quantum would have ended for it;
 *   - a model sees the time of the end of the running block, never past the next event (CortexM4._sync_clock);
 *   - a sleeping core's time jumps to the event that wakes it and is anchored there (CortexM4._reanchor_if_moved);
 *   - a register read the same way 16 times in a row within 48 instructions each is a polling loop (the detector
 *     of CortexM4._track_polling, shared with Python's reads through exc_track_poll). */
#include <string.h>
#include "core_state.h"

#define SPIN_READS 16
#define SPIN_MAX_GAP 48
#define WARP_MIN_PS 2000000ull
#define WARP_MAX_PS 250000000ull

/* UART registers (peripherals/uart/mt3620_uart.py REGISTERS) and values (CodethinkLabs mt3620/uart.h) */
#define RBR_THR 0x00
#define IER 0x04
#define IIR_FCR 0x08
#define LSR 0x14
#define TX_OFFSET 0x6C
#define IER_ETBEI 0x2u
#define IIR_NONE 0x01u
#define IIR_THRE 0x02u
#define IIR_FIFOS_ON 0xC0u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u
#define NEWLINE 0x0A

/* ---- polling detector --------------------------------------------------------------------------------------------- */
/* A register read: the same register read SPIN_READS times within SPIN_MAX_GAP instructions each (and the same
 * value, unless it changes with time alone) ends the run so that Python skips the wait. */
void exc_track_poll(exc_t *x, uint32_t address, uint32_t value, int varying) {
    uint64_t count = retired(x), now = local_time(x, count);
    if (x->spin_count > 0 && address == x->spin_address && count - x->spin_at <= SPIN_MAX_GAP &&
        (varying || value == x->spin_value)) {
        if (++x->spin_count >= SPIN_READS) {
            if (varying) {
                uint64_t warp = (now - x->spin_since) / 8;
                x->skip_ps = warp < WARP_MIN_PS ? WARP_MIN_PS : warp > WARP_MAX_PS ? WARP_MAX_PS : warp;
                x->skip_kind = 2;
            } else {
                x->skip_kind = 1;
            }
            x->budget->remaining = 0;           /* BlockBudget.cut(0): the run ends at the next block */
        }
    } else {
        x->spin_count = 1;
        x->spin_since = now;
    }
    x->spin_address = address;
    x->spin_value = value;
    x->spin_at = count;
}

/* Any MMIO write ends a polling loop. */
static inline void spin_reset(exc_t *x) { x->spin_count = 0; }

void dev_reschedule(exc_t *x);
int dev_would_wake(uc_engine *uc, exc_t *x, int wfe);

/* The time of the next native event (NEVER: none). */
static inline uint64_t next_due(const exc_t *x) {
    uint64_t due = NEVER;
    if (x->uart.engaged && x->uart.due_ps < due) due = x->uart.due_ps;
    if (x->systick.engaged && x->systick.due_ps < due) due = x->systick.due_ps;
    return due;
}

/* ---- the UART's transmitter ---------------------------------------------------------------------------------------- */
/* What a model sees as "now" at an access: the end of the running block, never past the next event. */
static uint64_t model_now(const exc_t *x) {
    uint64_t now = local_time(x, retired(x)), due = next_due(x);
    if (now > x->horizon_ps) now = x->horizon_ps;
    if (now > due) now = due;
    return now;
}

/* Mt3620Uart.update_irq with the receiver quiet (a condition of the engagement): only THR empty can be pending. */
static void uart_update_irq(exc_t *x) {
    uart_t *u = &x->uart;
    int level = (u->ier & IER_ETBEI) && u->thre_pending;
    if (level != u->line) {
        u->line = level;
        exc_set_line(x, (int)u->irq, level);
    }
}

static inline int uart_thr_condition(const uart_t *u) { return u->fifo_len <= u->tx_trigger; }

/* Mt3620Uart._start_next_frame */
static void uart_start_frame(uart_t *u, uint64_t now) {
    if (!u->fifo_len) return;
    u->shift = u->fifo[0];
    memmove(u->fifo, u->fifo + 1, (size_t)--u->fifo_len);
    u->due_ps = now + u->frame_ps;
    if (uart_thr_condition(u) && (u->ier & IER_ETBEI)) u->thre_pending = 1;
}

/* Mt3620Uart._tx_done at `now` (the frame's end): the byte goes to the output, the next frame starts. Returns 1 when
 * the run must stop (a line ended, or the output is full). */
static int uart_frame_done(exc_t *x, uint64_t now) {
    uart_t *u = &x->uart;
    int byte = u->shift, stop = 0;
    u->shift = -1;
    u->due_ps = NEVER;
    u->frames++;
    if (byte >= 0) {
        u->out[u->n_out] = (uint8_t)byte;
        u->out_ps[u->n_out++] = now;
        stop = (byte == NEWLINE && !x->quiet_lines) || u->n_out == UART_OUT_MAX;
    }
    uart_start_frame(u, now);
    if (uart_thr_condition(u) && (u->ier & IER_ETBEI)) u->thre_pending = 1;
    uart_update_irq(x);
    return stop;
}

/* ---- SysTick (engine/cortex_m/systick.py: the same arithmetic, anchored so that rounding never drifts) ------------- */
#define SYST_CSR 0x0
#define SYST_RVR 0x4
#define SYST_CVR 0x8
#define CSR_ENABLE 0x1u
#define CSR_TICKINT 0x2u
#define CSR_COUNTFLAG 0x10000u
#define SYSTICK_PAGE_OFFSET 0x10u           /* SysTick's registers inside the SCS page */

/* SysTick._value_at: the count at `now`, running down from anchor_value at anchor_ps with period RVR + 1. */
static uint64_t systick_value_at(const systick_t *t, uint64_t now) {
    if (!(t->csr & CSR_ENABLE)) return t->anchor_value;
    uint64_t elapsed = cycles_in(now > t->anchor_ps ? now - t->anchor_ps : 0, t->hz);
    if (elapsed <= t->anchor_value) return t->anchor_value - elapsed;
    if (t->reload == 0) return 0;
    return t->reload - (elapsed - t->anchor_value - 1) % ((uint64_t)t->reload + 1);
}

/* SysTick._schedule: the next wrap, an exact cycle count from the anchor. */
static void systick_schedule(systick_t *t, uint64_t now) {
    t->due_ps = NEVER;
    if (!(t->csr & CSR_ENABLE)) return;
    uint64_t value = systick_value_at(t, now);
    if (value == 0 && t->reload == 0) return;
    uint64_t cycles = value ? value : (uint64_t)t->reload + 1;
    uint64_t elapsed = cycles_in(now > t->anchor_ps ? now - t->anchor_ps : 0, t->hz);
    t->due_ps = t->anchor_ps + ps_for_cycles(elapsed + cycles, t->hz);
}

/* SysTick._wrap at its time: COUNTFLAG, the exception pended with TICKINT (into the NVIC state here), the next wrap. */
static void systick_wrap(exc_t *x) {
    systick_t *t = &x->systick;
    uint64_t now = t->due_ps;
    t->csr |= CSR_COUNTFLAG;
    t->wraps++;
    if (t->csr & CSR_TICKINT) {
        set_bit(x->pending, SYSTICK);
        x->check = CHECK_ALL;
    }
    systick_schedule(t, now);
}

/* What SysTick sees as "now" at a read: a model's time (model_now), never before the clock when it was handed over. */
static uint64_t systick_now(exc_t *x) {
    uint64_t now = model_now(x);
    if (now < x->systick.floor_ps) return x->systick.floor_ps;
    x->systick.floor_ps = now;
    return now;
}

/* A read of the SCS page at SysTick's registers (exceptions.c forwards them here): served here while SysTick is
 * engaged, exactly as SysTick.read would (CSR's COUNTFLAG cleared by the read, CVR from the anchor); otherwise, and
 * for any access but an aligned word, the Python SCS block (which takes the state back first). */
uint64_t dev_systick_read(exc_t *x, uint64_t offset, uint32_t size) {
    systick_t *t = &x->systick;
    if (!t->engaged || !x->fast || x->python_stop || !x->native_scs || size != 4 || (offset & 3))
        return x->py_read(offset, size);
    uint32_t reg = (uint32_t)offset - SYSTICK_PAGE_OFFSET, value;
    switch (reg) {
    case SYST_CSR:
        value = t->csr & t->csr_readable;
        t->csr &= ~CSR_COUNTFLAG;
        break;
    case SYST_RVR:
        value = t->rvr_read;
        break;
    case SYST_CVR:
        value = (uint32_t)(systick_value_at(t, systick_now(x)) & 0xFFFFFFu);
        break;
    default:
        value = t->calib_read;
        break;
    }
    t->reads++;
    served_read(x, t->base + reg, value, reg == SYST_CVR);   /* CVR changes with time alone (declared volatile) */
    return value;
}

/* ---- native events ------------------------------------------------------------------------------------------------ */
/* Fires the native events whose time the core has reached (`count` instructions retired) and that are due by `until`,
 * in time order; 1: stop the run. (The UART's frame end and SysTick's wrap change disjoint state, so the order of two
 * at one instant does not matter.) */
static int fire_due(exc_t *x, uint64_t count, uint64_t until) {
    int stop = 0;
    for (;;) {
        uint64_t due = next_due(x);
        if (due == NEVER || due > until || count_at(x, due) > count) break;
        if (x->uart.engaged && x->uart.due_ps == due)
            stop |= uart_frame_done(x, due);
        else
            systick_wrap(x);
    }
    dev_reschedule(x);
    return stop;
}

static void yield_window(uc_engine *uc, exc_t *x) {
    if (x->stop_kind == STOP_NONE) x->stop_kind = STOP_YIELD;
    uc_emu_stop(uc);
}

/* The instruction count at which the next native event is due (the block hook compares against it). */
void dev_reschedule(exc_t *x) {
    uint64_t due = next_due(x);
    x->due_count = due != NEVER ? count_at(x, due) : NEVER;
}

int devices_at_block(uc_engine *uc, exc_t *x) {
    if (next_due(x) == NEVER || !x->fast || x->python_stop || x->stop_kind != STOP_NONE) return 0;
    if (!fire_due(x, retired(x), NEVER)) return 0;
    yield_window(uc, x);
    return 1;
}

/* ---- the UART's page ------------------------------------------------------------------------------------------------ */
static inline int uart_serves(const exc_t *x, uint32_t reg, unsigned size) {
    return x->uart.engaged && x->fast && !x->python_stop && size == 4 && reg < 0x100;
}

static uint64_t uart_page_read(uc_engine *uc, uint64_t offset, unsigned size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    uart_t *u = &x->uart;
    uint32_t address = u->page + (uint32_t)offset, reg = address - u->base, value;
    (void)uc;
    if (!uart_serves(x, reg, size)) return u->py_read(offset, size);
    switch (reg) {
    case IIR_FCR:
        value = ((u->ier & IER_ETBEI) && u->thre_pending) ? IIR_THRE : IIR_NONE;
        if (value == IIR_THRE) {                /* reading IIR while it reports THR empty acknowledges it */
            u->thre_pending = 0;
            uart_update_irq(x);
        }
        value |= u->fifo_on ? IIR_FIFOS_ON : 0;
        break;
    case LSR:
        value = (u->fifo_len ? 0 : LSR_THRE) | ((u->fifo_len || u->shift >= 0) ? 0 : LSR_TEMT);
        break;
    case IER:
        value = u->ier;
        break;
    case TX_OFFSET:
        value = (uint32_t)u->fifo_len;
        break;
    default:
        return u->py_read(offset, size);
    }
    u->reads++;
    if (x->track_polls) exc_track_poll(x, address, value, 0);
    return value;
}

static void uart_page_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    uart_t *u = &x->uart;
    uint32_t reg = u->page + (uint32_t)offset - u->base;
    (void)uc;
    if (!uart_serves(x, reg, size) || (reg == RBR_THR && u->fifo_len >= u->depth) || (reg != RBR_THR && reg != IER)) {
        u->py_write(offset, size, value);       /* a full FIFO drops the byte: the model logs it */
        return;
    }
    spin_reset(x);
    u->writes++;
    if (reg == RBR_THR) {                       /* Mt3620Uart._write_thr */
        u->thre_pending = 0;
        u->fifo[u->fifo_len++] = (uint8_t)value;
        if (u->shift < 0) uart_start_frame(u, model_now(x));
    } else {                                    /* Mt3620Uart._write_ier: enabling THR empty while it holds raises it */
        uint32_t old = u->ier;
        u->ier = (uint32_t)value & u->ier_mask;
        if ((u->ier & IER_ETBEI) && !(old & IER_ETBEI) && uart_thr_condition(u)) u->thre_pending = 1;
    }
    uart_update_irq(x);
}

/* ---- WFI --------------------------------------------------------------------------------------------------------- */

/* Before a WFI executes: if an interrupt would end the sleep at once, the WFI is done; else, when a native event comes
 * before the run's end, the core sleeps until it (time anchored there, as the Python path does) and the event fires;
 * otherwise the WFI executes and Python puts the core to sleep. The block holding the WFI is already charged. */
static void wfi_hook(uc_engine *uc, uint64_t address, uint32_t size, void *user_data) {
    exc_t *x = (exc_t *)user_data;
    if (!x->fast || x->python_stop || x->stop_kind != STOP_NONE || !(x->uart.engaged || x->systick.engaged)) return;
    uint64_t count = retired(x);
    int stop = fire_due(x, count, NEVER);
    for (;;) {
        if (dev_would_wake(uc, x, 0)) {
            x->check = CHECK_ALL;
            set_pc(uc, (uint32_t)address + size);   /* the WFI is over: the interrupt is taken after it */
            if (stop) yield_window(uc, x);
            return;
        }
        if (stop) {
            /* The WFI executes (charged once, with its block) and Unicorn ends the run on it; Python puts the core
             * to sleep as on its own path, and the window ends at the line's end. */
            if (x->stop_kind == STOP_NONE) x->stop_kind = STOP_YIELD;
            return;
        }
        uint64_t due = next_due(x);
        if (due == NEVER || due >= x->horizon_ps) return;
        uint64_t now = local_time(x, count);
        if (due > now) {                            /* asleep until the event: the time base moves there */
            x->sleeps++;
            x->slept_ps += due - now;
            x->anchor_ps = due;
            x->anchor_count = count;
            x->budget->remaining = (int64_t)cycles_in(x->horizon_ps - due, x->hz);
            dev_reschedule(x);
        }
        stop = fire_due(x, count, NEVER);
    }
}

/* ---- API for engine/cortex_m/native_devices.py ---------------------------------------------------------------------- */
/* Serves the page holding a UART here (its other blocks and registers through py_read/py_write). */
int dev_attach_uart(uc_engine *uc, exc_t *x, uint32_t page, uint32_t page_size, uint32_t base, uint32_t irq) {
    uart_t *u = &x->uart;
    u->page = page;
    u->base = base;
    u->irq = irq;
    u->attached = 1;
    u->due_ps = NEVER;
    u->shift = -1;
    return uc_mmio_map(uc, page, page_size, uart_page_read, x, uart_page_write, x);
}

/* CortexM4._would_wake: a pending exception that would pre-empt, with PRIMASK left out for WFI (B1.5.19). */
int dev_would_wake(uc_engine *uc, exc_t *x, int wfe) {
    int n = highest_pending(x, -1);
    if (n < 0) return 0;
    uint32_t primask = wfe ? read_primask(uc, x) : 0;
    return group_priority(x, get_priority(x, n)) <
           execution_priority(x, primask, read_faultmask(uc, x), read_basepri(uc, x), -1);
}

/* Between runs (CortexM4._fire_native): fire the events the core's time reached that are due by `until` (where the
 * Python path's window ends and fires them). */
int dev_fire(exc_t *x, uint64_t count, uint64_t until) { return fire_due(x, count, until); }

int dev_hook_wfi(uc_engine *uc, exc_t *x, uint64_t address, uc_hook *handle) {
    return uc_hook_add(uc, handle, UC_HOOK_CODE, (void *)wfi_hook, x, address, address);
}
