"""SysTick in virtual time, HCLK switches, WFI/WFE/SEV sleep, sleep-on-exit and determinism of an IO core.

Rules: ARMv7-M ARM (DDI 0403E) B3.3 (SysTick: 24-bit down-counter, reload on the tick after reaching 0, COUNTFLAG
cleared by a read of SYST_CSR or any write to SYST_CVR), B1.5.19 (WFI/WFE wake-up, SEVONPEND, SLEEPONEXIT).
One instruction costs one cycle of HCLK (DESIGN.md "The embedded engine"); MT3620 HCLK is 26 MHz at reset and
197.6 MHz with the PLL selected in the RGU (0x2101000C bits [9:8] = 2, MT3620-FACTS).
"""
from m4_harness import RESULTS, Bare, address, build, edited, elf32, run_program, scs_field, scs_offset
from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND, ps_for_cycles
from mt3620.peripherals.clock.rgu import Rgu
from mt3620.peripherals.uart.mt3620_uart import DEBUG_UART_BASE, Mt3620Uart

CSR, RVR, CVR, ICSR, ISPR0 = (scs_offset(n) for n in ("SYST_CSR", "SYST_RVR", "SYST_CVR", "ICSR", "ISPR0"))
PENDSTSET = scs_field("ICSR", "PENDSTSET")
RGU_HCLK = 0x21010000 + Rgu.offset("CM4_HCLK_CK_CTRL")        # the IO core's RGU (MT3620-FACTS)
DEBUG_THR = DEBUG_UART_BASE + Mt3620Uart.offset("RBR_THR")
MS = PS_PER_SECOND // 1000


def systick_program(reload: int) -> str:
    return f"""
reset:
 WRITE SYST_CVR, 0
 SYSTICK {reload}, 7
spin:
 adds r4, #1
 b spin
systick:
 COUNT 0
 bx lr
"""


def record_pends(core) -> list[int]:
    times: list[int] = []
    original = core.scs.systick._pend
    clock = core.scs.systick.clock       # the core's own clock (CortexM4.private_clock): the wrap's time
    core.scs.systick._pend = lambda: (times.append(clock.now), original())
    return times


