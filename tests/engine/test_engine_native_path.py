"""The native exception path against the Python reference, instruction for instruction, and the engine mechanisms
that both rely on: anchored core time, polling warps that stop short of events, fast stores (Unicorn's virtual
TLB with execute permission per page).

Each comparison runs the same program on both paths (MT3620_PYTHON_EXCEPTIONS unset / set) and compares the
instruction count, the core's time, every register and the memory at checkpoints. Those tests run once and choose
the path themselves (conftest.py); the others run on both paths like the rest of tests/engine."""
from __future__ import annotations

import ctypes
import random

import pytest
from m4_harness import REGISTERS, RESULTS, Bare, address, run_program, scs_field, set_switch, snapshot

from mt3620.engine.cortex_m import core as core_module
from mt3620.engine.simulation.clock import PS_PER_SECOND

US = 1_000_000


@pytest.fixture
def both_paths(monkeypatch):
    """Runs a callable on the native path, then on the Python path; returns both results. A test that asks for
    it runs once (conftest.py)."""

    def run(fn):
        results = {}
        for path in ("native", "python"):
            set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", path == "python")
            results[path] = fn()
        return results["native"], results["python"]
    return run


# ---- a random interrupt storm on a bare core ------------------------------------------------------------------------
# A thread on the process stack using the FPU (so its frames are 26-word FP frames) counts in r4 and, on a pattern
# of its counter, calls SVC, pends PendSV, raises BASEPRI or sets PRIMASK for a while, and triggers IRQ 3 through
# STIR. Handlers of different priorities clobber s0-s15, pend PendSV or IRQ 0 (nesting, tail-chaining, late
# arrival) and count; random pulses and held levels on IRQ 0..2 come from the clock. The thread checks after each
# round that its FP values survived (result word 8 counts losses).
STORM = f"""
reset:
 WRITE CPACR, 0x00F00000         @ FPU on
 dsb
 isb
 WRITE IPR0, 0x40a06020          @ IRQ0 0x20, IRQ1 0x60, IRQ2 0xa0, IRQ3 0x40
 WRITE SHPR2, 0x80000000         @ SVCall 0x80
 WRITE SHPR3, 0xc0e00000         @ SysTick 0xc0, PendSV 0xe0
 ENABLE_IRQ 0, 1, 2, 3
 SYSTICK 3330, 7                 @ every 3331 cycles
 ldr r0, =0x00128000             @ the thread's stack
 msr psp, r0
 movs r0, #2
 msr control, r0
 isb
 movs r4, #0
 vmov.f32 s16, #1.0
 vmov.f32 s17, #2.0
thread:
 adds r4, #1
 vmov s0, r4
 vcvt.f32.u32 s0, s0
 vadd.f32 s1, s0, s16
 vsub.f32 s2, s1, s0
 vcmp.f32 s2, s16
 vmrs APSR_nzcv, fpscr
 beq fp_ok
 COUNT 8
fp_ok:
 UNLESS_MULTIPLE r4, 7, no_svc
 svc #1
no_svc:
 UNLESS_MULTIPLE r4, 5, no_pendsv
 SET_PENDING pendsv
no_pendsv:
 UNLESS_MULTIPLE r4, 11, no_basepri
 movs r0, #0x60
 msr basepri, r0
 movs r2, #40
spin1:
 subs r2, #1
 bne spin1
 movs r0, #0
 msr basepri, r0
no_basepri:
 UNLESS_MULTIPLE r4, 13, no_primask
 cpsid i
 movs r2, #30
spin2:
 subs r2, #1
 bne spin2
 cpsie i
no_primask:
 UNLESS_MULTIPLE r4, 17, no_stir
 WRITE STIR, 3
 dsb
 isb
no_stir:
 ldr r0, ={RESULTS}
 str r4, [r0]
 b thread

svc_handler:
 COUNT 1
 bx lr
pendsv_handler:
 vmov.f32 s0, #-1.0
 vmov.f32 s1, #-2.0
 COUNT 2
 bx lr
systick_handler:
 COUNT 3
 bx lr
irq0_handler:
 vmov.f32 s2, #3.0
 COUNT 4
 bx lr
irq1_handler:
 WRITE ICSR, {scs_field("ICSR", "PENDSVSET")}     @ pend PendSV and IRQ 0 from here (late arrival, tail-chaining)
 PEND_IRQ 0
 COUNT 5
 bx lr
irq2_handler:
 vmov.f32 s3, #4.0
 COUNT 6
 bx lr
irq3_handler:
 COUNT 7
 bx lr
"""
STORM_HANDLERS = {11: "svc_handler", 14: "pendsv_handler", 15: "systick_handler", 16: "irq0_handler",
                  17: "irq1_handler", 18: "irq2_handler", 19: "irq3_handler"}


