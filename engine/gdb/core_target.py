"""The debugger's handle on one core: what both targets share (`DebugTarget`), and the IO cores' (`CoreTarget`).

The A7's target (a Linux process with threads, signals and shared libraries) is in a7_target.py; the server talks
to both through the same methods: registers, memory, breakpoints, watchpoints, threads, `resume`, `poll_stop`.

How a target stays out of the way of a free run:
- IO cores: breakpoints (Z0 and Z1 alike, as in QEMU's gdbstub) are Unicorn UC_HOOK_CODE hooks on the one address:
  no guest memory is patched and code elsewhere runs at full speed. A hook added after its code was translated only
  fires once that translation is dropped, so the cached blocks around the address are removed on insert and on
  removal. Z1 is limited to the Cortex-M4's six FPB instruction comparators (ARM DDI 0439B, FPB).
- Watchpoints (Z2 write, Z3 read, Z4 access) are UC_HOOK_MEM_WRITE/READ hooks on the watched range, installed only
  while a watchpoint exists (any memory hook slows every load and store); at most four, as the M4's DWT and the
  A7's four watchpoint register pairs. Like the hardware (GDB's ARM targets have "non-steppable" watchpoints), the
  stop is reported before the access instruction completes: PC names the instruction and GDB steps over it with
  watchpoints removed.
- A hook that stops the core calls emu_stop(): the core stops before the hooked instruction. The block-budget
  hook charged the whole translation block when it started; the part not executed is handed back, so the
  instruction count (and the core's virtual time) is exact at a breakpoint. The core is marked halted and a
  no-op event is scheduled at its local time, so the other cores and the clock stop there too (all-stop: nothing
  scheduled after the stop fires until the debugger resumes).
- A single step runs exactly one instruction with emu_start(count=1) and a Unicorn exit at the next instruction
  (which keeps the Thumb IT state exact: Unicorn cannot stop inside an IT block it translated whole); the
  translation cache is flushed around it, because count runs and budget runs must not share translated blocks
  (../shared/DESIGN.md, Unicorn facts).
  The clock does not move during or after a step: the stepped core's own time advances one cycle per
  instruction and the machine catches up when it resumes. With interrupts unmasked, an exception that is
  pending when the step starts is taken first and the step stops at the first instruction of its handler.
"""
from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Callable

import unicorn
from unicorn import arm_const as A

from mt3620.engine.cpu.budget import CACHE_SIZE, count_thumb
from mt3620.engine.cortex_m.core import REGISTER_IDS, CortexM4, GuestFault, PendingStop
from mt3620.engine.simulation.access import DEBUGGER_ACCESS, BusError
from mt3620.engine.simulation.clock import ps_for_cycles

from .targets import M4F_FEATURES, M4F_REGISTERS, Register, memory_map_xml, target_xml

log = logging.getLogger("mt3620.gdb")

SIGINT, SIGILL, SIGTRAP, SIGBUS, SIGSEGV = 2, 4, 5, 10, 11   # GDB's signal numbers (gdb/signals.def)
HW_BREAKPOINTS = 6          # Cortex-M4 FPB: six instruction address comparators; Cortex-A7: six BRPs
HW_WATCHPOINTS = 4          # Cortex-M4 DWT: four comparators; Cortex-A7: four WRPs
WATCH_KINDS = {2: "watch", 3: "rwatch", 4: "awatch"}
MAX_ACCESS = 8              # widest single data access a hook reports (LDRD/VLDR.64 halves are 4 bytes each)
THREAD_ID = 1               # an IO core is one thread


@dataclass
class StopReason:
    signal: int
    reason: str = ""            # "swbreak", "hwbreak", "watch", "rwatch", "awatch", "step", "interrupt", "fault",
    #                             "signal", "attach"; "exited" / "killed" end the process (W / X packets)
    address: int | None = None  # data address of a watchpoint hit
    detail: str = ""
    thread: int = THREAD_ID     # the thread that stopped (RSP thread id)
    status: int = 0             # exit status ("exited")


@dataclass(frozen=True)
class Action:
    """One vCont action (or a c/s/C/S packet): `op` "c" or "s", `signal` a GDB signal number to deliver (or None),
    `thread` the thread it applies to, None for every thread no earlier action named."""
    op: str
    signal: int | None = None
    thread: int | None = None


@dataclass
class Watchpoint:
    kind: int                   # 2 write, 3 read, 4 access
    start: int
    length: int
    hooks: tuple[int, ...] = ()

    @property
    def end(self) -> int:
        return self.start + self.length


