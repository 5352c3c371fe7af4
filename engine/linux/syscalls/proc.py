"""Process and thread calls: identity, exit, clone (threads), futex, scheduling, uname, limits, randomness."""
from __future__ import annotations

import struct

from .. import abi
from ..abi import (CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID, CLONE_SETTLS, CLONE_THREAD,
                   CLONE_VM, EAGAIN, ECHILD, EINVAL, ENOSYS, EPERM, ESRCH, FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG)
from ..errors import LinuxError
from ..waiting import NO_RESULT
from . import read_timespec, s32, syscall


@syscall("getpid")
def getpid(k, t, a):
    return t.process.pid


@syscall("gettid")
def gettid(k, t, a):
    return t.tid


@syscall("getppid")
def getppid(k, t, a):
    return 1


@syscall("getuid32", "geteuid32", "getuid", "geteuid")
def getuid(k, t, a):
    return t.process.uid


@syscall("getgid32", "getegid32", "getgid", "getegid")
def getgid(k, t, a):
    return t.process.gid


@syscall("getresuid32", "getresuid")
def getresuid(k, t, a):
    for address in a[:3]:
        t.process.memory.write_u32(address, t.process.uid)
    return 0


@syscall("getresgid32", "getresgid")
def getresgid(k, t, a):
    for address in a[:3]:
        t.process.memory.write_u32(address, t.process.gid)
    return 0


@syscall("getgroups32", "getgroups")
def getgroups(k, t, a):
    return 0


@syscall("setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32", "setresgid32", "setgroups32",
         "setfsuid32", "setfsgid32", "capset", "setuid", "setgid")
def set_identity(k, t, a):
    """An app cannot change its identity or capabilities."""
    raise LinuxError(EPERM)


@syscall("capget")
def capget(k, t, a):
    header, data = a[0], a[1]
    version, _pid = struct.unpack("<Ii", t.process.memory.read(header, 8))
    if version not in (0x19980330, 0x20071026, 0x20080522):
        t.process.memory.write_u32(header, 0x20080522)
        raise LinuxError(EINVAL)
    if data:
        count = 1 if version == 0x19980330 else 2
        t.process.memory.write(data, bytes(12 * count))   # no capabilities
    return 0


@syscall("getpgid", "getsid", "getpgrp")
def getpgid(k, t, a):
    return t.process.pid


@syscall("setsid", "setpgid")
def setsid(k, t, a):
    return t.process.pid


@syscall("exit")
def exit_(k, t, a):
    t.process.exit_code = a[0] & 0xFF
    k.exit_thread(t)
    return k_no_result()


@syscall("exit_group")
def exit_group(k, t, a):
    k.exit_group(t.process, a[0])
    return k_no_result()


def k_no_result():
    return NO_RESULT


@syscall("set_tid_address")
def set_tid_address(k, t, a):
    t.clear_child_tid = a[0]
    return t.tid


@syscall("set_robust_list")
def set_robust_list(k, t, a):
    if a[1] != 12:
        raise LinuxError(EINVAL)
    t.robust_list = a[0]
    return 0


@syscall("get_robust_list")
def get_robust_list(k, t, a):
    t.process.memory.write_u32(a[1], t.robust_list)
    t.process.memory.write_u32(a[2], 12)
    return 0


@syscall("ARM_set_tls")
def set_tls(k, t, a):
    from unicorn import arm_const
    k.core.uc.reg_write(arm_const.UC_ARM_REG_C13_C0_3, a[0])
    return 0


@syscall("ARM_get_tls")
def get_tls(k, t, a):
    from unicorn import arm_const
    return k.core.uc.reg_read(arm_const.UC_ARM_REG_C13_C0_3)


@syscall("ARM_cacheflush")
def cacheflush(k, t, a):
    """Code written by the program itself (a JIT): drop translations of the range."""
    if a[1] > a[0]:
        k.core.invalidate_code(a[0] & ~0xFFF, (a[1] + 0xFFF) & ~0xFFF)
    return 0


@syscall("clone")
def clone(k, t, a):
    flags, stack, ptid, tls, ctid = a[0], a[1], a[2], a[3], a[4]
    needed = CLONE_VM | CLONE_THREAD | abi.CLONE_SIGHAND
    if flags & needed != needed:
        # A second process (fork, posix_spawn) needs a second address space: not on this A7 (an app is one
        # process on Azure Sphere).
        return k._enosys(abi.SYSCALL_NUMBERS["clone"], "clone of a new process (fork)")
    if len(t.process.live_threads()) >= 256:
        raise LinuxError(EAGAIN)
    ctx = k.context(t).copy()
    ctx.regs[0] = 0
    ctx.regs[15] = t.syscall_pc        # the child returns from the same SVC, with 0
    if stack:
        ctx.regs[13] = stack
    if flags & CLONE_SETTLS:
        ctx.tls = tls
    child = k.new_thread(t.process, ctx)
    child.sigmask = t.sigmask
    mem = t.process.memory
    if flags & CLONE_PARENT_SETTID:
        mem.write_u32(ptid, child.tid)
    if flags & CLONE_CHILD_SETTID:
        mem.write_u32(ctid, child.tid)
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_child_tid = ctid
    return child.tid


