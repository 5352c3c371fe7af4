"""The Linux ARM EABI personality: processes, threads, scheduling, signals and the syscall entry, on the A7.

This is not an emulator of the Linux kernel's internals but of what user space can observe: syscall results,
blocking, signals, memory layout. It serves one process at a time (Azure Sphere runs one high-level app); the
process's threads share the A7's Unicorn instance, which holds the process's address space.

Scheduling (emulator-defined, docs/a7.md): threads run round-robin in creation order, one quantum each (a quantum
ends at the machine's window end, at most 1 ms of virtual time, or when the thread blocks, yields or exits);
a blocked thread is retried when something it waits on changes or its deadline passes. No wall clock and no host
thread is involved, so the same inputs give the same interleaving.

Syscalls are served inside the A7's SVC hook; their handlers live in syscalls_*.py and register by name.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Callable

from mt3620.engine.cortex_a.core import CPSR_T, CpuContext, CpuException, CortexA7
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock

from . import abi, elf
from .abi import (AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP, AT_HWCAP2,
                  AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM, AT_RANDOM, AT_SECURE, AT_UID,
                  CORE_SIGNALS, CORTEX_A7_HWCAP, EBADF, EINTR, EMFILE, ENOSYS, ETIMEDOUT, IGNORED_BY_DEFAULT,
                  O_CLOEXEC, PLATFORM, PROT_EXEC, PROT_READ, PROT_WRITE, SA_NODEFER, SA_ONSTACK, SA_RESETHAND,
                  SA_RESTART, SA_RESTORER, SA_SIGINFO, SIG_DFL, SIG_IGN, SIGKILL, SIGSTOP, SS_DISABLE, SS_ONSTACK,
                  STOP_SIGNALS, signal_name)
from .devices import DevFs, DeterministicRandom, standard_devices
from .errors import ExecError, LinuxError
from .files import Epoll, TimerClock
from .memory import STACK_SIZE, STACK_TOP, VECTORS, ProcessMemory, page_up
from . import procfs, syscalls
from .inet import LoopbackStack, install as install_inet
from .signals import SigAction, SigInfo, build_frame, restore_ucontext
from .vfs import MemFs, OpenFile, Vfs
from .waiting import BLOCKED, NO_RESULT, Block

log = logging.getLogger("mt3620.linux")

# Emulator-defined defaults (docs/a7.md, docs/EMULATOR-DEFINED.md)
DEFAULT_REALTIME_EPOCH_NS = 1_704_067_200 * 1_000_000_000      # CLOCK_REALTIME at power-on: 2024-01-01T00:00Z
FIRST_PID = 100
MAX_FDS = 1024
UNAME = ("Linux", "azure-sphere", "5.10.0-azure-sphere-emulated", "#1 SMP PREEMPT", "armv7l", "(none)")

# ---- the vectors page: kuser helpers (Documentation/arm/kernel_user_helpers.rst) and signal-return trampolines ----
SIGRETURN_ARM = VECTORS + 0x500          # mov r7, #119; svc #0
RT_SIGRETURN_ARM = VECTORS + 0x508       # mov r7, #173; svc #0
SIGRETURN_THUMB = VECTORS + 0x510        # movs r7, #119; svc #0
RT_SIGRETURN_THUMB = VECTORS + 0x514     # movs r7, #173; svc #0
_VECTORS_CODE = {
    0x500: bytes.fromhex("7770a0e3000000ef") + bytes.fromhex("ad70a0e3000000ef"),
    0x510: bytes.fromhex("772700df") + bytes.fromhex("ad2700df"),
    # __kuser_memory_barrier (0xffff0fa0): dmb ish; bx lr
    0xFA0: bytes.fromhex("5bf07ff51eff2fe1"),
    # __kuser_cmpxchg (0xffff0fc0): r0 = 0 and C set when *r2 was r0 and is now r1
    0xFC0: bytes.fromhex("9f3f92e1003053e0913f820101003303faffff0a000073e21eff2fe1"),
    # __kuser_get_tls (0xffff0fe0): mrc p15, 0, r0, c13, c0, 3; bx lr
    0xFE0: bytes.fromhex("700f1dee1eff2fe1"),
    # __kuser_helper_version (0xffff0ffc)
    0xFFC: (3).to_bytes(4, "little"),
}


@dataclass
class FdEntry:
    file: OpenFile
    cloexec: bool = False


class Thread:
    RUNNABLE, BLOCKED, DEAD = "runnable", "blocked", "dead"

    def __init__(self, process: "Process", tid: int, context: CpuContext) -> None:
        self.process = process
        self.tid = tid
        self.context = context
        self.state = Thread.RUNNABLE
        self.wait: Block | None = None
        self.wait_event = None
        self.wake_pending = False
        self.sigmask = 0
        self.saved_mask: int | None = None       # rt_sigsuspend / pselect: the mask to restore after a handler
        self.pending: list[SigInfo] = []
        self.clear_child_tid = 0
        self.robust_list = 0
        self.altstack = (0, SS_DISABLE, 0)
        self.name = process.name[:15]
        self.cpu_instructions = 0
        self.futex_woken = False
        self.syscall_pc = 0                       # PC just after the SVC being served (for restarts)

    def __repr__(self) -> str:
        return f"<thread {self.tid} {self.state}>"


class Process:
    def __init__(self, kernel: "Kernel", pid: int, name: str) -> None:
        self.kernel = kernel
        self.pid = pid
        self.name = name
        self.memory = ProcessMemory(kernel.core.uc, on_code=kernel.core.invalidate_code)
        self.fds: dict[int, FdEntry] = {}
        self.cwd = "/"
        self.umask = 0o022
        self.threads: list[Thread] = []
        self.sigactions: dict[int, SigAction] = {}
        self.pending: list[SigInfo] = []          # process-directed signals
        self.uid = self.gid = 0
        self.argv: list[str] = []
        self.envp: list[str] = []
        self.exe = ""
        self.app = None                           # what the OS layer attaches (sphere_os: the app and manifest)
        self.alive = True
        self.exit_code: int | None = None
        self.term_signal: int | None = None
        self.crash = None                         # CrashReport when a core-dumping signal ended it
        self.main: elf.LoadedElf | None = None
        self.auxv: list[tuple[int, int]] = []     # the auxiliary vector the process started with (debuggers read it)
        self.interpreter: elf.LoadedElf | None = None
        self.rlimits: dict[int, tuple[int, int]] = {3: (STACK_SIZE, abi.RLIM_INFINITY), 7: (MAX_FDS, MAX_FDS)}

    # ---- descriptors ---------------------------------------------------------------------------------------------
    def file(self, fd: int) -> OpenFile:
        entry = self.fds.get(fd)
        if entry is None:
            raise LinuxError(EBADF, f"fd {fd}")
        return entry.file

    def install(self, file: OpenFile, cloexec: bool = False, lowest: int = 0, fd: int | None = None) -> int:
        if fd is None:
            fd = lowest
            while fd in self.fds:
                fd += 1
        if fd >= MAX_FDS:
            raise LinuxError(EMFILE)
        if fd in self.fds:
            self.close(fd)
        file.refs = getattr(file, "refs", 0) + 1
        self.fds[fd] = FdEntry(file, cloexec)
        return fd

    def close(self, fd: int) -> None:
        entry = self.fds.pop(fd, None)
        if entry is None:
            raise LinuxError(EBADF)
        file = entry.file
        for other in self.fds.values():
            if isinstance(other.file, Epoll):
                other.file.forget(fd, file)
        file.refs -= 1
        if file.refs <= 0 and not file.closed:
            file.closed = True
            file.release()

    def close_all(self) -> None:
        for fd in sorted(self.fds):
            try:
                self.close(fd)
            except LinuxError:
                pass

    def action(self, sig: int) -> SigAction:
        return self.sigactions.get(sig) or SigAction()

    def live_threads(self) -> list[Thread]:
        return [t for t in self.threads if t.state != Thread.DEAD]


ExitListener = Callable[[Process], None]


class Kernel:
    """The Linux personality on one A7 core. `clock` is the machine's virtual clock."""

    def __init__(self, core: CortexA7, clock: VirtualClock, *, seed: bytes = b"mt3620-a7",
                 realtime_epoch_ns: int = DEFAULT_REALTIME_EPOCH_NS, uname: tuple[str, ...] = UNAME) -> None:
        self.core = core
        self.clock = clock
        self.random = DeterministicRandom(seed)
        self.realtime_offset_ns = realtime_epoch_ns
        self.uname = uname
        self.devices = DevFs()
        standard_devices(self.devices, self.random)
        self.rootfs = MemFs()
        for folder in ("dev", "proc", "tmp", "lib", "usr/lib", "mnt/apps", "mnt/config", "etc"):
            self.rootfs.makedirs(folder)
        self.vfs = Vfs(self.rootfs.root)
        self.vfs.mount("/dev", self.devices.root)
        self.tmpfs = MemFs()
        self.vfs.mount("/tmp", self.tmpfs.root)
        self.process: Process | None = None
        self.run_order: list[Thread] = []
        self._rr = 0
        self._pids = itertools.count(FIRST_PID)
        self.exit_listeners: list[ExitListener] = []
        self.unimplemented: dict[str, int] = {}      # syscall name -> calls (each logged once)
        # A debugger (engine/gdb's A7 target), as ptrace would see the process: `may_run(thread)` before a thread
        # is scheduled (False keeps it stopped; the tracer may halt the core), `on_signal(thread, info)` before a
        # signal is delivered (True: the tracer took it, a signal-delivery stop; it resumes with it or drops it).
        self.tracer = None
        self.syscall_count = 0
        self.futexes: dict[int, list[tuple[Thread, int]]] = {}
        # socket(2) families the OS layer serves: AF number -> factory(ctx, type, protocol) -> SocketFile
        self.socket_families: dict[int, Callable] = {}
        install_inet(self, LoopbackStack())     # IPv4: loopback until the OS brings its network
        self.vfs.mount("/proc", procfs.ProcFs(self).root)
        self.handlers = syscalls.HANDLERS       # every handler, registered when the package was imported
        core.attach(self)

    # ---- time ------------------------------------------------------------------------------------------------------
    def now_ps(self) -> int:
        return self.core.local_time()

    def monotonic_ns(self) -> int:
        return self.now_ps() // 1000

    def realtime_ns(self) -> int:
        return self.realtime_offset_ns + self.monotonic_ns()

    def schedule_ns(self, when_ns: int, callback: Callable[[], None], name: str = ""):
        """Run `callback` when the monotonic clock reaches `when_ns` (a virtual-clock event)."""
        return self.clock.schedule_at(max(when_ns * 1000, self.clock.now), callback, name)

    def timer_clock(self, clock_id: int) -> TimerClock:
        if clock_id in (abi.CLOCK_REALTIME, abi.CLOCK_REALTIME_ALARM, abi.CLOCK_TAI):
            return TimerClock(self.realtime_ns,
                              lambda ns, cb: self.schedule_ns(ns - self.realtime_offset_ns, cb, "timerfd"))
        return TimerClock(self.monotonic_ns, lambda ns, cb: self.schedule_ns(ns, cb, "timerfd"))

    # ---- the core's interface ---------------------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.alive

    def next_thread(self, core: CortexA7) -> Thread | None:
        order = self.run_order
        n = len(order)
        for i in range(n):
            index = (self._rr + i) % n
            t = order[index]
            if t.state == Thread.DEAD:
                continue
            if t.state == Thread.BLOCKED and not self._resume(t):
                continue
            if t.state != Thread.RUNNABLE:
                continue
            if self.tracer is not None and not self.tracer.may_run(t):
                if core.halted:
                    return None
                continue
            if not self._deliver_signals(t):
                continue
            if core.halted:          # the tracer took a signal: the debugger holds the machine
                return None
            if t.state != Thread.RUNNABLE:
                continue
            self._rr = (index + 1) % n if n else 0
            return t
        return None

    def quantum_end(self, core: CortexA7, thread: Thread) -> None:
        thread.cpu_instructions += core.budget.executed
        self._reap()

    def exception(self, core: CortexA7, thread: Thread, exc: CpuException) -> None:
        """A synchronous exception of `thread`: the signal Linux's abort/undef handlers would send."""
        vma = thread.process.memory.find(exc.address) if exc.address is not None else None
        if exc.kind == "protection" and vma is not None and vma.eof is not None and exc.address >= vma.eof:
            # A page of a file mapping past the end of the file (mmap(2): SIGBUS).
            info = SigInfo(abi.SIGBUS, abi.BUS_ADRERR, address=exc.address, forced=True, pc=exc.pc)
        elif exc.kind in ("unmapped", "protection"):
            info = SigInfo(abi.SIGSEGV, abi.SEGV_MAPERR if exc.kind == "unmapped" else abi.SEGV_ACCERR,
                           address=exc.address if exc.address is not None else 0, forced=True, pc=exc.pc)
        elif exc.kind == "alignment":
            info = SigInfo(abi.SIGBUS, abi.BUS_ADRALN, address=exc.address or 0, forced=True, pc=exc.pc)
        elif exc.kind == "breakpoint":
            info = SigInfo(abi.SIGTRAP, abi.TRAP_BRKPT, address=exc.pc, forced=True, pc=exc.pc)
        else:
            info = SigInfo(abi.SIGILL, abi.ILL_ILLOPC, address=exc.pc, forced=True, pc=exc.pc)
        info.detail = exc.detail
        thread.pending.insert(0, info)

    # ---- syscalls ------------------------------------------------------------------------------------------------------
    def syscall(self, core: CortexA7) -> None:
        uc = core.uc
        t = core.current
        regs = uc.reg_read_batch(_SYSCALL_REGS)
        nr = regs[7]
        self.syscall_count += 1
        t.syscall_pc = regs[8]
        handler = self.handlers.get(nr)
        try:
            if handler is None:
                result = self._enosys(nr)
            else:
                result = handler(self, t, regs[:7])
        except LinuxError as exc:
            result = -exc.errno
        except Exception:
            # A bug in a handler or a device file must not take the emulator down: the call fails with EIO and
            # the log has the traceback.
            log.exception("a7: syscall %s raised inside the emulator", abi.SYSCALL_NAMES.get(nr, nr))
            result = -abi.EIO
        if result is NO_RESULT:
            pass
        elif isinstance(result, Block):
            self._block(t, result)
            core.stop()
            return
        else:
            uc.reg_write(_R0, result & 0xFFFFFFFF)
        if t.state != Thread.RUNNABLE or not self.alive or self._has_deliverable(t) or self._switch_requested:
            self._switch_requested = False
            core.stop()

    _switch_requested = False

    def request_switch(self) -> None:
        """End the running quantum after this syscall (sched_yield, a thread made runnable that should run)."""
        self._switch_requested = True

    def _enosys(self, nr: int, name: str | None = None) -> int:
        name = name or abi.SYSCALL_NAMES.get(nr, f"syscall_{nr}")
        count = self.unimplemented.get(name, 0)
        self.unimplemented[name] = count + 1
        if not count:
            log.warning("a7: unimplemented syscall %s (%d): ENOSYS", name, nr)
        return -ENOSYS

    # ---- registers of a thread (live in Unicorn when loaded) -------------------------------------------------------
    def context(self, t: Thread) -> CpuContext:
        """`t`'s registers, up to date (saved from Unicorn if they are live there)."""
        self.core.sync(t)
        return t.context

    def commit(self, t: Thread) -> None:
        """`t.context` was changed: make the change live when `t` is loaded."""
        if self.core.loaded is t:
            self.core.load_context(t.context)

    def set_result(self, t: Thread, value: int) -> None:
        if self.core.loaded is t:
            self.core.uc.reg_write(_R0, value & 0xFFFFFFFF)
        else:
            t.context.regs[0] = value & 0xFFFFFFFF

    # ---- blocking ------------------------------------------------------------------------------------------------
    def _block(self, t: Thread, block: Block) -> None:
        t.state = Thread.BLOCKED
        t.wait = block
        t.wake_pending = False
        waker = t.__dict__.setdefault("_waker", lambda t=t: self.wake(t))
        for w in block.waitables:
            w.add_waiter(waker)
        if block.deadline is not None:
            t.wait_event = self.clock.schedule_at(max(block.deadline, self.clock.now), waker, f"a7 wait {t.tid}")

    def wake(self, t: Thread) -> None:
        """Something `t` waits on changed (or its deadline came): retry its call at the next scheduling point."""
        if t.state == Thread.BLOCKED:
            t.wake_pending = True
            self.core.wake()

    def _end_wait(self, t: Thread) -> None:
        block = t.wait
        waker = t.__dict__.get("_waker")
        if block is not None:
            for w in block.waitables:
                w.remove_waiter(waker)
            if block.cleanup is not None:
                block.cleanup()
        if t.wait_event is not None:
            t.wait_event.cancel()
            t.wait_event = None
        t.wait = None
        t.wake_pending = False
        t.state = Thread.RUNNABLE

    def _resume(self, t: Thread) -> bool:
        """Retry a blocked thread's call if it was woken; True when it can run again."""
        block = t.wait
        if block is None:
            t.state = Thread.RUNNABLE
            return True
        interrupted = block.interruptible and self._has_deliverable(t)
        timed_out = block.deadline is not None and self.now_ps() >= block.deadline
        if not (t.wake_pending or interrupted or timed_out):
            return False
        t.wake_pending = False
        try:
            result = block.retry()
        except LinuxError as exc:
            result = -exc.errno
        except Exception:
            log.exception("a7: retrying %s raised inside the emulator", block.what or "a blocked call")
            result = -abi.EIO
        if result is BLOCKED:
            if interrupted:
                info = self._peek_deliverable(t)
                action = t.process.action(info.signo) if info else SigAction()
                if block.restartable and action.flags & SA_RESTART and action.handler not in (SIG_DFL, SIG_IGN):
                    # Re-execute the SVC after the handler: PC back over it, the arguments untouched.
                    ctx = self.context(t)
                    ctx.regs[15] = t.syscall_pc - (2 if ctx.cpsr & CPSR_T else 4)
                    self.commit(t)
                    self._end_wait(t)
                    return True
                result = block.on_interrupt() if block.on_interrupt else -EINTR
            elif timed_out:
                result = block.on_timeout() if block.on_timeout else -ETIMEDOUT
            else:
                return False
        self._end_wait(t)
        if result is not NO_RESULT:
            self.set_result(t, result)
        return True

    # ---- futexes -------------------------------------------------------------------------------------------------------
    def futex_wait(self, t: Thread, address: int, bitset: int, deadline_ps: int | None) -> Block:
        queue = self.futexes.setdefault(address, [])
        queue.append((t, bitset))
        t.futex_woken = False

        def retry():
            return 0 if t.futex_woken else BLOCKED

        def cleanup():
            q = self.futexes.get(address)
            if q:
                self.futexes[address] = [(x, b) for x, b in q if x is not t]
                if not self.futexes[address]:
                    del self.futexes[address]

        return Block(retry, [], deadline_ps, on_timeout=lambda: -ETIMEDOUT, cleanup=cleanup,
                     restartable=False, what=f"futex 0x{address:08x}")

    def futex_wake(self, address: int, count: int, bitset: int = 0xFFFFFFFF) -> int:
        queue = self.futexes.get(address)
        if not queue:
            return 0
        woken = 0
        keep = []
        for t, bits in queue:
            if woken < count and bits & bitset:
                t.futex_woken = True
                self.wake(t)
                woken += 1
            else:
                keep.append((t, bits))
        if keep:
            self.futexes[address] = keep
        else:
            del self.futexes[address]
        return woken

    def futex_requeue(self, address: int, wake: int, requeue: int, target: int) -> int:
        woken = self.futex_wake(address, wake)
        queue = self.futexes.get(address, [])
        moved, keep = queue[:requeue], queue[requeue:]
        if keep:
            self.futexes[address] = keep
        else:
            self.futexes.pop(address, None)
        for t, bits in moved:
            self.futexes.setdefault(target, []).append((t, bits))
            # the waiter's cleanup must look in its new queue
            block = t.wait
            if block is not None:
                def cleanup(t=t, target=target):
                    q = self.futexes.get(target)
                    if q:
                        self.futexes[target] = [(x, b) for x, b in q if x is not t]
                        if not self.futexes[target]:
                            del self.futexes[target]
                block.cleanup = cleanup
        return woken + len(moved)

    # ---- signals -------------------------------------------------------------------------------------------------------
    def send_signal(self, sig: int, info: SigInfo | None = None, thread: Thread | None = None) -> None:
        """Queue a signal for a thread, or for the process (any thread that does not block it takes it)."""
        p = self.process
        if p is None or not p.alive or sig == 0:
            return
        info = info or SigInfo(sig, abi.SI_USER, pid=p.pid)
        action = p.action(sig)
        if not info.forced and (action.handler == SIG_IGN or (action.handler == SIG_DFL and
                                                              (sig in IGNORED_BY_DEFAULT or sig in STOP_SIGNALS))):
            return
        if thread is not None:
            if not any(i.signo == sig for i in thread.pending) or sig >= abi.SIGRTMIN:
                thread.pending.append(info)
            self.wake(thread)
        else:
            if not any(i.signo == sig for i in p.pending) or sig >= abi.SIGRTMIN:
                p.pending.append(info)
            for t in p.live_threads():       # each re-checks (sigtimedwait takes blocked signals too)
                self.wake(t)
        self.core.wake()

    def _peek_deliverable(self, t: Thread) -> SigInfo | None:
        for info in t.pending:
            if info.forced or info.signo in (SIGKILL, SIGSTOP) or not t.sigmask & _bit(info.signo):
                return info
        for info in t.process.pending:
            if info.signo in (SIGKILL, SIGSTOP) or not t.sigmask & _bit(info.signo):
                return info
        return None

    def _has_deliverable(self, t: Thread) -> bool:
        return bool(t.pending or t.process.pending) and self._peek_deliverable(t) is not None

    def deliver_pending(self, t: Thread) -> bool:
        """Deliver the signals `t` can take now (a debugger's single step does, as the kernel does on the way back
        to user space). False when the process died of one."""
        return self._deliver_signals(t)

    def _deliver_signals(self, t: Thread) -> bool:
        """Deliver what `t` can take now. False when the process died of it."""
        for _ in range(abi.NSIG):
            info = self._peek_deliverable(t)
            if info is None:
                return True
            if info in t.pending:
                t.pending.remove(info)
            else:
                t.process.pending.remove(info)
            if self.tracer is not None and info.signo != SIGKILL and self.tracer.on_signal(t, info):
                return True
            if not self._deliver(t, info):
                return False
        return True

    def _deliver(self, t: Thread, info: SigInfo) -> bool:
        p = t.process
        sig = info.signo
        action = p.action(sig)
        handler = action.handler
        if info.forced and (handler == SIG_IGN or t.sigmask & _bit(sig)):
            handler = SIG_DFL          # force_sig: a fault that cannot be handled kills
        if handler == SIG_IGN:
            return True
        if handler == SIG_DFL:
            if sig in IGNORED_BY_DEFAULT or sig in STOP_SIGNALS:
                return True            # no job control: stop signals are ignored (emulator-defined)
            self._die_of_signal(t, info)
            return False
        ctx = self.context(t)
        sp = ctx.regs[13]
        ss_sp, ss_flags, ss_size = t.altstack
        on_altstack = ss_flags != SS_DISABLE and ss_sp <= sp < ss_sp + ss_size
        if action.flags & SA_ONSTACK and ss_flags != SS_DISABLE and not on_altstack:
            sp = ss_sp + ss_size
        saved_mask = t.saved_mask if t.saved_mask is not None else t.sigmask
        t.saved_mask = None
        altstack = (ss_sp, SS_ONSTACK if on_altstack else ss_flags, ss_size)
        rt = bool(action.flags & SA_SIGINFO)
        frame, uc_offset = build_frame(ctx, info if rt else None, saved_mask, altstack,
                                       fault_address=info.address or 0)
        frame_sp = (sp - len(frame)) & ~7
        try:
            p.memory.write(frame_sp, frame)
        except LinuxError:
            # No room for the frame (a blown stack): the kernel kills with SIGSEGV (force_sigsegv).
            self._die_of_signal(t, SigInfo(abi.SIGSEGV, abi.SI_KERNEL, address=frame_sp, forced=True,
                                           pc=ctx.regs[15]))
            return False
        thumb_handler = bool(action.handler & 1)
        if action.flags & SA_RESTORER and action.restorer:
            lr = action.restorer
        elif rt:
            lr = (RT_SIGRETURN_THUMB | 1) if thumb_handler else RT_SIGRETURN_ARM
        else:
            lr = (SIGRETURN_THUMB | 1) if thumb_handler else SIGRETURN_ARM
        ctx.regs[0] = sig
        ctx.regs[1] = frame_sp if rt else 0
        ctx.regs[2] = frame_sp + uc_offset if rt else 0
        ctx.regs[13] = frame_sp
        ctx.regs[14] = lr
        ctx.regs[15] = action.handler & ~1
        ctx.cpsr = (ctx.cpsr & ~(CPSR_T | 0x0600FC00 | 0x200)) | (CPSR_T if thumb_handler else 0)
        self.commit(t)
        t.sigmask |= action.mask | (0 if action.flags & SA_NODEFER else _bit(sig))
        t.sigmask &= ~(_bit(SIGKILL) | _bit(SIGSTOP))
        if action.flags & SA_RESETHAND:
            p.sigactions[sig] = SigAction()
        return True

    def sigreturn(self, t: Thread, rt: bool) -> object:
        ctx = self.context(t)
        sp = ctx.regs[13]
        from .signals import UCONTEXT_SIZE, SIGINFO_SIZE
        uc_address = sp + (SIGINFO_SIZE if rt else 0)
        try:
            uc = t.process.memory.read(uc_address, UCONTEXT_SIZE)
        except LinuxError:
            self._die_of_signal(t, SigInfo(abi.SIGSEGV, abi.SI_KERNEL, address=uc_address, forced=True,
                                           pc=ctx.regs[15]))
            return NO_RESULT
        mask, ss = restore_ucontext(uc, ctx)
        self.commit(t)
        t.sigmask = mask & ~(_bit(SIGKILL) | _bit(SIGSTOP))
        if rt:
            t.altstack = (ss[0], ss[1] & ~SS_ONSTACK if ss[1] != SS_DISABLE else SS_DISABLE, ss[2])
        return NO_RESULT

    def _die_of_signal(self, t: Thread, info: SigInfo) -> None:
        p = t.process
        sig = info.signo
        if sig in CORE_SIGNALS:
            from .crash import CrashReport
            try:
                p.crash = CrashReport.build(self, t, info)
            except Exception as exc:   # a report must never take the emulator down
                log.exception("a7: crash report failed: %s", exc)
                p.crash = None
        log.info("a7: process %d (%s) killed by %s", p.pid, p.name, signal_name(sig))
        self._exit_process(p, None, sig)

    # ---- threads and processes ---------------------------------------------------------------------------------
    def new_thread(self, p: Process, context: CpuContext, tid: int | None = None) -> Thread:
        t = Thread(p, tid if tid is not None else next(self._pids), context)
        p.threads.append(t)
        self.run_order.append(t)
        self.core.wake()
        return t

    def exit_thread(self, t: Thread) -> None:
        p = t.process
        if t.state == Thread.BLOCKED:
            self._end_wait(t)
        t.state = Thread.DEAD
        if t.clear_child_tid:
            try:
                p.memory.write_u32(t.clear_child_tid, 0)
                self.futex_wake(t.clear_child_tid, 1)
            except LinuxError:
                pass
        self.core.unload(t)
        if not p.live_threads():
            self._exit_process(p, p.exit_code if p.exit_code is not None else 0, None)

    def exit_group(self, p: Process, code: int) -> None:
        self._exit_process(p, code & 0xFF, None)

    def _exit_process(self, p: Process, code: int | None, sig: int | None) -> None:
        if not p.alive:
            return
        p.alive = False
        p.exit_code = code
        p.term_signal = sig
        for t in p.threads:
            if t.state == Thread.BLOCKED:
                self._end_wait(t)
            t.state = Thread.DEAD
            self.core.unload(t)
        p.close_all()
        self.futexes.clear()
        self.core.stop()
        for listener in list(self.exit_listeners):
            listener(p)

    def _reap(self) -> None:
        if any(t.state == Thread.DEAD for t in self.run_order):
            self.run_order = [t for t in self.run_order if t.state != Thread.DEAD]
            self._rr = self._rr % len(self.run_order) if self.run_order else 0

    # ---- starting a program ------------------------------------------------------------------------------------------
    def spawn(self, path: str, argv: list[str], envp: list[str] | None = None, *, name: str | None = None,
              uid: int = 0, gid: int = 0, stdio: tuple[OpenFile, OpenFile, OpenFile] | None = None,
              app=None) -> Process:
        """Start `path` (resolved in the VFS) as the process of this A7: ELF loading as binfmt_elf does, the
        dynamic loader for PT_INTERP programs, the initial stack with argv, envp and auxv."""
        if self.alive:
            raise ExecError("the A7 already runs a process")
        self._teardown()
        envp = list(envp or [])
        p = Process(self, next(self._pids), name or path.rsplit("/", 1)[-1])
        p.uid, p.gid = uid, gid
        p.argv, p.envp, p.exe, p.app = list(argv), envp, path, app
        image = elf.parse(self._read_file(path), path)
        self.process = p
        try:
            mem = p.memory
            main = elf.load(mem, image, elf.default_base(image))
            p.main = main
            mem.brk_start = mem.brk = page_up(main.end)
            entry = main.entry
            base = 0
            if image.interpreter:
                interp_image = elf.parse(self._read_file(image.interpreter), image.interpreter)
                if interp_image.interpreter:
                    raise ExecError(f"{image.interpreter}: the interpreter itself asks for an interpreter")
                p.interpreter = elf.load(mem, interp_image)
                entry, base = p.interpreter.entry, p.interpreter.base
            mem.map(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, "[stack]")
            mem.map(VECTORS, 0x1000, PROT_READ | PROT_EXEC, "[vectors]")
            for offset, code in _VECTORS_CODE.items():
                mem.write_code(VECTORS + offset, code)
            sp = self._initial_stack(p, main, base, entry)
        except LinuxError as exc:
            self.process = None
            self._teardown_memory(p)
            raise ExecError(f"{path}: cannot start: {exc}") from None
        except ExecError:
            self.process = None
            self._teardown_memory(p)
            raise
        if stdio is not None:
            for fd, f in enumerate(stdio):
                p.install(f, fd=fd)
        ctx = CpuContext()
        ctx.regs[13] = sp
        ctx.regs[15] = entry & ~1
        ctx.cpsr = 0x10 | (CPSR_T if entry & 1 else 0)
        ctx.fpscr = 0
        self.new_thread(p, ctx, tid=p.pid)
        return p

    def _read_file(self, path: str) -> bytes:
        try:
            f = self.vfs.open(path, abi.O_RDONLY, 0, "/", None)
        except LinuxError as exc:
            raise ExecError(f"{path}: cannot open: {exc}") from None
        try:
            if f.stat().mode & abi.S_IFMT != abi.S_IFREG:
                raise ExecError(f"{path}: not a regular file")
            return f.pread(1 << 30, 0)
        finally:
            f.release()

    def _initial_stack(self, p: Process, main: elf.LoadedElf, interp_base: int, entry: int) -> int:
        """argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL; strings and AT_RANDOM above (fs/binfmt_elf.c)."""
        mem = p.memory
        sp = STACK_TOP
        blobs = []

        def push_bytes(data: bytes) -> int:
            nonlocal sp
            sp -= len(data)
            blobs.append((sp, data))
            return sp

        execfn = push_bytes(p.exe.encode() + b"\0")
        env_ptrs = [push_bytes(e.encode() + b"\0") for e in reversed(p.envp)][::-1]
        arg_ptrs = [push_bytes(a.encode() + b"\0") for a in reversed(p.argv)][::-1]
        platform = push_bytes(PLATFORM.encode() + b"\0")
        sp &= ~15
        random16 = push_bytes(self.random.bytes(16))
        sp &= ~15
        auxv = [(AT_HWCAP, CORTEX_A7_HWCAP), (AT_PAGESZ, 4096), (AT_CLKTCK, 100), (AT_PHDR, main.phdr),
                (AT_PHENT, main.phent), (AT_PHNUM, main.phnum), (AT_BASE, interp_base), (AT_FLAGS, 0),
                (AT_ENTRY, main.entry), (AT_UID, p.uid), (AT_EUID, p.uid), (AT_GID, p.gid), (AT_EGID, p.gid),
                (AT_SECURE, 0), (AT_RANDOM, random16), (AT_HWCAP2, 0), (AT_EXECFN, execfn),
                (AT_PLATFORM, platform), (AT_NULL, 0)]
        p.auxv = auxv
        words = [len(p.argv)] + arg_ptrs + [0] + env_ptrs + [0] + [x for pair in auxv for x in pair]
        sp -= 4 * len(words)
        sp &= ~15
        for address, data in blobs:
            mem.write(address, data)
        mem.write(sp, b"".join((w & 0xFFFFFFFF).to_bytes(4, "little") for w in words))
        return sp

    def _teardown_memory(self, p: Process) -> None:
        for vma in list(p.memory.vmas):
            p.memory.unmap(vma.start, vma.end - vma.start)

    def _teardown(self) -> None:
        """Forget a finished process (its memory is unmapped so the next one starts clean)."""
        old = self.process
        if old is not None and not old.alive:
            self._teardown_memory(old)
            self.process = None
            self.run_order = []
            self._rr = 0

    def kill(self, sig: int = SIGKILL) -> None:
        """The OS stops the app (SIGKILL: immediate; others are delivered as usual)."""
        p = self.process
        if p is None or not p.alive:
            return
        if sig == SIGKILL:
            self._exit_process(p, None, SIGKILL)
        else:
            self.send_signal(sig, SigInfo(sig, abi.SI_KERNEL))


def _bit(sig: int) -> int:
    return 1 << (sig - 1)


from unicorn import arm_const as _A  # noqa: E402

_SYSCALL_REGS = [_A.UC_ARM_REG_R0, _A.UC_ARM_REG_R1, _A.UC_ARM_REG_R2, _A.UC_ARM_REG_R3, _A.UC_ARM_REG_R4,
                 _A.UC_ARM_REG_R5, _A.UC_ARM_REG_R6, _A.UC_ARM_REG_R7, _A.UC_ARM_REG_PC]
_R0 = _A.UC_ARM_REG_R0
_ = (O_CLOEXEC, PS_PER_SECOND, PROT_EXEC, SA_RESTART)