def _is_wfi(code: bytes) -> bool:
    return code[:2] == b"\x30\xbf" or code[:4] == b"\xaf\xf3\x03\x80"


class DebugTarget:
    """What every debugged Unicorn core shares: breakpoint bookkeeping, watchpoint hooks, the all-stop halt,
    step timing. Subclasses say how a breakpoint is armed, how the core runs one instruction, and what a thread is."""

    features: tuple[str, ...] = ()
    registers: tuple[Register, ...] = ()
    multiprocess = False            # thread ids as p<pid>.<tid> (a Linux process)
    qsupported = ""                 # extra qSupported features of this target

    def __init__(self, core) -> None:
        self.core = core
        self.name = core.name
        self.breakpoints: dict[int, dict] = {}      # address -> {"sw": bool, "hw": bool, "hook": handle}
        self.watchpoints: list[Watchpoint] = []
        self.stop: StopReason | None = None        # a stop produced while running, not yet reported
        self.halted_by_debugger = False            # core.halted was set here (cleared on resume)
        self.stepping = False
        self.enabled = False                       # a debugger is attached: hooks report here
        self._watch_hit: StopReason | None = None
        self._marker = None
        self._step_anchor = (0, 0, 0, -1)           # (time before the first step, steps, hz, time after the last)

    # ---- descriptions -----------------------------------------------------------------------------------------------
    def target_xml(self) -> str:
        return self._xml

    def memory_map_xml(self) -> str | None:
        return None

    # ---- threads (an IO core is one thread; the A7 overrides) --------------------------------------------------------
    pid = 1
    continue_thread: int | None = None

    def thread_ids(self) -> list[int]:
        return [THREAD_ID]

    def thread_alive(self, tid: int) -> bool:
        return tid == THREAD_ID

    def select_thread(self, op: str, tid: int | None) -> bool:
        """Hg / Hc: `tid` None means any thread."""
        return tid is None or tid == THREAD_ID

    def thread_name(self, tid: int) -> str:
        return self.name

    def thread_extra(self, tid: int) -> str:
        return self.name

    @property
    def current_thread(self) -> int:
        return THREAD_ID

    # ---- breakpoints ------------------------------------------------------------------------------------------------
    def insert_breakpoint(self, address: int, hardware: bool) -> None:
        address &= ~1
        if not self.mapped(address):
            raise BusError(address, 2, False, "no memory or device there")
        entry = self.breakpoints.get(address)
        if hardware and not (entry and entry["hw"]):
            used = sum(1 for e in self.breakpoints.values() if e["hw"])
            if used >= HW_BREAKPOINTS:
                raise OverflowError(f"all {HW_BREAKPOINTS} hardware breakpoint comparators are in use")
        if entry is None:
            entry = self.breakpoints[address] = {"sw": False, "hw": False, "hook": None}
            entry["hook"] = self._arm_breakpoint(address)
        entry["hw" if hardware else "sw"] = True

    def remove_breakpoint(self, address: int, hardware: bool) -> bool:
        address &= ~1
        entry = self.breakpoints.get(address)
        if entry is None or not entry["hw" if hardware else "sw"]:
            return False
        entry["hw" if hardware else "sw"] = False
        if not entry["hw"] and not entry["sw"]:
            del self.breakpoints[address]
            self._disarm_breakpoint(address, entry["hook"])
        return True

    def _arm_breakpoint(self, address: int):
        raise NotImplementedError

    def _disarm_breakpoint(self, address: int, handle) -> None:
        raise NotImplementedError

    def mapped(self, address: int) -> bool:
        raise NotImplementedError

    # ---- watchpoints ------------------------------------------------------------------------------------------------
    def insert_watchpoint(self, kind: int, address: int, length: int) -> None:
        if kind not in WATCH_KINDS or length <= 0 or length > 0x10000:
            raise ValueError(f"bad watchpoint type {kind} or length {length}")
        for w in self.watchpoints:
            if (w.kind, w.start, w.length) == (kind, address, length):
                return
        if len(self.watchpoints) >= HW_WATCHPOINTS:
            raise OverflowError(f"all {HW_WATCHPOINTS} watchpoint comparators are in use")
        begin = max(0, address - MAX_ACCESS + 1)
        end = address + length - 1
        uc = self.core.uc
        hooks = []
        if kind in (2, 4):
            hooks.append(uc.hook_add(unicorn.UC_HOOK_MEM_WRITE, self._on_access, None, begin, end))
        if kind in (3, 4):
            hooks.append(uc.hook_add(unicorn.UC_HOOK_MEM_READ, self._on_access, None, begin, end))
        self.watchpoints.append(Watchpoint(kind, address, length, tuple(hooks)))
        uc.ctl_flush_tb()

    def remove_watchpoint(self, kind: int, address: int, length: int) -> bool:
        for w in self.watchpoints:
            if (w.kind, w.start, w.length) == (kind, address, length):
                for h in w.hooks:
                    self.core.uc.hook_del(h)
                self.watchpoints.remove(w)
                self.core.uc.ctl_flush_tb()
                return True
        return False

    def clear_all(self) -> None:
        """Remove every breakpoint and watchpoint (the debugger detached)."""
        for address, entry in list(self.breakpoints.items()):
            del self.breakpoints[address]
            self._disarm_breakpoint(address, entry["hook"])
        for w in list(self.watchpoints):
            self.remove_watchpoint(w.kind, w.start, w.length)

    def _on_access(self, uc, access, address, size, value, _user) -> None:
        if not self.enabled or self.stop is not None or self._watch_hit is not None:
            return
        write = access in (unicorn.UC_MEM_WRITE, unicorn.UC_MEM_WRITE_PROT, unicorn.UC_MEM_WRITE_UNMAPPED)
        for w in self.watchpoints:
            if address < w.end and address + size > w.start:
                if (w.kind == 2 and not write) or (w.kind == 3 and write):
                    continue
                pc = uc.reg_read(A.UC_ARM_REG_PC)
                self._watch_stop(pc, StopReason(SIGTRAP, WATCH_KINDS[w.kind], max(address, w.start),
                                                thread=self.current_thread))
                return

    def _watch_stop(self, pc: int, hit: StopReason) -> None:
        raise NotImplementedError

    # ---- all-stop ---------------------------------------------------------------------------------------------------
    def _halt_machine_at(self, when: int) -> None:
        """Stop this core, and through a no-op event at `when`, the clock and every other core at the same time."""
        self.core.halted = True
        self.halted_by_debugger = True
        if not self.stepping:
            clock = self.core.clock
            self._marker = clock.schedule_at(max(when, clock.now), lambda: None, f"gdb: {self.name} halted")

    def interrupt(self) -> StopReason:
        """Ctrl-C: the machine is between windows; stop here."""
        self.core.halted = True
        self.halted_by_debugger = True
        return StopReason(SIGINT, "interrupt", thread=self.current_thread)

    def release(self) -> None:
        """The debugger resumes: let the core run again."""
        if self.halted_by_debugger:
            self.core.halted = False
            self.halted_by_debugger = False
        if self._marker is not None:
            self._marker.cancel()
            self._marker = None

    def _hand_back_unexecuted(self, pc: int, thumb: bool = True) -> None:
        """The budget hook charged the whole block the core stopped in; return the instructions from `pc` on."""
        budget = self.core.budget
        if not budget.native:
            return  # Python fallback: the block stays charged (deterministic, a few cycles late)
        s = budget._s
        start = s.last_block
        entry = s.cache[(start >> 1) & (CACHE_SIZE - 1)]
        if entry.address != start or not start <= pc < start + entry.size:
            return
        done = 0
        if pc > start:
            if not thumb:
                done = (pc - start) // 4
            else:
                try:
                    done = count_thumb(bytes(self.core.uc.mem_read(start, pc - start)))
                except unicorn.UcError:
                    return
        unexecuted = entry.count - done
        if 0 < unexecuted <= s.executed:
            s.executed -= unexecuted
            s.remaining += unexecuted

    def _count_step(self) -> None:
        """One instruction retired by a step: n consecutive steps take exactly ps_for_cycles(n) like a run of n
        instructions (no rounding drift)."""
        core = self.core
        core.instructions += 1
        base, count, hz, last = self._step_anchor
        if last != core.time or hz != core.hz:
            base, count, hz = core.time, 0, core.hz
        count += 1
        core.time = base + ps_for_cycles(count, hz)
        self._step_anchor = (base, count, hz, core.time)

    # ---- the server's interface -------------------------------------------------------------------------------------
    def attach(self) -> None:
        self.enabled = True
        self.stop = None

    def attach_stop(self) -> StopReason:
        """What `?` answers right after the debugger attached."""
        return StopReason(SIGTRAP, "attach", thread=self.current_thread)

    def detach(self) -> None:
        self.clear_all()
        self.enabled = False
        self.stop = None
        self.release()

    def close(self) -> None:
        """The server stops serving this core: unhook from the engine."""

    def kill(self) -> bool:
        """GDB's `kill`: True when the program was killed; an IO core is not (its session just ends)."""
        return False

    def resume(self, actions: list[Action], mask_irqs: bool) -> StopReason | None:
        raise NotImplementedError

    def poll_stop(self) -> StopReason | None:
        """A stop produced while the machine ran, to report now (the debugger is waiting for one)."""
        stop, self.stop = self.stop, None
        return stop

    def end_reply(self, exit_code: int) -> StopReason:
        """The emulation ended while the debugger waited: what it is told (W, or X with a fault's signal)."""
        return StopReason(0, "exited", status=exit_code)

    def xfer(self, obj: bytes, annex: bytes) -> bytes | str | None:
        """A qXfer object besides target.xml, memory-map and threads (None: not supported)."""
        return None

    def host_io(self):
        """The vFile file system of this target (None: no host I/O)."""
        return None


