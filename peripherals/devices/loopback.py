"""Loopbacks a board can carry: an I2C loopback target and an SPI loopback wire.

I2C loopback (emulator-defined test device): a target that keeps what a master writes (up to `depth` bytes, the
oldest dropped beyond) and returns it, first in first out, to reads; 0xFF when empty. It answers at `address`.
SPI loopback: MISO wired to MOSI (MediaTek's SPIM sample asks for ISU1 MISO connected to MOSI): every byte comes
back as it was sent, in any mode, whatever the chip select.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from mt3620.peripherals.buses.i2c import I2cTarget
from mt3620.peripherals.buses.spi import SpiTarget

from .base import BoardDevice


class I2cLoopback(BoardDevice, I2cTarget):
    KIND = "I2C loopback"
    SETTINGS = ("address", "depth", "stretch_ps")

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.address = 0x40
        self.depth = 256
        self.buffer: deque[int] = deque()
        self.written = 0
        super().__init__(name, clock, **attributes)

    def i2c_write(self, byte: int) -> Any:
        self.buffer.append(byte & 0xFF)
        self.written += 1
        while len(self.buffer) > int(self.depth):
            self.buffer.popleft()
        return True

    def i2c_read(self) -> Any:
        return self.buffer.popleft() if self.buffer else 0xFF


class SpiLoopback(BoardDevice, SpiTarget):
    KIND = "SPI loopback"
    SETTINGS = ()
    modes = frozenset({0, 1, 2, 3})
    always_selected = True

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.bytes = 0
        super().__init__(name, clock, **attributes)

    def spi_exchange(self, byte: int) -> int:
        self.bytes += 1
        return byte & 0xFF
