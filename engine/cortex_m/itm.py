"""Instrumentation Trace Macrocell of an IO core (0xE0000000; ARMv7-M ARM C1.7): printf over SWO.

A write to stimulus port n (0x000 + 4n) emits its bytes when TCR.ITMENA and TER bit n are set; a read of a
stimulus port returns 1 (FIFO ready), so firmware that polls before each write never stalls. The bytes go to
listeners (`add_tx_listener`), which the machine taps like a UART: labelled `<core>.itm`. Emulator-defined: all
32 ports feed one byte stream; the lock (LAR 0xC5ACCE55) is honoured for TCR/TER/TPR writes.
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.access import Access, TEST_ACCESS
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

UNLOCK_KEY = 0xC5ACCE55


class Itm(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        *(Register(4 * n, f"STIM{n}", read="_read_stim") for n in range(32)),
        Register(0xE00, "TER", write="_locked_write"),
        Register(0xE40, "TPR", fields=(Field("PRIVMASK", 0, 4),), write="_locked_write"),
        Register(0xE80, "TCR", write="_locked_write", fields=(
            Field("ITMENA", 0), Field("TSENA", 1), Field("SYNCENA", 2), Field("TXENA", 3), Field("SWOENA", 4),
            Field("TSPrescale", 8, 2), Field("GTSFREQ", 10, 2), Field("TraceBusID", 16, 7),
            Field("BUSY", 23, access="ro"))),
        Register(0xFB0, "LAR", access="wo", write="_write_lar"),
        Register(0xFB4, "LSR", access="ro", read="_read_lsr"),
    )
    STATE = ("_unlocked", "_shadow")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes) -> None:
        self._listeners: list[Callable[[int], None]] = []
        super().__init__(name or "itm", clock, **attributes)

    def reset(self) -> None:
        self._unlocked = False
        self._shadow = {}
        super().reset()

    def add_tx_listener(self, fn: Callable[[int], None]) -> None:
        self._listeners.append(fn)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        if offset < 0x80:
            port = offset // 4
            if self.regs["TCR"] & 1 and self.regs["TER"] >> port & 1:
                for k in range(size):
                    byte = (value >> (8 * k)) & 0xFF
                    for fn in self._listeners:
                        fn(byte)
            return
        before = dict(self.regs)
        super().write(offset, size, value, access)
        if offset & ~3 in (0xE00, 0xE40, 0xE80) and not self._unlocked:
            self.regs = before   # locked: writes to the control registers are ignored

    def _locked_write(self, value: int) -> None:
        pass  # the lock is checked in write(); nothing else happens on these writes

    def _read_stim(self) -> int:
        return 1   # FIFOREADY

    def _write_lar(self, value: int) -> None:
        self._unlocked = value == UNLOCK_KEY

    def _read_lsr(self) -> int:
        # Lock implemented (bit 0); locked (bit 1) until the key is written.
        return 0x1 | (0 if self._unlocked else 0x2)
