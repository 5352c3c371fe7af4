"""What blocking is made of: things a thread can wait on, and the answer a syscall gives when it must wait.

A syscall handler that cannot finish now returns a `Block`: the thread sleeps until one of the `waitables`
changes or the `deadline` (virtual time, ps) passes, then `retry()` runs again and returns the result, or
`BLOCKED` to keep waiting. Nothing here runs on wall time or in a host thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .abi import EAGAIN
from .errors import LinuxError


class WouldBlock(Exception):
    """Raised by a file operation that has nothing to give yet (read with no data, write with no room). The
    syscall layer turns it into EAGAIN for O_NONBLOCK files, or sleeps the thread until the file changes."""


class Waitable:
    """Anything whose readiness threads wait for. Call `changed()` whenever readiness (poll state) may have
    changed: every waiter is woken and re-checks."""

    def __init__(self) -> None:
        self._waiters: list[Callable[[], None]] = []
        self.generation = 0   # counts changes (edge-triggered epoll)

    def add_waiter(self, callback: Callable[[], None]) -> None:
        self._waiters.append(callback)

    def remove_waiter(self, callback: Callable[[], None]) -> None:
        try:
            self._waiters.remove(callback)
        except ValueError:
            pass

    def changed(self) -> None:
        self.generation += 1
        for callback in list(self._waiters):
            callback()


BLOCKED = object()   # retry() result: still waiting
NO_RESULT = object()     # a syscall handler's result when it set the thread's registers itself (exit, sigreturn)


@dataclass
class Block:
    retry: Callable[[], object]                     # -> int result, or BLOCKED
    waitables: list[Waitable] = field(default_factory=list)
    deadline: int | None = None                      # virtual time (ps) at which on_timeout() answers
    on_timeout: Callable[[], int] | None = None      # default: -ETIMEDOUT
    interruptible: bool = True                       # a signal ends the wait with -EINTR (or restarts it)
    restartable: bool = True                         # SA_RESTART re-executes the call after the handler
    cleanup: Callable[[], None] | None = None        # runs once when the wait ends, however it ends
    on_interrupt: Callable[[], int] | None = None    # result when a signal interrupts (default -EINTR)
    what: str = ""                                   # for diagnostics ("futex 0x...", "read fd 3")


def attempt(op: Callable[[], int], waitable: Waitable, *, nonblocking: bool, deadline: int | None = None,
            on_timeout: Callable[[], int] | None = None, what: str = "") -> int | Block:
    """Run the file operation `op()` now. If it would block (WouldBlock): EAGAIN when `nonblocking` (O_NONBLOCK,
    MSG_DONTWAIT), else a Block that runs it again each time `waitable` changes, until `deadline` if one is given."""
    try:
        return op()
    except WouldBlock:
        if nonblocking:
            raise LinuxError(EAGAIN) from None

    def retry():
        try:
            return op()
        except WouldBlock:
            return BLOCKED
    return Block(retry, [waitable], deadline=deadline, on_timeout=on_timeout, what=what)
