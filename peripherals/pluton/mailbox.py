"""A7 <-> Pluton mailbox, channel 0, at 0x31000000: the register facade over the pure Pluton core.

Registers (ASOS drivers/mailbox/mt3620.h; MT3620-FACTS.md "Mailboxes"): VER 0x00 reads 0x36200000;
SW_TX_INT_PORT 0x14, SW_RX_INT_EN 0x18, SW_RX_INT_STS 0x1C, INT_EN 0x38, INT_STS 0x3C, CMD_POST 0x40,
DATA_POST 0x44, FIFO_WRITE_COUNT 0x48, CMD_POP 0x50, DATA_POP 0x54, FIFO_READ_COUNT 0x58. FIFOs are 15 deep;
the A7 writes DATA_POST then CMD_POST (the CMD write commits the pair) and reads DATA_POP then CMD_POP (the
CMD read pops the pair).
Emulator-defined (docs/pluton.md): INT_STS/INT_EN bits 0 RD (Pluton took a posted message, W1C), 1 NF (post FIFO
not full, level), 2 WR (Pluton posted a reply, W1C), 3 NE (pop FIFO not empty, level); IRQ outputs rd, nf, wr,
ne, sw = status AND enable; a CMD_POST into a full FIFO is dropped and counted; Pluton takes each posted message
MAILBOX_CYCLES after it arrives and answers after the engines' modelled latency; only channel 0 is modelled.

The shared 2048-byte buffers live in A7 memory reached through `memory.read(address, size)` /
`memory.write(address, data)`. Pluton only touches memory the A7 may hand it (emulator-defined, until the
firewall models say more): the ring table and every buffer must lie inside one of `buffer_windows` (default the
A7's 4 MB SRAM at 0x80000000, ASOS mt3620.dtsi) and, on a bus view, be RAM rather than another block's
registers. A table or buffer outside is refused with E_ADDRESS when the ring is registered, so no request can
make Pluton read or write anywhere else, and no bus error can escape into the emulator.

Only the A7's security-monitor path may reach this block (ASOS: the kernel's Pluton driver runs on the A7;
IO-core apps have no business here): `INITIATORS` tells the machine to refuse every other initiator, and the A7
when not secure and privileged, with a bus fault.
"""
from __future__ import annotations

import struct
from collections import deque
from typing import Any

from mt3620.engine.simulation.access import BusError
from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind, Timer

from . import remoteapi as api
from .core import PlutonCore
from .engines import PLUTON_HZ

FIFO_DEPTH = 15
MAILBOX_CYCLES = 200          # emulator-defined: Pluton firmware notices and pops a message
VERSION = 0x36200000
A7_SRAM = (0x80000000, 0x400000)      # ASOS mt3620.dtsi memory node: where the A7's ring may live

INT_RD, INT_NF, INT_WR, INT_NE = 0x1, 0x2, 0x4, 0x8


