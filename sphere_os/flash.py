"""The device's 16 MB serial NOR flash, as the OS uses it: erase 4 KB sectors to 0xFF, program 256-byte pages
(a program can only clear bits), read anything. Kept in a file in the device's state folder (written through on
every operation, so a killed process loses nothing it finished) or in memory.

Power cuts are modelled: `arm_cut(n)` makes the n-th write operation from now (a sector erase or a page program)
the one during which the power fails. That operation is left torn (emulator-defined: the first half of the page
is programmed, or the first half of the sector erased, the rest untouched), or with `torn=False` completes just
before the power goes, and `PowerCut` is raised; the flash
then refuses every operation, as a dead device would, until it is opened again. `on_write(n)` is called before
each write operation (the device process uses it for `--kill-at-write N`: a real SIGKILL at that point).

Facts: MT3620-FACTS.md "16 MB flash" (the device's serial NOR). Sector and page sizes are those of common serial
NOR parts (4 KB sub-sector erase, 256-byte page program); the part itself is not public (emulator-defined).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

SIZE = 16 * 1024 * 1024
SECTOR = 4096
PAGE = 256


class FlashError(ValueError):
    """A request the flash cannot do (out of range, misaligned, programming a 0 bit back to 1)."""


class PowerCut(Exception):
    """The power failed during a flash write: nothing after it happened."""


class NorFlash:
    def __init__(self, path: str | Path | None = None, size: int = SIZE) -> None:
        if size <= 0 or size % SECTOR:
            raise FlashError(f"flash size {size} is not a whole number of {SECTOR}-byte sectors")
        self.size = size
        self.path = Path(path) if path is not None else None
        self._fd: int | None = None
        self.writes = 0                       # write operations (erases + page programs) since opened
        self.on_write: Callable[[int], None] | None = None
        self.journal: list | None = None      # a list to record ("erase", offset) / ("program", offset, bytes)
        self._cut_at: int | None = None
        self._cut_torn = True
        self.dead = False
        if self.path is None:
            self.data = bytearray(b"\xff" * size)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fresh or os.fstat(self._fd).st_size != size:
            if not fresh and os.fstat(self._fd).st_size not in (0, size):
                os.close(self._fd)
                raise FlashError(f"{self.path}: {os.path.getsize(self.path)} bytes, not a {size}-byte flash image")
            os.ftruncate(self._fd, 0)
            chunk = b"\xff" * (1 << 20)
            for offset in range(0, size, len(chunk)):
                os.pwrite(self._fd, chunk, offset)
            os.fsync(self._fd)
        self.data = bytearray(os.pread(self._fd, size, 0))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def sync(self) -> None:
        """Make what was written durable against a host crash (a killed process loses nothing already)."""
        if self._fd is not None:
            os.fsync(self._fd)

    def arm_cut(self, after_writes: int | None, torn: bool = True) -> None:
        """The power fails during the `after_writes`-th write operation from now (left torn), or with
        `torn=False` just after it completed (None disarms)."""
        self._cut_at = None if after_writes is None else self.writes + int(after_writes)
        self._cut_torn = torn

    # ---- operations ---------------------------------------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        self._check_range(offset, length)
        return bytes(self.data[offset:offset + length])

    def erase(self, offset: int) -> None:
        """Erase the sector at `offset` (sector-aligned) to 0xFF."""
        if offset % SECTOR:
            raise FlashError(f"erase at 0x{offset:x}: not sector-aligned")
        self._check_range(offset, SECTOR)
        cut = self._begin_write(("erase", offset))
        length = SECTOR // 2 if cut and self._cut_torn else SECTOR
        self._store(offset, b"\xff" * length)
        if cut:
            self._die()

    def program(self, offset: int, data: bytes) -> None:
        """Program bytes (any length): one operation per 256-byte page touched. Bits only go from 1 to 0."""
        self._check_range(offset, len(data))
        pos = 0
        while pos < len(data):
            page_end = (offset + pos) // PAGE * PAGE + PAGE
            n = min(len(data) - pos, page_end - (offset + pos))
            self._program_page(offset + pos, bytes(data[pos:pos + n]))
            pos += n

    def _program_page(self, offset: int, chunk: bytes) -> None:
        current = self.data[offset:offset + len(chunk)]
        if any(new & ~old & 0xFF for new, old in zip(chunk, current)):
            raise FlashError(f"program at 0x{offset:x}: would set bits that are 0 (erase the sector first)")
        cut = self._begin_write(("program", offset, chunk))
        length = max(1, len(chunk) // 2) if cut and self._cut_torn else len(chunk)
        self._store(offset, bytes(a & b for a, b in zip(chunk[:length], current[:length])))
        if cut:
            self._die()

    # ---- internals ----------------------------------------------------------------------------------------------
    def _check_range(self, offset: int, length: int) -> None:
        if self.dead:
            raise PowerCut("the flash lost power")
        if offset < 0 or length < 0 or offset + length > self.size:
            raise FlashError(f"0x{offset:x}+{length} is outside the {self.size}-byte flash")

    def _begin_write(self, op: tuple) -> bool:
        """Count the operation; True when the power fails during it."""
        self.writes += 1
        if self.journal is not None:
            self.journal.append(op)
        if self.on_write is not None:
            self.on_write(self.writes)
        return self._cut_at is not None and self.writes >= self._cut_at

    def _store(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data
        if self._fd is not None:
            os.pwrite(self._fd, data, offset)

    def replay(self, journal: list) -> None:
        """Apply recorded write operations (a journal) to this flash, as they happened."""
        for op in journal:
            if op[0] == "erase":
                self.erase(op[1])
            else:
                self.program(op[1], op[2])

    def _die(self) -> None:
        self.dead = True
        self._cut_at = None
        raise PowerCut(f"power cut during flash write {self.writes}")
