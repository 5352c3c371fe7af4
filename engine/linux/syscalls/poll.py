"""Waiting on descriptors: poll/ppoll, select/pselect6, epoll, eventfd. Time-outs are virtual time."""
from __future__ import annotations

import struct

from .. import abi
from ..abi import EBADF, EINVAL, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI
from ..errors import LinuxError
from ..files import Epoll, EventFd
from ..waiting import BLOCKED, Block
from . import read_timespec, s32, syscall, time64_syscall, write_timespec

SELECT_READ = POLLIN | POLLHUP | POLLERR
SELECT_WRITE = POLLOUT | POLLERR
SELECT_EXCEPT = POLLPRI


def _deadline(k, timeout_ns: int | None) -> int | None:
    return None if timeout_ns is None else k.now_ps() + timeout_ns * 1000


def _with_mask(k, t, mask_address: int, size: int):
    """ppoll/pselect6/epoll_pwait: the signal mask to use while waiting (restored when the call returns, or
    after the handler of the signal that interrupted it)."""
    if not mask_address:
        return
    if size != 8:
        raise LinuxError(EINVAL)
    mask = struct.unpack("<Q", t.process.memory.read(mask_address, 8))[0]
    t.saved_mask = t.sigmask
    t.sigmask = mask & ~((1 << 8) | (1 << 18))


def _restore_mask(t, interrupted: bool) -> None:
    if t.saved_mask is not None and not interrupted:
        t.sigmask, t.saved_mask = t.saved_mask, None


def _wait_until_ready(k, t, scan, publish, waitables, timeout_ns: int | None, what: str, **block):
    """The wait poll, select and epoll_wait share: `scan()` -> (how many are ready, what to report). Once any is
    ready, or at the time-out (at once for a zero time-out), `publish(report)` writes the report for the app, the
    signal mask ppoll/pselect6/epoll_pwait replaced comes back, and the count is the result; until then the thread
    sleeps on `waitables`. `block`: further Block settings (poll: on_interrupt)."""
    def attempt(final: bool = False):
        ready, report = scan()
        if ready or final:
            publish(report)
            _restore_mask(t, False)
            return ready
        return BLOCKED

    first = attempt(timeout_ns == 0)
    if first is not BLOCKED:
        return first
    return Block(attempt, waitables, _deadline(k, timeout_ns), on_timeout=lambda: attempt(True), restartable=False,
                 what=what, **block)


# ---- poll ----------------------------------------------------------------------------------------------------------
def _poll(k, t, fds_address: int, nfds: int, timeout_ns: int | None, remain=None):
    if nfds > 1024:
        raise LinuxError(EINVAL)
    mem = t.process.memory
    raw = mem.read(fds_address, 8 * nfds)
    entries = [struct.unpack_from("<ihh", raw, 8 * i) for i in range(nfds)]
    files = []
    for fd, events, _ in entries:
        f = t.process.fds.get(fd)
        files.append(f.file if f is not None and fd >= 0 else None)

    def scan():
        out = bytearray(raw)
        ready = 0
        for i, ((fd, events, _), f) in enumerate(zip(entries, files)):
            if fd < 0:
                revents = 0
            elif f is None:
                revents = POLLNVAL
            else:
                revents = f.poll() & (events | POLLERR | POLLHUP)
            struct.pack_into("<h", out, 8 * i + 6, revents)
            if revents:
                ready += 1
        return ready, bytes(out)

    return _wait_until_ready(k, t, scan, lambda out: mem.write(fds_address, out),
                             [f for f in files if f is not None], timeout_ns, "poll",
                             on_interrupt=lambda: -abi.EINTR)


@syscall("poll")
def poll(k, t, a):
    timeout = s32(a[2])
    return _poll(k, t, a[0], a[1], None if timeout < 0 else timeout * 1_000_000)


@time64_syscall("ppoll", "ppoll_time64")
def _ppoll(k, t, a, time64):
    timeout = None if not a[2] else read_timespec(t.process.memory, a[2], time64)
    _with_mask(k, t, a[3], a[4])
    return _poll(k, t, a[0], a[1], timeout)