class PlutonMailbox(Peripheral):
    SIZE = 0x1000
    INITIATORS = ("a7",)          # secure, privileged A7 accesses only (engine/machine/guards.py)
    IRQS = ("rd", "nf", "wr", "ne", "sw")
    REGISTERS = (
        Register(0x00, "VER", reset=VERSION, access="ro"),
        Register(0x14, "SW_TX_INT_PORT", access="wo", write="_sw_tx"),
        Register(0x18, "SW_RX_INT_EN", write="_changed"),
        Register(0x1C, "SW_RX_INT_STS", access="w1c", write="_changed"),
        Register(0x38, "INT_EN", fields=(Field("RD", 0), Field("NF", 1), Field("WR", 2), Field("NE", 3)),
                 write="_changed"),
        Register(0x3C, "INT_STS", fields=(Field("RD", 0, access="w1c"), Field("NF", 1, access="ro"),
                                          Field("WR", 2, access="w1c"), Field("NE", 3, access="ro")),
                 read="_read_int_sts", write="_changed"),
        Register(0x40, "CMD_POST", access="wo", write="_cmd_post"),
        Register(0x44, "DATA_POST"),
        Register(0x48, "FIFO_WRITE_COUNT", access="ro", read="_write_count"),
        Register(0x50, "CMD_POP", access="ro", read="_cmd_pop"),
        Register(0x54, "DATA_POP", access="ro", read="_data_pop"),
        Register(0x58, "FIFO_READ_COUNT", access="ro", read="_read_count"),
    )
    STATE = ("post_fifo", "pop_fifo", "pending_replies", "busy", "ring", "ring_address", "next_event_buffer", "stats",
             "sw_to_pluton")

    take = Timer("_pluton_take", multi=True)     # Pluton notices a posted message (one per post)
    reply = Timer("_complete")                   # the request being served is answered

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *, core: PlutonCore,
                 memory: Any, buffer_windows: tuple[tuple[int, int], ...] = (A7_SRAM,), **attributes: Any) -> None:
        self.core = core
        self.memory = memory
        self.buffer_windows = tuple((int(start), int(size)) for start, size in buffer_windows)
        super().__init__(name or "pluton_mailbox", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.post_fifo: deque[tuple[int, int]] = deque()     # A7 -> Pluton (cmd, data)
        self.pop_fifo: deque[tuple[int, int]] = deque()      # Pluton -> A7 (cmd, data)
        self.pending_replies: deque[tuple[int, int]] = deque()
        self.busy = False
        self.ring: tuple[int, int, list[api.RingBuffer]] | None = None
        self.ring_address = 0
        self.next_event_buffer = 0
        self.stats = {"posted": 0, "overflows": 0, "dropped": 0, "rejected": 0, "served": 0}
        self.sw_to_pluton = 0
        self.update_irq()

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _read_int_sts(self) -> int:
        sts = self.regs.INT_STS          # NF and NE are levels; RD and WR are sticky events
        sts.NF, sts.NE = len(self.post_fifo) < FIFO_DEPTH, bool(self.pop_fifo)
        return sts.value

    def _write_count(self) -> int:
        return len(self.post_fifo)

    def _read_count(self) -> int:
        return len(self.pop_fifo)

    def _data_pop(self) -> int:
        return self.pop_fifo[0][1] if self.pop_fifo else 0

    def _cmd_pop(self) -> int:
        if not self.pop_fifo:
            return 0
        cmd, _ = self.pop_fifo.popleft()
        self._drain_replies()
        if self.post_fifo and not self.pending_replies:
            # Pluton had stopped taking requests while its replies could not be delivered: resume.
            self.take.start(ps_for_cycles(MAILBOX_CYCLES, PLUTON_HZ))
        self.update_irq()
        return cmd

    def _sw_tx(self, value: int) -> None:
        self.sw_to_pluton |= value       # software interrupts toward Pluton: recorded, no firmware reacts

    def _changed(self, value: int) -> None:
        self.update_irq()

    def _cmd_post(self, value: int) -> None:
        if len(self.post_fifo) >= FIFO_DEPTH:
            self.stats["overflows"] += 1
            return
        self.post_fifo.append((value, self.regs.DATA_POST.value))
        self.stats["posted"] += 1
        self.update_irq()
        self.take.start(ps_for_cycles(MAILBOX_CYCLES, PLUTON_HZ))

    def update_irq(self) -> None:
        sts = self._read_int_sts()
        en = self.regs.INT_EN.value
        for i, line in enumerate(self.irq[:4]):
            line.set(sts & en & (1 << i))
        self.irq[4].set(self.regs.SW_RX_INT_STS.value & self.regs.SW_RX_INT_EN.value)

    # ---- Pluton side ------------------------------------------------------------------------------------------
    def raise_sw_interrupt(self, bit: int) -> None:
        """Pluton -> A7 software interrupt (SW_RX_INT_STS bit)."""
        self.regs.SW_RX_INT_STS.value |= 1 << (bit & 31)
        self.update_irq()

    def post_event(self, command: int, payload: bytes) -> bool:
        """Unsolicited Pluton -> A7 message (sequence 0) in the next free M4-originated buffer. The `available`
        byte of each table entry is live: the A7 driver sets it back to 1 when it releases the buffer. Returns
        False when no ring is registered or every M4 buffer is in use."""
        if self.ring is None or self.ring[0] == 0:
            return False
        m4_count, _a7, buffers = self.ring
        for step in range(m4_count):
            index = (self.next_event_buffer + step) % m4_count
            flag_at = self.ring_address + api.TABLE_HEADER + index * api.TABLE_ENTRY + 10
            if self._read(flag_at, 1) != b"\x01":
                continue
            buffer = buffers[index]
            message = api.encode_message(bytes(payload))
            if len(message) > buffer.length:
                return False
            if not (self._write(flag_at, b"\0") and self._write(buffer.address, message)):
                return False
            self.next_event_buffer = (index + 1) % m4_count
            self._post_reply(api.Word(api.PROTOCOL_VERSION, 0, command, index).encode(), api.OK)
            return True
        return False

    # ---- memory the caller may hand Pluton ------------------------------------------------------------------------
    def caller_may_use(self, address: int, length: int) -> bool:
        """[address, address + length) lies in one buffer window and, on a bus view, in one RAM mapping."""
        if length <= 0 or address < 0 or address + length > 0x1_0000_0000:
            return False
        if not any(start <= address and address + length <= start + size for start, size in self.buffer_windows):
            return False
        find = getattr(self.memory, "find", None)
        if find is not None:
            mapping = find(address)
            if mapping is None or getattr(mapping, "memory", None) is None or address + length > mapping.end:
                return False
        return True

    def _read(self, address: int, length: int) -> bytes | None:
        try:
            return bytes(self.memory.read(address, length))
        except (BusError, IndexError, ValueError):
            return None

    def _write(self, address: int, data: bytes) -> bool:
        try:
            self.memory.write(address, data)
            return True
        except (BusError, IndexError, ValueError):
            return False

    def _pluton_take(self) -> None:
        if not self.post_fifo or self.pending_replies:
            return          # nothing to do, or back-pressure: the reply FIFO is full and replies are waiting
        cmd, data = self.post_fifo.popleft()
        self.regs.INT_STS.RD = 1
        self.update_irq()
        if self.core.glitches.skip("mailbox.take"):
            self.stats["dropped"] += 1     # a glitch: Pluton's firmware never sees this message
            return
        word = api.Word.decode(cmd)
        if word.version != api.PROTOCOL_VERSION:
            return self._reject(word, api.E_VERSION)
        if word.command == api.SEND_EVENT_BUFFERS:
            return self._register_ring(word, data)
        if word.sequence == 0:
            return self._reject(word, api.E_SEQUENCE)
        if self.busy:
            # Pluton serves one request at a time; a second one is refused, never queued into a crash.
            return self._reject(word, api.E_BUSY, touch_buffer=False)
        buffer = self._a7_buffer(word.buffer_index)
        if buffer is None:
            return self._reject(word, api.E_INDEX, touch_buffer=False)
        header = self._read(buffer.address, 4)
        if header is None:
            return self._reject(word, api.E_ADDRESS, touch_buffer=False)
        size, _pad = struct.unpack("<HH", header)
        if size > buffer.length - api.MESSAGE_HEADER:
            return self._reject(word, api.E_LENGTH)
        payload = self._read(buffer.address + api.MESSAGE_HEADER, size) if size else b""
        if payload is None:
            return self._reject(word, api.E_ADDRESS, touch_buffer=False)
        self.busy = True
        status, out = self.core.execute(word.command, payload)
        cycles = self.core.engines.take_cycles()
        response = struct.pack("<I", status) + out
        if len(response) > buffer.length - api.MESSAGE_HEADER:
            status, response = api.E_LENGTH, struct.pack("<I", api.E_LENGTH)
        self.reply.start(ps_for_cycles(MAILBOX_CYCLES + cycles, PLUTON_HZ), word, buffer, status, response)

    def _a7_buffer(self, index: int) -> api.RingBuffer | None:
        if self.ring is None:
            return None
        m4_count, a7_count, buffers = self.ring
        if not m4_count <= index < m4_count + a7_count:
            return None
        return buffers[index]

    def _register_ring(self, word: api.Word, address: int) -> None:
        self.ring, status = None, api.OK
        raw = self._read(address, api.TABLE_SIZE) if self.caller_may_use(address, api.TABLE_SIZE) else None
        if raw is None:
            status = api.E_ADDRESS                    # the table itself lies outside the caller's memory
        else:
            try:
                ring = api.decode_table(raw)          # cached: later edits of the table by the A7 change nothing
            except ValueError:
                status = api.E_ARGUMENT
            else:
                if all(self.caller_may_use(b.address, b.length) for b in ring[2]):
                    self.ring, self.ring_address, self.next_event_buffer = ring, address, 0
                else:
                    status = api.E_ADDRESS            # a buffer on another block's registers or in unmapped space
        self._post_reply(word.encode(), status)

    def _reject(self, word: api.Word, status: int, touch_buffer: bool = True) -> None:
        self.stats["rejected"] += 1
        if touch_buffer:
            buffer = self._a7_buffer(word.buffer_index)
            if buffer is not None:
                self._write(buffer.address, api.encode_message(struct.pack("<I", status)))
        reply = api.Word(api.PROTOCOL_VERSION, word.sequence, word.command, word.buffer_index)
        self._post_reply(reply.encode(), status)

    def _complete(self, word: api.Word, buffer: api.RingBuffer, status: int, response: bytes) -> None:
        if not self._write(buffer.address, api.encode_message(response)):
            status = api.E_ADDRESS
        self.busy = False
        self.stats["served"] += 1
        self._post_reply(word.encode(), status)

    def _post_reply(self, cmd: int, data: int) -> None:
        self.pending_replies.append((cmd, data))
        self._drain_replies()

    def _drain_replies(self) -> None:
        moved = False
        while self.pending_replies and len(self.pop_fifo) < FIFO_DEPTH:
            self.pop_fifo.append(self.pending_replies.popleft())
            moved = True
        if moved:
            self.regs.INT_STS.WR = 1
        self.update_irq()