class CoreTarget(DebugTarget):
    """Debug access to one CortexM4 (RSP thread id 1)."""

    features = M4F_FEATURES
    registers: tuple[Register, ...] = M4F_REGISTERS

    def __init__(self, core: CortexM4, *, on_reset: Callable[[CortexM4], None] | None = None) -> None:
        super().__init__(core)
        self.on_reset = on_reset
        self.fault_signal = 0                      # signal of the last fault reported (for the exit packet)
        self.wake_step = False                     # a step of a sleeping core: report when it wakes
        self._xml = target_xml(self.registers, self.features)
        ids = []
        for reg in self.registers:   # a d register is its two single-precision halves, low word first
            if reg.source.startswith("d"):
                n = int(reg.source[1:])
                ids += [REGISTER_IDS[f"s{2 * n}"], REGISTER_IDS[f"s{2 * n + 1}"]]
            else:
                ids.append(REGISTER_IDS[reg.source])
        self._batch_ids = ids
        self._batch_format = "<%dI" % len(ids)
        core.bkpt_handler = self._on_bkpt
        core.fault_listeners.append(self._on_fault)

    def memory_map_xml(self) -> str:
        return memory_map_xml(self.core.view)

    def thread_extra(self, tid: int) -> str:
        return f"{self.core.name} Cortex-M4F" + (" (sleeping)" if self.core.sleeping else "")

    # ---- registers --------------------------------------------------------------------------------------------------
    def read_register(self, number: int, thread: int | None = None) -> bytes:
        reg = self._register(number)
        if reg.source.startswith("d"):
            n = int(reg.source[1:])
            low, high = self.core.reg(f"s{2 * n}"), self.core.reg(f"s{2 * n + 1}")
            return struct.pack("<II", low, high)
        return struct.pack("<I", self.core.reg(reg.source) & 0xFFFFFFFF)

    def write_register(self, number: int, data: bytes) -> None:
        reg = self._register(number)
        if len(data) != reg.size:
            raise ValueError(f"register {reg.name} takes {reg.size} bytes, got {len(data)}")
        if reg.source.startswith("d"):
            n = int(reg.source[1:])
            low, high = struct.unpack("<II", data)
            self.core.set_reg(f"s{2 * n}", low)
            self.core.set_reg(f"s{2 * n + 1}", high)
            return
        value = struct.unpack("<I", data)[0]
        if reg.source == "pc":
            value &= ~1
            self.core.sleeping = False   # the debugger moved PC: the core runs from there, out of any WFI
        self.core.set_reg(reg.source, value)

    def read_all_registers(self) -> bytes:
        # One batch read through Unicorn (each single read through the binding costs about 2 us).
        values = self.core.uc.reg_read_batch(self._batch_ids)
        return struct.pack(self._batch_format, *(v & 0xFFFFFFFF for v in values))

    def write_all_registers(self, data: bytes) -> None:
        need = sum(r.size for r in self.registers)
        if len(data) < need:
            raise ValueError(f"G packet carries {len(data)} bytes of registers, the target has {need}")
        pos = 0
        for i, reg in enumerate(self.registers):
            self.write_register(i, data[pos:pos + reg.size])
            pos += reg.size

    def _register(self, number: int) -> Register:
        if not 0 <= number < len(self.registers):
            raise IndexError(f"no register number {number}")
        return self.registers[number]

    @property
    def pc(self) -> int:
        return self.core.pc

    # ---- memory -----------------------------------------------------------------------------------------------------
    def read_memory(self, address: int, length: int) -> bytes:
        """Reads what it can from `address`; a bus error at the very start raises BusError."""
        view = self.core.view
        out = bytearray()
        while length > 0:
            m = view.find(address)
            if m is None:
                break
            n = min(length, m.end - address)
            try:
                out += view.read(address, n, DEBUGGER_ACCESS)
            except BusError:
                break
            address += n
            length -= n
        if not out and length:
            raise BusError(address, length, False)
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        # Host-side writes to memory drop stale translated code through the memory's write listeners.
        self.core.view.write(address, data, DEBUGGER_ACCESS)

    def mapped(self, address: int) -> bool:
        return self.core.view.find(address) is not None

    # ---- breakpoints: code hooks ------------------------------------------------------------------------------------
    def _arm_breakpoint(self, address: int):
        handle = self.core.uc.hook_add(unicorn.UC_HOOK_CODE, self._on_code, None, address, address)
        self._drop_translations(address, 4)
        return handle

    def _disarm_breakpoint(self, address: int, handle) -> None:
        self.core.uc.hook_del(handle)
        self._drop_translations(address, 4)

    def _drop_translations(self, address: int, length: int) -> None:
        # Hooks are compiled into translated blocks: drop every block that may contain the address.
        self.core.uc.ctl_remove_cache(address & ~(0x1000 - 1), address + length)

    # ---- hooks (called inside emu_start) ----------------------------------------------------------------------------
    def _on_code(self, uc, address, size, _user) -> None:
        if self.stepping or not self.enabled or self.stop is not None:
            return
        entry = self.breakpoints.get(address)
        if entry is None:
            return
        reason = "swbreak" if entry["sw"] else "hwbreak"
        self._stop_in_run(address, StopReason(SIGTRAP, reason))

    def _watch_stop(self, pc: int, hit: StopReason) -> None:
        if self.stepping:
            self._watch_hit = hit
            if self.core._stop is None:
                self.core._stop = PendingStop("halt", pc=pc)
            self.core.uc.emu_stop()
        else:
            self._stop_in_run(pc, hit)

    def _stop_in_run(self, pc: int, reason: StopReason) -> None:
        core = self.core
        self._hand_back_unexecuted(pc)
        if core._stop is None:
            core._stop = PendingStop("halt", pc=pc)   # not a WFI return: keeps the core awake
        core._skip_rest = False
        self.stop = reason
        self._halt_machine_at(self._local_time())
        core.uc.emu_stop()

    def _local_time(self) -> int:
        """The core's virtual time at this point of its quantum (as CortexM4._account will compute it)."""
        return self.core._local_time(self.core.budget.executed)

    # ---- engine callbacks (after emu_start returned) -----------------------------------------------------------------
    def _on_bkpt(self, core: CortexM4, pc: int) -> bool:
        """A BKPT instruction in the guest: halt for the debugger if one is attached (else the core escalates)."""
        if not self.enabled:
            return False
        if self.stop is None:
            self.stop = StopReason(SIGTRAP, "", detail=f"BKPT at 0x{pc:08x}")
        self._halt_machine_at(core.time)
        return True

    def _on_fault(self, fault: GuestFault) -> None:
        if not self.enabled:
            return
        kind = fault.kind
        signal = SIGILL if "UsageFault" in kind else SIGBUS if "BusFault" in kind else SIGSEGV
        self.fault_signal = signal
        self.stop = StopReason(signal, "fault", detail=str(fault))
        self._halt_machine_at(self.core.time)

    # ---- control ----------------------------------------------------------------------------------------------------
    def detach(self) -> None:
        self.wake_step = False
        super().detach()

    def close(self) -> None:
        if self.core.bkpt_handler == self._on_bkpt:
            self.core.bkpt_handler = None
        if self._on_fault in self.core.fault_listeners:
            self.core.fault_listeners.remove(self._on_fault)

    def at_breakpoint(self) -> bool:
        return self.core.pc in self.breakpoints

    def resume(self, actions: list[Action], mask_irqs: bool) -> StopReason | None:
        """Continue or step the core as the first action for thread 1 says (a signal cannot be delivered: the
        M-profile has none). Returns the stop of a step that completed, or None while the machine runs."""
        action = next((a for a in actions if a.thread in (None, THREAD_ID)), None)
        if action is None:
            return None      # nothing for our only thread: it stays stopped while the machine runs
        core = self.core
        if action.op == "s":
            if core.sleeping and not core.locked_up:
                # Stepping a WFI-sleeping core waits, as on the chip, for the interrupt that wakes it.
                self.wake_step = True
                return None
            return self.step(mask_irqs)
        if core.locked_up:
            # Nothing runs on a locked-up core: the machine goes on and ends its run on the fault, as without a
            # debugger; GDB then hears that the program terminated with the fault's signal.
            return None
        if self.at_breakpoint() and not core.sleeping:
            # Resuming from a breakpoint address: step over it first (GDB does this itself; other clients may not).
            stop = self.step(mask_irqs)
            if stop.reason != "step":
                return stop
        return None

    def poll_stop(self) -> StopReason | None:
        stop = super().poll_stop()
        if stop is None and self.wake_step and not self.core.sleeping:
            stop = StopReason(SIGTRAP, "step")
            self.core.halted = True
            self.halted_by_debugger = True
        if stop is not None:
            self.wake_step = False
        return stop

    def end_reply(self, exit_code: int) -> StopReason:
        if self.core.locked_up:
            return StopReason(self.fault_signal or SIGSEGV, "killed")
        return super().end_reply(exit_code)

    def step(self, mask_irqs: bool) -> StopReason:
        """Execute one instruction (or enter one pending exception). The caller handles a sleeping core."""
        core = self.core
        if core.locked_up:
            return StopReason(self.fault_signal or SIGSEGV, "fault", detail=str(core.locked_up))
        if core.reset_requested:
            (core.on_reset_request or (lambda c: c.reset()))(core)
        if not mask_irqs:
            before = (core.pc, core.reg("xpsr") & 0x1FF)
            core._take_pending_exceptions()
            if core.locked_up:
                return StopReason(self.fault_signal or SIGSEGV, "fault", detail=str(core.locked_up))
            if (core.pc, core.reg("xpsr") & 0x1FF) != before:
                return StopReason(SIGTRAP, "step")
        uc = core.uc
        pc = core.pc
        try:
            code = bytes(uc.mem_read(pc, 4))
        except unicorn.UcError:
            code = b""
        wfi = _is_wfi(code)
        # Unicorn runs an IT block as one unit under count=1: an exit at the next instruction cuts the block after
        # this one and stores the IT state, so a step inside an IT block is one instruction (see CortexA7.run_one).
        size = 4 if len(code) >= 2 and code[1] >> 3 >= 0x1D else 2
        core._stop = None
        core._hz_changes.clear()
        core._quantum_start_time = core.time
        core._horizon = core.clock.now          # the clock does not follow the core during a step
        core._skip_rest = False
        core.budget.arm(1)
        self._watch_hit = None
        self.stepping = True
        error: unicorn.UcError | None = None
        uc.ctl_exits_enabled(True)
        uc.ctl_set_exits([pc + size])
        uc.ctl_flush_tb()
        core._running = True
        try:
            uc.emu_start(pc | 1, 0, count=1)
        except unicorn.UcError as exc:
            error = exc
        finally:
            core._running = False
            uc.ctl_set_exits([])
            uc.ctl_exits_enabled(False)
            uc.ctl_flush_tb()
        try:
            core._skip_rest = False
            core._spin = (None, None, 0, 0)
            if self._watch_hit is not None:
                hit, self._watch_hit = self._watch_hit, None
                core._stop = None
                uc.reg_write(A.UC_ARM_REG_PC, pc)  # the access instruction has not completed: it runs again
                return hit
            self._count_step()
            self.stop = None
            core._handle_stop(error, 0)   # SVC, BKPT, faults, exception return: the engine's own handling
            if wfi and error is None and not core.sleeping and core.pc != pc and not core.locked_up:
                core.sleeping = not core._would_wake()
            if core.reset_requested:
                (core.on_reset_request or (lambda c: c.reset()))(core)
        finally:
            self.stepping = False
        if self.stop is not None:
            hit, self.stop = self.stop, None      # BKPT or a reported fault while stepping
            return hit
        if core.locked_up:
            return StopReason(self.fault_signal or SIGSEGV, "fault", detail=str(core.locked_up))
        return StopReason(SIGTRAP, "step")

    def reset(self) -> None:
        if self.on_reset is not None:
            self.on_reset(self.core)
        else:
            self.core.reset()
