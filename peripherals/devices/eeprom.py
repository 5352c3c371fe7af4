"""A 24-series I2C EEPROM (24C02 ... 24C512 class): byte and page writes with a write cycle, random and
sequential reads, acknowledge polling.

Facts from the public datasheets of the family (e.g. Microchip 24AA02/24LC02B DS21709, 24LC256 DS21203): the
device answers at 0x50 (A2..A0 = 0); a write is the memory address (1 byte up to 2 Kbit, 2 bytes above) and up to
a page of data, which wraps within the page; the internal write cycle (t_WC, 5 ms max) starts at STOP and the
device does not acknowledge its address until it ends (acknowledge polling); a read returns bytes from the
current address on, wrapping at the end of the memory; a write of only the address sets the current address.
`size` (bytes), `page` (bytes) and `write_ms` choose the part (defaults: 24C02, 256 bytes, 8-byte pages, 5 ms).
`image` backs the memory with a file (written through at the end of each write cycle).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.buses.i2c import I2cTarget

from .base import BoardDevice, DeviceError


class I2cEeprom(BoardDevice, I2cTarget):
    KIND = "I2C EEPROM"
    SETTINGS = ("address", "size", "page", "write_ms", "image", "stretch_ps")

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.address = 0x50
        self.size = 256
        self.page = 8
        self.write_ms = 5.0
        self.image: str | None = None
        super().__init__(name, clock, **attributes)
        self.size, self.page = int(self.size), int(self.page)
        if self.size <= 0 or self.size > 65536 or self.size & (self.size - 1):
            raise DeviceError(f"{self.name}: size {self.size} must be a power of two up to 65536 bytes")
        if self.page <= 0 or self.size % self.page:
            raise DeviceError(f"{self.name}: page {self.page} must divide the size")
        self.memory = bytearray(b"\xff" * self.size)
        if self.image is not None:
            path = Path(self.image)
            if path.exists():
                try:
                    raw = path.read_bytes()
                except OSError as exc:
                    raise DeviceError(f"{self.name}: image {path}: {exc.strerror or exc}") from None
                self.memory[:len(raw[:self.size])] = raw[:self.size]
        self.pointer = 0
        self.busy_until = 0
        self._phase = "idle"
        self._pending: dict[int, int] = {}
        self._addr_bytes = 1 if self.size <= 256 else 2
        self.cycles = 0

    def _busy(self) -> bool:
        return self.clock.now < self.busy_until

    def i2c_start(self, read: bool) -> Any:
        if self._busy():
            return False                        # write cycle in progress: no ACK (acknowledge polling)
        self._phase = "read" if read else "addr0"
        self._pending = {}
        self._address = 0
        return True

    def i2c_write(self, byte: int) -> Any:
        if self._phase.startswith("addr"):
            n = int(self._phase[4:])
            self._address = (self._address << 8 | byte) & (self.size - 1)
            if n + 1 >= self._addr_bytes:
                self.pointer = self._address
                self._phase = "data"
            else:
                self._phase = f"addr{n + 1}"
            return True
        if self._phase == "data":
            page_start = self.pointer - self.pointer % self.page
            self._pending[self.pointer] = byte & 0xFF
            self.pointer = page_start + (self.pointer + 1 - page_start) % self.page
            return True
        return False

    def i2c_read(self) -> Any:
        value = self.memory[self.pointer]
        self.pointer = (self.pointer + 1) % self.size
        return value

    def i2c_stop(self) -> None:
        if self._phase == "data" and self._pending:
            for address, value in self._pending.items():
                self.memory[address] = value
            self._pending = {}
            self.cycles += 1
            self.busy_until = self.clock.now + int(float(self.write_ms) * PS_PER_SECOND / 1000)
            self._persist()
        self._phase = "idle"

    def _persist(self) -> None:
        if self.image is None:
            return
        path = Path(self.image)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(self.memory)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)

    def describe(self) -> str:
        return f"{self.name} (I2C EEPROM {self.size} bytes at 0x{self.address:02x}): {self.cycles} write cycles"
