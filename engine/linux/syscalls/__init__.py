"""Syscall handlers of the Linux personality, registered by name (abi.SYSCALL_NUMBERS).

A handler is `handler(kernel, thread, args) -> int | Block | NO_RESULT` where args are r0-r6. It returns the
result (>= 0), raises LinuxError(errno) (the guest sees -errno), returns a Block when it must wait (waiting.py),
or NO_RESULT (waiting.py) when it set the thread's registers itself. 64-bit arguments come in even/odd register pairs, low
word first (ARM EABI).
"""
from __future__ import annotations

import struct
from typing import Callable

from ..abi import SYSCALL_NUMBERS

HANDLERS: dict[int, Callable] = {}


def syscall(*names: str):
    def register(fn):
        for name in names:
            HANDLERS[SYSCALL_NUMBERS[name]] = fn
        return fn
    return register


def time64_syscall(name32: str, name64: str):
    """Register `impl(k, t, args, time64)` as the syscall with 32-bit times (`name32`, time64 False) and as its twin
    with 64-bit times (`name64`, the y2038-safe calls 32-bit ARM has since Linux 5.1; time64 True)."""
    def register(impl):
        syscall(name32)(lambda k, t, a: impl(k, t, a, False))
        syscall(name64)(lambda k, t, a: impl(k, t, a, True))
        return impl
    return register


def s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def u64(lo: int, hi: int) -> int:
    return (hi & 0xFFFFFFFF) << 32 | (lo & 0xFFFFFFFF)


def s64(lo: int, hi: int) -> int:
    v = u64(lo, hi)
    return v - (1 << 64) if v >> 63 else v


def read_timespec(memory, address: int, time64: bool) -> int:
    """A struct timespec -> nanoseconds (EINVAL for a bad tv_nsec). time64: {s64 sec, s32 nsec, pad}."""
    from ..abi import EINVAL
    from ..errors import LinuxError
    if time64:
        sec, nsec = struct.unpack("<qi", memory.read(address, 12))
    else:
        sec, nsec = struct.unpack("<ii", memory.read(address, 8))
    if not 0 <= nsec < 1_000_000_000 or sec < 0:
        raise LinuxError(EINVAL, "bad timespec")
    return sec * 1_000_000_000 + nsec


def pack_timespec(ns: int, time64: bool) -> bytes:
    sec, nsec = divmod(max(0, ns), 1_000_000_000)
    if time64:
        return struct.pack("<qii", sec, nsec, 0)
    return struct.pack("<ii", min(sec, 0x7FFFFFFF), nsec)


def write_timespec(memory, address: int, ns: int, time64: bool) -> None:
    memory.write(address, pack_timespec(ns, time64))


from . import fs, mm, net, poll, proc, signal, time  # noqa: E402,F401  (they register themselves)

__all__ = ["HANDLERS", "syscall", "fs", "mm", "net", "poll", "proc", "signal", "time"]
