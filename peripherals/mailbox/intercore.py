"""The A7 end of the intercore protocol, driven from Python until the A7 runs a real high-level app.

Protocol facts (MT3620-FACTS "Intercore protocol"; Azure/azure-sphere-samples mt3620-intercore.c for the IO-core
end; the Azure Sphere kernel's mt3620 rtcore communication driver in crpietschmann/AzureSphereOS for the A7 end):
  - Setup over the mailbox FIFO: cmd 0xBA5E0001 = the A7's inbound buffer (the RTApp's outbound), 0xBA5E0002 =
    the A7's outbound buffer (the RTApp's inbound), data = buffer address | log2(buffer size); 0xBA5E0003 starts,
    0xBA5E0004 stops.
  - Each buffer: a 64-byte header {u32 writePosition, u32 readPosition, u32 reserved[14]}, then the ring. A writer
    keeps its write position in the header of the buffer it writes; a reader keeps its read position in the header
    of the buffer it *writes* (its outbound buffer), so each side only ever writes to its own outbound buffer.
  - A block is u32 size, then `size` bytes; blocks start 16-byte aligned. For application messages the bytes are
    a 16-byte component ID (little-endian GUID layout), 4 reserved bytes, then the payload (at most 1024 bytes).
  - Notifications are software interrupts: the sender raises bit 1 ("sent") on the receiver, the reader raises
    bit 0 ("consumed") on the writer. The IO-core end writes SW_TX_INT_PORT 1 after enqueueing and 2 after
    dequeueing (mt3620-intercore.c), which arrive at the A7 as bit 0 and bit 1.

The buffers live in memory both ends can reach: pass a `memory` object with read(addr, size) -> bytes and
write(addr, data). Where they are placed is emulator-defined (DEFAULT_BUFFER_BASE).
"""
from __future__ import annotations

import struct
import uuid
from typing import Protocol

from mt3620.engine.simulation.access import BusError

from .m4_mailbox import MailboxChannel

SETUP_INBOUND = 0xBA5E0001
SETUP_OUTBOUND = 0xBA5E0002
START = 0xBA5E0003
STOP = 0xBA5E0004
HEADER_SIZE = 64
ALIGN = 16
MAX_PAYLOAD = 1024
COMPONENT_ID_SIZE = 16
DEFAULT_BUFFER_SIZE = 4096
# Emulator-defined placement of the two shared buffers (see docs/peripherals.md): the engine maps RAM there.
DEFAULT_BUFFER_BASE = 0x20100000
SW_SENT = 1 << 1
SW_CONSUMED = 1 << 0


class Memory(Protocol):
    def read(self, addr: int, size: int, access: object = ...) -> bytes: ...

    def write(self, addr: int, data: bytes, access: object = ...) -> None: ...


class IntercoreError(Exception):
    """The far end broke the protocol (bad positions, oversize block) or a buffer is full."""


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) & ~(align - 1)


