"""Data Watchpoint and Trace unit of an IO core (0xE0001000; ARMv7-M ARM C1.8, Cortex-M4 TRM 8.3).

Modelled: CTRL (4 comparators, CYCCNTENA), CYCCNT counting HCLK cycles of virtual time while enabled (it is
computed from time, not ticked), the 8-bit profiling counters (CPI, EXC, SLEEP, LSU, FOLD) which read as zero
(the engine keeps no per-instruction profile), PCSR, and the comparator registers as storage (the GDB server
implements watchpoints itself). RTOSes (ThreadX's low-level init, FreeRTOS run-time stats) enable CYCCNT.
Emulator-defined: CYCCNT also counts while the core sleeps in WFI.
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.clock import VirtualClock, cycles_in
from mt3620.engine.simulation.peripheral import (COLD, Field, Peripheral, Register, RegisterArray, RegisterView,
                                                 ResetKind)

NUM_COMPARATORS = 4


class Dwt(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        Register(0x000, "CTRL", write="_write_ctrl", fields=(
            Field("CYCCNTENA", 0), Field("POSTPRESET", 1, 4), Field("POSTINIT", 5, 4), Field("CYCTAP", 9),
            Field("SYNCTAP", 10, 2), Field("PCSAMPLENA", 12), Field("EXCTRCENA", 16), Field("CPIEVTENA", 17),
            Field("EXCEVTENA", 18), Field("SLEEPEVTENA", 19), Field("LSUEVTENA", 20), Field("FOLDEVTENA", 21),
            Field("CYCEVTENA", 22), Field("NUMCOMP", 28, 4, access="ro", reset=NUM_COMPARATORS))),
        # CYCCNT and the sampled PC change without events (volatile).
        Register(0x004, "CYCCNT", read="_read_cyccnt", write="_write_cyccnt", volatile=True),
        Register(0x008, "CPICNT", access="ro"),
        Register(0x00C, "EXCCNT", access="ro"),
        Register(0x010, "SLEEPCNT", access="ro"),
        Register(0x014, "LSUCNT", access="ro"),
        Register(0x018, "FOLDCNT", access="ro"),
        Register(0x01C, "PCSR", access="ro", read="_read_pcsr", volatile=True),
        RegisterArray("COMPARATOR", 0x020, count=NUM_COMPARATORS, stride=16, registers=(
            Register(0x0, "COMP"),
            Register(0x4, "MASK", fields=(Field("MASK", 0, 5),)),
            Register(0x8, "FUNCTION", fields=(
                Field("FUNCTION", 0, 4), Field("EMITRANGE", 5), Field("CYCMATCH", 7), Field("DATAVMATCH", 8),
                Field("LNK1ENA", 9, access="ro"), Field("DATAVSIZE", 10, 2), Field("MATCHED", 24, access="rc"))))),
    )
    STATE = ("_anchor_time", "_anchor_value")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *,
                 hz: Callable[[], int] = lambda: 26_000_000, pc: Callable[[], int] = lambda: 0, **attributes) -> None:
        self._hz = hz
        self._pc = pc
        super().__init__(name or "dwt", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self._anchor_time = 0
        self._anchor_value = 0

    def _count(self, hz: int | None = None, enabled: int | None = None) -> int:
        value = self._anchor_value
        if self.regs.CTRL.CYCCNTENA if enabled is None else enabled:
            value += cycles_in(self.clock.now - self._anchor_time, hz or self._hz())
        return value & 0xFFFFFFFF

    def clock_changed(self, old_hz: int) -> None:
        """HCLK changed: keep the count reached at the old rate, continue at the new one."""
        self._anchor_value = self._count(old_hz)
        self._anchor_time = self.clock.now

    def _write_ctrl(self, value: int, old: RegisterView) -> None:
        self._anchor_value = self._count(enabled=old.CYCCNTENA)     # the count so far, under the previous enable
        self._anchor_time = self.clock.now

    def _read_cyccnt(self) -> int:
        return self._count()

    def _write_cyccnt(self, value: int) -> None:
        self._anchor_value = value & 0xFFFFFFFF
        self._anchor_time = self.clock.now

    def _read_pcsr(self) -> int:
        return self._pc() & 0xFFFFFFFF