def run_recording_wraps(m, core, duration: int) -> list[int]:
    """Runs the machine for `duration` in steps of 1/4 ms and returns the times SysTick wrapped: the model's next
    wrap at each step (whether SysTick is served in Python or in C: engine/cortex_m/native_devices.py)."""
    times: list[int] = []
    for _ in range(duration // (MS // 4)):
        m.run_for(MS // 4)
        when = core.scs.systick.next_wrap
        if when is not None and (not times or times[-1] != when):
            times.append(when)
    return times


def test_systick_period_at_26mhz():
    b = Bare(systick_program(25_999), {15: "systick"})
    times = record_pends(b.core)
    b.run_until(10 * MS + MS // 2)
    assert b.result(0) == 10
    assert len(times) == 10
    # RVR + 1 = 26000 cycles of 26 MHz: exactly 1 ms between ticks; the first comes 1 ms after the enable,
    # which happened a few instructions after reset.
    assert all(later - earlier == MS for earlier, later in zip(times, times[1:]))
    assert MS <= times[0] < MS + ps_for_cycles(40, 26_000_000)


def test_systick_follows_set_hz():
    b = Bare(systick_program(25_999), {15: "systick"})
    times = record_pends(b.core)
    b.run_until(3 * MS + MS // 2)
    switch = b.clock.now
    left_cycles = b.core.scs.read(CVR, 4)            # counter value at the switch (old clock)
    b.core.set_hz(197_600_000)
    b.run_until(4 * MS)
    assert len(times) >= 6
    before, after = [t for t in times if t < switch], [t for t in times if t > switch]
    assert len(before) == 3
    # The count in progress continues at the new rate...
    assert abs(after[0] - (switch + ps_for_cycles(left_cycles, 197_600_000))) <= ps_for_cycles(2, 197_600_000)
    # ...then every period is 26000 cycles of 197.6 MHz (131.578947 us), with no drift from rounding.
    period = 26_000 * PS_PER_SECOND / 197_600_000
    assert all(abs((t - after[0]) - k * period) <= 1 for k, t in enumerate(after))


def test_countflag_clears_on_read_and_on_cvr_write():
    b = Bare("reset:\n b reset\n")
    st, clock = b.core.scs, b.core.private_clock     # SysTick runs on its core's own clock
    assert st.read(CSR, 4) & (1 << 2)                    # CLKSOURCE: processor clock
    st.write(RVR, 4, 0xFFFFFFFF)
    assert st.read(RVR, 4) == 0xFFFFFF                   # 24-bit reload
    st.write(RVR, 4, 99)
    st.write(CVR, 4, 12345)
    assert st.read(CVR, 4) == 0                          # any write clears the counter
    t0 = clock.now
    st.write(CSR, 4, 1)                                  # ENABLE, no TICKINT
    cycle = ps_for_cycles(1, 26_000_000)
    clock.advance_to(t0 + cycle)
    assert st.read(CVR, 4) == 99                         # reloaded on the first tick after 0
    clock.advance_to(t0 + ps_for_cycles(100, 26_000_000))
    assert st.read(CVR, 4) == 0
    clock.advance_to(t0 + ps_for_cycles(150, 26_000_000))
    assert st.read(CSR, 4) & (1 << 16)                   # reached 0 once: COUNTFLAG
    assert not st.read(CSR, 4) & (1 << 16)               # cleared by the read
    assert not st.read(ICSR, 4) & PENDSTSET              # TICKINT = 0: SysTick not pended
    clock.advance_to(t0 + ps_for_cycles(260, 26_000_000))
    st.write(CVR, 4, 1)
    assert not st.read(CSR, 4) & (1 << 16)               # cleared by the CVR write
    st.write(CSR, 4, 0)                                  # disabled: the count holds
    held = st.read(CVR, 4)
    clock.advance_to(clock.now + ps_for_cycles(1000, 26_000_000))
    assert st.read(CVR, 4) == held


def test_rvr_write_does_not_disturb_the_running_count():
    # B3.3.3: RVR is loaded into the counter only when it wraps; writing it leaves the current count alone.
    b = Bare("reset:\n b reset\n")
    st, clock = b.core.scs, b.core.private_clock     # SysTick runs on its core's own clock
    wraps = record_pends(b.core)
    t0 = b.start_systick(99, 3)                          # ENABLE | TICKINT
    cycles = lambda n: b.cycles_after(t0, n)
    clock.advance_to(cycles(1050))
    assert st.read(CVR, 4) == 50
    st.write(RVR, 4, 49)
    assert st.read(CVR, 4) == 50
    clock.advance_to(cycles(1099))
    assert st.read(CVR, 4) == 1
    clock.advance_to(cycles(1101))
    assert st.read(CVR, 4) == 49                         # the new reload after the wrap at 1100
    clock.advance_to(cycles(1200) + 1)
    assert wraps == [cycles(100 * k) for k in range(1, 12)] + [cycles(1150), cycles(1200)]


def test_csr_writes_while_counting_do_not_shift_the_wraps():
    # Toggling TICKINT (as tickless RTOS code does) between cycle edges must not move the counter's phase.
    b = Bare("reset:\n b reset\n")
    st, clock = b.core.scs, b.core.private_clock     # SysTick runs on its core's own clock
    wraps = record_pends(b.core)
    t0 = b.start_systick(99, 3)
    cycles = lambda n: b.cycles_after(t0, n)
    for k in range(20):
        clock.advance_to(cycles(100 * k + 37) + 20_000)  # half a cycle past an edge
        st.write(CSR, 4, 1 if k % 2 else 3)
        st.write(CSR, 4, 3)
    clock.advance_to(cycles(2100) + 1)
    assert wraps == [cycles(100 * k) for k in range(1, 22)]


def test_countflag_read_by_the_guest():
    body = f"""
reset:
 WRITE SYST_CVR, 0
 SYSTICK 50, 1
 ldr r0, ={address("SYST_CSR")}
wait:
 ldr r1, [r0]
 tst r1, #0x10000
 beq wait
 ldr r1, [r0]
 SAVE r1, 0
 ldr r1, [r0, #8]
 SAVE r1, 1
done: b done
"""
    b = run_program(body, us=20)
    assert b.result(0) == 0x5                            # ENABLE | CLKSOURCE, COUNTFLAG gone after the first read
    assert b.result(1) <= 50


def test_systick_on_the_machine_after_selecting_the_pll():
    # Through the real platform: the app selects the PLL in the RGU, the engine switches HCLK, and SysTick with
    # RVR = 197599 ticks every 1 ms; the core retires 197,600 instructions per ms in between.
    body = f"""
reset:
 ldr r0, ={RGU_HCLK}
 ldr r1, [r0]
 bic r1, r1, #0x300
 orr r1, r1, #0x200
 str r1, [r0]
{systick_program(197_599).split("reset:", 1)[1]}
"""
    code, labels = build(body, {15: "systick"})
    m = Machine()
    m.load("io0", data=elf32(code))
    core = m.core("io0")
    times = run_recording_wraps(m, core, 5 * MS + MS // 2)[:5]      # the sixth is still to come
    assert core.hz == 197_600_000
    assert m.read_memory("io0", RESULTS, 4) == (5).to_bytes(4, "little")
    assert all(later - earlier == MS for earlier, later in zip(times, times[1:]))
    assert MS <= times[0] < MS + ps_for_cycles(30, 26_000_000)  # enabled a few instructions after reset
    assert abs(core.instructions - 197_600 * 5.5) < 200 + 5 * 20


def test_systick_handler_output_on_the_debug_uart_in_virtual_time():
    # Through the real platform: each SysTick (1 ms at 26 MHz) writes one letter to the IO core's debug UART
    # (0x21040000, THR at +0x00, MT3620-FACTS) and the core sleeps in WFI in between.
    body = f"""
reset:
 SYSTICK 25999, 7
 movs r4, #0x61
sleep:
 wfi
 b sleep
systick:
 ldr r0, ={DEBUG_THR}
 strb r4, [r0]
 adds r4, #1
 cmp r4, #0x66
 bne out
 movs r1, #0x0A
 strb r1, [r0]
out:
 bx lr
"""
    code, _ = build(body, {15: "systick"})
    m = Machine()
    m.load("io0", data=elf32(code))
    m.run_for(3 * MS + MS // 2)
    assert m.uart_text("io0.io0_uart") == "abc"
    result = m.wait_for_line("abcde", 10 * MS)
    assert result.ok
    assert 5 * MS <= m.time_ps < 5 * MS + MS // 2      # the 5th tick, plus the UART's byte times
    assert m.core("io0").instructions < 5 * 40      # asleep between ticks: no spinning


def test_systick_reload_zero_stops_after_reaching_zero():
    b = Bare("reset:\n b reset\n")
    st, clock = b.core.scs, b.core.private_clock     # SysTick runs on its core's own clock
    t0 = b.start_systick(4, 1)
    clock.advance_to(b.cycles_after(t0, 3))
    assert st.read(CVR, 4) == 2
    st.write(RVR, 4, 0)       # RELOAD 0: the counter stops at 0 at the next wrap (B3.3.3)
    clock.advance_to(b.cycles_after(t0, 10))
    assert st.read(CVR, 4) == 0 and st.read(CSR, 4) & (1 << 16)
    clock.advance_to(b.cycles_after(t0, 100))
    assert st.read(CVR, 4) == 0 and not st.read(CSR, 4) & (1 << 16)


WFI_PROGRAM = f"""
reset:
 IRQ_PRIORITY 0, 0x40
 ENABLE_IRQ 0
sleep:
 wfi
 COUNT 1
 b sleep
irq0:
 COUNT 0
 bx lr
"""


def test_wfi_sleeps_until_an_interrupt_and_skips_time():
    b = Bare(WFI_PROGRAM, {16: "irq0"})
    b.pulse(0, 5 * MS)
    b.run_until(4 * MS)
    assert b.core.sleeping and b.results(2) == [0, 0]
    asleep = b.core.instructions
    assert asleep < 40                                   # no spinning: 4 ms of sleep cost no instructions
    b.run_until(6 * MS)
    assert b.results(2) == [1, 1]                        # handler, then the instruction after WFI
    assert b.core.sleeping and b.core.instructions - asleep < 40
    assert b.core.time >= 6 * MS


def test_wfi_wakes_on_masked_interrupt_without_taking_it():
    b = Bare(edited(WFI_PROGRAM, "sleep:\n wfi", " cpsid i\nsleep:\n wfi"), {16: "irq0"})
    b.pulse(0, 2 * MS)
    b.run_until(3 * MS)
    # B1.5.19: WFI wakes for a pending interrupt that would pre-empt if PRIMASK were 0; PRIMASK keeps it pending.
    assert b.result(0) == 0 and b.result(1) >= 1
    assert b.scs(ISPR0) & 1


def test_wfi_ignores_disabled_interrupt():
    b = Bare(edited(WFI_PROGRAM, " ENABLE_IRQ 0\n", " ENABLE_IRQ 1\n"), {16: "irq0"})
    b.pulse(0, 2 * MS)
    b.run_until(3 * MS)
    assert b.results(2) == [0, 0] and b.core.sleeping
    assert b.scs(ISPR0) & 1                              # pending, but disabled: no wake-up


# Two WFEs, each followed by a mark in a result word (0, then 1).
TWO_WFES = """
 wfe
 SET_RESULT 0, 1
 wfe
 SET_RESULT 1, 2
done: b done
"""


def test_wfe_sev_event_register():
    body = f"""
reset:
 ENABLE_IRQ 0
 sev{TWO_WFES}irq0:
 SET_RESULT 2, 3
 bx lr
"""
    b = Bare(body, {16: "irq0"})
    b.run_until(1 * MS)
    # SEV set the event register, so the first WFE cleared it and went on; the second one sleeps.
    assert b.results(3) == [1, 0, 0] and b.core.sleeping
    b.pulse(0, 2 * MS)
    b.run_until(3 * MS)
    assert b.results(3) == [1, 2, 3]


def test_wfe_wakes_on_pending_disabled_interrupt_with_sevonpend():
    # SCR.SEVONPEND: an interrupt becoming pending is a WFE wake-up event even when disabled (B1.5.19).
    body = f"""
reset:
 WRITE SCR, 0x10
 wfe
 SET_RESULT 0, 1
done: b done
"""
    b = Bare(body)
    b.run_until(1 * MS)
    assert b.result(0) == 0 and b.core.sleeping
    b.pulse(3, 2 * MS)
    b.run_until(3 * MS)
    assert b.result(0) == 1 and b.unexpected() == 0


def test_wfe_returns_at_once_after_an_exception():
    # Exception entry and exit set the event register (the Cortex-M3 erratum 563915 lists them among the
    # conditions that must set it; the Cortex-M4 does), so a WFE right after a handler ran does not sleep.
    body = f"""
reset:
 sev
 wfe
 ENABLE_IRQ 0
 PEND_IRQ 0{TWO_WFES}irq0:
 bx lr
"""
    b = Bare(body, {16: "irq0"})
    b.run_until(1 * MS)
    assert b.results(2) == [1, 0] and b.core.sleeping


def test_wfe_is_not_woken_by_an_interrupt_masked_by_primask():
    # Cortex-M4 Generic User Guide, WFE: it waits for "an exception, unless masked by the exception mask registers
    # or the current priority level" (WFI, by contrast, wakes and leaves the interrupt pending).
    body = f"""
reset:
 cpsid i
 ENABLE_IRQ 0
 sev
 wfe
 wfe
 SET_RESULT 0, 1
done: b done
irq0:
 bx lr
"""
    b = Bare(body, {16: "irq0"})
    b.pulse(0, 1 * MS)
    b.run_until(2 * MS)
    assert b.result(0) == 0 and b.core.sleeping and b.scs(ISPR0) & 1


def test_yield_is_a_no_op_and_wfe_then_undefined_is_told_apart():
    body = f"""
reset:
 WRITE SHCSR, 0x00040000
 yield
 SET_RESULT 0, 1
 sev
 wfe
bad:
 udf #1
 SET_RESULT 1, 2
done: b done
usagefault:
 SKIP_FAULTING 2
"""
    b = run_program(body, {6: "usagefault"}, us=20)
    # The WFE consumed the event and went on; the UDF after it is the faulting instruction, not the WFE.
    assert b.results(3) == [1, 2, b.label("bad")]


def test_sleep_on_exit_returns_to_sleep_without_running_thread_code():
    b = Bare(edited(WFI_PROGRAM, "sleep:\n wfi", " WRITE SCR, 2\nsleep:\n wfi"), {16: "irq0"})
    b.pulse(0, 1 * MS)
    b.pulse(0, 2 * MS)
    b.run_until(3 * MS)
    assert b.results(2) == [2, 0]                        # two handlers, no thread instruction after WFI
    assert b.core.sleeping


def _mixed_run() -> tuple:
    body = f"""
reset:
 SYSTICK 2599, 7
 ENABLE_IRQ 0, 1
loop:
 adds r4, #3
 eor r5, r5, r4, ror #7
 tst r4, #0x100
 it ne
 addne r6, #1
 vmov s2, r4
 vcvt.f32.u32 s3, s2
 vadd.f32 s4, s4, s3
 cmp r4, #0x3000
 blo loop
 wfi
 b loop
systick:
 adds r7, #1
 bx lr
irq0:
 add r8, r8, r4
 WRITE ISPR0, 2
 bx lr
irq1:
 adds r9, #1
 bx lr
"""
    b = Bare(body, {15: "systick", 16: "irq0", 17: "irq1"})
    for k in range(1, 8):
        b.pulse(0, k * 317_000_000 + 12_345)
    b.run_until(3 * MS)
    regs = {name: b.core.reg(name) for name in ("r4", "r5", "r6", "r7", "r8", "r9", "sp", "pc", "xpsr", "s4")}
    return b.core.instructions, b.core.time, b.clock.now, regs


def test_same_program_twice_same_counts_registers_and_time():
    first, second = _mixed_run(), _mixed_run()
    assert first == second
    assert first[3]["r7"] > 0 and first[3]["r8"] > 0 and first[3]["r9"] == 7


def test_frames_stacked_while_asleep_on_exit_keep_the_thumb_bit():
    # Every stacked xPSR has EPSR.T = 1 (B1.5.6): also for an interrupt that wakes a core that went back to sleep on
    # exit, when no instruction ran since the previous exception return.
    body = f"""
reset:
 ENABLE_IRQ 0
 WRITE SCR, 2
sleep:
 wfi
 b sleep
irq0:
 ldr r0, [sp, #28]
 ldr r1, ={RESULTS}
 ldr r2, [r1]
 adds r2, #1
 str r2, [r1]
 str r0, [r1, r2, lsl #2]
 bx lr
"""
    b = Bare(body, {16: "irq0"})
    for k in (1, 2, 3):
        b.pulse(0, k * MS)
    b.run_until(4 * MS)
    r = b.results(4)
    assert r[0] == 3
    assert all(x & (1 << 24) for x in r[1:4]), [hex(x) for x in r[1:4]]


def test_machine_runs_are_identical():
    body = f"""
reset:
 SYSTICK 2599, 7
 movs r4, #0x41
loop:
 adds r5, #1
 tst r5, #0xFF
 bne loop
 wfi
 b loop
systick:
 ldr r0, ={DEBUG_THR}
 strb r4, [r0]
 adds r4, #1
 cmp r4, #0x5B
 it eq
 moveq r4, #0x41
 bx lr
"""
    code, _ = build(body, {15: "systick"})

    def once():
        m = Machine()
        m.load("io0", data=elf32(code))
        m.run_for(7 * MS + 12_345)
        core = m.core("io0")
        return (core.instructions, core.time, m.time_ps, m.uart_text("io0.io0_uart"),
                [core.reg(r) for r in ("r4", "r5", "pc", "sp", "xpsr")])

    first, second = once(), once()
    assert first == second
    assert len(first[3]) >= 60
