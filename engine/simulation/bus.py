"""A CPU's view of the bus: RAM regions backed by host buffers and devices found by sorted lookup.

Each core has its own AddressSpace (the IO cores each see a private map at the same addresses). Memories that
several views share hold one host buffer, mapped into every Unicorn instance that sees it. Devices are found by
bisecting a sorted list of (start, end) ranges, so several small blocks may share one 4 KB page (the ISU
sub-blocks). Every access carries an Access (initiator, secure, privileged) and passes the access-control hooks
(the firewall model) before it reaches its target.
"""
from __future__ import annotations

import bisect
import ctypes
import logging
from dataclasses import dataclass, field
from typing import Callable, Protocol

from .access import Access, BusError, TEST_ACCESS

log = logging.getLogger("mt3620.bus")
PAGE = 0x1000


class Device(Protocol):
    name: str

    def read(self, offset: int, size: int, access: Access) -> int: ...

    def write(self, offset: int, size: int, value: int, access: Access) -> None: ...


class Memory:
    """A block of RAM (or ROM) in one host buffer; several address spaces may map the same Memory."""

    def __init__(self, name: str, size: int, read_only: bool = False) -> None:
        if size <= 0 or size % PAGE:
            raise ValueError(f"memory {name}: size 0x{size:x} must be a positive multiple of 4 KB")
        self.name = name
        self.size = size
        self.read_only = read_only
        self.buffer = (ctypes.c_ubyte * size)()
        self.view = memoryview(self.buffer).cast("B")
        self.write_listeners: list[Callable[[int, int], None]] = []  # (offset, length) after host-side writes

    @property
    def address(self) -> int:
        return ctypes.addressof(self.buffer)

    def read(self, offset: int, length: int) -> bytes:
        return bytes(self.view[offset:offset + length])

    def write(self, offset: int, data: bytes) -> None:
        self.view[offset:offset + len(data)] = data
        for listener in self.write_listeners:
            listener(offset, len(data))

    def clear(self) -> None:
        ctypes.memset(self.buffer, 0, self.size)


@dataclass(order=True)
class Mapping:
    start: int
    end: int  # exclusive
    name: str = field(compare=False)
    memory: Memory | None = field(default=None, compare=False)
    device: Device | None = field(default=None, compare=False)
    offset: int = field(default=0, compare=False)  # offset into the memory or device


AccessHook = Callable[[Access, int, int, bool], None]  # raises AccessDenied to refuse


class AddressSpace:
    def __init__(self, name: str) -> None:
        self.name = name
        self._maps: list[Mapping] = []
        self._starts: list[int] = []
        self.access_hooks: list[AccessHook] = []

    # ---- building -------------------------------------------------------------------------------------------------
    def _insert(self, mapping: Mapping) -> None:
        i = bisect.bisect_left(self._starts, mapping.start)
        for other in self._maps[max(0, i - 1):i + 1]:
            if mapping.start < other.end and other.start < mapping.end:
                raise ValueError(f"{self.name}: {mapping.name} at 0x{mapping.start:08x}-0x{mapping.end - 1:08x} "
                                 f"overlaps {other.name} at 0x{other.start:08x}-0x{other.end - 1:08x}")
        self._maps.insert(i, mapping)
        self._starts.insert(i, mapping.start)

    def add_memory(self, address: int, memory: Memory, name: str | None = None) -> None:
        if address % PAGE:
            raise ValueError(f"{self.name}: memory {memory.name} at 0x{address:x} is not 4 KB aligned")
        self._insert(Mapping(address, address + memory.size, name or memory.name, memory=memory))

    def add_device(self, address: int, size: int, device: Device, name: str | None = None) -> None:
        self._insert(Mapping(address, address + size, name or device.name, device=device))

    # ---- lookup ---------------------------------------------------------------------------------------------------
    def find(self, address: int) -> Mapping | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._maps[i].end:
            return self._maps[i]
        return None

    def mappings(self) -> list[Mapping]:
        return list(self._maps)

    def memories(self) -> list[Mapping]:
        return [m for m in self._maps if m.memory is not None]

    def device_pages(self) -> list[tuple[int, int]]:
        """Page-aligned windows (start, size) that contain devices, merged when contiguous."""
        pages: list[list[int]] = []
        for m in self._maps:
            if m.device is None:
                continue
            start = m.start & ~(PAGE - 1)
            end = (m.end + PAGE - 1) & ~(PAGE - 1)
            if pages and start <= pages[-1][1]:
                pages[-1][1] = max(pages[-1][1], end)
            else:
                pages.append([start, end])
        return [(s, e - s) for s, e in pages]

    # ---- accesses -------------------------------------------------------------------------------------------------
    def check(self, access: Access, address: int, size: int, write: bool) -> None:
        for hook in self.access_hooks:
            hook(access, address, size, write)

    def read_device(self, address: int, size: int, access: Access) -> int:
        m = self.find(address)
        if m is None or m.device is None or address + size > m.end:
            raise BusError(address, size, False)
        self.check(access, address, size, False)
        return m.device.read(address - m.start + m.offset, size, access) & ((1 << (8 * size)) - 1)

    def write_device(self, address: int, size: int, value: int, access: Access) -> None:
        m = self.find(address)
        if m is None or m.device is None or address + size > m.end:
            raise BusError(address, size, True)
        self.check(access, address, size, True)
        m.device.write(address - m.start + m.offset, size, value & ((1 << (8 * size)) - 1), access)

    def read(self, address: int, length: int, access: Access = TEST_ACCESS) -> bytes:
        """Read bytes from memory or devices (debugger, DMA, tests). Devices are read in 4-byte accesses."""
        out = bytearray()
        while length > 0:
            m = self.find(address)
            if m is None:
                raise BusError(address, length, False)
            if m.memory is not None:
                n = min(length, m.end - address)
                if self.access_hooks:        # memory windows the firewall guards (DMA, the A7's drivers)
                    self.check(access, address, n, False)
                out += m.memory.read(address - m.start, n)
            else:
                n = min(length, 4 - (address & 3), m.end - address)
                value = self.read_device(address, n, access)
                out += value.to_bytes(n, "little")
            address += n
            length -= n
        return bytes(out)

    def write(self, address: int, data: bytes, access: Access = TEST_ACCESS) -> None:
        pos = 0
        while pos < len(data):
            m = self.find(address + pos)
            if m is None:
                raise BusError(address + pos, len(data) - pos, True)
            if m.memory is not None:
                n = min(len(data) - pos, m.end - (address + pos))
                if self.access_hooks:
                    self.check(access, address + pos, n, True)
                m.memory.write(address + pos - m.start, data[pos:pos + n])
            else:
                a = address + pos
                n = min(len(data) - pos, 4 - (a & 3), m.end - a)
                self.write_device(a, n, int.from_bytes(data[pos:pos + n], "little"), access)
            pos += n

    def read_u32(self, address: int, access: Access = TEST_ACCESS) -> int:
        return int.from_bytes(self.read(address, 4, access), "little")

    def write_u32(self, address: int, value: int, access: Access = TEST_ACCESS) -> None:
        self.write(address, (value & 0xFFFFFFFF).to_bytes(4, "little"), access)
