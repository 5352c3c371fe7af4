"""Clocks, sleeps and timerfd on virtual time (CLOCK_REALTIME = an emulator-defined epoch + virtual time)."""
from __future__ import annotations

import struct

from .. import abi
from ..abi import EINVAL, EBADF
from ..errors import LinuxError
from ..files import TimerFd
from ..waiting import BLOCKED, Block
from . import pack_timespec, read_timespec, s32, syscall, time64_syscall, write_timespec

REALTIME_CLOCKS = (abi.CLOCK_REALTIME, abi.CLOCK_REALTIME_COARSE, abi.CLOCK_REALTIME_ALARM, abi.CLOCK_TAI)
MONOTONIC_CLOCKS = (abi.CLOCK_MONOTONIC, abi.CLOCK_MONOTONIC_RAW, abi.CLOCK_MONOTONIC_COARSE, abi.CLOCK_BOOTTIME,
                    abi.CLOCK_BOOTTIME_ALARM)


def clock_now_ns(k, t, clock_id: int) -> int:
    clock_id = s32(clock_id)
    if clock_id in REALTIME_CLOCKS:
        return k.realtime_ns()
    if clock_id in MONOTONIC_CLOCKS:
        return k.monotonic_ns()
    if clock_id == abi.CLOCK_PROCESS_CPUTIME_ID:
        total = sum(x.cpu_instructions for x in t.process.threads) + k.core.budget.executed
        return total * 1_000_000_000 // k.core.hz
    if clock_id == abi.CLOCK_THREAD_CPUTIME_ID or clock_id < 0:   # pthread_getcpuclockid gives negative ids
        return (t.cpu_instructions + k.core.budget.executed) * 1_000_000_000 // k.core.hz
    raise LinuxError(EINVAL, f"clock {clock_id}")


@syscall("clock_gettime")
def clock_gettime(k, t, a):
    write_timespec(t.process.memory, a[1], clock_now_ns(k, t, a[0]), False)
    return 0


@syscall("clock_gettime64")
def clock_gettime64(k, t, a):
    write_timespec(t.process.memory, a[1], clock_now_ns(k, t, a[0]), True)
    return 0


@time64_syscall("clock_getres", "clock_getres_time64")
def _getres(k, t, a, time64):
    clock_now_ns(k, t, a[0])
    if a[1]:
        write_timespec(t.process.memory, a[1], 1, time64)
    return 0


