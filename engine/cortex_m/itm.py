"""Instrumentation Trace Macrocell of an IO core (0xE0000000; ARMv7-M ARM C1.7): printf over SWO.

A write to stimulus port n (0x000 + 4n) emits its bytes when TCR.ITMENA and TER bit n are set; a read of a
stimulus port returns 1 (FIFO ready), so firmware that polls before each write never stalls. The bytes go to
listeners (`add_tx_listener`), which the machine taps like a UART: labelled `<core>.itm`. Emulator-defined: all
32 ports feed one byte stream; the lock (LAR 0xC5ACCE55) is honoured for TCR/TER/TPR writes.
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register, RegisterArray, RegisterView
from mt3620.engine.simulation.registers import LANE_BYTES

UNLOCK_KEY = 0xC5ACCE55
PORTS = 32


class Itm(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        RegisterArray("STIM", 0x000, count=PORTS, stride=4,
                      registers=Register(0, "STIM", read="_read_stim", write="_write_stim")),
        Register(0xE00, "TER", write="_locked_write", doc="bit n enables stimulus port n"),
        Register(0xE40, "TPR", fields=(Field("PRIVMASK", 0, 4),), write="_locked_write"),
        Register(0xE80, "TCR", write="_locked_write", fields=(
            Field("ITMENA", 0), Field("TSENA", 1), Field("SYNCENA", 2), Field("TXENA", 3), Field("SWOENA", 4),
            Field("TSPrescale", 8, 2), Field("GTSFREQ", 10, 2), Field("TraceBusID", 16, 7),
            Field("BUSY", 23, access="ro"))),
        Register(0xFB0, "LAR", access="wo", write="_write_lar"),
        Register(0xFB4, "LSR", fields=(Field("SLI", 0, access="ro", reset=1, doc="lock implemented"),
                                       Field("SLK", 1, access="ro", reset=1, doc="locked"))),
    )

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes) -> None:
        self._listeners: list[Callable[[int], None]] = []
        super().__init__(name or "itm", clock, **attributes)

    def add_tx_listener(self, fn: Callable[[int], None]) -> None:
        self._listeners.append(fn)

    def _write_stim(self, port: int, value: int, lanes: int) -> None:
        """Each byte written goes out, in address order, when the ITM and the port are enabled."""
        if not (self.regs.TCR.ITMENA and self.regs.TER.value >> port & 1):
            return
        for k in LANE_BYTES[lanes]:
            byte = (value >> (8 * k)) & 0xFF
            for fn in self._listeners:
                fn(byte)

    def _read_stim(self, port: int) -> int:
        return 1   # FIFOREADY

    def _locked_write(self, value: int, old: RegisterView) -> None:
        if self.regs.LSR.SLK:
            self.regs[old.name] = old.value      # locked: writes to the control registers are ignored

    def _write_lar(self, value: int) -> None:
        self.regs.LSR.SLK = value != UNLOCK_KEY
