"""The debugger's handle on the A7: the high-level app's process, shown to GDB the way gdbserver shows a Linux
process (the OS ABI GNU/Linux in target.xml, threads, signals, the auxiliary vector, the exec file, the shared
libraries the musl loader keeps in its r_debug/link_map list, and the process's files over vFile).

How it fits the engine:
- Threads are the process's Linux threads (RSP thread ids p<pid>.<tid>). Registers of a thread come from its saved
  context, or from Unicorn when it is the thread loaded on the core (Kernel.context / Kernel.commit).
- Breakpoints (Z0 and Z1, ARM and Thumb alike, anywhere in the process: the app, the loader, a library) are Unicorn
  *exits* rather than code hooks: Unicorn ends a translation block before an exit address and stores the Thumb IT
  state, so a breakpoint stops exactly before its instruction even inside an IT block (a code hook cannot stop
  there: Unicorn runs an IT block as one unit) and the budget hook charged exactly what ran. Exits are enabled only
  while a breakpoint exists; changing them drops the translations around the address. Z1 is limited to the
  Cortex-A7's six breakpoint register pairs; Z0 is unlimited.
- A single step (`s`, vCont;s) runs one instruction through CortexA7.run_one (an exit after it, a budget of one).
  A thread blocked in a syscall steps when the call returns: the machine runs until then. GDB's arm-linux support
  single-steps in software (breakpoints on the next instructions), which lands on the same breakpoints.
- Watchpoints are the memory hooks every target shares (four, the A7's watchpoint register pairs).
- The kernel's tracer hooks (`kernel.tracer`), as ptrace would: a signal about to be delivered stops the machine and
  is reported to GDB (SIGSEGV before the crash report); GDB resumes with it (C/vCont;C), with another, or without
  (the signal is dropped; a fault's instruction runs again and faults again). QPassSignals lists what is delivered
  without stopping. Threads GDB does not resume stay stopped (`vCont;c:<tid>` runs only that thread).
- The process's exit is reported as W (status) or X (signal), then the session ends; the machine runs on.
- Nothing of this is installed while no debugger is attached: a free run pays nothing for it.
"""
from __future__ import annotations

import logging
import struct
from xml.sax.saxutils import quoteattr

from mt3620.engine.cortex_a.core import CPSR_T, CortexA7
from mt3620.engine.simulation.access import BusError

from .core_target import SIGINT, SIGTRAP, Action, DebugTarget, StopReason
from .hostio import HostIo
from .targets import A7_FEATURES, A7_REGISTERS, Register, target_xml

log = logging.getLogger("mt3620.gdb")

# Linux ARM signal numbers -> GDB's (gdb/signals.def); the remote protocol speaks GDB's numbers.
_LINUX_TO_GDB = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 10, 8: 8, 9: 9, 10: 30, 11: 11, 12: 31, 13: 13, 14: 14,
                 15: 15, 17: 20, 18: 19, 19: 17, 20: 18, 21: 21, 22: 22, 23: 16, 24: 24, 25: 25, 26: 26, 27: 27,
                 28: 28, 29: 23, 30: 32, 31: 12, 32: 77, 64: 78, **{n: n + 12 for n in range(33, 64)}}
_GDB_TO_LINUX = {g: n for n, g in _LINUX_TO_GDB.items()}
GDB_SIGNAL_UNKNOWN = 143
CPSR_MODE_USR = 0x10
CPSR_USER_WRITABLE = 0xF80F0200 | CPSR_T | 0x0600FC00   # NZCVQ, GE, E, T and the IT bits: what ptrace lets a tracer set
AT_PHDR, AT_PHENT, AT_PHNUM = 3, 4, 5
PT_DYNAMIC, PT_PHDR = 2, 6
DT_NULL, DT_DEBUG = 0, 21
MAX_LINK_MAPS = 1024


def gdb_signal(linux: int) -> int:
    return _LINUX_TO_GDB.get(linux, GDB_SIGNAL_UNKNOWN)