class IntercoreA7Endpoint:
    """A high-level app's end of one intercore connection to the RTApp behind `channel` (side `side`)."""

    def __init__(self, channel: MailboxChannel, memory: Memory, component_id: str | uuid.UUID | bytes,
                 inbound_addr: int = DEFAULT_BUFFER_BASE, outbound_addr: int = DEFAULT_BUFFER_BASE + DEFAULT_BUFFER_SIZE,
                 buffer_size: int = DEFAULT_BUFFER_SIZE, side: int = 1) -> None:
        if buffer_size & (buffer_size - 1) or buffer_size <= HEADER_SIZE:
            raise ValueError("intercore buffer size must be a power of two larger than the 64-byte header")
        for addr in (inbound_addr, outbound_addr):
            if addr & 0x1F:
                raise ValueError(f"intercore buffer address 0x{addr:x} must be 32-byte aligned")
        self.channel, self.memory, self.side = channel, memory, side
        self.inbound, self.outbound = inbound_addr, outbound_addr
        self.buffer_size = buffer_size
        self.ring = buffer_size - HEADER_SIZE
        self.component_id = self._component_bytes(component_id)
        self.local_write = 0
        self.local_read = 0
        self.started = False

    @staticmethod
    def _component_bytes(cid: str | uuid.UUID | bytes) -> bytes:
        if isinstance(cid, bytes):
            if len(cid) != COMPONENT_ID_SIZE:
                raise ValueError("a component ID is 16 bytes")
            return cid
        return (cid if isinstance(cid, uuid.UUID) else uuid.UUID(str(cid))).bytes_le

    # ---- setup ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Clear both buffers and hand them to the RTApp (0xBA5E0001, 0xBA5E0002, 0xBA5E0003)."""
        log2 = self.buffer_size.bit_length() - 1
        self.memory.write(self.inbound, bytes(self.buffer_size))
        self.memory.write(self.outbound, bytes(self.buffer_size))
        self.local_write = self.local_read = 0
        for cmd, data in ((SETUP_INBOUND, self.inbound | log2), (SETUP_OUTBOUND, self.outbound | log2), (START, 0)):
            if not self.channel.push(self.side, cmd, data):
                raise IntercoreError("mailbox FIFO full during intercore setup")
        self.started = True

    def stop(self) -> None:
        self.channel.push(self.side, STOP, 0)
        self.started = False

    # ---- ring helpers -----------------------------------------------------------------------------------------
    def _header(self, base: int) -> tuple[int, int]:
        write_pos, read_pos = struct.unpack("<II", self.memory.read(base, 8))
        return write_pos, read_pos

    def _ring_write(self, base: int, pos: int, data: bytes) -> None:
        first = min(len(data), self.ring - pos)
        self.memory.write(base + HEADER_SIZE + pos, data[:first])
        if first < len(data):
            self.memory.write(base + HEADER_SIZE, data[first:])

    def _ring_read(self, base: int, pos: int, size: int) -> bytes:
        first = min(size, self.ring - pos)
        data = self.memory.read(base + HEADER_SIZE + pos, first)
        if first < size:
            data += self.memory.read(base + HEADER_SIZE, size - first)
        return data

    # ---- messages -----------------------------------------------------------------------------------------------
    def send(self, payload: bytes, component_id: str | uuid.UUID | bytes | None = None) -> None:
        """Queue one message to the RTApp and raise its "sent" software interrupt."""
        if not self.started:
            raise IntercoreError("intercore connection not started")
        if len(payload) > MAX_PAYLOAD:
            raise IntercoreError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
        cid = self.component_id if component_id is None else self._component_bytes(component_id)
        block = cid + bytes(4) + bytes(payload)
        _, remote_read = self._header(self.inbound)
        if remote_read >= self.ring:
            raise IntercoreError(f"RTApp read position {remote_read} outside the ring")
        used = (self.local_write - remote_read) % self.ring
        need = _round_up(4 + len(block), ALIGN)
        if self.ring - ALIGN - used < need:
            raise IntercoreError("intercore ring full")
        # The RTApp end needs the 4-byte size contiguous before the end of the ring (mt3620-intercore.c).
        if self.ring - self.local_write < 4:
            raise IntercoreError("no room for the block size before the end of the ring")
        self._ring_write(self.outbound, self.local_write, struct.pack("<I", len(block)) + block)
        self.local_write = (self.local_write + need) % self.ring
        self.memory.write(self.outbound, struct.pack("<I", self.local_write))
        self.channel.raise_sw(self.side, SW_SENT)

    def available(self) -> bool:
        remote_write, _ = self._header(self.inbound)
        return remote_write != self.local_read

    def receive(self) -> tuple[bytes, bytes] | None:
        """(component ID bytes, payload) of the next message from the RTApp, or None when there is none."""
        remote_write, _ = self._header(self.inbound)
        if remote_write >= self.ring or remote_write % ALIGN:
            raise IntercoreError(f"RTApp write position {remote_write} invalid")
        avail = (remote_write - self.local_read) % self.ring
        if avail == 0:
            return None
        if avail < 4 or self.ring - self.local_read < 4:
            raise IntercoreError("truncated block size in the RTApp's ring")
        (size,) = struct.unpack("<I", self._ring_read(self.inbound, self.local_read, 4))
        if size + 4 > avail or size > MAX_PAYLOAD + COMPONENT_ID_SIZE + 4:
            raise IntercoreError(f"block of {size} bytes does not fit the {avail} bytes available")
        block = self._ring_read(self.inbound, (self.local_read + 4) % self.ring, size)
        self.local_read = (self.local_read + _round_up(4 + size, ALIGN)) % self.ring
        # Our read position lives in the header of our outbound buffer.
        self.memory.write(self.outbound + 4, struct.pack("<I", self.local_read))
        self.channel.raise_sw(self.side, SW_CONSUMED)
        if size < COMPONENT_ID_SIZE + 4:
            return block, b""
        return block[:COMPONENT_ID_SIZE], block[COMPONENT_ID_SIZE + 4:]


class ByteMemory:
    """A flat bytearray with read/write at absolute addresses: shared-buffer RAM for tests and the engine."""

    def __init__(self, base: int, size: int) -> None:
        self.base, self.data = base, bytearray(size)

    def _check(self, addr: int, size: int, write: bool = False) -> int:
        off = addr - self.base
        if off < 0 or off + size > len(self.data):
            raise BusError(addr, size, write, f"outside 0x{self.base:08x}+0x{len(self.data):x}")
        return off

    def read(self, addr: int, size: int, access: object = None) -> bytes:
        off = self._check(addr, size)
        return bytes(self.data[off:off + size])

    def write(self, addr: int, data: bytes, access: object = None) -> None:
        off = self._check(addr, len(data), True)
        self.data[off:off + len(data)] = data
