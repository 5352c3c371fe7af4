"""SysTick served in C (engine/cortex_m/native_devices.py NativeSysTick, native/devices.c) against the Python model.

Each program runs three ways with virtual time stepped explicitly: on the Python reference path
(MT3620_PYTHON_EXCEPTIONS=1), on the native path with SysTick left to the model (a bare core: no machine engages
devices), and on the native path with SysTick handed to C at the start of every window and kept there between
windows, as the machine does for a core running alone (`Lone`). All three must give the same instruction counts,
times, registers, memory and NVIC state at every checkpoint, while the guest reads and writes SysTick mid-run and
Python touches it between runs (register reads and writes, a clock change): every such touch takes the state back
from C first. Rules: ARMv7-M ARM (DDI 0403E) B3.3."""
from __future__ import annotations

import pytest
from m4_harness import REGISTERS, RESULTS, Bare, address, build, elf32, scs_offset, set_switch, snapshot

from mt3620.engine.simulation.clock import PS_PER_SECOND

pytestmark = pytest.mark.one_path        # each test chooses its paths itself

US = 1_000_000
MS = PS_PER_SECOND // 1000
CSR, RVR, CVR = (scs_offset(n) for n in ("SYST_CSR", "SYST_RVR", "SYST_CVR"))
WAYS = ("python", "native", "native devices")


class Lone(Bare):
    """A bare core whose SysTick is served in C: engaged at the start of each window (CortexM4.native_engage),
    kept between windows, handed back at the end of run_until."""

    def run_until(self, t: int) -> None:
        core, clock = self.core, self.clock
        for _ in range(1_000_000):
            if core.time >= t or core.locked_up:
                break
            core.native_engage()
            core.run_until(t)
            core.take_yield()
            core.window_ends(t)
            clock.advance_to(max(clock.now, min(core.time, t)))
        core.native_release()
        clock.advance_to(max(clock.now, t))     # (what the release put back on the clock, if due by now)


def three_ways(monkeypatch, make, steps) -> dict[str, list[tuple]]:
    """Runs `make(cls)` (a Bare or Lone) and `steps(b)` (a generator of checkpoints) each way; the snapshots."""
    results = {}
    for way in WAYS:
        set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", way == "python")
        b = make(Lone if way == "native devices" else Bare)
        results[way] = [snapshot(b.core, b.view.memories()) + tuple(extra) for extra in steps(b)]
        results[way + " core"] = b.core
    return results


def assert_same(results: dict) -> None:
    reference = results["python"]
    for way in WAYS[1:]:
        for i, (got, want) in enumerate(zip(results[way], reference)):
            assert got == want, f"{way}, checkpoint {i}: {got[:2]} != python {want[:2]}"
        assert len(results[way]) == len(reference)


def native_stats(results: dict) -> dict:
    core = results["native devices core"]
    if core._native is None:
        pytest.skip("no native library here")
    return core._native.stats()


# ---- the guest reads and writes SysTick all the time --------------------------------------------------------------
# A thread counts in r4 and, on patterns of its counter: reads CVR and CSR (COUNTFLAG clears on the read) into
# running sums, changes the reload value, clears the counter through CVR, turns TICKINT off and on, disables and
# enables the counter, sleeps in WFI (TICKINT on), and busy-waits on CVR for the last 100 cycles before a reload (MediaTek's
# osai_delay_us pattern). The handler counts, reads CSR and CVR.
TRAFFIC = f"""
reset:
 WRITE SHPR3, 0x40000000         @ SysTick priority 0x40
 SYSTICK 2599, 7                 @ 100 us at 26 MHz, TICKINT, enabled
 movs r4, #0
 movs r6, #0
 movs r7, #0
thread:
 adds r4, #1
 ldr r3, ={address("SYST_CVR")}
 ldr r5, [r3]
 adds r6, r6, r5
 UNLESS_MULTIPLE r4, 7, no_csr
 ldr r3, ={address("SYST_CSR")}
 ldr r5, [r3]
 adds r7, r7, r5
no_csr:
 UNLESS_MULTIPLE r4, 11, no_reload
 ldr r3, ={address("SYST_RVR")}
 movs r5, #255
 ands r5, r4
 adds r5, #200
 lsls r5, r5, #2
 str r5, [r3]
no_reload:
 UNLESS_MULTIPLE r4, 13, no_clear
 ldr r3, ={address("SYST_CVR")}
 str r4, [r3]
no_clear:
 UNLESS_MULTIPLE r4, 17, no_tickint_off
 WRITE SYST_CSR, 5
no_tickint_off:
 UNLESS_MULTIPLE r4, 19, no_tickint_on
 WRITE SYST_CSR, 7
no_tickint_on:
 UNLESS_MULTIPLE r4, 23, no_disable
 WRITE SYST_CSR, 0
 movs r2, #50
spin:
 subs r2, #1
 bne spin
 WRITE SYST_CSR, 7
no_disable:
 UNLESS_MULTIPLE r4, 29, no_wfi
 WRITE SYST_CSR, 7               @ (with TICKINT: the tick ends the sleep)
 wfi
no_wfi:
 UNLESS_MULTIPLE r4, 31, no_wait
 WRITE SYST_CSR, 7
 ldr r3, ={address("SYST_CVR")}
wait:
 ldr r5, [r3]
 cmp r5, #100
 bhi wait
 adds r6, r6, r5
no_wait:
 SAVE r4, 4
 SAVE r6, 5
 SAVE r7, 6
 b thread

systick:
 COUNT 0
 LOAD_SAVE SYST_CSR, 1
 LOAD_SAVE SYST_CVR, 2
 bx lr
"""


