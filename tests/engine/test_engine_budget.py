"""Instruction budget: what a core charges for the code it runs, with the native block hook and the Python one.

DESIGN.md: one instruction = one cycle of HCLK; the native hook (engine/cpu/native/block_budget.c) and the Python
fallback (engine/cpu/budget.py) must charge identical counts, so runs are the same with or without a C compiler.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from m4_harness import Bare, address, run_program
from mt3620.engine.cortex_m import native as cortex_m_native
from mt3620.engine.cpu import native
from mt3620.engine.simulation.clock import ps_for_cycles

HERE = Path(__file__).resolve().parent

STRAIGHT = """
reset:
 movs r0, #1
 adds r0, #2
 mov.w r1, #0x1000
 add.w r1, r1, r0, lsl #2
 movs r2, #3
 it eq
 addeq r2, #1
 ldr r3, =0x12345678
 vmov s0, r3
 wfi
hang: b hang
"""


def test_straight_line_code_charges_one_per_instruction():
    b = run_program(STRAIGHT, us=10)
    # 10 instructions up to and including WFI (16- and 32-bit encodings, an IT block, a literal load), then sleep.
    assert b.core.instructions == 10
    assert b.core.sleeping
    assert b.core.reg("r1") == 0x1000 + 3 * 4 and b.core.reg("r2") == 3


LOOP = """
reset:
 ldr r5, =1000
loop:
 subs r5, #1
 bne loop
 wfi
hang: b hang
"""


def test_loop_iterations_are_counted_exactly_and_cost_time():
    b = run_program(LOOP, us=200)
    # ldr + 1000 x (subs, bne) + wfi
    assert b.core.instructions == 1 + 2000 + 1
    b2 = Bare(LOOP, hz=197_600_000)
    b2.run_us(200)
    assert b2.core.instructions == 2002


MIXED = f"""
reset:
 SYSTICK 999, 7
 ENABLE_IRQ 0
loop:
 adds r4, #1
 tst r4, #3
 ite eq
 addeq r5, #1
 subne r6, #1
 ldr r0, ={address("SYST_CVR")}
 ldr r1, [r0]
 add r7, r7, r1
 cmp r4, #0x1000
 blo loop
 movs r4, #0
 wfi
 b loop
systick:
 adds r8, #1
 bx lr
irq0:
 adds r9, #1
 bx lr
"""


def run_mixed() -> dict:
    b = Bare(MIXED, {15: "systick", 16: "irq0"})
    for k in range(1, 6):
        b.clock.schedule_at(k * 333_333_333, lambda: b.core.set_irq(0, True), "up")
        b.clock.schedule_at(k * 333_333_333 + 5_000, lambda: b.core.set_irq(0, False), "down")
    trace = []
    for step in range(1, 41):
        b.run_until(step * 50_000_000)
        trace.append((b.core.instructions, b.core.time))
    regs = {r: b.core.reg(r) for r in ("r4", "r5", "r6", "r7", "r8", "r9", "pc", "sp", "xpsr")}
    return {"native": b.core.budget.native, "trace": trace, "regs": regs}


def test_native_and_python_hooks_charge_identical_counts(monkeypatch):
    with_native = run_mixed()
    if not with_native["native"]:
        pytest.skip("the native budget hook is not available here (no C compiler or Unicorn headers)")
    monkeypatch.setattr(native, "block_budget_library", lambda: None)
    monkeypatch.setattr(cortex_m_native, "cortex_m_library", lambda: None)
    fallback = run_mixed()
    assert fallback["native"] is False
    assert fallback["trace"] == with_native["trace"]
    assert fallback["regs"] == with_native["regs"]
    assert with_native["regs"]["r8"] > 0 and with_native["regs"]["r9"] == 5


def test_fallback_selected_by_environment_in_a_fresh_process():
    script = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import test_engine_budget as t; "
              "print(json.dumps(t.run_mixed()))")
    env = {**os.environ, "MT3620_NO_NATIVE": "1"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    fallback = json.loads(out.stdout.strip().splitlines()[-1])
    assert fallback["native"] is False
    here = run_mixed()
    assert [tuple(x) for x in fallback["trace"]] == here["trace"]
    assert fallback["regs"] == here["regs"]


def test_quantum_time_matches_instructions():
    b = Bare(LOOP)
    b.run_until(ps_for_cycles(500, 26_000_000))
    # A quantum may overshoot its end by at most one block; time is the instructions retired at HCLK.
    assert 500 <= b.core.instructions <= 503
    assert b.core.time == ps_for_cycles(b.core.instructions, 26_000_000)