def linux_signal(gdb: int) -> int | None:
    return _GDB_TO_LINUX.get(gdb)


class A7Target(DebugTarget):
    """Debug access to the process the Linux personality runs on the A7 (`core.system` is its Kernel)."""

    features = A7_FEATURES
    registers: tuple[Register, ...] = A7_REGISTERS
    multiprocess = True
    qsupported = ("qXfer:auxv:read+;qXfer:libraries-svr4:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;"
                  "QPassSignals+")

    def __init__(self, core: CortexA7) -> None:
        if core.system is None:
            raise ValueError("the A7 runs no OS (launch a high-level app first)")
        super().__init__(core)
        self.kernel = core.system
        self._xml = target_xml(self.registers, self.features, osabi="GNU/Linux")
        self.general_thread: int | None = None      # Hg
        self.continue_thread: int | None = None     # Hc
        self.last_thread: int | None = None         # the thread of the last stop
        self.allowed: set[int] | None = None         # threads allowed to run (None: all, new ones too)
        self.step_thread: int | None = None          # a step waiting for its thread's syscall to return
        self.held_signals: dict[int, object] = {}    # tid -> SigInfo of a signal-delivery stop GDB has seen
        self.pass_signals: set[int] = set()          # Linux numbers delivered without stopping (QPassSignals)
        self._reinjected: list = []                  # signals GDB resumed with: delivered without a second stop
        self._exits_on = False
        self._files = HostIo(self.kernel)
        self.exited: StopReason | None = None
        self.kernel.exit_listeners.append(self._process_exited)

    # ---- the process --------------------------------------------------------------------------------------------
    @property
    def process(self):
        return self.kernel.process

    @property
    def alive(self) -> bool:
        p = self.kernel.process
        return p is not None and p.alive

    @property
    def pid(self) -> int:
        p = self.kernel.process
        return p.pid if p is not None else 0

    def _live(self) -> list:
        p = self.kernel.process
        if p is None or not p.alive:
            return []
        return p.live_threads()

    def _thread(self, tid: int | None):
        live = self._live()
        if not live:
            raise BusError(0, 0, False, "the process has exited")
        if tid is None:
            tid = self.current_thread
        for t in live:
            if t.tid == tid:
                return t
        raise IndexError(f"no thread {tid}")

    # ---- threads ------------------------------------------------------------------------------------------------
    def thread_ids(self) -> list[int]:
        return [t.tid for t in self._live()]

    def thread_alive(self, tid: int) -> bool:
        return any(t.tid == tid for t in self._live())

    @property
    def current_thread(self) -> int:
        live = self._live()
        if any(t.tid == self.last_thread for t in live):
            return self.last_thread
        if live:
            return live[0].tid
        return self.pid

    def select_thread(self, op: str, tid: int | None) -> bool:
        if tid is not None and not self.thread_alive(tid):
            return False
        if op == "g":
            self.general_thread = tid
        else:
            self.continue_thread = tid
        return True

    def thread_name(self, tid: int) -> str:
        return next((t.name for t in self._live() if t.tid == tid), "")

    def thread_extra(self, tid: int) -> str:
        t = next((t for t in self._live() if t.tid == tid), None)
        if t is None:
            return "exited"
        if t.state == t.BLOCKED and t.wait is not None:
            return f"{t.name}, waiting ({t.wait.what or 'in a syscall'})"
        return f"{t.name}, runnable"

    # ---- registers (those of the thread GDB selected with Hg) ----------------------------------------------------
    def _context(self, thread: int | None):
        if thread is None and self.thread_alive(self.general_thread or -1):
            thread = self.general_thread        # Hg's thread while it lives, else the current one
        t = self._thread(thread)
        return t, self.kernel.context(t)

    def read_register(self, number: int, thread: int | None = None) -> bytes:
        if not 0 <= number < len(self.registers):
            raise IndexError(f"no register number {number}")
        _, ctx = self._context(thread)
        return self._pack(ctx, number)

    @staticmethod
    def _pack(ctx, number: int) -> bytes:
        if number < 16:
            return struct.pack("<I", ctx.regs[number] & 0xFFFFFFFF)
        if number == 16:
            return struct.pack("<I", ctx.cpsr & 0xFFFFFFFF)
        if number < 49:
            return struct.pack("<Q", ctx.d[number - 17] & 0xFFFFFFFFFFFFFFFF)
        return struct.pack("<I", ctx.fpscr & 0xFFFFFFFF)

    def read_all_registers(self) -> bytes:
        _, ctx = self._context(None)
        return (struct.pack("<16I", *(r & 0xFFFFFFFF for r in ctx.regs)) + struct.pack("<I", ctx.cpsr & 0xFFFFFFFF)
                + struct.pack("<32Q", *(d & 0xFFFFFFFFFFFFFFFF for d in ctx.d)) + struct.pack("<I", ctx.fpscr))

    def write_register(self, number: int, data: bytes) -> None:
        if not 0 <= number < len(self.registers):
            raise IndexError(f"no register number {number}")
        size = self.registers[number].size
        if len(data) != size:
            raise ValueError(f"register {self.registers[number].name} takes {size} bytes, got {len(data)}")
        t, ctx = self._context(None)
        self._store(ctx, number, data)
        self.kernel.commit(t)

    @staticmethod
    def _store(ctx, number: int, data: bytes) -> None:
        if number < 49 and number >= 17:
            ctx.d[number - 17] = struct.unpack("<Q", data)[0]
            return
        value = struct.unpack("<I", data)[0]
        if number == 15:
            ctx.regs[15] = value & ~1
            if value & 1:
                ctx.cpsr |= CPSR_T
        elif number < 15:
            ctx.regs[number] = value
        elif number == 16:
            # User mode stays user mode: a tracer sets the flags, GE, E, T and IT bits (ptrace's valid_user_regs).
            ctx.cpsr = (ctx.cpsr & ~CPSR_USER_WRITABLE) | (value & CPSR_USER_WRITABLE)
            ctx.cpsr = (ctx.cpsr & ~0x1F) | CPSR_MODE_USR
        else:
            ctx.fpscr = value

    def write_all_registers(self, data: bytes) -> None:
        need = sum(r.size for r in self.registers)
        if len(data) < need:
            raise ValueError(f"G packet carries {len(data)} bytes of registers, the target has {need}")
        t, ctx = self._context(None)
        pos = 0
        for number, reg in enumerate(self.registers):
            self._store(ctx, number, data[pos:pos + reg.size])
            pos += reg.size
        self.kernel.commit(t)

    # ---- memory: the process's mappings, as ptrace reaches them ----------------------------------------------------
    def _readable_end(self, address: int) -> int:
        """End of the mapped run of pages from `address` (a file mapping's pages past its file's end excluded)."""
        mem = self.process.memory
        at = address
        while True:
            vma = mem.find(at)
            if vma is None:
                return at
            end = vma.end if vma.eof is None else min(vma.end, max(vma.start, vma.eof))
            if end <= at:
                return at
            if end < vma.end:
                return end
            at = end

    def read_memory(self, address: int, length: int) -> bytes:
        if not self.alive:
            raise BusError(address, length, False, "the process has exited")
        end = min(address + length, self._readable_end(address))
        if end <= address:
            raise BusError(address, length, False, "not mapped in the process")
        return bytes(self.core.uc.mem_read(address, end - address))

    def write_memory(self, address: int, data: bytes) -> None:
        """A debugger writes any mapped page, read-only code included (ptrace's FOLL_FORCE); translations of the
        written code are dropped."""
        if not self.alive:
            raise BusError(address, len(data), True, "the process has exited")
        if self._readable_end(address) < address + len(data):
            raise BusError(address, len(data), True, "not mapped in the process")
        self.process.memory.write_code(address, data)

    def mapped(self, address: int) -> bool:
        return self.alive and self.process.memory.find(address) is not None

    # ---- breakpoints: Unicorn exits ---------------------------------------------------------------------------------
    def _arm_breakpoint(self, address: int):
        self._apply_exits()
        self._drop_translations(address)
        return None

    def _disarm_breakpoint(self, address: int, handle) -> None:
        self._apply_exits()
        self._drop_translations(address)

    def _apply_exits(self) -> None:
        uc = self.core.uc
        if self.breakpoints:
            uc.ctl_exits_enabled(True)
            uc.ctl_set_exits(sorted(self.breakpoints))
            self._exits_on = True
        elif self._exits_on:
            uc.ctl_set_exits([])
            uc.ctl_exits_enabled(False)
            self._exits_on = False

    def _drop_translations(self, address: int) -> None:
        # An exit is looked at when code is translated: drop the blocks that hold the address or end at it (one
        # that ends at a page boundary starts in the page before).
        start = address & ~0xFFF
        if start == address and start:
            start -= 0x1000
        self.core.uc.ctl_remove_cache(start, address + 4)

    def _restore_exits_after_step(self) -> None:
        # CortexA7.run_one enabled exits of its own (and flushed the translations): ours again, or none.
        self._exits_on = True
        self._apply_exits()

    # ---- watchpoints ----------------------------------------------------------------------------------------------
    def _watch_stop(self, pc: int, hit: StopReason) -> None:
        current = self.core.current
        if current is not None:
            hit.thread = current.tid
        self._watch_hit = hit
        self.core.uc.emu_stop()

    # ---- the core's hook: why did Unicorn return? ------------------------------------------------------------------
    def quantum_stopped(self, core: CortexA7, thread, fault) -> None:
        if not self.enabled or self.stop is not None:
            return
        pc = core.pc
        if self._watch_hit is not None:
            hit, self._watch_hit = self._watch_hit, None
            # Stopped inside the access: the instruction has not completed and runs again on resume. Inside an IT
            # block Unicorn stops only after the block, with the access done: then the stop is where it stopped.
            self._hand_back_unexecuted(pc, core.thumb)
            self._stop_in_run(thread, hit)
            return
        if fault is None and pc in self.breakpoints and thread.state == thread.RUNNABLE and self.alive:
            entry = self.breakpoints[pc]
            self._stop_in_run(thread, StopReason(SIGTRAP, "swbreak" if entry["sw"] else "hwbreak",
                                                 thread=thread.tid))

    def _stop_in_run(self, thread, stop: StopReason) -> None:
        self.stop = stop
        self.last_thread = thread.tid
        self._halt_machine_at(self.core.local_time())

    # ---- the kernel's tracer hooks ------------------------------------------------------------------------------
    def may_run(self, t) -> bool:
        if not self.enabled:
            return True
        if self.step_thread == t.tid:
            # The thread stepped into a syscall that blocked; it returned: the step is complete.
            self.step_thread = None
            self._report_between_quanta(t, StopReason(SIGTRAP, "step", thread=t.tid))
            return False
        return self.allowed is None or t.tid in self.allowed

    def on_signal(self, t, info) -> bool:
        if not self.enabled:
            return False
        for i, passed in enumerate(self._reinjected):
            if passed is info:
                del self._reinjected[i]
                return False
        if info.signo in self.pass_signals:
            return False
        self.held_signals[t.tid] = info
        name = f"{_signal_name(info.signo)}"
        if info.forced:
            where = f" accessing 0x{info.address:08x}" if info.address is not None and info.signo in (7, 11) else ""
            detail = f"thread {t.tid}: {name} at PC 0x{(info.pc or 0):08x}{where}" + \
                (f" ({info.detail})" if info.detail else "")
            stop = StopReason(gdb_signal(info.signo), "fault", thread=t.tid, detail=detail)
        else:
            stop = StopReason(gdb_signal(info.signo), "signal", thread=t.tid, detail=f"thread {t.tid}: {name}")
        self._report_between_quanta(t, stop)
        return True

    def _report_between_quanta(self, t, stop: StopReason) -> None:
        if self.stepping:
            self.stop = stop        # the step returns it
            self.last_thread = t.tid
            self.core.halted = True
            self.halted_by_debugger = True
            return
        self.stop = stop
        self.last_thread = t.tid
        self._halt_machine_at(self.core.time)

    def _process_exited(self, p) -> None:
        if not self.enabled:
            return
        if p.term_signal is None:
            self.exited = StopReason(0, "exited", status=p.exit_code or 0, detail=f"exited with status {p.exit_code}")
        else:
            self.exited = StopReason(gdb_signal(p.term_signal), "killed",
                                     detail=f"was killed by {_signal_name(p.term_signal)}")

    # ---- the server's interface -----------------------------------------------------------------------------------
    def attach(self) -> None:
        super().attach()
        self.exited = None
        self.allowed = None
        self.step_thread = None
        self.held_signals.clear()
        self._reinjected.clear()
        self.general_thread = self.continue_thread = None
        self.core.debugger = self
        self.kernel.tracer = self

    def attach_stop(self) -> StopReason:
        if not self.alive:
            return self._ended()
        return StopReason(SIGTRAP, "attach", thread=self.current_thread)

    def interrupt(self) -> StopReason:
        self.core.halted = True
        self.halted_by_debugger = True
        loaded = self.core.loaded
        if loaded is not None and self.thread_alive(loaded.tid):
            self.last_thread = loaded.tid
        return StopReason(SIGINT, "interrupt", thread=self.current_thread)

    def detach(self) -> None:
        # Signals GDB saw but never resumed are delivered as if it had passed them (a detaching gdbserver does).
        for tid, info in list(self.held_signals.items()):
            t = next((t for t in self._live() if t.tid == tid), None)
            if t is not None:
                t.pending.insert(0, info)
                self.kernel.wake(t)
                self.core.wake()
        self.held_signals.clear()
        self._reinjected.clear()
        self.allowed = None
        self.step_thread = None
        super().detach()
        self._files.close_all()
        if self.core.debugger is self:
            self.core.debugger = None
        if self.kernel.tracer is self:
            self.kernel.tracer = None

    def kill(self) -> bool:
        if not self.alive:
            return False
        self.enabled = False           # the debugger is leaving: no exit report for it
        self.kernel.kill()
        return True

    def close(self) -> None:
        if self._process_exited in self.kernel.exit_listeners:
            self.kernel.exit_listeners.remove(self._process_exited)
        if self.core.debugger is self:
            self.core.debugger = None
        if self.kernel.tracer is self:
            self.kernel.tracer = None

    def poll_stop(self) -> StopReason | None:
        if self.stop is not None:
            stop, self.stop = self.stop, None
            return stop
        if self.exited is not None:
            stop, self.exited = self.exited, None
            return stop
        return None

    def _ended(self) -> StopReason:
        p = self.process
        if p is not None and p.term_signal is not None:
            return StopReason(gdb_signal(p.term_signal), "killed")
        return StopReason(0, "exited", status=(p.exit_code or 0) if p is not None else 0)

    def end_reply(self, exit_code: int) -> StopReason:
        if not self.alive:
            return self._ended()
        return super().end_reply(exit_code)

    def set_pass_signals(self, gdb_numbers: list[int]) -> None:
        self.pass_signals = {s for s in (linux_signal(n) for n in gdb_numbers) if s is not None}

    def resume(self, actions: list[Action], mask_irqs: bool) -> StopReason | None:
        if not self.alive:
            return self._ended()
        live = {t.tid: t for t in self._live()}
        chosen: dict[int, Action] = {}
        default: Action | None = None
        for action in actions:
            if action.thread is None:
                if default is None:
                    default = action
                for tid in live:
                    chosen.setdefault(tid, action)
            elif action.thread in live:
                chosen.setdefault(action.thread, action)
        if not chosen:
            return None
        # Signals to deliver: the one the thread stopped with (GDB passes it), another one GDB asks for, or none.
        for tid, action in chosen.items():
            held = self.held_signals.pop(tid, None)
            if action.signal:
                sig = linux_signal(action.signal)
                if sig is None:
                    continue
                t = live[tid]
                if held is not None and held.signo == sig:
                    info = held
                else:
                    from mt3620.engine.linux.signals import SigInfo
                    info = SigInfo(sig, 0, pid=self.pid)      # SI_USER: as `kill` from the debugger
                t.pending.insert(0, info)
                self._reinjected.append(info)
                self.kernel.wake(t)
                self.core.wake()
        steps = [tid for tid, action in chosen.items() if action.op == "s"]
        runs_all = default is not None and default.op == "c"
        self.allowed = None if runs_all else set(chosen)
        if steps:
            tid = steps[0]
            stop = self._step(live[tid])
            if stop is not None:
                return stop
            return None     # a blocked thread steps when its syscall returns: the machine runs until then
        # The thread GDB last stopped in, resumed from an address that has a breakpoint, steps over it first (GDB
        # removes a breakpoint before it steps over it; other clients may not).
        last = self.last_thread
        if last in chosen and last in live and self.kernel.context(live[last]).pc in self.breakpoints:
            stop = self._step(live[last])
            if stop is None:
                return None
            if stop.reason != "step":
                return stop
        return None

    # ---- a single step ------------------------------------------------------------------------------------------
    def _step(self, t) -> StopReason | None:
        """Step thread `t` one instruction (signals it can take are delivered first, as on the way back to user
        space: a handler's first instruction is then where the step stops). None: `t` is blocked in a syscall
        and the step completes when the call returns."""
        kernel, core = self.kernel, self.core
        self.last_thread = t.tid
        if t.state == t.BLOCKED:
            self.step_thread = t.tid
            if self.allowed is not None:
                self.allowed.add(t.tid)
            return None
        self.stepping = True
        self.stop = None
        try:
            before = kernel.context(t).pc
            if not kernel.deliver_pending(t):
                return self._ended()
            if self.stop is not None:               # a signal for the debugger
                stop, self.stop = self.stop, None
                return stop
            if kernel.context(t).pc != before:
                return StopReason(SIGTRAP, "step", thread=t.tid)   # at a handler's first instruction
            self._watch_hit = None
            pc = kernel.context(t).pc
            try:
                executed = core.run_one(t)
            finally:
                self._restore_exits_after_step()
            if self._watch_hit is not None:
                hit, self._watch_hit = self._watch_hit, None
                ctx = kernel.context(t)
                if ctx.pc != pc:          # stopped inside the access: it has not completed, it runs again
                    ctx.regs[15] = pc
                    kernel.commit(t)
                return hit
            for _ in range(executed):
                self._count_step()
            if not self.alive:
                return self._ended()
            if t.state == t.BLOCKED:
                self.step_thread = t.tid      # the instruction was a syscall that blocks
                if self.allowed is not None:
                    self.allowed.add(t.tid)
                return None
            if t.state == t.DEAD:
                return StopReason(SIGTRAP, "step", thread=self.current_thread)
            # The instruction faulted (or a signal came): delivered now, which stops for the debugger (or enters a
            # handler whose first instruction ends the step).
            if not kernel.deliver_pending(t):
                return self._ended()
            if self.stop is not None:
                stop, self.stop = self.stop, None
                return stop
            return StopReason(SIGTRAP, "step", thread=t.tid)
        finally:
            self.stepping = False

    # ---- documents ---------------------------------------------------------------------------------------------
    def xfer(self, obj: bytes, annex: bytes) -> bytes | str | None:
        if obj == b"auxv":
            p = self.process
            return b"".join(struct.pack("<II", k & 0xFFFFFFFF, v & 0xFFFFFFFF) for k, v in (p.auxv if p else []))
        if obj == b"exec-file":
            p = self.process
            return p.exe if p is not None else ""
        if obj == b"libraries-svr4":
            return self.libraries_svr4()
        if obj == b"siginfo":
            # The siginfo of the signal the selected thread stopped with ($_siginfo), as Linux lays it out.
            tid = self.general_thread if self.general_thread is not None else self.current_thread
            info = self.held_signals.get(tid)
            if info is None:
                raise BusError(0, 0, False, "the thread did not stop with a signal")
            return info.pack()
        return None

    def host_io(self) -> HostIo:
        return self._files

    def r_debug_address(self) -> int:
        """Where the musl loader keeps its r_debug (`struct debug`): the DT_DEBUG entry of the program's dynamic
        section, found through AT_PHDR as gdbserver does. 0 until the loader has filled it in."""
        p = self.process
        aux = dict(p.auxv) if p is not None else {}
        phdr, phnum, phent = aux.get(AT_PHDR, 0), aux.get(AT_PHNUM, 0), aux.get(AT_PHENT, 32)
        if not phdr or phent < 32 or phnum > 128:
            return 0
        try:
            headers = [struct.unpack_from("<8I", self.read_memory(phdr + i * phent, 32)) for i in range(phnum)]
            bias = next((phdr - h[2] for h in headers if h[0] == PT_PHDR), None)
            if bias is None:
                bias = p.main.base if p.main is not None else 0
            dynamic = next(((h[2] + bias) & 0xFFFFFFFF, h[5]) for h in headers if h[0] == PT_DYNAMIC)
        except (BusError, StopIteration, struct.error):
            return 0
        address, size = dynamic
        for offset in range(0, min(size, 0x2000), 8):
            try:
                tag, value = struct.unpack("<II", self.read_memory(address + offset, 8))
            except (BusError, struct.error):
                return 0
            if tag == DT_NULL:
                return 0
            if tag == DT_DEBUG:
                return value
        return 0

    def libraries_svr4(self) -> str:
        """The loader's link_map list as gdbserver's qXfer:libraries-svr4 gives it (struct link_map: l_addr,
        l_name, l_ld, l_next, l_prev; musl's struct dso starts the same way). The first entry is the program."""
        out = []
        main_lm = 0
        r_debug = self.r_debug_address() if self.alive else 0
        lm = 0
        if r_debug:
            try:
                lm = struct.unpack("<I", self.read_memory(r_debug + 4, 4))[0]
            except (BusError, struct.error):
                lm = 0
        seen: set[int] = set()
        first = True
        while lm and lm not in seen and len(seen) < MAX_LINK_MAPS:
            seen.add(lm)
            try:
                l_addr, l_name, l_ld, l_next = struct.unpack("<4I", self.read_memory(lm, 16))
            except (BusError, struct.error):
                break
            if first:
                main_lm = lm
                first = False
            else:
                name = self._string(l_name)
                if name:
                    out.append(f"  <library name={quoteattr(name)} lm=\"0x{lm:x}\" l_addr=\"0x{l_addr:x}\" "
                               f"l_ld=\"0x{l_ld:x}\" lmid=\"0x0\"/>")
            lm = l_next
        head = '<library-list-svr4 version="1.0"' + (f' main-lm="0x{main_lm:x}"' if main_lm else "") + ">"
        return "\n".join([head, *out, "</library-list-svr4>"]) + "\n"

    def _string(self, address: int, limit: int = 4096) -> str:
        if not address:
            return ""
        out = bytearray()
        while len(out) < limit:
            try:
                chunk = self.read_memory(address + len(out), min(256, limit - len(out)))
            except BusError:
                break
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                break
            out += chunk
        return out.decode("utf-8", "replace")


def _signal_name(sig: int) -> str:
    from mt3620.engine.linux.abi import signal_name
    return signal_name(sig)