# ---- select ----------------------------------------------------------------------------------------------------------
def _select(k, t, nfds: int, sets: tuple[int, int, int], timeout_ns: int | None):
    if s32(nfds) < 0 or nfds > 1024:
        raise LinuxError(EINVAL)
    mem = t.process.memory
    nbytes = ((nfds + 31) // 32) * 4
    wanted = [int.from_bytes(mem.read(addr, nbytes), "little") if addr else 0 for addr in sets]
    files = {}
    for fd in range(nfds):
        if any(w >> fd & 1 for w in wanted):
            entry = t.process.fds.get(fd)
            if entry is None:
                raise LinuxError(EBADF)
            files[fd] = entry.file

    def scan():
        result = [0, 0, 0]
        count = 0
        for fd, f in files.items():
            mask = f.poll()
            for i, bits in enumerate((SELECT_READ, SELECT_WRITE, SELECT_EXCEPT)):
                if wanted[i] >> fd & 1 and mask & bits:
                    result[i] |= 1 << fd
                    count += 1
        return count, result

    def publish(result):
        for addr, bits in zip(sets, result):
            if addr:
                mem.write(addr, bits.to_bytes(nbytes, "little"))

    return _wait_until_ready(k, t, scan, publish, list(files.values()), timeout_ns, "select")


@syscall("_newselect")
def newselect(k, t, a):
    timeout = None
    if a[4]:
        sec, usec = struct.unpack("<ii", t.process.memory.read(a[4], 8))
        if sec < 0 or not 0 <= usec < 1_000_000:
            raise LinuxError(EINVAL)
        timeout = sec * 1_000_000_000 + usec * 1000
    return _select(k, t, a[0], (a[1], a[2], a[3]), timeout)


@time64_syscall("pselect6", "pselect6_time64")
def _pselect(k, t, a, time64):
    timeout = None if not a[4] else read_timespec(t.process.memory, a[4], time64)
    if a[5]:
        mask_address, size = struct.unpack("<II", t.process.memory.read(a[5], 8))
        _with_mask(k, t, mask_address, size)
    return _select(k, t, a[0], (a[1], a[2], a[3]), timeout)


# ---- epoll ---------------------------------------------------------------------------------------------------------
@syscall("epoll_create")
def epoll_create(k, t, a):
    if s32(a[0]) <= 0:
        raise LinuxError(EINVAL)
    return t.process.install(Epoll(0))


@syscall("epoll_create1")
def epoll_create1(k, t, a):
    if a[0] & ~abi.O_CLOEXEC:
        raise LinuxError(EINVAL)
    return t.process.install(Epoll(0), cloexec=bool(a[0] & abi.O_CLOEXEC))


def _epoll(t, fd: int) -> Epoll:
    f = t.process.file(s32(fd))
    if not isinstance(f, Epoll):
        raise LinuxError(EINVAL)
    return f


@syscall("epoll_ctl")
def epoll_ctl(k, t, a):
    ep = _epoll(t, a[0])
    op, fd = a[1], s32(a[2])
    target = t.process.file(fd)
    events = data = 0
    if op != abi.EPOLL_CTL_DEL:
        events, data = struct.unpack("<I4xQ", t.process.memory.read(a[3], abi.EPOLL_EVENT_SIZE))
    ep.ctl(op, fd, target, events, data)
    return 0


def _epoll_wait(k, t, epfd: int, events_address: int, max_events: int, timeout_ns: int | None):
    ep = _epoll(t, epfd)
    if s32(max_events) <= 0 or max_events > 0x7FFFFFFF // abi.EPOLL_EVENT_SIZE:
        raise LinuxError(EINVAL)
    mem = t.process.memory
    mem._check(events_address, max_events * abi.EPOLL_EVENT_SIZE, abi.PROT_WRITE)

    def scan():
        ready = ep.ready(max_events)
        return len(ready), ready

    def publish(ready):
        mem.write(events_address, b"".join(struct.pack("<I4xQ", ev & 0xFFFFFFFF, data) for ev, data in ready))

    return _wait_until_ready(k, t, scan, publish, [ep], timeout_ns, f"epoll_wait fd {s32(epfd)}")


@syscall("epoll_wait")
def epoll_wait(k, t, a):
    timeout = s32(a[3])
    return _epoll_wait(k, t, a[0], a[1], a[2], None if timeout < 0 else timeout * 1_000_000)


@syscall("epoll_pwait")
def epoll_pwait(k, t, a):
    timeout = s32(a[3])
    _with_mask(k, t, a[4], a[5])
    return _epoll_wait(k, t, a[0], a[1], a[2], None if timeout < 0 else timeout * 1_000_000)


@syscall("epoll_pwait2")
def epoll_pwait2(k, t, a):
    timeout = None if not a[3] else read_timespec(t.process.memory, a[3], True)
    _with_mask(k, t, a[4], a[5])
    return _epoll_wait(k, t, a[0], a[1], a[2], timeout)


# ---- eventfd --------------------------------------------------------------------------------------------------------
@syscall("eventfd")
def eventfd(k, t, a):
    return t.process.install(EventFd(a[0], False, 0))


@syscall("eventfd2")
def eventfd2(k, t, a):
    flags = a[1]
    if flags & ~(abi.O_CLOEXEC | abi.O_NONBLOCK | abi.EFD_SEMAPHORE):
        raise LinuxError(EINVAL)
    f = EventFd(a[0], bool(flags & abi.EFD_SEMAPHORE), flags & abi.O_NONBLOCK)
    return t.process.install(f, cloexec=bool(flags & abi.O_CLOEXEC))


_ = write_timespec
