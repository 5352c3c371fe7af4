"""Kernel objects behind file descriptors that are not files: pipes, eventfd, timerfd and epoll.

Each is an OpenFile (vfs.py) and so a Waitable: a change of readiness calls `changed()`, which wakes threads
blocked in read/write/poll/select/epoll on it. timerfd expirations are events on the machine's virtual clock.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from .abi import (EBADF, EEXIST, EINVAL, ENOENT, EPERM, EPIPE, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLONESHOT,
                  O_RDONLY, O_WRONLY, POLLERR, POLLHUP, POLLIN, POLLOUT, S_IFIFO, S_IFREG, TFD_TIMER_ABSTIME)
from .errors import LinuxError
from .vfs import BytesFile, DirectoryFile, HostFile, MemFile, OpenFile, Stat
from .waiting import WouldBlock

PIPE_CAPACITY = 65536


class PipeBuffer:
    def __init__(self) -> None:
        self.data = bytearray()
        self.readers = 0
        self.writers = 0
        self.ends: list["PipeEnd"] = []

    def notify(self) -> None:
        for end in list(self.ends):
            end.changed()


class PipeEnd(OpenFile):
    def __init__(self, buffer: PipeBuffer, write_end: bool, flags: int) -> None:
        super().__init__((O_WRONLY if write_end else O_RDONLY) | flags, "pipe:")
        self.buffer = buffer
        self.write_end = write_end
        buffer.ends.append(self)
        if write_end:
            buffer.writers += 1
        else:
            buffer.readers += 1

    def poll(self) -> int:
        b = self.buffer
        if self.write_end:
            if not b.readers:
                return POLLOUT | POLLERR
            return POLLOUT if len(b.data) < PIPE_CAPACITY else 0
        mask = POLLIN if b.data else 0
        if not b.writers:
            mask |= POLLHUP
        return mask

    def read(self, count: int) -> bytes:
        if self.write_end:
            raise LinuxError(EBADF)
        b = self.buffer
        if not b.data:
            if not b.writers:
                return b""
            raise WouldBlock()
        out = bytes(b.data[:count])
        del b.data[:count]
        b.notify()
        return out

    def write(self, data: bytes) -> int:
        if not self.write_end:
            raise LinuxError(EBADF)
        b = self.buffer
        if not b.readers:
            raise LinuxError(EPIPE)
        room = PIPE_CAPACITY - len(b.data)
        if room <= 0:
            raise WouldBlock()
        n = min(room, len(data))
        b.data += data[:n]
        b.notify()
        return n

    def ioctl(self, request: int, arg: int, memory) -> int:
        if request == 0x541B:  # FIONREAD
            memory.write_u32(arg, len(self.buffer.data))
            return 0
        return super().ioctl(request, arg, memory)

    def stat(self) -> Stat:
        return Stat(S_IFIFO | 0o600, len(self.buffer.data))

    def release(self) -> None:
        b = self.buffer
        if self.write_end:
            b.writers -= 1
        else:
            b.readers -= 1
        b.ends.remove(self)
        b.notify()


def make_pipe(flags: int) -> tuple[PipeEnd, PipeEnd]:
    buffer = PipeBuffer()
    return PipeEnd(buffer, False, flags), PipeEnd(buffer, True, flags)


class EventFd(OpenFile):
    """eventfd(2): a 64-bit counter; read takes it (or one, in semaphore mode), write adds."""

    def __init__(self, initial: int, semaphore: bool, flags: int) -> None:
        super().__init__(flags | 2, "anon_inode:[eventfd]")
        self.counter = initial
        self.semaphore = semaphore

    def poll(self) -> int:
        mask = POLLIN if self.counter else 0
        if self.counter < 0xFFFFFFFFFFFFFFFE:
            mask |= POLLOUT
        return mask

    def read(self, count: int) -> bytes:
        if count < 8:
            raise LinuxError(EINVAL)
        if not self.counter:
            raise WouldBlock()
        value = 1 if self.semaphore else self.counter
        self.counter -= value
        self.changed()
        return struct.pack("<Q", value)

    def write(self, data: bytes) -> int:
        if len(data) < 8:
            raise LinuxError(EINVAL)
        value = struct.unpack_from("<Q", data)[0]
        if value == 0xFFFFFFFFFFFFFFFF:
            raise LinuxError(EINVAL)
        if self.counter + value > 0xFFFFFFFFFFFFFFFE:
            raise WouldBlock()
        self.counter += value
        self.changed()
        return 8

    def stat(self) -> Stat:
        return Stat(S_IFREG | 0o600)


class TimerFd(OpenFile):
    """timerfd(2) on the virtual clock. `clock` gives now (ns on this timer's clock) and schedules callbacks at a
    time on the same clock: Clock(now_ns, schedule_at_ns(ns, callback) -> cancellable)."""

    def __init__(self, clock: "TimerClock", flags: int) -> None:
        super().__init__(flags | 2, "anon_inode:[timerfd]")
        self.clock = clock
        self.expirations = 0
        self.next_ns: int | None = None      # absolute, on the timer's clock
        self.interval_ns = 0
        self._event = None

    def poll(self) -> int:
        return POLLIN if self.expirations else 0

    def read(self, count: int) -> bytes:
        if count < 8:
            raise LinuxError(EINVAL)
        if not self.expirations:
            raise WouldBlock()
        value, self.expirations = self.expirations, 0
        return struct.pack("<Q", value)

    def gettime(self) -> tuple[int, int]:
        """(interval ns, remaining ns until the next expiry; 0 = disarmed)."""
        if self.next_ns is None:
            return self.interval_ns, 0
        return self.interval_ns, max(1, self.next_ns - self.clock.now_ns())

    def settime(self, flags: int, interval_ns: int, value_ns: int) -> tuple[int, int]:
        old = self.gettime()
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.expirations = 0
        self.interval_ns = interval_ns
        if value_ns == 0:
            self.next_ns = None
        else:
            now = self.clock.now_ns()
            self.next_ns = value_ns if flags & TFD_TIMER_ABSTIME else now + value_ns
            self._arm()
        self.changed()
        return old

    def _arm(self) -> None:
        self._event = self.clock.schedule_at_ns(self.next_ns, self._expire)

    def _expire(self) -> None:
        self._event = None
        now = self.clock.now_ns()
        if self.next_ns is None:
            return
        if self.interval_ns:
            missed = max(0, (now - self.next_ns) // self.interval_ns)
            self.expirations += 1 + missed
            self.next_ns += (1 + missed) * self.interval_ns
            self._arm()
        else:
            self.expirations += 1
            self.next_ns = None
        self.changed()

    def release(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def stat(self) -> Stat:
        return Stat(S_IFREG | 0o600)


@dataclass
class TimerClock:
    now_ns: Callable[[], int]
    schedule_at_ns: Callable[[int, Callable[[], None]], object]


@dataclass
class Interest:
    fd: int
    file: OpenFile
    events: int
    data: int
    generation: int = -1      # edge-triggered: the file generation last reported
    disabled: bool = False    # EPOLLONESHOT after a report


class Epoll(OpenFile):
    """epoll(7): an interest list of (fd, open file); level-triggered by default, EPOLLET and EPOLLONESHOT."""

    def __init__(self, flags: int) -> None:
        super().__init__(flags | 2, "anon_inode:[eventpoll]")
        self.interests: dict[tuple[int, int], Interest] = {}   # (fd, id(file)) -> interest

    def _key(self, fd: int, file: OpenFile) -> tuple[int, int]:
        return fd, id(file)

    def ctl(self, op: int, fd: int, file: OpenFile, events: int, data: int) -> None:
        if file is self:
            raise LinuxError(EINVAL)
        if isinstance(file, (BytesFile, MemFile, HostFile, DirectoryFile)):
            raise LinuxError(EPERM)   # regular files and directories cannot be watched (epoll_ctl(2))
        key = self._key(fd, file)
        if op == 1:      # ADD
            if key in self.interests:
                raise LinuxError(EEXIST)
            self.interests[key] = Interest(fd, file, events | EPOLLERR | EPOLLHUP, data)
            file.add_waiter(self._member_changed)
        elif op == 2:    # DEL
            if key not in self.interests:
                raise LinuxError(ENOENT)
            del self.interests[key]
            if not any(i.file is file for i in self.interests.values()):
                file.remove_waiter(self._member_changed)
        elif op == 3:    # MOD
            interest = self.interests.get(key)
            if interest is None:
                raise LinuxError(ENOENT)
            interest.events = events | EPOLLERR | EPOLLHUP
            interest.data = data
            interest.disabled = False
            interest.generation = -1
        else:
            raise LinuxError(EINVAL)
        self.changed()

    def forget(self, fd: int, file: OpenFile) -> None:
        """The descriptor was closed: drop its interest (Linux does so when the open file goes away)."""
        if self.interests.pop(self._key(fd, file), None) is not None:
            if not any(i.file is file for i in self.interests.values()):
                file.remove_waiter(self._member_changed)

    def _member_changed(self) -> None:
        self.changed()

    def release(self) -> None:
        for interest in self.interests.values():
            interest.file.remove_waiter(self._member_changed)
        self.interests.clear()

    def ready(self, max_events: int) -> list[tuple[int, int]]:
        """(events, data) of ready interests, in registration order; consumes edge/one-shot state."""
        out = []
        for interest in list(self.interests.values()):
            if len(out) >= max_events:
                break
            if interest.disabled:
                continue
            mask = interest.file.poll() & interest.events
            if not mask:
                continue
            if interest.events & EPOLLET:
                if interest.generation == interest.file.generation:
                    continue
                interest.generation = interest.file.generation
            if interest.events & EPOLLONESHOT:
                interest.disabled = True
            out.append((mask, interest.data))
        return out

    def poll(self) -> int:
        for interest in self.interests.values():
            if not interest.disabled and interest.file.poll() & interest.events:
                if interest.events & EPOLLET and interest.generation == interest.file.generation:
                    continue
                return POLLIN
        return 0

    def stat(self) -> Stat:
        return Stat(S_IFREG | 0o600)