def run_storm(seed: int, duration_us: int = 1500) -> list[tuple]:
    b = Bare(STORM, STORM_HANDLERS)
    rng = random.Random(seed)
    t = 0
    while t < duration_us * US:
        t += rng.randrange(2 * US, 40 * US)
        line = rng.randrange(3)
        hold = rng.choice([1_000, 50_000, 3 * US])          # pulses and held levels
        b.clock.schedule_at(t, lambda line=line: b.core.set_irq(line, True), "up")
        b.clock.schedule_at(t + hold, lambda line=line: b.core.set_irq(line, False), "down")
    memories = b.view.memories()
    checkpoints = []
    for k in range(1, 31):
        b.run_until(k * duration_us * US // 30)
        checkpoints.append(snapshot(b.core, memories) + (tuple(b.results(9)), b.core.exception_path))
    return checkpoints


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_interrupt_storm_is_identical_on_both_paths(both_paths, seed):
    native, python = both_paths(lambda: run_storm(seed))
    assert native[-1][-1] == "native" and python[-1][-1] == "python"
    for i, (n, p) in enumerate(zip(native, python)):
        assert n[:-1] == p[:-1], f"checkpoint {i}: native {n[:2]} python {p[:2]}"
    counts = native[-1][-2]
    # Every kind of exception happened, many times, and the thread's FP registers always survived.
    assert counts[0] > 100 and all(c > 5 for c in counts[1:8]), counts
    assert counts[8] == 0


# ---- every RTApp of the project on the machine ----------------------------------------------------------------------
FIRMWARE_MS = {"rtos_pingpong": 4, "rtos_threadx": 40, "tick_uart": 40, "irq_storm": 40, "context_switch": 60,
               "crc32": 30, "gdb_target": 20}


def _rtapps() -> list[str]:
    from mt3620.firmware import toolchain
    return [name for name in toolchain.FIRMWARE if toolchain._SPECS[name].runtime]


def run_firmware(name: str) -> tuple:
    from mt3620.engine.machine import Machine
    from mt3620.firmware.toolchain import firmware_path
    m = Machine()
    m.load("io0", firmware_path(name))
    m.run_for(FIRMWARE_MS.get(name, 60) * PS_PER_SECOND // 1000)
    core = m.cores["io0"]
    native = core._native.stats() if core._native is not None else None
    uarts = tuple((label, bytes(tap.data)) for label, tap in sorted(m.uarts.items()))
    return snapshot(core, core.view.memories()) + (uarts, m.clock.now), native


@pytest.mark.parametrize("name", _rtapps())
def test_every_project_firmware_is_identical_on_both_paths(both_paths, name):
    (native, stats), (python, none) = both_paths(lambda: run_firmware(name))
    assert none is None
    assert native == python
    if name in ("rtos_pingpong", "rtos_threadx", "context_switch", "irq_storm", "uart_irq", "tick_uart"):
        assert stats["entries"] > 10 and stats["bails"] == 0   # the native path did the work
    if name in ("tick_uart", "hello", "uart_irq"):
        assert stats["uart_frames"] > 50        # the debug UART's transmitter was served in C (native_devices.py)


# ---- both IO cores busy ----------------------------------------------------------------------------------------------
# Each core's own devices (SysTick, its debug UART) have their events inside that core's runs on both paths (in C on
# the native path, on CortexM4.private_clock on the Python one): they end no other core's window, and a line a core's
# UART ends ends the window for the cores after it. The pairs mix the background load (tick_uart), an RTOS, output
# lines, interrupt storms and WFI sleep.
CORE_PAIRS = [("tick_uart", "tick_uart"), ("rtos_threadx", "tick_uart"), ("tick_uart", "rtos_threadx"),
              ("uart_irq", "rtos_pingpong"), ("hello", "irq_storm"), ("gpt_timer", "context_switch"),
              ("rtos_threadx", "busfault"), ("context_switch", "busfault_unhandled")]


def run_pair(io0: str, io1: str, ms: int = 25) -> tuple:
    from mt3620.engine.machine import Machine
    from mt3620.firmware.toolchain import firmware_path
    m = Machine()
    m.load("io0", firmware_path(io0))
    m.load("io1", firmware_path(io1))
    lines: list[tuple] = []
    # Each line with its time (its last byte's).
    m.line_listeners.append(lambda label, line: lines.append((label, line, m.line_time_ps)))
    results = []
    for step in range(1, 4):          # three runs: where a run ends is a window's end on both paths
        m.run_for(ms * PS_PER_SECOND // 1000 // 3 + step)
        results.append(tuple(snapshot(c, c.view.memories()) for c in m.cores.values()) + (m.clock.now,))
    uarts = tuple((label, bytes(tap.data)) for label, tap in sorted(m.uarts.items()))
    stats = {name: c._native.stats() if c._native is not None else None for name, c in m.cores.items()}
    if stats["io1"] is not None:
        stats["io1"]["parallel_quanta"] = m.parallel_quanta
    # Lines of one UART in their order; across UARTs the order Python hears of them is not a time order (cores run
    # apart inside a window), so the comparison is per UART.
    return (tuple(results), uarts, tuple(sorted(lines, key=lambda line: line[0]))), stats


@pytest.mark.parametrize("io0,io1", CORE_PAIRS, ids=["+".join(p) for p in CORE_PAIRS])
def test_both_cores_busy_are_identical_on_both_paths(both_paths, io0, io1):
    (native, stats), (python, none) = both_paths(lambda: run_pair(io0, io1))
    assert none == {"io0": None, "io1": None}
    assert native == python
    if io1 in ("rtos_threadx", "rtos_pingpong"):
        # io1 busy: its first quantum of each window ran on the second host thread (paired.py) and changed nothing.
        assert stats["io1"]["parallel_quanta"] > 5
    for name, app in (("io0", io0), ("io1", io1)):
        if app == "tick_uart":
            # Both cores' devices were served in C while both ran (not only for a core running alone).
            assert stats[name]["uart_frames"] > 50 and stats[name]["systick_wraps"] > 10, stats[name]
    assert any(line for _label, line, _t in native[2])


def test_both_cores_busy_keep_the_lone_core_output(exception_path):
    """A core's output does not depend on what the other core runs: tick_uart's lines, bytes and their times on io1
    are the same beside an idle io0, beside a second tick_uart and beside an RTOS."""
    from mt3620.engine.machine import Machine
    from mt3620.firmware.toolchain import firmware_path
    seen = []
    for other in (None, "tick_uart", "rtos_threadx"):
        m = Machine()
        if other:
            m.load("io0", firmware_path(other))
        m.load("io1", firmware_path("tick_uart"))
        times: list[int] = []
        tap = m.uarts["io1.io1_uart"]
        m.line_listeners.append(lambda label, line: label == tap.label and times.append(m.line_time_ps))
        m.run_for(20 * PS_PER_SECOND // 1000)
        seen.append((bytes(tap.data), tuple(times)))
    assert seen[0][1] and seen[0] == seen[1] == seen[2]


@pytest.mark.one_path
def test_a_run_twice_gives_the_same_bytes_with_the_uart_in_c(monkeypatch):
    monkeypatch.delenv("MT3620_PYTHON_EXCEPTIONS", raising=False)
    first, second = run_firmware("tick_uart"), run_firmware("tick_uart")
    assert first == second and first[1]["uart_frames"] > 50


# ---- fast stores: the virtual TLB changes nothing the guest sees ---------------------------------------------------
# First touches of fresh 1 KB pages inside an IT block (the TLB fill happens inside the block), then an
# unconditional branch that must be taken; then code copied into a data page, executed, patched and executed again
# (the page becomes a code page; the patch must invalidate what was translated).
IT_AND_SMC = f"""
reset:
 ldr r2, =0x00108000
 ldr r3, =0x00118000
 movs r5, #0
fill:
 cmp r2, r3
 itttt lt
 movlt r0, r2
 strlt r0, [r2]
 addlt r2, r2, #1024
 addlt r5, #1
 blt fill
 ldr r0, =after+1
 bx r0
 movs r5, #0                     @ skipped when the branch is taken, as it must be
after:
 SAVE r5, 0
 ldr r0, =template
 ldr r1, =0x00121000
 ldr r2, [r0]
 str r2, [r1]
 ldr r2, [r0, #4]
 str r2, [r1, #4]
 dsb
 isb
 ldr r7, =0x00121001
 blx r7
 SAVE r0, 1
 ldr r1, =0x00121000
 ldr r2, =0x4770202a             @ movs r0, #42 ; bx lr
 str r2, [r1]
 dsb
 isb
 blx r7
 SAVE r0, 2
done:
 b done
 .align 2
template:
 movs r0, #7
 bx lr
 nop
 nop
"""


def run_it_and_smc(fast: bool, monkeypatch) -> tuple:
    if not fast:
        monkeypatch.setattr(core_module.CortexM4, "_fast_stores", lambda self: None)
    b = run_program(IT_AND_SMC, us=2000)
    monkeypatch.undo()
    return b.results(3), b.core.instructions, b.core.time, tuple(b.core.reg(r) for r in REGISTERS)


def test_fast_stores_change_nothing_the_guest_sees(exception_path, monkeypatch):
    fast = run_it_and_smc(True, monkeypatch)
    assert fast[0] == [64, 7, 42]          # 64 pages touched in the IT block, then both versions of the code ran
    assert fast == run_it_and_smc(False, monkeypatch)


def test_mediatek_style_bss_loop_reaches_main(exception_path):
    """startup_mt3620.s clears .bss with `ittt lt; movlt; strlt; blt`, then branches to main through a literal."""
    b = Bare("""
reset:
 ldr r2, =0x00110004
 ldr r3, =0x00112000
loop:
 cmp r2, r3
 ittt lt
 movlt r0, #0
 strlt r0, [r2], #4
 blt loop
 ldr r0, =main+1
 bx r0
 .ltorg
main:
 SET_RESULT 0, 1
hang:
 b hang
""")
    b.run_us(500)
    assert b.result(0) == 1


# ---- time and polling -----------------------------------------------------------------------------------------------
def test_time_does_not_depend_on_how_a_run_is_cut(exception_path):
    """The core's time is anchored: a run in many short windows ends at the same instruction and time as one
    long run (splitting used to round each window's time up separately)."""
    body = """
reset:
 movs r0, #0
loop:
 adds r0, #1
 b loop
"""
    one = Bare(body, hz=197_600_000)
    one.run_until(3_000_000_000)
    many = Bare(body, hz=197_600_000)
    for k in range(1, 3001):
        many.run_until(k * 1_000_000)
    assert (one.core.instructions, one.core.time) == (many.core.instructions, many.core.time)


def test_busy_wait_for_a_systick_window_before_the_reload_ends(exception_path):
    """MediaTek's osai_delay_us waits for SysTick's VAL <= 100 (the last 100 cycles before the reload): the
    polling warp must not jump over that window (it never lands within 2 us of the next event)."""
    b = Bare(f"""
reset:
 WRITE SYST_CVR, 0
 SYSTICK 199999, 5                @ enabled, core clock, no interrupt
 ldr r0, ={address("SYST_CVR")}
 ldr r2, =1000
reloaded:                         @ the count starts at 0 and loads RVR on the first tick
 ldr r1, [r0]
 cmp r1, r2
 blo reloaded
 movs r5, #0
wait:
 adds r5, #1
 ldr r1, [r0]
 cmp r1, #100
 bhi wait
 SAVE r5, 0
 SAVE r1, 1
hang:
 b hang
""", hz=197_600_000)
    b.run_us(5000)
    assert b.result(0) > 0 and b.result(1) <= 100, "the wait never saw VAL <= 100"
    assert b.core.skipped_ps > 0                 # the warp did shorten the wait


def test_native_path_is_the_default_where_it_builds(exception_path):
    from mt3620.engine.cortex_m.native import cortex_m_library
    b = Bare("reset:\n b reset\n")
    expected = "python" if exception_path == "python" or cortex_m_library() is None else "native"
    assert b.core.exception_path == expected


@pytest.mark.one_path
def test_native_struct_matches_the_c_code():
    from mt3620.engine.cortex_m.native import cortex_m_library
    from mt3620.engine.cortex_m.native_exceptions import _ExcStruct
    lib = cortex_m_library()
    if lib is None:
        pytest.skip("no native library here")
    assert ctypes.sizeof(_ExcStruct) == lib.exc_struct_size()


# ---- ICSR reads served in C ------------------------------------------------------------------------------------------
# RTOS ports read ICSR in every critical section (FreeRTOS's vPortEnterCritical asserts VECTACTIVE == 0): the native
# path serves the read from its own state. The program reads it in thread mode with nothing pending, with PendSV
# pending under PRIMASK, with a disabled and then an enabled interrupt pending, inside nested handlers, and then
# polls it until SysTick pends (the polling detector skips that wait the same way on both paths).
ICSR_PROGRAM = """
reset:
 WRITE SHPR3, 0xc0e00000         @ SysTick 0xc0, PendSV 0xe0
 WRITE IPR0, 0x00004020          @ IRQ0 0x20, IRQ1 0x40
 LOAD_SAVE ICSR, 0
 cpsid i
 SET_PENDING pendsv
 LOAD_SAVE ICSR, 1
 PEND_IRQ 1
 LOAD_SAVE ICSR, 2
 ENABLE_IRQ 0, 1
 LOAD_SAVE ICSR, 3
 cpsie i
 isb
 LOAD_SAVE ICSR, 7
 cpsid i
 SYSTICK 2000, 3                 @ TICKINT + ENABLE, masked by PRIMASK: it only pends
poll:
 ldr r0, =0xE000ED04
 ldr r1, [r0]
 lsrs r1, r1, #27                @ PENDSTSET (bit 26) into the carry
 bcc poll
 LOAD_SAVE ICSR, 8
 WRITE SYST_CSR, 0
 WRITE ICSR, {pendstclr}
 LOAD_SAVE ICSR, 9
 SET_RESULT 10, 1
done:
 b done

irq1_handler:
 LOAD_SAVE ICSR, 4
 PEND_IRQ 0
 bx lr
irq0_handler:
 LOAD_SAVE ICSR, 5
 bx lr
pendsv_handler:
 LOAD_SAVE ICSR, 6
 bx lr
"""


def run_icsr_program() -> tuple:
    b = Bare(ICSR_PROGRAM.replace("{pendstclr}", str(scs_field("ICSR", "PENDSTCLR"))),
             {14: "pendsv_handler", 16: "irq0_handler", 17: "irq1_handler"})
    b.run_us(400)
    stats = b.core._native.stats() if b.core._native is not None else None
    return snapshot(b.core, b.view.memories()) + (tuple(b.results(11)), b.core.exception_path), stats


def test_icsr_reads_are_identical_on_both_paths_and_right(both_paths):
    (native, stats), (python, none) = both_paths(run_icsr_program)
    assert native[-1] == "native" and python[-1] == "python" and none is None
    assert native[:-1] == python[:-1]
    assert stats["scs_reads"] > 16 and stats["bails"] == 0      # C served the reads, the poll included
    r = native[-2]
    rettobase, isrpending, pendsv, pendst = 1 << 11, 1 << 22, 1 << 28, 1 << 26
    assert r[0] == rettobase                                    # thread mode, nothing pending
    assert r[1] == pendsv | 14 << 12 | rettobase                # PendSV pending (masked)
    assert r[2] == pendsv | 14 << 12 | rettobase                # IRQ 1 pending but not enabled: not counted
    assert r[3] == pendsv | isrpending | 17 << 12 | rettobase   # IRQ 1 enabled: it is taken next
    assert r[4] == pendsv | 14 << 12 | rettobase | 17           # in IRQ 1's handler, PendSV still pending
    assert r[5] == pendsv | 14 << 12 | 16                       # IRQ 0 pre-empted IRQ 1: two active, no RETTOBASE
    assert r[6] == rettobase | 14                               # PendSV, tail-chained last
    assert r[7] == rettobase
    assert r[8] == pendst | 15 << 12 | rettobase                # the poll saw SysTick pend
    assert r[9] == rettobase and r[10] == 1