@syscall("wait4", "waitid")
def wait4(k, t, a):
    raise LinuxError(ECHILD)


@syscall("futex", "futex_time64")
def futex(k, t, a):
    from unicorn import arm_const
    time64 = k.core.uc.reg_read(arm_const.UC_ARM_REG_R7) == abi.SYSCALL_NUMBERS["futex_time64"]
    address, op, val, timeout, uaddr2, val3 = a[0], a[1], a[2], a[3], a[4], a[5]
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    mem = t.process.memory
    if address & 3:
        raise LinuxError(EINVAL)
    if cmd in (abi.FUTEX_WAIT, abi.FUTEX_WAIT_BITSET):
        bitset = val3 if cmd == abi.FUTEX_WAIT_BITSET else abi.FUTEX_BITSET_MATCH_ANY
        if bitset == 0:
            raise LinuxError(EINVAL)
        if mem.read_u32(address) != val & 0xFFFFFFFF:
            raise LinuxError(EAGAIN)
        deadline = None
        if timeout:
            ns = read_timespec(mem, timeout, time64)
            if cmd == abi.FUTEX_WAIT:
                deadline = k.now_ps() + ns * 1000            # relative, on CLOCK_MONOTONIC
            elif op & FUTEX_CLOCK_REALTIME:
                deadline = k.now_ps() + max(0, ns - k.realtime_ns()) * 1000
            else:
                deadline = max(k.now_ps(), ns * 1000)        # absolute CLOCK_MONOTONIC
        return k.futex_wait(t, address, bitset, deadline)
    if cmd in (abi.FUTEX_WAKE, abi.FUTEX_WAKE_BITSET):
        bitset = val3 if cmd == abi.FUTEX_WAKE_BITSET else abi.FUTEX_BITSET_MATCH_ANY
        if bitset == 0:
            raise LinuxError(EINVAL)
        return k.futex_wake(address, val, bitset)
    if cmd in (abi.FUTEX_REQUEUE, abi.FUTEX_CMP_REQUEUE):
        if cmd == abi.FUTEX_CMP_REQUEUE and mem.read_u32(address) != val3:
            raise LinuxError(EAGAIN)
        return k.futex_requeue(address, val, timeout, uaddr2)     # val2 travels in the timeout slot
    if cmd == abi.FUTEX_WAKE_OP:
        return _wake_op(k, mem, address, val, timeout, uaddr2, val3)
    raise LinuxError(ENOSYS, f"futex op {cmd}")


def _wake_op(k, mem, address, val, val2, uaddr2, encoded):
    op, cmp = (encoded >> 28) & 0xF, (encoded >> 24) & 0xF
    oparg, cmparg = (encoded >> 12) & 0xFFF, encoded & 0xFFF
    if op & 8:
        oparg = 1 << oparg
        op &= 7
    old = mem.read_u32(uaddr2)
    new = {0: oparg, 1: old + oparg, 2: old | oparg, 3: old & ~oparg, 4: old ^ oparg}.get(op)
    if new is None:
        raise LinuxError(ENOSYS)
    mem.write_u32(uaddr2, new)
    signed_old = old - (1 << 32) if old & 0x80000000 else old
    hit = {0: signed_old == cmparg, 1: signed_old != cmparg, 2: signed_old < cmparg, 3: signed_old <= cmparg,
           4: signed_old > cmparg, 5: signed_old >= cmparg}.get(cmp, False)
    woken = k.futex_wake(address, val)
    if hit:
        woken += k.futex_wake(uaddr2, val2)
    return woken


@syscall("sched_yield")
def sched_yield(k, t, a):
    k.request_switch()
    return 0


@syscall("sched_getaffinity")
def sched_getaffinity(k, t, a):
    size = a[1]
    if size < 4 or size & 3:
        raise LinuxError(EINVAL)
    t.process.memory.write(a[2], (1).to_bytes(4, "little"))      # one CPU: the A7
    return 4


