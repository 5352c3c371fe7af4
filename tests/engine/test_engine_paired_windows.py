"""Paired windows (engine/machine/paired.py): both IO cores in one window, io1's first quantum on a second host
thread while io0 takes its turn, with exactly the single-thread result.

Two programs share intercore_shared: io0 counts and stores its count there, reads io1's sum back; io1 reads io0's
count, sums it and stores the sum. What each core reads of the other depends only on the window order (io1's quantum
sees io0's turn complete, io0 sees io1's previous turns), never on how the host threads interleave: the turn gate
(native/turn_gate.c) holds io1's first access to shared memory until io0's turn is over. Runs on the Python reference
path, the native path on one thread (MT3620_SERIAL_CORES=1) and the native path on two threads must agree on every
register, every memory byte and every instruction count."""
from __future__ import annotations

import hashlib

import pytest
from m4_harness import REGISTERS, build, elf32, set_switch

from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND

pytestmark = pytest.mark.one_path        # each test chooses its paths itself

MS = PS_PER_SECOND // 1000
SHARED = 0x20100000

COUNTER = f"""
reset:
 ldr r0, ={SHARED}
 movs r1, #0
loop:
 adds r1, #1
 str r1, [r0]
 ldr r5, [r0, #4]                @ io1's sum, as far as io0 can see it
 adds r6, r6, r5
 b loop
"""

SUMMER = f"""
reset:
 ldr r0, ={SHARED}
 movs r2, #0
loop:
 ldr r1, [r0]                    @ io0's count, as far as io1 can see it
 adds r2, r2, r1
 str r2, [r0, #4]
 adds r3, #1
 b loop
"""

WAYS = {"python": {"MT3620_PYTHON_EXCEPTIONS": True, "MT3620_SERIAL_CORES": True},
        "native, one thread": {"MT3620_PYTHON_EXCEPTIONS": False, "MT3620_SERIAL_CORES": True},
        "native, two threads": {"MT3620_PYTHON_EXCEPTIONS": False, "MT3620_SERIAL_CORES": False}}


def run_shared(monkeypatch, way: str, steps: int = 6) -> tuple[list, dict]:
    for name, on in WAYS[way].items():
        set_switch(monkeypatch, name, on)
    m = Machine()
    m.load("io0", data=elf32(build(COUNTER)[0]))
    m.load("io1", data=elf32(build(SUMMER)[0]))
    checkpoints = []
    for step in range(1, steps + 1):
        m.run_for(MS // 2 + step * 1234)       # runs that end between the grid's lines, too
        shared = bytes(m.read_memory("io0", SHARED, 64))
        cores = tuple((c.instructions, c.time, tuple(c.reg(r) for r in REGISTERS)) for c in m.cores.values())
        checkpoints.append((cores, hashlib.sha256(shared).hexdigest(), m.clock.now))
    return checkpoints, {"parallel": m.parallel_quanta, "gate_waits": m.cores["io1"].gate_waits}


def test_shared_memory_between_the_io_cores_is_the_same_on_one_or_two_threads(monkeypatch):
    results = {way: run_shared(monkeypatch, way) for way in WAYS}
    reference, _ = results["python"]
    for way, (checkpoints, _stats) in results.items():
        assert checkpoints == reference, way
    stats = results["native, two threads"][1]
    if stats["parallel"] == 0:
        pytest.skip("no native library here: nothing ran on a second thread")
    # Every window's io1 quantum ran on the second thread. (How many of its first accesses found io0's turn still on
    # and waited, stats["gate_waits"], depends on the host's timing: the checkpoints above do not.)
    assert stats["parallel"] >= 6
    io0_regs, io1_regs = reference[-1][0][0][2], reference[-1][0][1][2]
    assert io0_regs[1] > 1000 and io1_regs[2] > 0 and io0_regs[6] > 0    # both saw the other's values


def test_two_threads_twice_give_the_same_bytes(monkeypatch):
    (first, _), (second, _) = (run_shared(monkeypatch, "native, two threads"),
                               run_shared(monkeypatch, "native, two threads"))
    assert first == second      # (the gate's wait count is the host's timing, not part of the result)


def test_inputs_sent_during_the_other_turn_wait_for_the_first_quantum(monkeypatch):
    """What io0's turn sends io1 (an interrupt line) is held, then reaches io1 at the end of its first quantum."""
    set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", False)
    m = Machine()
    core = m.cores["io1"]
    core.hold_inputs(True)
    core.set_irq(5, True)
    assert core.state.line_level_of(5) is False if hasattr(core.state, "line_level_of") else True
    assert 16 + 5 not in core.state.pending
    core.hold_inputs(False)
    assert core._held == [(5, True)]
    core._release_held()
    assert 16 + 5 in core.state.pending and core._held == []


def test_no_pairing_while_a_debugger_serves_a_core(monkeypatch):
    """A GDB server's all-stop halts every core at the same instant: with one on either core, windows are not paired
    (each core's turn follows the other's on one thread, line ends end windows)."""
    set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", False)
    m = Machine()
    m.load("io0", data=elf32(build(COUNTER)[0]))
    m.load("io1", data=elf32(build(SUMMER)[0]))
    m.cores["io1"].bkpt_handler = lambda core, pc: False
    m.run_for(3 * MS)
    assert m.parallel_quanta == 0 and m.cores["io0"].lines_end_turn and m.cores["io1"].lines_end_turn
    m.cores["io1"].bkpt_handler = None
    m.run_for(3 * MS)
    if m.cores["io1"]._native is not None:
        assert m.parallel_quanta > 0
    assert not m.cores["io0"].lines_end_turn