@syscall("gettimeofday")
def gettimeofday(k, t, a):
    if a[0]:
        sec, ns = divmod(k.realtime_ns(), 1_000_000_000)
        # A 32-bit timeval cannot hold a time past 2038 (set with clock_settime64): held at its maximum, as the
        # 32-bit timespec of clock_gettime is (pack_timespec).
        t.process.memory.write(a[0], struct.pack("<ii", min(sec, 0x7FFFFFFF), ns // 1000))
    if a[1]:
        t.process.memory.write(a[1], struct.pack("<ii", 0, 0))
    return 0


# kernel/time/timekeeping.c refuses to set the clock at or past KTIME_SEC_MAX less 30 years of uptime
# (timespec64_valid_settod), and before 1970.
TIME_SETTOD_SEC_MAX = (2**63 - 1) // 1_000_000_000 - 30 * 365 * 86400


def _settime(k, t, clock_id: int, ns: int) -> int:
    if s32(clock_id) not in REALTIME_CLOCKS[:1] or not 0 <= ns // 1_000_000_000 < TIME_SETTOD_SEC_MAX:
        raise LinuxError(EINVAL)
    k.realtime_offset_ns = ns - k.monotonic_ns()
    return 0


@syscall("clock_settime")
def clock_settime(k, t, a):
    return _settime(k, t, a[0], read_timespec(t.process.memory, a[1], False))


@syscall("clock_settime64")
def clock_settime64(k, t, a):
    return _settime(k, t, a[0], read_timespec(t.process.memory, a[1], True))


@syscall("settimeofday")
def settimeofday(k, t, a):
    if not a[0]:
        return 0
    sec, usec = struct.unpack("<ii", t.process.memory.read(a[0], 8))
    if not 0 <= usec < 1_000_000:
        raise LinuxError(EINVAL)
    return _settime(k, t, 0, sec * 1_000_000_000 + usec * 1000)


def _sleep(k, t, clock_id: int, flags: int, request: int, remain: int, time64: bool):
    clock_id = s32(clock_id)
    if clock_id not in REALTIME_CLOCKS + MONOTONIC_CLOCKS:
        raise LinuxError(EINVAL)
    ns = read_timespec(t.process.memory, request, time64)
    now = clock_now_ns(k, t, clock_id)
    target = ns if flags & abi.TIMER_ABSTIME else now + ns
    if target <= now:
        return 0
    deadline_ps = k.now_ps() + (target - now) * 1000

    def left() -> int:
        if remain and not flags & abi.TIMER_ABSTIME:
            remaining = max(0, deadline_ps - k.now_ps()) // 1000
            write_timespec(t.process.memory, remain, remaining, time64)
        return -abi.EINTR

    def retry():
        return 0 if k.now_ps() >= deadline_ps else BLOCKED

    block = Block(retry, [], deadline_ps, on_timeout=lambda: 0, restartable=False, what="nanosleep")
    block.on_interrupt = left
    return block


@syscall("nanosleep")
def nanosleep(k, t, a):
    return _sleep(k, t, abi.CLOCK_MONOTONIC, 0, a[0], a[1], False)


@syscall("clock_nanosleep")
def clock_nanosleep(k, t, a):
    return _sleep(k, t, a[0], a[1], a[2], a[3], False)


@syscall("clock_nanosleep_time64")
def clock_nanosleep_time64(k, t, a):
    return _sleep(k, t, a[0], a[1], a[2], a[3], True)


@syscall("times")
def times(k, t, a):
    ticks = sum(x.cpu_instructions for x in t.process.threads) * 100 // k.core.hz
    if a[0]:
        t.process.memory.write(a[0], struct.pack("<iiii", ticks, 0, 0, 0))
    return k.monotonic_ns() // 10_000_000


# ---- timerfd ----------------------------------------------------------------------------------------------------------
@syscall("timerfd_create")
def timerfd_create(k, t, a):
    clock_id, flags = s32(a[0]), a[1]
    if clock_id not in REALTIME_CLOCKS + MONOTONIC_CLOCKS or flags & ~(abi.O_CLOEXEC | abi.O_NONBLOCK):
        raise LinuxError(EINVAL)
    f = TimerFd(k.timer_clock(clock_id), flags & abi.O_NONBLOCK)
    return t.process.install(f, cloexec=bool(flags & abi.O_CLOEXEC))


def _timerfd(t, fd: int) -> TimerFd:
    f = t.process.file(s32(fd))
    if not isinstance(f, TimerFd):
        raise LinuxError(EINVAL)
    return f


def _itimerspec(memory, address: int, time64: bool) -> tuple[int, int]:
    size = 16 if time64 else 8
    return read_timespec(memory, address, time64), read_timespec(memory, address + size, time64)


@time64_syscall("timerfd_settime", "timerfd_settime64")
def _settime_fd(k, t, a, time64):
    f = _timerfd(t, a[0])
    if a[1] & ~(abi.TFD_TIMER_ABSTIME | abi.TFD_TIMER_CANCEL_ON_SET):
        raise LinuxError(EINVAL)
    interval, value = _itimerspec(t.process.memory, a[2], time64)
    old = f.settime(a[1], interval, value)
    if a[3]:
        t.process.memory.write(a[3], pack_timespec(old[0], time64) + pack_timespec(old[1], time64))
    return 0


@time64_syscall("timerfd_gettime", "timerfd_gettime64")
def _gettime_fd(k, t, a, time64):
    interval, remaining = _timerfd(t, a[0]).gettime()
    t.process.memory.write(a[1], pack_timespec(interval, time64) + pack_timespec(remaining, time64))
    return 0


_ = EBADF
