"""The MT3620's Cortex-A7 application core on Unicorn, executing Linux user space in USR mode.

There is no kernel on this core: the Azure Sphere OS is played by Python (engine/linux, sphere_os). The CPU is
Unicorn's Cortex-A7 model (MIDR 0x410fc075) with the MMU off, so a process's virtual addresses are Unicorn
addresses; VFP and NEON are enabled (CPACR cp10/cp11 full access, FPEXC.EN) and the core is switched to USR mode
before anything runs. Exceptions come back as Unicorn events and go to the attached system (the Linux
personality):
- `svc #0` arrives as interrupt 2 with PC already past it: the system serves the syscall inside the hook and the
  core carries on without leaving Unicorn, unless the system asks for a stop (a blocking call, an exit, a switch);
- an unmapped or protected access, an undefined instruction, BKPT: a CpuException handed to the system, which
  turns it into a signal (SIGSEGV, SIGILL, SIGTRAP).

Time: one clock for the whole machine. The core runs in quanta ending at the next event of the virtual clock,
the block-budget hook (engine/cpu/budget.py, per-block A32/Thumb-2 counting) counts retired instructions,
and one instruction costs one cycle at 500 MHz (emulator-defined: docs/a7.md). The system chooses which thread
runs each quantum; when it has none runnable (every thread blocked in a syscall) the core is parked, like an IO
core in WFI, until a model event or a time-out wakes a thread.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

import unicorn
from unicorn import arm_const as A

from mt3620.engine.cpu.budget import AUTO, BlockBudget
from mt3620.engine.cpu.fastregs import accelerate
from mt3620.engine.simulation.clock import VirtualClock, cycles_in, ps_for_cycles

log = logging.getLogger("mt3620.a7")

HZ = 500_000_000                 # the MT3620's A7 clock (MT3620-FACTS "Chip")
# qemu exception numbers that Unicorn hands to UC_HOOK_INTR (target/arm/cpu.h)
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT, EXCP_BKPT = 1, 2, 3, 4, 7
CPSR_T = 1 << 5
MODE_USR = 0x10
FPEXC_EN = 1 << 30
CPACR_CP10_CP11 = 0xF << 20
# Unicorn's memory error codes -> (kind, access)
_MEMORY_ERRORS = {
    unicorn.UC_ERR_READ_UNMAPPED: ("unmapped", "read"), unicorn.UC_ERR_WRITE_UNMAPPED: ("unmapped", "write"),
    unicorn.UC_ERR_FETCH_UNMAPPED: ("unmapped", "fetch"), unicorn.UC_ERR_READ_PROT: ("protection", "read"),
    unicorn.UC_ERR_WRITE_PROT: ("protection", "write"), unicorn.UC_ERR_FETCH_PROT: ("protection", "fetch"),
    unicorn.UC_ERR_READ_UNALIGNED: ("alignment", "read"), unicorn.UC_ERR_WRITE_UNALIGNED: ("alignment", "write"),
    unicorn.UC_ERR_FETCH_UNALIGNED: ("alignment", "fetch"),
}

GPR = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR, A.UC_ARM_REG_PC]
DREG = [getattr(A, f"UC_ARM_REG_D{i}") for i in range(32)]
# One batch for a whole user context: r0-r15, CPSR, FPSCR, TPIDRURO (the TLS register), d0-d31.
CONTEXT_REGS = GPR + [A.UC_ARM_REG_CPSR, A.UC_ARM_REG_FPSCR, A.UC_ARM_REG_C13_C0_3] + DREG
REGISTER_IDS = {**{f"r{i}": GPR[i] for i in range(13)}, "sp": A.UC_ARM_REG_SP, "lr": A.UC_ARM_REG_LR,
                "pc": A.UC_ARM_REG_PC, "cpsr": A.UC_ARM_REG_CPSR, "fpscr": A.UC_ARM_REG_FPSCR,
                "tls": A.UC_ARM_REG_C13_C0_3, **{f"d{i}": DREG[i] for i in range(32)}}


@dataclass
class CpuContext:
    """The user-visible state of one thread: r0-r15 (PC with the Thumb state in CPSR.T), CPSR, FPSCR, the TLS
    register (TPIDRURO, CP15 c13 c0 3) and the 32 VFP/NEON double registers."""
    regs: list[int] = field(default_factory=lambda: [0] * 16)
    cpsr: int = MODE_USR
    fpscr: int = 0
    tls: int = 0
    d: list[int] = field(default_factory=lambda: [0] * 32)

    def copy(self) -> "CpuContext":
        return CpuContext(list(self.regs), self.cpsr, self.fpscr, self.tls, list(self.d))

    @property
    def pc(self) -> int:
        return self.regs[15]

    @property
    def thumb(self) -> bool:
        return bool(self.cpsr & CPSR_T)


@dataclass(frozen=True)
class CpuException:
    """A synchronous exception of the running thread: what the kernel would see in its abort/undef handlers."""
    kind: str              # "unmapped", "protection", "alignment", "undefined", "breakpoint", "abort"
    pc: int
    address: int | None = None
    access: str = ""       # "read", "write", "fetch"
    detail: str = ""


class System(Protocol):
    """What the core asks of the OS that runs on it (engine/linux.Kernel)."""

    def next_thread(self, core: "CortexA7"): ...          # a runnable thread (with .context) or None

    def syscall(self, core: "CortexA7") -> None: ...      # inside the SVC hook; registers are live in Unicorn

    def exception(self, core: "CortexA7", thread, exc: CpuException) -> None: ...

    def quantum_end(self, core: "CortexA7", thread) -> None: ...


class CortexA7:
    """The A7. `system` (attached with `attach`) owns threads, memory layout and syscalls; the core runs them."""

    def __init__(self, name: str, clock: VirtualClock, *, hz: int = HZ) -> None:
        self.name = name
        self.clock = clock
        self.hz = hz
        uc = self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_ARM)
        uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_A7)
        accelerate(uc)   # register access straight through libunicorn (engine/cpu/fastregs.py)
        # Reset leaves the core in SVC mode with the MMU off. VFP/NEON: CPACR grants cp10/cp11, FPEXC.EN on.
        uc.reg_write(A.UC_ARM_REG_C1_C0_2, uc.reg_read(A.UC_ARM_REG_C1_C0_2) | CPACR_CP10_CP11)
        uc.reg_write(A.UC_ARM_REG_FPEXC, FPEXC_EN)
        # USR mode before any banked SP is written, so SP is the user's.
        uc.reg_write(A.UC_ARM_REG_CPSR, (uc.reg_read(A.UC_ARM_REG_CPSR) & ~0x1F & ~CPSR_T) | MODE_USR)
        self.budget = BlockBudget(uc, thumb=AUTO)
        uc.hook_add(unicorn.UC_HOOK_INTR, self._on_intr)
        uc.hook_add(unicorn.UC_HOOK_MEM_INVALID, self._on_invalid_memory)
        self.system: System | None = None
        self.time = clock.now            # local time of this core (ps)
        self.instructions = 0            # retired since power-on
        self.sleeping = True             # parked: no thread to run
        self.halted = False              # stopped by a debugger or the machine
        self.locked_up = None            # never set: a guest fault kills a process, not the core
        self.loaded = None               # the thread whose registers are live in Unicorn
        self.current = None              # the thread running this quantum (None between quanta)
        # A debugger's hook (engine/gdb's A7 target while one is attached): `quantum_stopped(core, thread, fault)`
        # is called as soon as Unicorn returns, before the quantum is accounted (`fault`: the error or exception
        # that ended it, else None), so a breakpoint or watchpoint stop can be recognised (and the unexecuted rest
        # of a block handed back) and the core halted.
        self.debugger = None
        self._running = False
        self._stop_requested = False
        self._quantum_start_time = 0
        self._horizon = 0
        self._pending: CpuException | None = None
        self._bad_access: tuple[str, int] | None = None

    # ---- the system ---------------------------------------------------------------------------------------------
    def attach(self, system: System) -> None:
        self.system = system

    @property
    def active(self) -> bool:
        """True while a system with live threads runs here (the machine schedules the core)."""
        return self.system is not None and bool(getattr(self.system, "alive", True))

    def wake(self) -> None:
        """A thread became runnable (a model event, a time-out, another thread)."""
        self.sleeping = False

    def _would_wake(self) -> bool:
        return not self.sleeping

    # ---- registers --------------------------------------------------------------------------------------------------
    def reg(self, name: str) -> int:
        return self.uc.reg_read(REGISTER_IDS[name])

    def set_reg(self, name: str, value: int) -> None:
        if name == "pc":
            self.set_pc(value, self.thumb)
            return
        self.uc.reg_write(REGISTER_IDS[name], value & 0xFFFFFFFFFFFFFFFF)

    @property
    def pc(self) -> int:
        return self.uc.reg_read(A.UC_ARM_REG_PC)

    @property
    def thumb(self) -> bool:
        return bool(self.uc.reg_read(A.UC_ARM_REG_CPSR) & CPSR_T)

    def set_pc(self, address: int, thumb: bool) -> None:
        """Unicorn takes bit 0 of a PC write as the Thumb state (as BX does)."""
        self.uc.reg_write(A.UC_ARM_REG_PC, (address & ~1) | (1 if thumb else 0))

    def save_context(self, ctx: CpuContext) -> None:
        values = self.uc.reg_read_batch(CONTEXT_REGS)
        ctx.regs[:] = values[:16]
        ctx.cpsr, ctx.fpscr, ctx.tls = values[16], values[17], values[18]
        ctx.d[:] = values[19:]

    def load_context(self, ctx: CpuContext) -> None:
        uc = self.uc
        # CPSR first (the user flags and mode; the T bit follows the PC write below), then everything else.
        uc.reg_write(A.UC_ARM_REG_CPSR, (ctx.cpsr & ~0x1F) | MODE_USR)
        pairs = list(zip(GPR[:15], ctx.regs[:15])) + [(A.UC_ARM_REG_FPSCR, ctx.fpscr),
                                                      (A.UC_ARM_REG_C13_C0_3, ctx.tls)] + list(zip(DREG, ctx.d))
        uc.reg_write_batch(pairs)
        self.set_pc(ctx.regs[15], bool(ctx.cpsr & CPSR_T))

    def switch_to(self, thread) -> None:
        """Make `thread`'s registers live in Unicorn (saving the previous thread's)."""
        if self.loaded is thread:
            return
        if self.loaded is not None and getattr(self.loaded, "context", None) is not None:
            self.save_context(self.loaded.context)
        self.load_context(thread.context)
        self.loaded = thread

    def unload(self, thread) -> None:
        """`thread` is gone: its registers no longer need saving."""
        if self.loaded is thread:
            self.loaded = None

    def sync(self, thread) -> None:
        """Bring `thread.context` up to date when its registers are live."""
        if self.loaded is thread:
            self.save_context(thread.context)

    def invalidate_code(self, start: int, end: int) -> None:
        """Code written from outside the CPU (a file mapped, a loader's copy) must be translated afresh."""
        if end > start:
            self.uc.ctl_remove_cache(start, end)
            self.budget.flush_cache()

    # ---- time ---------------------------------------------------------------------------------------------------
    def local_time(self) -> int:
        """This core's virtual time now, also in the middle of a quantum (inside a syscall)."""
        if self._running:
            return self._quantum_start_time + ps_for_cycles(self.budget.executed, self.hz)
        return self.time

    def stop(self) -> None:
        """End the running quantum after the current instruction (a syscall blocked, a thread switch)."""
        if self._running:
            self._stop_requested = True
            self.uc.emu_stop()

    # ---- hooks ----------------------------------------------------------------------------------------------------
    def _on_intr(self, uc, intno, _user):
        if intno == EXCP_SWI and self.system is not None and self._pending is None:
            self.system.syscall(self)
            return
        pc = uc.reg_read(A.UC_ARM_REG_PC)
        if self._pending is None:
            if intno == EXCP_BKPT:
                self._pending = CpuException("breakpoint", pc, detail="BKPT")
            elif intno == EXCP_UDEF:
                self._pending = CpuException("undefined", pc, detail="undefined instruction")
            elif intno in (EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT):
                self._pending = CpuException("alignment", pc, detail="data abort")
            else:
                self._pending = CpuException("undefined", pc, detail=f"CPU exception {intno}")
        uc.emu_stop()

    def _on_invalid_memory(self, uc, access, address, size, value, _user):
        self._bad_access = (access, address)
        return False

    # ---- running ----------------------------------------------------------------------------------------------------
    def run_until(self, horizon: int) -> None:
        """Run threads up to virtual time `horizon`, or to the next scheduled event if that comes first."""
        if self.halted or self.system is None:
            self.time = max(self.time, horizon)
            return
        while not self.halted:
            nxt = self.clock.next_event_time()
            limit = horizon if nxt is None else min(horizon, nxt)
            if self.time >= limit:
                break
            thread = self.system.next_thread(self)
            if thread is None:
                if self.halted:          # a debugger stopped the core while a thread was being chosen
                    break
                self.sleeping = True
                self.time = limit
                break
            self.sleeping = False
            self._run_quantum(thread, limit)

    def _run_quantum(self, thread, horizon: int) -> None:
        self._horizon = horizon
        budget = cycles_in(horizon - self.time, self.hz)
        if budget <= 0:
            self.time = horizon
            return
        self.switch_to(thread)
        self._start_run(thread, budget)
        uc = self.uc
        start = uc.reg_read(A.UC_ARM_REG_PC) | (1 if self.thumb else 0)
        self._running = True
        error: unicorn.UcError | None = None
        try:
            try:
                uc.emu_start(start, 0xFFFFFFFF)
            except unicorn.UcError as exc:
                error = exc
            if self.debugger is not None:
                self.debugger.quantum_stopped(self, thread, error or self._pending)
        finally:
            self._running = False
        executed = self.budget.executed
        self.instructions += executed
        self.time = self._quantum_start_time + ps_for_cycles(executed, self.hz)
        self._end_run(thread, error)

    def run_one(self, thread) -> int:
        """A debugger's single step: execute exactly one instruction of `thread`, with the clock frozen (the caller
        accounts the core's time). The translation block is cut after the instruction by a Unicorn exit at the next
        one, which also keeps the Thumb IT state exact inside an IT block (Unicorn cannot stop in the middle of a
        block it translated whole), and the budget of one instruction ends the run before a branch target's block
        runs. Syscalls and exceptions are served as in a quantum. Unicorn's exits are replaced and the translation
        cache is flushed: a caller that uses exits sets its own again. Returns the instructions charged."""
        uc = self.uc
        self.switch_to(thread)
        pc = uc.reg_read(A.UC_ARM_REG_PC)
        thumb = self.thumb
        size = 4
        if thumb:
            code = self.read_code(pc, 2)
            size = 4 if len(code) == 2 and code[1] >> 3 >= 0x1D else 2
        uc.ctl_exits_enabled(True)
        uc.ctl_set_exits([pc + size])
        uc.ctl_flush_tb()
        self._start_run(thread, 1)
        self._running = True
        error: unicorn.UcError | None = None
        try:
            uc.emu_start(pc | (1 if thumb else 0), 0)
        except unicorn.UcError as exc:
            error = exc
        finally:
            self._running = False
            uc.ctl_flush_tb()
        executed = self.budget.executed
        self._end_run(thread, error)
        return executed

    def _start_run(self, thread, instructions: int) -> None:
        """Before Unicorn runs `thread` (a quantum or one debugger step): the instruction budget armed, no stop
        requested, no fault pending."""
        self.current = thread
        self.budget.arm(instructions)
        self._quantum_start_time = self.time
        self._stop_requested = False
        self._pending = None
        self._bad_access = None

    def _end_run(self, thread, error: unicorn.UcError | None) -> None:
        """After Unicorn stopped: the fault a hook left pending, or the one Unicorn raised, goes to the system
        (Linux: a signal), then the system ends the quantum (it may switch threads)."""
        self.current = None
        exc = self._pending or (self._decode_error(error) if error is not None else None)
        self._pending = None
        if exc is not None:
            self.system.exception(self, thread, exc)
        self.system.quantum_end(self, thread)

    def _decode_error(self, error: unicorn.UcError) -> CpuException:
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        if error.errno in _MEMORY_ERRORS:
            kind, access = _MEMORY_ERRORS[error.errno]
            address = self._bad_access[1] if self._bad_access else (pc if access == "fetch" else None)
            return CpuException(kind, pc, address, access, f"{access} {kind} at 0x{address or 0:08x}")
        if error.errno == unicorn.UC_ERR_INSN_INVALID:
            return CpuException("undefined", pc, detail="undefined instruction")
        if error.errno == unicorn.UC_ERR_EXCEPTION:
            return CpuException("undefined", pc, detail="unhandled CPU exception")
        return CpuException("abort", pc, detail=f"emulation error: {error}")

    def read_code(self, address: int, length: int) -> bytes:
        try:
            return bytes(self.uc.mem_read(address, length))
        except unicorn.UcError:
            return b""