def run_traffic(cls, python_touches: bool) -> Bare:
    b = cls(TRAFFIC, {15: "systick"})
    if python_touches:
        scs, clock = b.core.scs, b.clock
        # Python uses SysTick between runs while C may hold it: each takes the state back first.
        clock.schedule_at(310 * US, lambda: scs.read(CSR, 4), "read CSR")
        clock.schedule_at(520 * US, lambda: scs.write(RVR, 4, 1999), "write RVR")
        clock.schedule_at(730 * US, lambda: scs.read(CVR, 4), "read CVR")
        clock.schedule_at(940 * US, lambda: scs.write(CVR, 4, 0), "write CVR")
        clock.schedule_at(1150 * US, lambda: scs.write(CSR, 4, 5), "TICKINT off")
        clock.schedule_at(1360 * US, lambda: scs.write(CSR, 4, 7), "TICKINT on")
        clock.schedule_at(1570 * US, lambda: b.core.set_hz(52_000_000), "HCLK x2")
        clock.schedule_at(2110 * US, lambda: b.core.set_hz(26_000_000), "HCLK back")
        clock.schedule_at(2330 * US, lambda: scs.write(CSR, 4, 0), "disable")
        clock.schedule_at(2410 * US, lambda: scs.write(CSR, 4, 7), "enable")
    return b


