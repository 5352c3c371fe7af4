"""Helpers of the A7 tests: a tiny ELF writer for hand-assembled code."""
from __future__ import annotations

import struct


def minimal_elf(code: bytes, entry_offset: int = 0, base: int = 0x10000, thumb: bool = False) -> bytes:
    """An ET_EXEC ARM ELF with one RX PT_LOAD holding `code` at `base` + 0x1000 (hard-float flags)."""
    ehdr_size, phdr_size = 52, 32
    text = base + 0x1000
    entry = text + entry_offset + (1 if thumb else 0)
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, entry, ehdr_size, 0, 0x05000400, ehdr_size, phdr_size, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x1000, text, text, len(code), len(code), 5, 0x1000)
    return (ehdr + phdr).ljust(0x1000, b"\0") + code
