"""Errors of the Linux personality: what a syscall returns as -errno, and what stops a process from starting."""
from __future__ import annotations

from .abi import ERRNO_NAMES


class LinuxError(Exception):
    """A syscall fails with this errno (the guest sees -errno in r0)."""

    def __init__(self, errno: int, detail: str = "") -> None:
        super().__init__(f"{ERRNO_NAMES.get(errno, errno)}{': ' + detail if detail else ''}")
        self.errno = errno
        self.detail = detail


class GuestFault(LinuxError):
    """A guest pointer the kernel cannot follow: EFAULT."""

    def __init__(self, address: int, length: int = 1, write: bool = False) -> None:
        super().__init__(14, f"{'write to' if write else 'read from'} 0x{address:08x} (+{length})")
        self.address = address
        self.write = write


class ExecError(ValueError):
    """A program cannot be started (malformed ELF, missing interpreter, no room): one readable line."""
