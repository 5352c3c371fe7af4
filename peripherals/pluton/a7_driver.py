"""The A7 side of the Pluton mailbox, played from Python: what the Azure Sphere OS kernel driver does.

It talks to the PlutonMailbox registers (0x31000000, channel 0; AzureSphereOS drivers/mailbox/mt3620.h offsets)
through a bus view, keeps the shared ring of 2048-byte buffers in A7 memory, and waits for replies in virtual
time. Until the A7 executes, this is how the emulated device's OS asks Pluton for attestation, random numbers and
its security state; the same register traffic a kernel would produce.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from mt3620.engine.simulation.access import Access

from . import remoteapi as api

PLUTON_MAILBOX = 0x31000000
CMD_POST, DATA_POST, CMD_POP, DATA_POP, FIFO_READ_COUNT = 0x40, 0x44, 0x50, 0x54, 0x58
A7_ACCESS = Access("a7", secure=True, privileged=True)   # the security-monitor path
M4_BUFFERS, A7_BUFFERS = 4, 4    # emulator-defined split of the shared ring (the kernel's choice is not public)


class PlutonError(Exception):
    """Pluton answered with a status other than OK, or did not answer in time."""

    def __init__(self, command: int, status: int | None, message: str = "") -> None:
        name = api.COMMAND_NAMES.get(command, hex(command))
        what = api.STATUS_NAMES.get(status, str(status)) if status is not None else "no reply"
        super().__init__(f"Pluton {name}: {what}{': ' + message if message else ''}")
        self.command, self.status = command, status


@dataclass
class Reply:
    word: api.Word
    status: int
    body: bytes


class PlutonDriver:
    """`view`: the A7's AddressSpace; `wait(condition, timeout_ps)`: run virtual time until condition() holds
    (a Machine's `run(duration_ps=..., until=...)`); `ring_base`: A7 memory for the ring table and buffers."""

    def __init__(self, view, wait: Callable[[Callable[[], bool], int], object], ring_base: int = 0x80000000,
                 base: int = PLUTON_MAILBOX, timeout_ps: int = 1_000_000_000_000) -> None:
        self.view, self.wait, self.base, self.ring_base = view, wait, base, ring_base
        self.timeout_ps = timeout_ps
        self.sequence = 0
        self.registered = False

    # ---- registers --------------------------------------------------------------------------------------------
    def _w(self, offset: int, value: int) -> None:
        self.view.write_u32(self.base + offset, value, A7_ACCESS)

    def _r(self, offset: int) -> int:
        return self.view.read_u32(self.base + offset, A7_ACCESS)

    def _post(self, word: int, data: int = 0) -> None:
        self._w(DATA_POST, data)   # DATA then CMD: the CMD write commits the pair
        self._w(CMD_POST, word)

    def _pop(self) -> tuple[int, int]:
        data = self._r(DATA_POP)
        return self._r(CMD_POP), data

    def _buffer(self, index: int) -> int:
        return self.ring_base + api.TABLE_SIZE + index * api.BUFFER_SIZE

    def _await_reply(self, command: int) -> tuple[int, int]:
        self.wait(lambda: self._r(FIFO_READ_COUNT) > 0, self.timeout_ps)
        if self._r(FIFO_READ_COUNT) == 0:
            raise PlutonError(command, None, "timed out")
        return self._pop()

    # ---- protocol -----------------------------------------------------------------------------------------------
    def register_ring(self) -> None:
        """SEND_EVENT_BUFFERS: hand Pluton the table of shared buffers (M4 buffers first, then the A7's)."""
        self.view.write(self.ring_base, api.encode_table(M4_BUFFERS, A7_BUFFERS, self.ring_base), A7_ACCESS)
        self._post(api.Word(api.PROTOCOL_VERSION, 0, api.SEND_EVENT_BUFFERS, 0).encode(), self.ring_base)
        word, status = self._await_reply(api.SEND_EVENT_BUFFERS)
        if status != api.OK:
            raise PlutonError(api.SEND_EVENT_BUFFERS, status)
        self.registered = True

    def call(self, command: int, payload: bytes = b"") -> bytes:
        """Send one remote-API command in the first A7 buffer; return the reply body (after its status word)."""
        if not self.registered:
            self.register_ring()
        index = M4_BUFFERS
        self.sequence = self.sequence % 255 + 1   # sequence 0 is reserved for unsolicited events
        self.view.write(self._buffer(index), api.encode_message(payload), A7_ACCESS)
        self._post(api.Word(api.PROTOCOL_VERSION, self.sequence, command, index).encode())
        word_value, status = self._await_reply(command)
        word = api.Word.decode(word_value)
        if status != api.OK:
            raise PlutonError(command, status)
        size = struct.unpack("<H", self.view.read(self._buffer(word.buffer_index), 2, A7_ACCESS))[0]
        body = self.view.read(self._buffer(word.buffer_index) + api.MESSAGE_HEADER, size, A7_ACCESS) if size else b""
        if len(body) < 4 or struct.unpack("<I", body[:4])[0] != api.OK:
            raise PlutonError(command, struct.unpack("<I", body[:4])[0] if len(body) >= 4 else None,
                              "status in the reply buffer")
        return body[4:]

    # ---- commands the OS uses -----------------------------------------------------------------------------------
    def security_state(self) -> tuple[int, bytes, bytes]:
        """(state flags, general public key X||Y, attestation public key X||Y)."""
        body = self.call(api.GET_SECURITY_STATE)
        return struct.unpack("<I", body[:4])[0], body[4:68], body[68:132]

    def process_attestation(self, challenge: bytes) -> bytes:
        """Evidence (mt3620.attestation format) signed by the attestation key over this 32-byte challenge."""
        return self.call(api.PROCESS_ATTESTATION, challenge)

    def read_rng(self, count: int) -> bytes:
        return self.call(api.READ_RNG, struct.pack("<I", count))[:count]
