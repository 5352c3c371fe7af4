"""GDB Remote Serial Protocol framing: packets, checksums, acknowledgements, escapes and hex helpers.

Wire format (GDB manual, "Remote Protocol" / "Overview"): a packet is `$` data `#` two hex digits of the modulo-256
sum of the data bytes. In acknowledgement mode the receiver answers `+` (good) or `-` (resend). Binary data (the X
packet, qXfer replies) escapes `#`, `$`, `}` and `*` as `}` followed by the byte XOR 0x20. A lone 0x03 byte outside
a packet is an interrupt request (Ctrl-C). No state here touches the emulator: the decoder is fed bytes and hands
back events, so it is tested on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

ESCAPED = frozenset(b"#$}*")
INTERRUPT = 0x03
MAX_PACKET = 0x4000          # PacketSize announced in qSupported (bytes of packet data)


class ProtocolError(ValueError):
    """A malformed request; the server answers it with an error reply."""


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def frame(data: bytes) -> bytes:
    """One packet ready to send (data already escaped where binary)."""
    return b"$" + data + b"#" + b"%02x" % checksum(data)


def escape(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b in ESCAPED:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == 0x7D:
            try:
                out.append(next(it) ^ 0x20)
            except StopIteration:
                raise ProtocolError("binary data ends inside an escape") from None
        else:
            out.append(b)
    return bytes(out)


@dataclass
class Event:
    kind: str             # "packet", "interrupt", "ack", "nak", "bad" (checksum mismatch or garbage)
    data: bytes = b""


class Decoder:
    """Incremental decoder of the byte stream a debugger sends."""

    def __init__(self, max_packet: int = MAX_PACKET) -> None:
        self._buf = bytearray()
        self._in_packet = False
        self.max_packet = max_packet

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        self._buf += chunk
        buf = self._buf
        i = 0
        while i < len(buf):
            if not self._in_packet:
                b = buf[i]
                if b == 0x24:       # '$'
                    self._in_packet = True
                    del buf[:i + 1]
                    i = 0
                    continue
                if b == INTERRUPT:
                    events.append(Event("interrupt"))
                elif b == 0x2B:     # '+'
                    events.append(Event("ack"))
                elif b == 0x2D:     # '-'
                    events.append(Event("nak"))
                # anything else between packets is line noise: ignored, as GDB's own stubs do
                i += 1
                continue
            end = buf.find(b"#", i)
            if end < 0:
                if len(buf) > self.max_packet * 2 + 16:
                    events.append(Event("bad", b"packet too long"))
                    buf.clear()
                    self._in_packet = False
                return events
            if end + 2 >= len(buf):
                return events  # checksum digits not here yet
            data = bytes(buf[:end])
            digits = bytes(buf[end + 1:end + 3])
            del buf[:end + 3]
            i = 0
            self._in_packet = False
            try:
                good = int(digits, 16) == checksum(data)
            except ValueError:
                good = False
            if not good:
                events.append(Event("bad", data))
            else:
                events.append(Event("packet", data))
        del buf[:i]
        return events


# ---- qCRC --------------------------------------------------------------------------------------------------------
def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def gdb_crc32(data: bytes, crc: int = 0xFFFFFFFF) -> int:
    """The CRC of GDB's qCRC packet (libiberty xcrc32: polynomial 0x04C11DB7, MSB first, no final XOR; GDB starts
    from 0xFFFFFFFF)."""
    table = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ b) & 0xFF]
    return crc


# ---- hex helpers --------------------------------------------------------------------------------------------------
def parse_hex(text: bytes | str, what: str = "number") -> int:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    # Hex digits only: int(text, 16) alone would also take "-1", " 1", "+1", "0x1" and "1_0".
    if not text or len(text) > 16 or text.strip("0123456789abcdefABCDEF"):
        raise ProtocolError(f"bad {what}: {text!r}")
    return int(text, 16)


def hex_bytes(data: bytes) -> bytes:
    return data.hex().encode("ascii")


def unhex_bytes(text: bytes) -> bytes:
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("bad hex data") from None


def hex_text(text: str) -> bytes:
    """Console output for `O` packets and qRcmd replies."""
    return text.encode("utf-8").hex().encode("ascii")
