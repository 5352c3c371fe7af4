"""Signals: rt_sigaction, rt_sigprocmask, sigreturn, sigaltstack, kill/tkill/tgkill, rt_sigsuspend, sigpending,
rt_sigtimedwait."""
from __future__ import annotations

import struct

from .. import abi
from ..abi import EINVAL, ENOMEM, EPERM, ESRCH, EAGAIN, SIGKILL, SIGSTOP, SS_DISABLE, SS_ONSTACK
from ..errors import LinuxError
from ..signals import SigAction, SigInfo
from ..waiting import BLOCKED, Block
from . import read_timespec, s32, syscall, time64_syscall

UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1))


def _check_signal(sig: int) -> int:
    sig = s32(sig)
    if not 1 <= sig <= abi.NSIG:
        raise LinuxError(EINVAL)
    return sig


@syscall("rt_sigaction")
def rt_sigaction(k, t, a):
    sig, act, oldact, size = _check_signal(a[0]), a[1], a[2], a[3]
    if size != 8:
        raise LinuxError(EINVAL)
    p = t.process
    mem = p.memory
    old = p.action(sig)
    if act:
        handler, flags, restorer, mask = struct.unpack("<IIIQ", mem.read(act, 20))
        if sig in (SIGKILL, SIGSTOP):
            raise LinuxError(EINVAL)
        p.sigactions[sig] = SigAction(handler, flags, restorer, mask & ~UNBLOCKABLE)
        if handler == abi.SIG_IGN or (handler == abi.SIG_DFL and sig in abi.IGNORED_BY_DEFAULT):
            # Setting SIG_IGN discards what is pending for that signal (POSIX).
            p.pending = [i for i in p.pending if i.signo != sig]
            for th in p.threads:
                th.pending = [i for i in th.pending if i.signo != sig or i.forced]
    if oldact:
        mem.write(oldact, struct.pack("<IIIQ", old.handler, old.flags, old.restorer, old.mask))
    return 0


@syscall("rt_sigprocmask")
def rt_sigprocmask(k, t, a):
    how, new, old, size = a[0], a[1], a[2], a[3]
    if size != 8:
        raise LinuxError(EINVAL)
    mem = t.process.memory
    previous = t.sigmask
    if new:
        mask = struct.unpack("<Q", mem.read(new, 8))[0]
        if how == abi.SIG_BLOCK:
            t.sigmask |= mask
        elif how == abi.SIG_UNBLOCK:
            t.sigmask &= ~mask
        elif how == abi.SIG_SETMASK:
            t.sigmask = mask
        else:
            raise LinuxError(EINVAL)
        t.sigmask &= ~UNBLOCKABLE
    if old:
        mem.write(old, struct.pack("<Q", previous))
    return 0


@syscall("rt_sigreturn")
def rt_sigreturn(k, t, a):
    return k.sigreturn(t, True)


@syscall("sigreturn")
def sigreturn(k, t, a):
    return k.sigreturn(t, False)


@syscall("rt_sigpending")
def rt_sigpending(k, t, a):
    bits = 0
    for info in t.pending + t.process.pending:
        bits |= 1 << (info.signo - 1)
    t.process.memory.write(a[0], struct.pack("<Q", bits & t.sigmask))
    return 0


@syscall("rt_sigsuspend")
def rt_sigsuspend(k, t, a):
    if a[1] != 8:
        raise LinuxError(EINVAL)
    mask = struct.unpack("<Q", t.process.memory.read(a[0], 8))[0]
    t.saved_mask = t.sigmask
    t.sigmask = mask & ~UNBLOCKABLE
    return Block(lambda: BLOCKED, [], None, restartable=False, what="sigsuspend")


@time64_syscall("rt_sigtimedwait", "rt_sigtimedwait_time64")
def _sigtimedwait(k, t, a, time64):
    mask_address, info_address, timeout, size = a[0], a[1], a[2], a[3]
    if size != 8:
        raise LinuxError(EINVAL)
    wanted = struct.unpack("<Q", t.process.memory.read(mask_address, 8))[0] & ~UNBLOCKABLE
    timeout_ns = read_timespec(t.process.memory, timeout, time64) if timeout else None

    def take():
        for queue in (t.pending, t.process.pending):
            for info in queue:
                if wanted >> (info.signo - 1) & 1:
                    queue.remove(info)
                    if info_address:
                        t.process.memory.write(info_address, info.pack())
                    return info.signo
        return BLOCKED

    got = take()
    if got is not BLOCKED:
        return got
    if timeout_ns == 0:
        raise LinuxError(EAGAIN)
    # The waited-for signals are taken even when blocked: wake on any arrival.
    deadline = None if timeout_ns is None else k.now_ps() + timeout_ns * 1000
    block = Block(take, [], deadline, on_timeout=lambda: -EAGAIN, restartable=False, what="sigtimedwait")
    t.sigwait_mask = wanted
    return block


@syscall("sigaltstack")
def sigaltstack(k, t, a):
    new, old = a[0], a[1]
    mem = t.process.memory
    ss_sp, ss_flags, ss_size = t.altstack
    sp = k.context(t).regs[13]
    on_stack = ss_flags != SS_DISABLE and ss_sp <= sp < ss_sp + ss_size
    if old:
        mem.write(old, struct.pack("<IiI", ss_sp, SS_ONSTACK if on_stack else ss_flags, ss_size))
    if new:
        if on_stack:
            raise LinuxError(EPERM)
        sp_new, flags, size = struct.unpack("<IiI", mem.read(new, 12))
        if flags & ~(SS_DISABLE | (1 << 31)):
            raise LinuxError(EINVAL)
        if flags & SS_DISABLE:
            t.altstack = (0, SS_DISABLE, 0)
        else:
            if size < abi.MINSIGSTKSZ:
                raise LinuxError(ENOMEM)
            t.altstack = (sp_new, 0, size)
    return 0


def _signal_info(k, t, sig: int, code: int) -> SigInfo:
    return SigInfo(sig, code, pid=t.process.pid, uid=t.process.uid)


@syscall("kill")
def kill(k, t, a):
    pid, sig = s32(a[0]), s32(a[1])
    if not 0 <= sig <= abi.NSIG:
        raise LinuxError(EINVAL)
    if pid not in (0, -1, t.process.pid, -t.process.pid):
        raise LinuxError(ESRCH)
    if sig:
        k.send_signal(sig, _signal_info(k, t, sig, abi.SI_USER))
    return 0


def _thread(t, tid: int):
    for th in t.process.live_threads():
        if th.tid == tid:
            return th
    raise LinuxError(ESRCH)


@syscall("tkill")
def tkill(k, t, a):
    target = _thread(t, s32(a[0]))
    sig = s32(a[1])
    if not 0 <= sig <= abi.NSIG:
        raise LinuxError(EINVAL)
    if sig:
        k.send_signal(sig, _signal_info(k, t, sig, abi.SI_TKILL), thread=target)
    return 0


@syscall("tgkill")
def tgkill(k, t, a):
    if s32(a[0]) != t.process.pid:
        raise LinuxError(ESRCH)
    return tkill(k, t, (a[1], a[2]))