def traffic_steps(step_ps: int):
    def steps(b: Bare):
        for k in range(1, 3 * MS // step_ps + 1):
            b.run_until(k * step_ps)
            yield b.results(7)
    return steps


@pytest.mark.parametrize("step_ps", [100 * US, 33 * US, 3_700_000], ids=["100us", "33us", "3.7us"])
@pytest.mark.parametrize("python_touches", [False, True], ids=["guest only", "python touches too"])
def test_systick_traffic_is_identical_three_ways(monkeypatch, python_touches, step_ps):
    """Virtual time stepped in different strides: where runs end must not matter either."""
    results = three_ways(monkeypatch, lambda cls: run_traffic(cls, python_touches), traffic_steps(step_ps))
    assert_same(results)
    counts = results["python"][-1][-7:]
    assert counts[0] > 10 and counts[4] > 100      # ticks taken, the thread went round many times
    stats = native_stats(results)
    assert stats["systick_wraps"] > 10 and stats["systick_reads"] > 100   # C did serve SysTick


def test_systick_registers_read_between_runs_with_time_stepped(monkeypatch):
    """Python reads SysTick's registers between explicit steps of virtual time: the values (CVR down-counting,
    COUNTFLAG set by a wrap and cleared by the read) are the model's whichever side held the state."""
    body = """
reset:
 SYSTICK 999, 5                  @ enabled, no interrupt
idle:
 adds r4, #1
 b idle
"""

    def steps(b):
        for k in range(1, 40):
            b.run_until(k * 7 * US + k * 13)         # steps of 7 us and a few ps, across wraps every 1000 cycles
            yield (b.scs("SYST_CVR"), b.scs("SYST_CSR"), b.scs("SYST_CSR"), b.core.scs.systick.next_wrap)

    results = three_ways(monkeypatch, lambda cls: cls(body), steps)
    assert_same(results)
    csr_reads = [step[-3:-1] for step in results["python"]]
    assert any(first & 0x10000 and not second & 0x10000 for first, second in csr_reads)   # set, then cleared
    assert len({step[-4] for step in results["python"]}) > 30                               # CVR counts


def test_wfi_sleeps_through_ticks_without_tickint(monkeypatch):
    """With TICKINT off a wrap only sets COUNTFLAG: a core in WFI sleeps through every wrap (in C: the native sleep
    goes from event to event) until another interrupt comes."""
    body = """
reset:
 SYSTICK 99, 5                   @ a wrap every 100 cycles, no interrupt
 ENABLE_IRQ 0
sleep:
 wfi
 COUNT 0
 LOAD_SAVE SYST_CSR, 1
 b sleep
irq0:
 COUNT 2
 bx lr
"""

    def make(cls):
        b = cls(body, {16: "irq0"})
        for k in range(1, 6):
            b.pulse(0, k * 333 * US + k)
        return b

    def steps(b):
        for k in range(1, 21):
            b.run_until(k * 100 * US)
            yield b.results(3)

    results = three_ways(monkeypatch, make, steps)
    assert_same(results)
    assert results["python"][-1][-3:] == (5, 0x10005, 5)        # woken by IRQ 0 only; COUNTFLAG set by wraps
    assert native_stats(results)["systick_wraps"] > 100


def test_busy_wait_on_cvr_without_polling_skips(monkeypatch):
    """With `idle_skip` off, reads served in C do not feed the polling detector either: every iteration runs."""
    body = f"""
reset:
 SYSTICK 2599, 5                 @ 100 us at 26 MHz, no interrupt
 ldr r3, ={address("SYST_CVR")}
wait:
 adds r4, #1
 ldr r5, [r3]
 cmp r5, #50
 bhi wait
 COUNT 0
 SAVE r4, 1
 b wait
"""

    def make(cls):
        b = cls(body)
        b.core.idle_skip = False
        return b

    def steps(b):
        for k in range(1, 11):
            b.run_until(k * 50 * US)
            yield b.results(2) + [b.core.skipped_ps]

    results = three_ways(monkeypatch, make, steps)
    assert_same(results)
    assert results["python"][-1][-1] == 0 and results["python"][-1][-3] >= 4      # no skip; the windows were seen
    assert native_stats(results)["systick_reads"] > 1000


# ---- a firmware case: SysTick at 1 kHz, delays busy-waiting on SYST_CVR, on the machine ---------------------------
# MediaTek's osai_delay_us (mt3620_m4_software, os_hal) counts elapsed core clocks from SYST_CVR across reloads:
# `now < old ? old - now : reload - now + old`, until the count reaches the delay. Here with the PLL selected, the
# tick counted by the handler, delays of 20, 350 and 1,700 us in turn, and WFI between rounds.
SELECT_PLL = """
 ldr r0, =0x2101000C             @ RGU CM4_HCLK_CK_CTRL: select the PLL (MT3620-FACTS)
 ldr r1, [r0]
 bic r1, r1, #0x300
 orr r1, r1, #0x200
 str r1, [r0]
"""
START_SYSTICK = """
 WRITE SHPR3, 0x20000000
 WRITE SYST_CSR, 0
 WRITE SYST_RVR, 197599          @ 1 ms at 197.6 MHz (5.1 ms at 26 MHz, until the PLL is selected)
 WRITE SYST_CVR, 0
 WRITE SYST_CSR, 7
"""
# The PLL selected first, or with SysTick already counting at 26 MHz (HCLK changes under it, mid-run: the clock
# change takes SysTick back from C first, as any Python use does).
PLL_THEN_SYSTICK = SELECT_PLL + START_SYSTICK
SYSTICK_THEN_PLL = START_SYSTICK + """
 ldr r2, =20000
settle:
 subs r2, #1
 bne settle
""" + SELECT_PLL
DELAY_FIRMWARE = """
reset:
{start}
round:
 ldr r0, =3952                   @ 20 us
 bl delay
 LOAD_SAVE {results}, 1
 ldr r0, =69160                  @ 350 us
 bl delay
 LOAD_SAVE {results}, 2
 ldr r0, =335920                 @ 1,700 us
 bl delay
 LOAD_SAVE {results}, 3
 COUNT 4
 wfi
 b round

delay:                           @ r0 = core clocks to wait
 push {{r4, r5, r6, r7, lr}}
 ldr r3, ={cvr}
 ldr r4, ={rvr}
 ldr r4, [r4]                    @ reload
 ldr r5, [r3]                    @ old
 movs r6, #0                     @ elapsed
delay_loop:
 ldr r7, [r3]                    @ now
 cmp r7, r5
 beq delay_loop
 bhs wrapped
 subs r1, r5, r7
 b counted
wrapped:
 subs r1, r4, r7
 adds r1, r1, r5
counted:
 adds r6, r6, r1
 mov r5, r7
 cmp r6, r0
 blo delay_loop
 pop {{r4, r5, r6, r7, pc}}

systick:
 COUNT 0
 bx lr
"""


def run_delay_firmware(start: str) -> tuple:
    from mt3620.engine.machine import Machine
    program = DELAY_FIRMWARE.format(start=start, cvr=address("SYST_CVR"), rvr=address("SYST_RVR"), results=RESULTS)
    code, _ = build(program, {15: "systick"})
    m = Machine()
    m.load("io0", data=elf32(code))
    core = m.core("io0")
    checkpoints = []
    for k in range(1, 9):
        m.run_for(MS)
        checkpoints.append((core.instructions, core.time, m.clock.now, tuple(core.reg(r) for r in REGISTERS),
                            m.read_memory("io0", RESULTS, 20), core.skipped_ps,
                            core.scs.read(CSR, 4), core.scs.read(CSR, 4), core.scs.read(CVR, 4)))
    stats = core._native.stats() if core._native is not None else None
    return checkpoints, stats, core.hz


@pytest.mark.parametrize("start", [PLL_THEN_SYSTICK, SYSTICK_THEN_PLL], ids=["pll first", "pll under systick"])
def test_busy_wait_delays_on_systick_on_the_machine(monkeypatch, start):
    runs = {}
    for way in ("python", "native"):
        set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", way == "python")
        runs[way] = run_delay_firmware(start)
    (native, stats, hz), (python, none, _) = runs["native"], runs["python"]
    assert none is None and hz == 197_600_000
    assert native == python
    ticks, rounds = (int.from_bytes(native[-1][4][4 * i:4 * i + 4], "little") for i in (0, 4))
    assert 5 <= ticks <= 8 and rounds >= 2           # 8 ms: the ticks came, the delays ended (2.07 ms, then WFI)
    assert native[-1][5] > 0                         # the polling warp shortened the waits
    if stats is not None:
        assert stats["systick_reads"] > 100 and stats["systick_wraps"] >= 5    # served in C


# ---- a debugger attaching between windows ------------------------------------------------------------------------
def run_tick_uart_with_a_debugger_between() -> tuple[tuple, list[bool]]:
    from mt3620.engine.machine import Machine
    from mt3620.firmware.toolchain import firmware_path
    m = Machine()
    m.load("io0", firmware_path("tick_uart"))
    core = m.core("io0")
    engaged_while_attached: list[bool] = []

    def debugger(machine) -> None:     # what the GDB server does from machine.between_windows (engine/gdb)
        if core.bkpt_handler is not None and core._systick_fast is not None:
            engaged_while_attached.append(core._systick_fast.engaged)
        attached = 7 * MS <= machine.clock.now < 14 * MS
        core.bkpt_handler = (lambda c, pc: False) if attached else None
    m.between_windows.append(debugger)
    m.run_for(21 * MS)
    end = (core.instructions, core.time, tuple(core.reg(r) for r in REGISTERS), bytes(m.uarts["io0.io0_uart"].data))
    return end, engaged_while_attached


def test_a_debugger_attaching_takes_the_devices_back(monkeypatch):
    """With a debugger attached the core leaves the native path (every stop matters): SysTick and the UART go back
    to their models at the next window, and their events keep their times."""
    runs = {}
    for way in ("python", "native"):
        set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", way == "python")
        runs[way] = run_tick_uart_with_a_debugger_between()
    (native, engaged), (python, _) = runs["native"], runs["python"]
    assert native == python
    assert b"tick_uart: line" in native[3]
    assert engaged and not any(engaged)           # windows ran with the debugger attached, the devices in Python