@syscall("sched_setaffinity", "sched_setparam", "sched_setscheduler", "setpriority", "sched_setattr")
def sched_set(k, t, a):
    return 0


@syscall("sched_getscheduler", "getpriority")
def sched_getscheduler(k, t, a):
    return 0


@syscall("sched_getparam")
def sched_getparam(k, t, a):
    t.process.memory.write_u32(a[1], 0)
    return 0


@syscall("sched_get_priority_max", "sched_get_priority_min")
def sched_priority(k, t, a):
    return 0 if a[0] == 0 else 99


@syscall("getcpu")
def getcpu(k, t, a):
    if a[0]:
        t.process.memory.write_u32(a[0], 0)
    if a[1]:
        t.process.memory.write_u32(a[1], 0)
    return 0


@syscall("uname")
def uname(k, t, a):
    t.process.memory.write(a[0], b"".join(field.encode()[:64].ljust(65, b"\0") for field in k.uname))
    return 0


@syscall("prctl")
def prctl(k, t, a):
    option = a[0]
    if option == 15:        # PR_SET_NAME
        t.name = t.process.memory.read_cstr(a[1], 16)[:15].decode("utf-8", "replace")
        return 0
    if option == 16:        # PR_GET_NAME
        t.process.memory.write(a[1], t.name.encode()[:15].ljust(16, b"\0"))
        return 0
    if option in (1, 2, 3, 4, 36, 38, 22):   # PDEATHSIG, DUMPABLE, NO_NEW_PRIVS, ...: accepted
        return 0
    raise LinuxError(EINVAL, f"prctl option {option}")


def _rlimit(t, resource: int) -> tuple[int, int]:
    if not 0 <= resource < len(abi.RLIMIT_NAMES):
        raise LinuxError(EINVAL)
    return t.process.rlimits.get(resource, (abi.RLIM_INFINITY, abi.RLIM_INFINITY))


@syscall("ugetrlimit")
def getrlimit(k, t, a):
    soft, hard = _rlimit(t, a[0])
    clamp = lambda v: 0xFFFFFFFF if v >= 0xFFFFFFFF else v  # noqa: E731
    t.process.memory.write(a[1], struct.pack("<II", clamp(soft), clamp(hard)))
    return 0


@syscall("setrlimit")
def setrlimit(k, t, a):
    _rlimit(t, a[0])
    soft, hard = struct.unpack("<II", t.process.memory.read(a[1], 8))
    widen = lambda v: abi.RLIM_INFINITY if v == 0xFFFFFFFF else v  # noqa: E731
    t.process.rlimits[a[0]] = (widen(soft), widen(hard))
    return 0


@syscall("prlimit64")
def prlimit64(k, t, a):
    pid, resource, new, old = a[0], a[1], a[2], a[3]
    if pid not in (0, t.process.pid):
        raise LinuxError(ESRCH)
    current = _rlimit(t, resource)
    if old:
        t.process.memory.write(old, struct.pack("<QQ", *current))
    if new:
        soft, hard = struct.unpack("<QQ", t.process.memory.read(new, 16))
        if soft > hard:
            raise LinuxError(EINVAL)
        t.process.rlimits[resource] = (soft, hard)
    return 0


@syscall("getrusage")
def getrusage(k, t, a):
    us = sum(x.cpu_instructions for x in t.process.threads) * 1_000_000 // k.core.hz
    t.process.memory.write(a[1], struct.pack("<ii", us // 1_000_000, us % 1_000_000).ljust(72, b"\0"))
    return 0


@syscall("sysinfo")
def sysinfo(k, t, a):
    uptime = k.monotonic_ns() // 1_000_000_000
    # struct sysinfo (32-bit): uptime, loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap,
    # u16 procs, u16 pad, totalhigh, freehigh, u32 mem_unit, 8 bytes of padding (include/uapi/linux/sysinfo.h)
    data = struct.pack("<i3I6IHH3I", uptime, 0, 0, 0, 4 << 20, 1 << 20, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    t.process.memory.write(a[0], data.ljust(64, b"\0"))
    return 0


@syscall("getrandom")
def getrandom(k, t, a):
    if a[2] & ~7:
        raise LinuxError(EINVAL)
    n = min(a[1], 1 << 20)
    t.process.memory.write(a[0], k.random.bytes(n))
    return n


@syscall("membarrier")
def membarrier(k, t, a):
    if a[0] == 0:                       # MEMBARRIER_CMD_QUERY: the commands supported
        return 1 | 8 | 16               # GLOBAL, PRIVATE_EXPEDITED, REGISTER_PRIVATE_EXPEDITED
    return 0                            # one CPU: every thread already sees every store


_ = s32
