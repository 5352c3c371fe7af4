"""An MT3620 IO core: a Cortex-M4F on Unicorn, with the ARMv7-M exception model done here in Python.

Unicorn executes instructions; it has no NVIC, no SCS and no exception entry for M-profile cores. It reports SVC,
BKPT and branches to EXC_RETURN values as interrupt hooks, WFI as a plain return from emu_start and WFE/YIELD as
invalid instructions. This class turns those into architecture behaviour (ARMv7-M ARM DDI 0403E, B1.5):
stacking of 8- or 26-word frames (with the 4-byte realignment flag in xPSR bit 9), EXC_RETURN forms, pre-emption
by priority, tail-chaining, fault escalation to HardFault and lockup.

Time: the core runs in quanta ending at the next event of the virtual clock; the block-budget hook counts retired
instructions and one instruction costs one cycle of the core clock (HCLK). Pending interrupts are taken at
quantum boundaries; a model that raises an interrupt or schedules an earlier event from inside an MMIO access
shortens the running quantum, so the interrupt is taken right after the current block.
"""
from __future__ import annotations

import ctypes
import logging
import os
import re
import struct
from dataclasses import dataclass
from typing import Callable

import unicorn
from unicorn import arm_const as A

from mt3620.engine.cpu.budget import BlockBudget
from mt3620.engine.cpu.fastregs import accelerate
from mt3620.engine.simulation.access import Access, BusError
from mt3620.engine.simulation.bus import PAGE, AddressSpace
from mt3620.engine.simulation.clock import VirtualClock, cycles_in, ps_for_cycles
from mt3620.engine.simulation.peripheral import LoggingRegion, Peripheral

from . import native
from .dwt import Dwt
from .itm import Itm
from .native_devices import NativeSysTick, NativeUart
from .native_exceptions import CHECK_ALL, NEVER, STOP_BAIL, STOP_INTR, STOP_YIELD, NativeExceptions
from .nvic import BUSFAULT, EXTERNAL_BASE, HARDFAULT, NMI, SVCALL, USAGEFAULT, ExceptionState, exception_name
from .scs import (BFSR_BFARVALID, BFSR_IBUSERR, BFSR_PRECISERR, BFSR_STKERR, HFSR_FORCED, HFSR_VECTTBL,
                  UFSR_INVPC, UFSR_INVSTATE, UFSR_UNDEFINSTR, SystemControlSpace)

log = logging.getLogger("mt3620.core")

SCS_BASE = 0xE000E000
# qemu exception numbers that Unicorn hands to UC_HOOK_INTR (target/arm/cpu.h)
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT, EXCP_BKPT, EXCP_EXCEPTION_EXIT = 1, 2, 3, 4, 7, 8
EXCP_NOCP, EXCP_INVSTATE, EXCP_UNALIGNED, EXCP_DIVBYZERO = 17, 18, 22, 23
CONTROL_NPRIV, CONTROL_SPSEL, CONTROL_FPCA = 1, 2, 4
XPSR_T = 1 << 24
XPSR_IT = (3 << 25) | (0x3F << 10)   # IT[1:0] and IT[7:2] (the Thumb IT-block state)
# While an enabled interrupt is pending but masked (PRIMASK/BASEPRI/FAULTMASK or the current priority), the core
# runs one translation block per quantum: qemu ends a block after CPS and MSR to the mask registers, so the
# interrupt is taken right after the instruction that unmasks it.
UNMASK_POLL_INSTRUCTIONS = 1
# MRS Rd, BASEPRI / BASEPRI_MAX (T1: 0xF3EF, 0x8<Rd><SYSm>, SYSm 0x11/0x12), as bytes in memory. Unicorn keeps
# all 8 BASEPRI bits; the MT3620's NVIC implements 3, so a one-address code hook on each such instruction masks
# the register just before the guest reads it (MT3620-FACTS: BASEPRI = 1 reads back 0).
MRS_BASEPRI = re.compile(rb"\xef\xf3[\x11\x12][\x80-\x8f]")
# Instructions that change PRIMASK, BASEPRI or FAULTMASK: MSR (T1: 0xF38<Rn>, 0x8<mask><SYSm> with SYSm 0x10-0x13)
# and CPS (0xB66x / 0xB67x), as bytes. qemu ends the translation block after each, so the instruction after one
# starts a block: the native path looks again at an interrupt that waits behind a mask only there (an "unmask point").
MASK_WRITES = re.compile(rb"[\x80-\x8f]\xf3[\x10-\x13][\x80\x84\x88\x8c]|[\x61-\x63\x71-\x73]\xb6")
# WFI (T1 0xBF30, T2 0xF3AF 0x8003), as bytes: the native path may sleep there until a native event (devices.c).
WFI = re.compile(rb"\x30\xbf|\xaf\xf3\x03\x80")
# Polling loops (emulator-defined, docs/engine.md): the same register read SPIN_READS times in a row, each read
# within SPIN_MAX_GAP instructions of the last and with no MMIO write between, is a core waiting.
# - For a register whose value only changes at events (a status flag: the same value each time), the core jumps
#   to the next event instead of spinning.
# - For a counter that changes with time alone (a register its model declares volatile: GPT counters, SysTick's
#   current value), the core is busy-waiting on time: it jumps ahead by an eighth of how long it has already
#   waited, at least WARP_MIN_PS and at most WARP_MAX_PS, never past the next event. The loop then sees the
#   counter advance as if an interrupt had delayed it, so a wait ends at most 1/8 (and 250 us) late.
SPIN_READS = 16
PAIRED_PROBE = 1 << 62            # paired_work before any paired window: try the worker thread first
WARP_MIN_PS = 2_000_000          # 2 us
WARP_MAX_PS = 250_000_000        # 250 us
SPIN_MAX_GAP = 48
# A warp never lands closer than WARP_GUARD_PS to the end of the quantum (the next event): the last stretch before
# an event runs instruction by instruction, so a loop waiting for a counter to enter a narrow window just before
# an event sees it (MediaTek's osai_delay_us waits for SysTick's VAL <= 100, the last 0.5 us before it reloads).
WARP_GUARD_PS = 2_000_000        # 2 us

GPR = [A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3, A.UC_ARM_REG_R4, A.UC_ARM_REG_R5,
       A.UC_ARM_REG_R6, A.UC_ARM_REG_R7, A.UC_ARM_REG_R8, A.UC_ARM_REG_R9, A.UC_ARM_REG_R10, A.UC_ARM_REG_R11,
       A.UC_ARM_REG_R12, A.UC_ARM_REG_SP, A.UC_ARM_REG_LR, A.UC_ARM_REG_PC]
SREG = [getattr(A, f"UC_ARM_REG_S{i}") for i in range(32)]
REGISTER_IDS = {**{f"r{i}": GPR[i] for i in range(13)}, "sp": A.UC_ARM_REG_SP, "lr": A.UC_ARM_REG_LR,
                "pc": A.UC_ARM_REG_PC, "xpsr": A.UC_ARM_REG_XPSR, "msp": A.UC_ARM_REG_MSP,
                "psp": A.UC_ARM_REG_PSP, "primask": A.UC_ARM_REG_PRIMASK, "basepri": A.UC_ARM_REG_BASEPRI,
                "faultmask": A.UC_ARM_REG_FAULTMASK, "control": A.UC_ARM_REG_CONTROL,
                "fpscr": A.UC_ARM_REG_FPSCR, **{f"s{i}": SREG[i] for i in range(32)}}

FAULT_DESCRIPTIONS = {
    BFSR_PRECISERR: "precise data bus error", BFSR_IBUSERR: "instruction bus error",
    BFSR_STKERR: "bus error on exception stacking", UFSR_UNDEFINSTR: "undefined instruction",
    UFSR_INVSTATE: "invalid state (Thumb bit clear)", UFSR_INVPC: "invalid EXC_RETURN",
    HFSR_VECTTBL: "vector table read failed",
}


class GuestFault(Exception):
    """A fault the guest cannot handle (lockup), or any fault when the core stops on faults."""

    def __init__(self, core: str, kind: str, pc: int, address: int | None, detail: str) -> None:
        where = f" accessing 0x{address:08x}" if address is not None else ""
        super().__init__(f"{core}: {kind} at PC 0x{pc:08x}{where}: {detail}")
        self.core, self.kind, self.pc, self.address, self.detail = core, kind, pc, address, detail


@dataclass
class PendingStop:
    kind: str                   # "intr", "fault", "mmio", "halt", "exception" (left to Python by C)
    intno: int = 0
    pc: int = 0
    address: int | None = None
    write: bool = False
    cfsr: int = 0


class _TimeBase:
    """The Python path's time base; the native path keeps the same fields in its C struct (native_exceptions), where
    a WFI sleep in C moves the anchor."""
    __slots__ = ("anchor_ps", "anchor_count", "hz", "horizon_ps")

    def __init__(self, anchor_ps: int, hz: int) -> None:
        self.anchor_ps, self.anchor_count, self.hz, self.horizon_ps = anchor_ps, 0, hz, 0


class CortexM4:
    """One IO core. `view` is its private AddressSpace (memories and devices, without the SCS).

    `native_exceptions`: take exceptions in C (native/exceptions.c) when the native library builds; False runs the
    Python reference path below (also chosen by MT3620_PYTHON_EXCEPTIONS=1). Both give the same registers, memory,
    instruction counts and times."""

    def __init__(self, name: str, clock: VirtualClock, view: AddressSpace, *, hz: int = 26_000_000,
                 num_irqs: int = 128, priority_bits: int = 3, stop_on_fault: bool = False,
                 native_exceptions: bool | None = None) -> None:
        self.name = name
        self.clock = clock
        self.view = view
        self.hz = hz
        self.access = Access(name, secure=False, privileged=True)
        self.stop_on_fault = stop_on_fault
        self._event_register = False
        self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
        accelerate(self.uc)   # register access straight through libunicorn (engine/fastregs.py)
        if native_exceptions is None:
            native_exceptions = not os.environ.get("MT3620_PYTHON_EXCEPTIONS")
        lib = native.cortex_m_library() if native_exceptions else None
        self._native: NativeExceptions | None = None
        if lib is not None:
            # One native block hook charges the budget and takes exceptions; the SCS page goes through C first.
            self.budget = BlockBudget(self.uc, thumb=True, library=lib, install_hook=False)
            self._native = NativeExceptions(lib, self.uc, self.budget, SCS_BASE, self._scs_read, self._scs_write,
                                            num_irqs=num_irqs, priority_bits=priority_bits)
            self.state = self._native.state
        else:
            self.state = ExceptionState(num_irqs=num_irqs, priority_bits=priority_bits)
        # The core's own clock: the events of devices only this core sees (SysTick; a UART the machine hands over,
        # Machine._attach_fast_paths) fire inside the core's runs, at the core's time, and end no other core's
        # window. Its `now` follows this core (the shared clock follows whichever core runs furthest).
        self.private_clock = VirtualClock()
        self.private_clock.now = clock.now
        self.scs = SystemControlSpace(f"{name}.scs", self.private_clock, state=self.state, hz=hz,
                                      on_change=self._exceptions_changed,
                                      on_reset_request=self.request_reset)
        view.add_device(SCS_BASE, 0x1000, self.scs, f"{name}.scs")
        # SysTick served in C while the core runs (native_engage); the SCS page is mapped there already.
        self._systick_fast = NativeSysTick(self) if self._native is not None else None
        if self._native is not None:   # the arguments of the native calls made at every window
            self._uch = self.uc._uch
            self._native_s = ctypes.addressof(self._native.s)
            self._gate_buffer = ctypes.create_string_buffer(lib.gate_struct_size())
        # The rest of the private peripheral bus (Cortex-M4 TRM table 2-1): ITM and DWT modelled; FPB, TPIU, ETM
        # and the ROM table known but not modelled (reads 0, writes ignored, logged), so probing never faults.
        self.itm = Itm(f"{name}.itm", clock)
        self.dwt = Dwt(f"{name}.dwt", clock, hz=lambda: self.hz, pc=lambda: self.pc)
        view.add_device(0xE0000000, 0x1000, self.itm, f"{name}.itm")
        view.add_device(0xE0001000, 0x1000, self.dwt, f"{name}.dwt")
        for address, block in ((0xE0002000, "fpb"), (0xE0040000, "tpiu"), (0xE0041000, "etm"),
                               (0xE00FF000, "romtable")):
            view.add_device(address, 0x1000, LoggingRegion(f"{name}.{block}", clock), f"{name}.{block}")

        self._map_view()
        if self._native is None:
            self.budget = BlockBudget(self.uc, thumb=True)
            self.uc.hook_add(unicorn.UC_HOOK_INTR, self._on_intr)
        self._fast_stores()
        self._native_memory()
        self._hook_unmapped()

        self.time = clock.now            # local time of this core (ps)
        self.instructions = 0            # retired since power-on (for benchmarks and determinism checks)
        self.sleeping = False
        self.halted = False              # stopped by a debugger or the machine; not running
        self.locked_up: GuestFault | None = None
        self.reset_vtor = 0
        self.reset_requested = False
        self.wfe_sleep = False            # asleep in WFE (wakes on events; masked interrupts do not wake it)
        self.on_reset_request: Callable[["CortexM4"], None] | None = None
        self.fault_listeners: list[Callable[[GuestFault], None]] = []
        self._running = False
        self._stop: PendingStop | None = None
        self._quantum_start_time = 0
        self._hz_changes: list[tuple[int, int]] = []  # (executed at change, old hz) within the running quantum
        # Time anchor: while the clock rate holds, the core's time is anchor time + the duration of the instructions
        # retired since the anchor, so how a run is cut into quanta never moves an instruction in time. Re-anchored
        # when the rate changes or when something else moves `time` (sleep, a skipped polling loop, the machine).
        self._tb = self._native.s if self._native is not None else _TimeBase(self.time, hz)
        self._anchor_time = self.time
        self._anchor_count = 0
        self._anchor_hz = hz
        self._horizon = 0
        self._accounted_time = self.time
        self._uart_fast: NativeUart | None = None   # a UART's transmitter served natively (attach_native_uart)
        self._yielded = False                        # a private UART ended a line: the machine's window ends
        self._yield_at = NEVER                       # the time of that line's end
        self._firing_private = False                 # private events firing (a line end there yields)
        self._lines_end_turn = True      # a line a private UART ends ends this core's turn (off in paired windows)
        # Paired windows (engine/machine/paired.py): while the other core takes its turn, interrupt inputs and reset
        # requests directed here wait in `_held` (applied at this core's first access to a device another core sees,
        # or at the end of its first quantum); the gate makes this core wait for the end of that turn before it
        # touches anything shared, when its first quantum runs on another host thread.
        self._holding = False
        self._held: list[tuple] = []
        self.private_pages: set[int] = set()   # 4 KB pages of devices only this core sees (set by the machine)
        self._gate_armed = False          # its first quantum runs on another thread: Python accesses wait (_pass_gate)
        self._emulated = True
        self._emu_error: unicorn.UcError | None = None
        self._armed_pc = 0
        self.paired_work = PAIRED_PROBE    # instructions of the last first quantum of a paired window (paired.py)
        self._first_quantum = False
        self.idle_skip = True
        self.fast_exceptions = True       # exception returns handled inside Unicorn's interrupt hook
        self.skipped_ps = 0               # virtual time jumped over by the polling-loop skip
        self._spin = (None, None, 0, 0)   # (address, value, count, instruction count at the last read)
        self._spin_since = 0              # local time of the first read of the current run of reads
        self._skip_rest: bool | int = False   # True: jump to the next event; an int: jump that many ps
        self._spin_scs_writes = 0         # native SCS writes seen by the polling-loop detector

    # The time base lives in `_tb` (C on the native path): anchor time, anchor count, clock rate, quantum horizon.
    @property
    def _anchor_time(self) -> int:
        return self._tb.anchor_ps

    @_anchor_time.setter
    def _anchor_time(self, value: int) -> None:
        self._tb.anchor_ps = value

    @property
    def _anchor_count(self) -> int:
        return self._tb.anchor_count

    @_anchor_count.setter
    def _anchor_count(self, value: int) -> None:
        self._tb.anchor_count = value

    @property
    def _anchor_hz(self) -> int:
        return self._tb.hz

    @_anchor_hz.setter
    def _anchor_hz(self, value: int) -> None:
        self._tb.hz = value

    @property
    def _horizon(self) -> int:
        return self._tb.horizon_ps

    @_horizon.setter
    def _horizon(self, value: int) -> None:
        self._tb.horizon_ps = value

    @property
    def exception_path(self) -> str:
        """"native" when exceptions are taken in C, "python" for the reference path."""
        return "python" if self._native is None else "native"

    @property
    def event_register(self) -> bool:
        return bool(self._native.s.event_register) if self._native is not None else self._event_register

    @event_register.setter
    def event_register(self, value: bool) -> None:
        if self._native is not None:
            self._native.s.event_register = int(bool(value))
        self._event_register = bool(value)

    def _native_fast(self) -> bool:
        """Exceptions taken in C right now (not with a debugger attached, which wants every stop)."""
        return self._native is not None and self.fast_exceptions and self.bkpt_handler is None

    def _sync_native(self) -> None:
        """Hand the C side what it reads from the Python SCS block and the run's mode."""
        s = self._native.s
        regs = self.scs.regs
        s.vtor, s.ccr, s.scr = regs.VTOR.value, regs.CCR.value, regs.SCR.value
        s.fast = int(self._native_fast())
        s.native_scs = int(not self.view.access_hooks)
        s.track_polls = int(self.idle_skip)

    def _scs_read(self, offset: int, size: int) -> int:
        return self._mmio_read(self.uc, offset, size, SCS_BASE)

    def _scs_write(self, offset: int, size: int, value: int) -> None:
        self._mmio_write(self.uc, offset, size, value, SCS_BASE)
        self._sync_native()

    # ---- memory map -----------------------------------------------------------------------------------------------
    def _map_view(self) -> None:
        for m in self.view.memories():
            perms = unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC
            if not m.memory.read_only:
                perms |= unicorn.UC_PROT_WRITE
            self.uc.mem_map_ptr(m.start, m.end - m.start, perms, m.memory.address)
            m.memory.write_listeners.append(lambda off, n, base=m.start: self._code_written(base + off, n))
        for start, size in self.view.device_pages():
            if self._native is not None and start == SCS_BASE:
                continue  # mapped by the native exception hooks, which pass other registers back here
            self.uc.mmio_map(start, size, self._mmio_read, start, self._mmio_write, start)

    def _fast_stores(self) -> None:
        """Unicorn's virtual TLB, filled by native/code_pages.c (or the Python equivalent): a page gets execute
        permission in the TLB only once code is fetched from it, so stores to data pages take qemu's fast path
        (Unicorn keeps every store to a page whose TLB entry allows execution on its slow path). No effect on what
        the guest sees; translated code on a page is still invalidated by stores to that page."""
        lib = native.cortex_m_library()
        if lib is not None:
            self._code_pages = ctypes.create_string_buffer(lib.code_pages_struct_size())
            self._code_pages_hook = ctypes.c_size_t(0)
            err = lib.code_pages_install(self.uc._uch, self._code_pages, ctypes.byref(self._code_pages_hook))
            if err != 0:
                raise RuntimeError(f"installing the TLB-fill hook failed: uc_err {err}")
        else:
            self._code_page_set: set[int] = set()
            self.uc.ctl_set_tlb_mode(unicorn.UC_TLB_VIRTUAL)
            self.uc.hook_add(unicorn.UC_HOOK_TLB_FILL, self._tlb_fill)

    def _native_memory(self) -> None:
        """Tell the native exception path where RAM is (host buffers, writability) and which pages hold code."""
        if self._native is None:
            return
        self._native.set_regions([(m.start, m.end, m.memory.address, not m.memory.read_only)
                                  for m in self.view.memories()])
        pages = getattr(self, "_code_pages", None)
        self._native.set_code_pages(ctypes.addressof(pages) if pages is not None else None)

    def _tlb_fill(self, uc, vaddr, access, entry, _user) -> bool:
        if access == unicorn.UC_MEM_FETCH:
            self._code_page_set.add(vaddr)
        else:
            # Unicorn restored the IT state of the current instruction before calling here; qemu keeps it zero
            # inside a translation block (see native/code_pages.c).
            xpsr = uc.reg_read(A.UC_ARM_REG_XPSR)
            if xpsr & XPSR_IT:
                uc.reg_write(A.UC_ARM_REG_XPSR, xpsr & ~XPSR_IT)
        entry.paddr = vaddr
        entry.perms = (unicorn.UC_PROT_READ | unicorn.UC_PROT_WRITE
                       | (unicorn.UC_PROT_EXEC if vaddr in self._code_page_set else 0))
        return True

    def _hook_unmapped(self) -> None:
        """Report accesses to nothing (the faulting address for BFAR) with one hook per hole of the map: a memory
        hook covering RAM would keep its pages on Unicorn's slow store path (uc_mem_hook_installed)."""
        mapped = sorted((start, end + 1) for start, end, _ in self.uc.mem_regions())
        cursor = 0
        for start, end in mapped:
            if start > cursor:
                self.uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, self._on_unmapped, begin=cursor, end=start - 1)
            cursor = max(cursor, end)
        if cursor <= 0xFFFFFFFF:
            self.uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, self._on_unmapped, begin=cursor, end=0xFFFFFFFF)

    def _code_written(self, address: int, length: int) -> None:
        """Host-side writes (loader, debugger) must drop stale translated code."""
        if self._running:
            return
        start = address & ~(PAGE - 1)
        self.uc.ctl_remove_cache(start, address + length)
        self.budget.flush_cache()

    # ---- MMIO -----------------------------------------------------------------------------------------------------
    def _sync_clock(self) -> None:
        """Let the clock follow this core inside its quantum (monotonic, never past the next event), so a model
        sees the accessing core's time and schedules relative to it."""
        local = self._local_time(self.budget.executed)
        if self._native is not None:
            self._native.s.clock_sync = 0  # this access moves the clock at least as far as an earlier native one
        # Never past the next event, a native one included (a native UART's frame end, SysTick's wrap).
        self._follow(min(local, self._event_horizon()))

    def _follow(self, when: int) -> None:
        """The shared clock and this core's own clock follow the core to `when` (both monotonic)."""
        if when > self.clock.now:
            self.clock.now = when
        if when > self.private_clock.now:
            self.private_clock.now = when

    def _before_device_access(self, address: int) -> None:
        """A device access reaching Python in a paired window (engine/machine/paired.py): from the run on another
        thread it waits for the other core's turn to end; at a device another core sees, the inputs held through that
        turn arrive first."""
        if self._gate_armed:
            self._pass_gate()
        if self._held and address >> 12 not in self.private_pages:
            self._release_held()

    def _mmio_read(self, uc, offset, size, base):
        address = base + offset
        self._before_device_access(address)
        self._sync_clock()
        try:
            value = self.view.read_device(address, size, self.access)
        except BusError as exc:
            self._bus_error_from_device(address, False, exc)
            return 0
        except Exception:  # a model bug must not kill the emulator: fault the guest and log it
            log.exception("%s: model raised on read at 0x%08x", self.name, address)
            self._bus_error_from_device(address, False, BusError(address, size, False, "model error"))
            return 0
        if self.idle_skip:
            self._track_polling(address, value)
        self._after_mmio()
        return value

    def _track_polling(self, address: int, value: int) -> None:
        if self._native is not None:
            # One detector for the reads Python serves and those C serves (native/devices.c exc_track_poll).
            self._native.track_poll(address, value, self._time_varying(address))
            return
        last_address, last_value, count, at = self._spin
        if self._native is not None and self._native.s.scs_writes != self._spin_scs_writes:
            self._spin_scs_writes = self._native.s.scs_writes
            last_address = None  # an MMIO write (handled natively) since the last read: not the same loop
        retired = self.instructions + self.budget.executed
        local = self._local_time(self.budget.executed)
        varying = self._time_varying(address)
        if address == last_address and retired - at <= SPIN_MAX_GAP and (varying or value == last_value):
            count += 1
            if count >= SPIN_READS:
                self._skip_rest = (min(WARP_MAX_PS, max(WARP_MIN_PS, (local - self._spin_since) // 8))
                                   if varying else True)
                self.budget.cut(0)
        else:
            count = 1
            self._spin_since = local
        self._spin = (address, value, count, retired)

    def _time_varying(self, address: int) -> bool:
        cache = self.__dict__.setdefault("_varying_cache", {})
        known = cache.get(address)
        if known is None:
            m = self.view.find(address)
            known = cache[address] = (m is not None and isinstance(m.device, Peripheral)
                                       and m.device.is_volatile(address - m.start + m.offset))
        return known

    def _mmio_write(self, uc, offset, size, value, base):
        address = base + offset
        self._before_device_access(address)
        self._sync_clock()
        self._spin = (None, None, 0, 0)
        if self._native is not None:
            self._native.s.spin_count = 0       # any MMIO write ends a polling loop
        try:
            self.view.write_device(address, size, value, self.access)
        except BusError as exc:
            self._bus_error_from_device(address, True, exc)
            return
        except Exception:
            log.exception("%s: model raised on write at 0x%08x", self.name, address)
            self._bus_error_from_device(address, True, BusError(address, size, True, "model error"))
            return
        self._after_mmio()

    def _bus_error_from_device(self, address: int, write: bool, exc: BusError) -> None:
        # emu_stop() inside an MMIO callback stops at the access (the instruction has not completed), so PC
        # still names the faulting instruction: a precise bus fault.
        if self._stop is None:
            self._stop = PendingStop("fault", address=address, write=write, cfsr=BFSR_PRECISERR | BFSR_BFARVALID)
            log.info("%s: %s", self.name, exc)
        if self._native is not None:
            self._native.s.python_stop = 1
        self.uc.emu_stop()

    def _after_mmio(self) -> None:
        """A model may have scheduled an earlier event (on the shared clock or the core's own) or raised an
        interrupt: shorten the quantum."""
        nxt = self._next_event()
        if nxt < self._horizon:
            self._horizon = nxt
            self.budget.cut(self._instructions_until(nxt))

    def _next_event(self) -> int:
        """The next event that ends this core's quanta: the shared clock's, or one of its own devices' in Python."""
        nxt = self.clock.next_event_time()
        own = self.private_clock.next_event_time()
        if own is not None and (nxt is None or own < nxt):
            nxt = own
        return NEVER if nxt is None else nxt

    def _instructions_until(self, when: int) -> int:
        return self._instructions_to(when) - self.budget.executed

    # ---- time ---------------------------------------------------------------------------------------------------
    def _reanchor_if_moved(self) -> None:
        """Between quanta: start a new anchor if the clock rate or `time` changed since the last accounting."""
        if self.time != self._accounted_time or self.hz != self._anchor_hz:
            self._anchor_time, self._anchor_count, self._anchor_hz = self.time, self.instructions, self.hz
            self._accounted_time = self.time

    def _local_time(self, executed: int) -> int:
        """Virtual time after `executed` instructions of the running quantum."""
        return self._anchor_time + ps_for_cycles(self.instructions + executed - self._anchor_count, self._anchor_hz)

    def _instructions_to(self, when: int) -> int:
        """Instructions of the running quantum that end at or before `when` (may be negative)."""
        since = self.instructions - self._anchor_count
        return cycles_in(max(0, when - self._anchor_time), self._anchor_hz) - since

    # ---- hooks ------------------------------------------------------------------------------------------------------
    def _on_intr(self, uc, intno, _user):
        if (self.fast_exceptions and intno == EXCP_EXCEPTION_EXIT and self._stop is None
                and self.bkpt_handler is None):
            # Exception return done inside the hook: Unicorn resumes at the PC written here without leaving
            # emu_start (an RTOS switches threads through PendSV thousands of times a second). Anything that
            # needs the machine's attention (a fault, sleep-on-exit, a reset) stops the run as before.
            self._exception_return(uc.reg_read(A.UC_ARM_REG_PC) | 1)
            if self.locked_up or self.sleeping or self.reset_requested or self._stop is not None:
                uc.emu_stop()
            return
        if self._stop is None:
            self._stop = PendingStop("intr", intno=intno, pc=uc.reg_read(A.UC_ARM_REG_PC))
        uc.emu_stop()

    def _on_unmapped(self, uc, access, address, size, value, _user):
        if self._stop is None:
            fetch = access == unicorn.UC_MEM_FETCH_UNMAPPED
            self._stop = PendingStop("fault", address=address, write=access == unicorn.UC_MEM_WRITE_UNMAPPED,
                                     cfsr=BFSR_IBUSERR if fetch else (BFSR_PRECISERR | BFSR_BFARVALID))
        if self._native is not None:
            self._native.s.python_stop = 1
        return False

    def _exceptions_changed(self) -> None:
        """The NVIC state changed (register write or an interrupt line): take it at the next block if possible."""
        if self._native is not None:
            self._native.s.check = 1  # the native block hook looks at every block start
        if self._running and not self._native_fast() and self.state.highest_pending() is not None:
            self.budget.cut(0)
        if self.sleeping and self._would_wake():
            self.sleeping = False

    def set_irq(self, irq: int, level: bool) -> None:
        """An interrupt input of this core's NVIC (wired from a model's IrqLine)."""
        if self._holding:
            self._held.append((irq, level))
            return
        newly_pending = level and EXTERNAL_BASE + irq not in self.state.pending
        self.state.set_line(irq, level)
        if level:
            if newly_pending and self.scs.regs.SCR.SEVONPEND:
                self._send_event()  # SEVONPEND: an interrupt entering the pending state is an event (B3.2.7)
            self._exceptions_changed()

    def _send_event(self) -> None:
        """A WFE wake-up event: wakes a core sleeping in WFE (the wake-up consumes it), else sets the event
        register so the next WFE does not sleep (ARMv7-M ARM B1.5.18)."""
        if self.sleeping and self.wfe_sleep:
            self.sleeping = False
        else:
            self.event_register = True

    # ---- registers --------------------------------------------------------------------------------------------------
    # Unicorn reads and writes these through qemu's MRS/MSR helpers, which read MSP/PSP as 0 and ignore writes from
    # unprivileged Thread mode (ARMv7-M ARM B5.2.2/B5.2.3); the debugger's view must not depend on the guest's.
    _PRIVILEGED_READS = frozenset({"msp", "psp"})
    _PRIVILEGED_WRITES = frozenset({"msp", "psp", "control", "primask", "basepri", "faultmask"})

    def _unprivileged_thread(self) -> tuple[int, int] | None:
        xpsr, control = self.uc.reg_read_batch([A.UC_ARM_REG_XPSR, A.UC_ARM_REG_CONTROL])
        return (xpsr, control) if not xpsr & 0x1FF and control & CONTROL_NPRIV else None

    def reg(self, name: str) -> int:
        if name in self._PRIVILEGED_READS and (state := self._unprivileged_thread()):
            self._privileged(*state)
            value = self.uc.reg_read(REGISTER_IDS[name])
            self.uc.reg_write(A.UC_ARM_REG_CONTROL, state[1])  # privileged Thread mode may set nPRIV again
            return value
        return self.uc.reg_read(REGISTER_IDS[name])

    def set_reg(self, name: str, value: int) -> None:
        if self._native is not None:
            self._native.s.check = CHECK_ALL  # a mask or the mode may change what can be taken
        if name in self._PRIVILEGED_WRITES and (state := self._unprivileged_thread()):
            self._privileged(*state)
            self.uc.reg_write(REGISTER_IDS[name], value & 0xFFFFFFFF)
            if name != "control":
                self.uc.reg_write(A.UC_ARM_REG_CONTROL, state[1])
            return
        self.uc.reg_write(REGISTER_IDS[name], value & 0xFFFFFFFF)

    @property
    def pc(self) -> int:
        return self.uc.reg_read(A.UC_ARM_REG_PC)

    def _masks(self) -> tuple[int, int, int]:
        return (self.uc.reg_read(A.UC_ARM_REG_PRIMASK), self.uc.reg_read(A.UC_ARM_REG_FAULTMASK),
                self.uc.reg_read(A.UC_ARM_REG_BASEPRI))

    # ---- reset ------------------------------------------------------------------------------------------------------
    def _hook_basepri_reads(self) -> None:
        """Find every `MRS Rd, BASEPRI` in this core's memories and hook it (costs nothing elsewhere), and, for the
        native path, every unmask point (MASK_WRITES). Code the guest writes at run time is not scanned."""
        sites = getattr(self, "_basepri_sites", None)
        if sites is None:
            sites = self._basepri_sites = set()
        wfi_sites = self.__dict__.setdefault("_wfi_sites", set())
        for m in self.view.memories():
            if self._native is not None:
                for match in MASK_WRITES.finditer(m.memory.view):
                    if not match.start() % 2:
                        self._native.add_unmask_point(m.start + match.end())
                for match in WFI.finditer(m.memory.view):
                    site = m.start + match.start()
                    if not match.start() % 2 and site not in wfi_sites:
                        wfi_sites.add(site)
                        self._native.hook_wfi(site)
                        self.uc.ctl_remove_cache(site, site + 4)
            for match in MRS_BASEPRI.finditer(m.memory.view):
                site = m.start + match.start()
                if match.start() % 2 or site in sites:
                    continue
                sites.add(site)
                if self._native is not None:
                    self._native.hook_basepri(site)
                else:
                    self.uc.hook_add(unicorn.UC_HOOK_CODE, self._mask_basepri, begin=site, end=site)
                self.uc.ctl_remove_cache(site, site + 4)

    def _mask_basepri(self, uc, address, size, _user) -> None:
        value = uc.reg_read(A.UC_ARM_REG_BASEPRI)
        masked = value & self.state.implemented_mask
        if masked != value:
            uc.reg_write(A.UC_ARM_REG_BASEPRI, masked)

    def reset(self, vtor: int | None = None) -> None:
        """Core reset: registers, NVIC and SCS to reset values; SP and PC from the vector table at VTOR."""
        if vtor is not None:
            self.reset_vtor = vtor
        self._native_memory()
        self._hook_basepri_reads()
        self.scs.reset()
        self.scs.regs.VTOR.value = self.reset_vtor
        self.sleeping = False
        self.locked_up = None
        self.reset_requested = False
        self.event_register = False
        self._stop = None
        uc = self.uc
        for r in GPR[:13]:
            uc.reg_write(r, 0)
        uc.reg_write(A.UC_ARM_REG_XPSR, XPSR_T)
        uc.reg_write(A.UC_ARM_REG_CONTROL, 0)
        uc.reg_write(A.UC_ARM_REG_PRIMASK, 0)
        uc.reg_write(A.UC_ARM_REG_FAULTMASK, 0)
        uc.reg_write(A.UC_ARM_REG_BASEPRI, 0)
        uc.reg_write(A.UC_ARM_REG_PSP, 0)
        uc.reg_write(A.UC_ARM_REG_LR, 0xFFFFFFFF)
        try:
            sp = self.view.read_u32(self.reset_vtor, self.access)
            entry = self.view.read_u32(self.reset_vtor + 4, self.access)
        except BusError as exc:
            self._lockup("HardFault", self.reset_vtor, self.reset_vtor, f"vector table unreadable at reset: {exc}")
            return
        uc.reg_write(A.UC_ARM_REG_MSP, sp & ~3)
        self._set_pc(entry)
        if not entry & 1:
            self._lockup("UsageFault", entry, None, "reset vector has the Thumb bit clear (INVSTATE)")

    def request_reset(self) -> None:
        """SYSRESETREQ or a watchdog: reset at the next quantum boundary."""
        if self._holding:
            self._held.append(None)
            return
        self.reset_requested = True
        if self._running:
            self.budget.cut(0)

    def set_hz(self, hz: int) -> None:
        """The core clock changed (RGU clock select)."""
        if hz == self.hz or hz <= 0:
            return
        if self._running:
            executed = self.budget.executed
            self._hz_changes.append((executed, self.hz))
            # New anchor at the change: what ran so far at the old rate, what follows at the new one.
            self._anchor_time = self._local_time(executed)
            self._anchor_count = self.instructions + executed
            self._anchor_hz = hz
            self.budget.cut(0)
        old, self.hz = self.hz, hz
        self.scs.systick.clock_changed(hz)
        self.dwt.clock_changed(old)

    # ---- running ----------------------------------------------------------------------------------------------------
    def _would_wake(self, wfe: bool | None = None) -> bool:
        """WFI wakes on any pending interrupt that would pre-empt if PRIMASK were clear (B1.5.19); WFE only on
        one that is not masked at all ("unless masked by the exception mask registers or the current priority")."""
        if self._native is not None:   # the same decision on the same state, in C (native/devices.c)
            return bool(self._native.lib.dev_would_wake(self._uch, self._native_s,
                                                         self.wfe_sleep if wfe is None else wfe))
        number = self.state.highest_pending()
        if number is None:
            return False
        primask, faultmask, basepri = self._masks()
        if not (self.wfe_sleep if wfe is None else wfe):
            primask = 0
        prio = self.state.group_priority(self.state.get_priority(number))
        return prio < self.state.execution_priority(primask, faultmask, basepri)

    def run_until(self, horizon: int) -> None:
        """Run this core up to virtual time `horizon`, or to the next scheduled event if that comes first (the
        machine fires it and calls again). It may overshoot by one block."""
        for _ in self.turn(horizon):
            pass

    def turn(self, horizon: int):
        """run_until step by step: a generator that yields right before each quantum's Unicorn run, armed. The machine
        may run the first one on another host thread (`_emulate`) before it resumes the rest."""
        if self.halted or self.locked_up:
            self.time = max(self.time, horizon)
            return
        self._yield_at = NEVER
        while not self.halted and not self.locked_up:
            if self.sleeping and self.wfe_sleep and self._native is not None:
                # Asleep in WFE, which events wake (not only interrupts): the devices' events go back on the clock,
                # which wakes the core as on the Python path.
                self.native_release()
            # The run ends at the horizon or the shared clock's next event; a quantum also at the next event of the
            # core's own devices in Python (those in C fire inside the run).
            nxt = self.clock.next_event_time()
            shared = horizon if nxt is None else min(horizon, nxt)
            if self.time >= shared:
                break
            own = self.private_clock.next_event_time()
            if own is not None and own <= self.time:
                self._reanchor_if_moved()
                self._fire_private(self.instructions, self.time)
                if self._turn_ends_at_line():
                    break
                continue
            limit = shared if own is None else min(shared, own)
            if self.reset_requested:
                if self.on_reset_request:
                    self.on_reset_request(self)
                else:
                    self.reset()
            self._take_pending_exceptions()
            if self.locked_up:
                break
            if self.sleeping:
                if self._would_wake():
                    self.sleeping = False
                else:
                    woke = self._sleep_private(shared)
                    if self._yielded:
                        if self._turn_ends_at_line():
                            break
                        continue    # a line that does not end the turn, or C's output buffer full: sleep on
                    if not woke:
                        self.time = max(self.time, shared)
                        break
                    continue    # woken at its own device's event: what woke it is taken first, as at a window's start
            if self._arm_quantum(limit):
                yield
                self._emulate()
                self._close_quantum()
            if self._turn_ends_at_line():
                break       # a private UART ended a line: the machine ends the window here (take_yield)

    @property
    def lines_end_turn(self) -> bool:
        """Whether the end of a line on a private UART ends this core's turn (and the machine's window) there."""
        return self._lines_end_turn

    @lines_end_turn.setter
    def lines_end_turn(self, value: bool) -> None:
        self._lines_end_turn = bool(value)
        if self._native is not None:
            self._native.s.quiet_lines = int(not value)

    def _turn_ends_at_line(self) -> bool:
        """A private UART ended a line (or C's output buffer filled) in the last step: the turn ends there when lines
        end turns (the machine then ends the window at the line); otherwise the core goes on."""
        if not self._yielded:
            return False
        if self.lines_end_turn:
            return True
        self._yielded, self._yield_at = False, NEVER
        return False

    # ---- the device fast path (native_devices.py, native/devices.c) ------------------------------------------------
    def attach_native_uart(self, model, irq: int) -> bool:
        """Serve the transmitter of `model`, a UART only this core sees, with its interrupt on NVIC input `irq`,
        on the native path (when this core has one). The machine calls it while it builds the chip."""
        if self._native is None or self._uart_fast is not None:
            return False
        base = model.base_address
        page = next(((start, size) for start, size in self.view.device_pages() if start <= base < start + size),
                    None)
        if page is None:
            return False
        self._uart_fast = NativeUart(self, model, page[0], page[1], irq)
        return True

    def native_engage(self) -> None:
        """At the start of a machine window: serve SysTick and the attached devices natively when this core runs in
        C now (and hand them back when it no longer does: a debugger attached, a reset requested, asleep in WFE)."""
        systick, uart = self._systick_fast, self._uart_fast
        if (systick is None or not self._native_fast() or (self.sleeping and self.wfe_sleep) or self.halted
                or self.locked_up or self.reset_requested):
            self.native_release()
            return
        if not systick.engaged:
            systick.engage()
        if uart is not None and not uart.engaged:
            uart.engage()

    def native_release(self) -> None:
        """At the end of this core's part of a window (or when it falls asleep in Python): the devices' state back
        to their models."""
        if self._uart_fast is not None and self._uart_fast.engaged:
            self._uart_fast.release()
        if self._systick_fast is not None and self._systick_fast.engaged:
            self._systick_fast.release()

    def private_next_event(self) -> int | None:
        """When the next event of this core's own devices is due, in C or on its own clock (None: none)."""
        due = self._private_due()
        return None if due == NEVER else due

    def _private_due(self) -> int:
        """The next event of this core's own devices: served in C, or on its own clock (NEVER: none)."""
        due = self._native_due() if self._native is not None else NEVER
        own = self.private_clock.next_event_time()
        return due if own is None or own >= due else own

    def _sleep_private(self, limit: int) -> bool:
        """Asleep in WFI (or WFE, in Python): the events of the core's own devices up to `limit` fire at their times,
        the core's time moving to each. True when one wakes the core; a line a private UART ends stops here
        (take_yield)."""
        while True:
            due = self._private_due()
            if due > limit:
                return False
            if due > self.time:
                self.time = due
            self._reanchor_if_moved()
            stop = self._fire_private(self.instructions, due)
            if self._would_wake():
                self.sleeping = False
                return True
            if stop:
                return False

    def sleep_to(self, when: int) -> None:
        """Asleep behind the machine's clock: sleep on to `when`, the core's own events on the way firing at their
        times (one may wake the core there; a line ending there cannot end a window that is already past it)."""
        while self.sleeping and self.time < when:
            if self._sleep_private(when):
                return
            if not self._yielded:
                self.time = max(self.time, when)
                return
            self._yielded, self._yield_at = False, NEVER     # a line ended behind the machine's clock: sleep on

    def fire_private_until(self, when: int) -> None:
        """Not running (no app, halted, locked up): the core's own devices' events up to `when` fire at their times
        (the machine ended the window at the first of them)."""
        self.time = max(self.time, when)
        self._reanchor_if_moved()
        self._fire_private(self.instructions, when)       # (its clock moves to `when` too)
        self._yielded, self._yield_at = False, NEVER     # no run of this core to end

    def _device_released(self, due: int) -> None:
        """A device served in C goes back to its model during a run, with its next event at `due`. On the Python path
        that event bounded the running quantum from the moment it was scheduled, and the quantum keeps ending there
        even if the model now moves or cancels it: so does this run (and a model's clock stops there too)."""
        if self._running and due < self._horizon:
            self._horizon = due
            self.budget.cut(max(0, self._instructions_until(due)))

    def _fire_private(self, count: int, until: int) -> bool:
        """Fire the events of the core's own devices due by `until`: those served in C that `count` retired
        instructions reached, then those on its own clock. True when a line a private UART sent ends there (the
        window ends: take_yield)."""
        stop = False
        if self._native is not None and self._native_due() <= until:
            stop = bool(self._native.lib.dev_fire(self._native_s, count, until))
            if self._uart_fast is not None:
                self._uart_fast.deliver()
            if stop:
                self._yielded = True
        own = self.private_clock
        nxt = own.next_event_time()
        if nxt is not None and nxt <= until:
            self._firing_private = True
            try:
                while nxt is not None and nxt <= until:
                    own.advance_to(nxt)
                    nxt = own.next_event_time()
            finally:
                self._firing_private = False
            stop = stop or self._yielded
        if until > own.now:
            own.now = until   # where the core's devices are now, whichever side fired them
        return stop

    def window_ends(self, when: int) -> None:
        """The machine's window ends at `when` (its shared events fire there next): the core's own clock follows the
        core that far, so a model of the core used from those events (or from Python) sees the core's time."""
        reached = min(self.time, when)
        if reached > self.private_clock.now:
            self.private_clock.now = reached

    def note_line_end(self) -> None:
        """A private UART of this core sent a line's last byte (its clock is at the byte's time). Its event fired in
        this core's run: the machine's window ends there (take_yield), as C ends its run at the same byte."""
        if self._yield_at == NEVER:
            self._yield_at = self.private_clock.now
        if self._firing_private and self.lines_end_turn:
            self._yielded = True

    def _native_due(self) -> int:
        """The next event of the devices served natively (NEVER: none)."""
        s = self._native.s
        due = s.uart.due_ps if s.uart.engaged else NEVER
        if s.systick.engaged and s.systick.due_ps < due:
            due = s.systick.due_ps
        return due

    def take_yield(self) -> int | None:
        """The time of the line end a private UART sent, where the last run ended (None: it did not end at one).
        The machine ends the window there."""
        at = None
        if self._yielded:
            at = self._yield_at if self._yield_at != NEVER else self.private_clock.now
        self._yielded, self._yield_at = False, NEVER
        return at

    def _run_quantum(self, horizon: int) -> None:
        if self._arm_quantum(horizon):
            self._emulate()
            self._close_quantum()

    def _arm_quantum(self, horizon: int) -> bool:
        """Everything before a quantum's Unicorn run (False: not one instruction fits, the quantum is over)."""
        self._horizon = horizon
        self._reanchor_if_moved()
        budget = self._instructions_to(horizon)
        if budget <= 0:
            # Not one more instruction fits before the horizon: the core is done with this window. Its time moves
            # to the horizon but the anchor stays, so the fraction of a cycle left over is not lost (a run cut into
            # many windows retires the same instructions at the same times as one long run).
            self.time = self._accounted_time = horizon
            self._fire_reached()
            return False
        fast = self._native_fast()
        if not fast and self.state.pending and self.state.highest_pending() is not None:
            # Something waits only for a mask to drop: run in short steps so it is taken right after CPSIE/MSR.
            # (The native path looks at every block start instead: the same instruction boundaries.)
            budget = min(budget, UNMASK_POLL_INSTRUCTIONS)
        self.budget.arm(budget)
        self._quantum_start_time = self.time
        self._hz_changes.clear()
        self._stop = None
        if self._native is not None:
            self._sync_native()
            s = self._native.s
            s.python_stop = s.stop_kind = s.clock_sync = s.skip_kind = 0
            s.check = CHECK_ALL
            s.run_base = self.instructions
            self._native.reschedule()
        self._armed_pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        self._emulated = False
        self._running = True
        return True

    def _emulate(self) -> None:
        """The armed quantum's Unicorn run (once: the machine may have run it on another host thread already)."""
        if self._emulated:
            return
        self._emulated = True
        self._emu_error = None
        try:
            self.uc.emu_start(self._armed_pc | 1, 0xFFFFFFFF)
        except unicorn.UcError as exc:
            self._emu_error = exc
        finally:
            self._running = False

    def _close_quantum(self) -> None:
        """Everything after a quantum's Unicorn run."""
        error = self._emu_error
        executed = self.budget.executed
        if self._native is not None:
            self._after_native_run()
        self._account(executed)
        if self._skip_rest:
            # A polling loop waits: for an event (jump to it, or to the end of the window), or on a counter (jump
            # ahead by the warp step, never past the next event).
            skip, self._skip_rest = self._skip_rest, False
            horizon = self._event_horizon()
            target = horizon if skip is True else min(horizon - WARP_GUARD_PS, self.time + skip)
            if skip is True:
                self._spin = (None, None, 0, 0)
                if self._native is not None:
                    self._native.s.spin_count = 0
            if target > self.time:
                self.skipped_ps += target - self.time
                self.time = target
        self._handle_stop(error, executed)
        self._fire_reached()
        if self._first_quantum:
            self._first_quantum = False
            self.paired_work = executed
        if self._held:
            self._release_held()      # inputs held through a paired turn arrive at the end of the first quantum

    def _release_held(self) -> None:
        """Interrupt inputs and reset requests held while the other core took its turn, in the order they came."""
        held, self._held = self._held, []
        for item in held:
            if item is None:
                self.request_reset()
            else:
                self.set_irq(*item)

    def hold_inputs(self, on: bool) -> None:
        """A paired window (engine/machine/paired.py): while the other core takes its turn, hold what it sends here;
        the quantum armed then is this core's first of the window (its length is `paired_work`)."""
        self._holding = on
        if on:
            self._first_quantum = self._running

    # ---- the turn gate (native/turn_gate.c) -------------------------------------------------------------------
    def gate_shared_memory(self, ranges: list[tuple[int, int]]) -> None:
        """Make this core's first access to memory another core sees in a quantum wait at the turn gate while it is
        closed (a TLB fill of that memory waits: native/code_pages.c, turn_gate.c)."""
        pages = getattr(self, "_code_pages", None)
        if self._native is None or pages is None:
            return
        for begin, end in ranges:
            if self._native.lib.code_pages_gate(pages, self._gate_buffer, begin, end) != 0:
                raise RuntimeError(f"too many shared memory ranges for the turn gate (0x{begin:08x}-0x{end:08x})")

    def close_gate(self) -> None:
        """The other core's turn starts while this one's first quantum runs on another thread: the TLB holds no page of
        shared memory, so the first access to one is a fill that waits at the gate (native/code_pages.c)."""
        err = self._native.lib.code_pages_gate_close(self._uch, self._code_pages)
        if err != 0:
            raise RuntimeError(f"emptying the TLB for a paired quantum failed: uc_err {err}")
        self._gate_armed = True

    def open_gate(self) -> None:
        """The other core's turn is over: what this core waits for may proceed."""
        self._gate_armed = False
        self._native.lib.gate_open(self._gate_buffer)

    @property
    def gate_waits(self) -> int:
        """Accesses to shared memory that waited at the turn gate (statistics)."""
        if self._native is None:
            return 0
        return int.from_bytes(self._gate_buffer.raw[8:16], "little")

    def _pass_gate(self) -> None:
        """A Python access from the run on another thread: wait for the other core's turn to end (no GIL held)."""
        self._native.lib.gate_wait(self._gate_buffer)

    def _fire_reached(self) -> None:
        """After a quantum: the events of the core's own devices that its time reached by the quantum's horizon and
        that did not fire yet (in C: due in the run's last block, or where its budget ran out, which the block hook
        looks at first, or where a polling skip landed; on the core's own clock: the one the quantum ended at)."""
        if not self.sleeping:
            until = min(self._horizon, self.time)
            if self._private_due() <= until:
                self._reanchor_if_moved()
                self._fire_private(self.instructions, until)

    def _event_horizon(self) -> int:
        """The quantum's horizon, or the next native event if it comes first (on the Python path that event would
        have been the horizon)."""
        if self._native is not None:
            return min(self._horizon, self._native_due())
        return self._horizon

    def _after_native_run(self) -> None:
        """What the C side did during the run that the Python side keeps: the clock following an SCS write, a
        polling loop it found, the bytes its UART sent, a stop it asked for. (A WFI sleep in C moved the time
        base, which lives in C.)"""
        s = self._native.s
        if s.clock_sync:
            s.clock_sync = 0
            self._follow(min(self._local_time(s.clock_sync_executed), self._event_horizon()))
        if s.skip_kind:
            self._skip_rest = True if s.skip_kind == 1 else int(s.skip_ps)
            s.skip_kind = 0
        if self._uart_fast is not None:
            self._uart_fast.deliver()
        if s.stop_kind == STOP_YIELD:
            self._yielded = True
        elif self._stop is None:
            if s.stop_kind == STOP_INTR:
                self._stop = PendingStop("intr", intno=s.stop_intno, pc=s.stop_pc)
            elif s.stop_kind == STOP_BAIL:
                self._stop = PendingStop("exception")  # a pending exception left to Python at a block start
        s.stop_kind = 0

    def _account(self, executed: int) -> None:
        self.time = self._accounted_time = self._local_time(executed)
        self.instructions += executed

    def _handle_stop(self, error: unicorn.UcError | None, executed: int) -> None:
        stop, self._stop = self._stop, None
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        if stop is not None and stop.kind == "fault":
            if stop.cfsr & BFSR_IBUSERR:
                self._fault(BUSFAULT, stop.cfsr, pc, None, f"instruction fetch from unmapped 0x{stop.address:08x}",
                            fault_address=stop.address)
            else:
                what = "write to" if stop.write else "read from"
                self._fault(BUSFAULT, stop.cfsr, pc, stop.address, f"{what} 0x{stop.address:08x}: no target")
            return
        if stop is not None and stop.kind == "intr":
            self._handle_intr(stop)
            return
        if error is not None:
            self._handle_error(error, pc)
            return
        if not self.budget.spent and stop is None and executed:
            # emu_start returned on its own: WFI (Unicorn ends the run on a halt).
            if self._is_wfi(pc):
                self.wfe_sleep = False
                self.sleeping = not self._would_wake()

    def _is_wfi(self, pc: int) -> bool:
        try:
            before = self.uc.mem_read(pc - 2, 2)
            if before == b"\x30\xbf":
                return True
            return self.uc.mem_read(pc - 4, 4) == b"\xaf\xf3\x03\x80"
        except unicorn.UcError:
            return False

    def _handle_intr(self, stop: PendingStop) -> None:
        if stop.intno == EXCP_SWI:
            # SVC: synchronous; PC already points after the SVC. Taken now or escalated to HardFault.
            self.state.pending.add(SVCALL)
            primask, faultmask, basepri = self._masks()
            if self.state.preempting(primask, faultmask, basepri) != SVCALL:
                self.state.pending.discard(SVCALL)
                self._escalate(SVCALL, stop.pc, "SVC executed at a priority that cannot take SVCall")
                return
            self._enter_exception(SVCALL, stop.pc)
        elif stop.intno == EXCP_EXCEPTION_EXIT:
            self._exception_return(stop.pc | 1)
        elif stop.intno == EXCP_BKPT:
            pc = self.pc
            if self.bkpt_handler and self.bkpt_handler(self, pc):
                return
            # No debugger: a BKPT escalates to HardFault (DebugMonitor disabled; HFSR.DEBUGEVT).
            self.scs.record_fault(hfsr_bits=1 << 31)
            self._fault(HARDFAULT, 0, pc, None, "BKPT with no debugger attached")
        elif stop.intno in (EXCP_UDEF, EXCP_INVSTATE, EXCP_NOCP):
            bits = {EXCP_UDEF: UFSR_UNDEFINSTR, EXCP_INVSTATE: UFSR_INVSTATE, EXCP_NOCP: 1 << 19}[stop.intno]
            pc = self.pc
            self._fault(USAGEFAULT, bits, pc, None, FAULT_DESCRIPTIONS.get(bits, "no coprocessor"))
        elif stop.intno == EXCP_DIVBYZERO:
            self._fault(USAGEFAULT, 1 << 25, self.pc, None, "divide by zero")
        elif stop.intno == EXCP_UNALIGNED:
            self._fault(USAGEFAULT, 1 << 24, self.pc, None, "unaligned access")
        elif stop.intno in (EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT):
            self._fault(BUSFAULT, BFSR_PRECISERR, self.pc, None, "bus abort")
        else:
            log.warning("%s: unexpected CPU exception %d at 0x%08x", self.name, stop.intno, stop.pc)

    bkpt_handler: Callable[["CortexM4", int], bool] | None = None

    def _hint_before(self, pc: int) -> int | None:
        """The WFE/YIELD hint that just ended the run, or None.

        Unicorn stops *after* WFE and YIELD (qemu leaves the translation block with the PC advanced) and reports
        them as UC_ERR_INSN_INVALID, while an undefined instruction stops *at* itself; so the hint is the last
        instruction of the block that just ran, found by walking that block's Thumb-2 encodings. qemu executes
        SEV as a no-op, so a SEV earlier in the same block is applied here (it sets the event register)."""
        start = self.budget.last_block
        if not start <= pc - 2 or pc - start > 4096:
            return None
        code = self._read_code(start, pc - start)
        if len(code) != pc - start:
            return None
        hints = []
        i = 0
        while i + 1 < len(code):
            size = 4 if code[i + 1] >> 3 >= 0x1D else 2
            half = int.from_bytes(code[i:i + 2], "little")
            word = int.from_bytes(code[i + 2:i + 4], "little") if size == 4 else 0
            if size == 2 and half in (0xBF10, 0xBF20, 0xBF40):
                hints.append((i + size, half))
            elif half == 0xF3AF and word in (0x8001, 0x8002, 0x8004):
                hints.append((i + size, {0x8001: 0xBF10, 0x8002: 0xBF20, 0x8004: 0xBF40}[word]))
            i += size
        if i != len(code) or not hints or hints[-1][0] != len(code) or hints[-1][1] == 0xBF40:
            return None
        if any(h == 0xBF40 for _, h in hints[:-1]):
            self.event_register = True
        return hints[-1][1]

    def _handle_error(self, error: unicorn.UcError, pc: int) -> None:
        if error.errno == unicorn.UC_ERR_INSN_INVALID:
            hint = self._hint_before(pc)
            if hint is not None:
                if hint == 0xBF20:  # WFE: sleep unless the event register is set
                    if self.event_register:
                        self.event_register = False
                    elif not self._would_wake(wfe=True):
                        self.wfe_sleep = True
                        self.sleeping = True
                return
            insn = self._read_code(pc, 4)
            self._fault(USAGEFAULT, UFSR_UNDEFINSTR, pc, None, f"undefined instruction {insn[:4].hex()}")
        elif error.errno in (unicorn.UC_ERR_READ_UNMAPPED, unicorn.UC_ERR_WRITE_UNMAPPED,
                             unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_READ_PROT, unicorn.UC_ERR_WRITE_PROT,
                             unicorn.UC_ERR_FETCH_PROT):
            write = error.errno in (unicorn.UC_ERR_WRITE_UNMAPPED, unicorn.UC_ERR_WRITE_PROT)
            fetch = error.errno in (unicorn.UC_ERR_FETCH_UNMAPPED, unicorn.UC_ERR_FETCH_PROT)
            if fetch:
                self._fault(BUSFAULT, BFSR_IBUSERR, pc, None, f"instruction fetch from 0x{pc:08x}",
                            fault_address=pc)
            else:
                self._fault(BUSFAULT, BFSR_PRECISERR, pc, None, f"{'write' if write else 'read'} fault")
        elif error.errno == unicorn.UC_ERR_EXCEPTION:
            self._fault(USAGEFAULT, UFSR_UNDEFINSTR, pc, None, "unhandled CPU exception")
        else:
            self._fault(HARDFAULT, 0, pc, None, f"emulation error: {error}")

    def _read_code(self, address: int, length: int) -> bytes:
        try:
            return bytes(self.uc.mem_read(address, length))
        except unicorn.UcError:
            return b""

    # ---- faults -----------------------------------------------------------------------------------------------------
    def _fault(self, number: int, cfsr: int, pc: int, bfar: int | None, detail: str,
               fault_address: int | None = None) -> None:
        """A synchronous fault at `pc` (the faulting instruction, which is the return address)."""
        kind = exception_name(number)
        address = bfar if bfar is not None else fault_address
        report = GuestFault(self.name, kind, pc, address, detail)
        self.scs.record_fault(cfsr_bits=cfsr, bfar=bfar if cfsr & BFSR_BFARVALID else None)
        if self.stop_on_fault:
            self._report(report)
            self.locked_up = report
            return
        primask, faultmask, basepri = self._masks()
        exec_prio = self.state.execution_priority(primask, faultmask, basepri)
        if number != HARDFAULT:
            enabled = self.scs.fault_enabled(number)
            prio = self.state.group_priority(self.state.get_priority(number))
            if enabled and prio < exec_prio:
                self.state.pending.add(number)
                self._enter_exception(number, pc)
                return
            self.scs.record_fault(hfsr_bits=HFSR_FORCED)
        if exec_prio <= -1:
            self._lockup(kind, pc, address, f"{detail} while at priority {exec_prio} (in HardFault/NMI)")
            return
        self.state.pending.add(HARDFAULT)
        self._enter_exception(HARDFAULT, pc)

    def _escalate(self, number: int, pc: int, detail: str) -> None:
        primask, faultmask, basepri = self._masks()
        if self.state.execution_priority(primask, faultmask, basepri) <= -1:
            self._lockup(exception_name(number), pc, None, detail)
            return
        self.scs.record_fault(hfsr_bits=HFSR_FORCED)
        if self.stop_on_fault:
            report = GuestFault(self.name, "HardFault", pc, None, detail)
            self._report(report)
            self.locked_up = report
            return
        self.state.pending.add(HARDFAULT)
        self._enter_exception(HARDFAULT, pc)

    def _lockup(self, kind: str, pc: int, address: int | None, detail: str) -> None:
        report = GuestFault(self.name, f"lockup ({kind})", pc, address, detail)
        self.locked_up = report
        self._report(report)

    def _report(self, report: GuestFault) -> None:
        log.info("%s", report)
        for listener in self.fault_listeners:
            listener(report)

    # ---- exception entry and return ------------------------------------------------------------------------------
    def _take_pending_exceptions(self) -> None:
        if self._native_fast():
            self._sync_native()
            entered = self._native.take_pending()
            if entered > 0 or entered < -1:
                self.sleeping = False
            if entered >= 0:
                return  # else one is left to the Python path below
        for _ in range(8):  # late arrival: a higher-priority exception may pre-empt a handler before it starts
            if not self.state.pending:
                return
            if self.state.highest_pending() is None:
                return
            primask, faultmask, basepri = self._masks()
            number = self.state.preempting(primask, faultmask, basepri)
            if number is None:
                return
            self.sleeping = False
            self._enter_exception(number, self.uc.reg_read(A.UC_ARM_REG_PC))
            if self.locked_up:
                return

    def _enter_exception(self, number: int, return_address: int) -> None:
        uc = self.uc
        values = uc.reg_read_batch([A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3,
                                    A.UC_ARM_REG_R12, A.UC_ARM_REG_LR, A.UC_ARM_REG_XPSR, A.UC_ARM_REG_CONTROL,
                                    A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP])
        r0, r1, r2, r3, r12, lr, xpsr, control, msp, psp = values
        if not xpsr & 0x1FF and control & CONTROL_NPRIV:
            self._privileged(xpsr, control)  # MSP and PSP read as 0 from unprivileged Thread mode: read again
            msp, psp = uc.reg_read_batch([A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP])
        handler_mode = (xpsr & 0x1FF) != 0
        use_psp = not handler_mode and bool(control & CONTROL_SPSEL)
        fp_frame = bool(control & CONTROL_FPCA)
        sp = psp if use_psp else msp
        frame_size = 0x68 if fp_frame else 0x20
        realign = (sp >> 2) & 1 and bool(self.scs.regs.CCR.STKALIGN)
        new_sp = (sp - frame_size) & ~(4 if realign else 0) & 0xFFFFFFFF
        stacked_xpsr = (xpsr & ~(1 << 9)) | (int(realign) << 9)
        frame = struct.pack("<8I", r0, r1, r2, r3, r12, lr, return_address & ~1, stacked_xpsr)
        if fp_frame:
            sregs = uc.reg_read_batch(SREG[:16] + [A.UC_ARM_REG_FPSCR])
            frame += struct.pack("<16I", *sregs[:16]) + struct.pack("<II", sregs[16], 0)
        try:
            if self._memory_backed(new_sp, len(frame)):
                uc.mem_write(new_sp, frame)
            else:
                self.view.write(new_sp, frame, self.access)
        except (BusError, unicorn.UcError):
            # A bus error while stacking is a derived BusFault (BFSR.STKERR), taken once this exception is entered
            # (ARMv7-M ARM B1.5.6 PushStack, B1.5.15); only at priority -1 or above is it a lockup.
            if number in (HARDFAULT, NMI) or self.state.execution_priority(*self._masks()) <= -1:
                self._lockup(exception_name(number), return_address, new_sp,
                             f"stacking for {exception_name(number)} failed (STKERR): stack pointer 0x{sp:08x}")
                return
            stacking_failed = True
        else:
            stacking_failed = False
        vtor = self.scs.regs.VTOR.value
        try:
            vector = self.view.read_u32(vtor + 4 * number, self.access)
        except BusError:
            failed = number
            # A bus error reading the vector is a HardFault with HFSR.VECTTBL, taken on the frame just stacked
            # (ARMv7-M ARM B1.5.15, B3.2.16); only when HardFault's own vector fails, or at priority -1, a lockup.
            if number != HARDFAULT and self.state.execution_priority(*self._masks()) > -1:
                self.scs.record_fault(hfsr_bits=HFSR_VECTTBL)
                self.state.pending.discard(number)
                number = HARDFAULT
                try:
                    vector = self.view.read_u32(vtor + 4 * number, self.access)
                except BusError:
                    vector = None
            else:
                vector = None
            if vector is None:
                self._lockup(exception_name(failed), return_address, vtor + 4 * number,
                             f"vector for {exception_name(number)} unreadable (VTOR 0x{vtor:08x})")
                return
        exc_return = 0xFFFFFFF1 if handler_mode else (0xFFFFFFFD if use_psp else 0xFFFFFFF9)
        if fp_frame:
            exc_return &= ~0x10
        self._set_mode((xpsr & ~0x0600FC00 & ~0x1FF & ~(1 << 9)) | XPSR_T | number,
                       control & ~(CONTROL_SPSEL | CONTROL_FPCA),
                       msp if use_psp else new_sp, new_sp if use_psp else psp, xpsr, control & ~CONTROL_NPRIV)
        uc.reg_write(A.UC_ARM_REG_LR, exc_return)
        self._set_pc(vector)
        self.state.activate(number)
        self.sleeping = False
        self.event_register = True  # exception entry and exit set the event register (see _exception_return)
        if stacking_failed:
            self._fault(BUSFAULT, BFSR_STKERR, vector & ~1, None,
                        f"stacking for {exception_name(number)} failed: stack pointer 0x{sp:08x}",
                        fault_address=new_sp)
            return
        if not vector & 1:
            # Executing a handler with the Thumb bit clear is an INVSTATE UsageFault; escalated since it is nested.
            self._fault(USAGEFAULT, UFSR_INVSTATE, vector & ~1, None, f"vector {number} has the Thumb bit clear")

    def _set_pc(self, address: int) -> None:
        """Unicorn takes bit 0 of a PC write as the Thumb state: writing an even address clears EPSR.T, which the
        next exception entry would stack (xPSR bit 24 = 0) if no instruction ran in between. An M-profile core only
        runs Thumb code (a clear T bit from a vector or frame is dealt with as INVSTATE by the caller)."""
        self.uc.reg_write(A.UC_ARM_REG_PC, (address & ~1) | 1)

    def _privileged(self, xpsr: int, control: int) -> None:
        """Make unprivileged Thread mode privileged (CONTROL.nPRIV = 0) so the MSR/MRS helpers Unicorn uses for
        CONTROL, MSP and PSP work: they read 0 and ignore writes from unprivileged code. Handler mode is entered
        and left by raw xPSR writes around the CONTROL write, with SPSEL untouched, so the banked SPs stay put."""
        if xpsr & 0x1FF or not control & CONTROL_NPRIV:
            return
        uc = self.uc
        uc.reg_write(A.UC_ARM_REG_XPSR, xpsr | 3)
        uc.reg_write(A.UC_ARM_REG_CONTROL, control & ~CONTROL_NPRIV)
        uc.reg_write(A.UC_ARM_REG_XPSR, xpsr)

    def _set_mode(self, xpsr: int, control: int, msp: int, psp: int, current_xpsr: int,
                  current_control: int) -> None:
        """Switch from the current mode (privileged, see _privileged) to the mode in `xpsr` with `control` and both
        stack pointers.

        Unicorn writes CONTROL, MSP and PSP through qemu's MSR helper, which ignores them from unprivileged Thread
        mode and ignores SPSEL in Handler mode, and it swaps the banked SP only on a Thread-mode SPSEL change. So
        SPSEL is written from privileged Thread mode, both SPs are written while privileged, and CONTROL.nPRIV is
        set last."""
        uc = self.uc
        privileged_control = control & ~CONTROL_NPRIV
        if xpsr & 0x1FF:
            if not current_xpsr & 0x1FF:
                # Thread -> Handler: clear SPSEL while still in Thread mode, then enter Handler mode.
                uc.reg_write(A.UC_ARM_REG_CONTROL, privileged_control & ~CONTROL_SPSEL)
                uc.reg_write(A.UC_ARM_REG_XPSR, xpsr)
            else:
                uc.reg_write(A.UC_ARM_REG_XPSR, xpsr)
                uc.reg_write(A.UC_ARM_REG_CONTROL, privileged_control)
        else:
            if current_control & CONTROL_NPRIV:  # Handler mode may clear nPRIV before Thread mode needs it clear
                uc.reg_write(A.UC_ARM_REG_CONTROL, current_control & ~CONTROL_NPRIV)
            uc.reg_write(A.UC_ARM_REG_XPSR, xpsr)
            uc.reg_write(A.UC_ARM_REG_CONTROL, privileged_control)
        uc.reg_write(A.UC_ARM_REG_MSP, msp)
        uc.reg_write(A.UC_ARM_REG_PSP, psp)
        if control & CONTROL_NPRIV:
            uc.reg_write(A.UC_ARM_REG_CONTROL, control)

    def _memory_backed(self, address: int, length: int) -> bool:
        m = self.view.find(address)
        return m is not None and m.memory is not None and address + length <= m.end

    def _exception_return(self, exc_return: int) -> None:
        uc = self.uc
        xpsr = uc.reg_read(A.UC_ARM_REG_XPSR)
        current = xpsr & 0x1FF
        valid = exc_return & 0xFFFFFFE0 == 0xFFFFFFE0 and (exc_return & 0xF) in (0x1, 0x9, 0xD)
        if not valid or current == 0 or current not in self.state.active:
            self._fault(USAGEFAULT, UFSR_INVPC, exc_return, None, f"invalid EXC_RETURN 0x{exc_return:08x}")
            return
        if exc_return & 0x8 and len(self.state.active) != 1 and not self.scs.regs.CCR.NONBASETHRDENA:
            # Return to Thread with other exceptions still active and CCR.NONBASETHRDENA = 0 (B1.5.8).
            self._fault(USAGEFAULT, UFSR_INVPC, exc_return, None,
                        f"EXC_RETURN 0x{exc_return:08x} to Thread mode from a nested exception")
            return
        self.state.deactivate(current)
        # Exception entry and exit set the event register, so a WFE after a handler ran does not sleep (ARMv7-M
        # ARM B1.5.18; Cortex-M3 erratum 563915 lists entry and exit among the conditions that must set it).
        self.event_register = True
        primask, faultmask, basepri = self._masks()
        if faultmask and current != NMI:
            # DeActivate() clears FAULTMASK on return from any exception but NMI (ARMv7-M ARM B1.5.8).
            uc.reg_write(A.UC_ARM_REG_FAULTMASK, 0)
            faultmask = 0
        # Tail-chaining: a pending exception that can pre-empt what we return to is taken without unstacking.
        chained = self.state.preempting(primask, faultmask, basepri)
        to_thread = bool(exc_return & 0x8)
        if chained is not None:
            vtor = self.scs.regs.VTOR.value
            try:
                vector = self.view.read_u32(vtor + 4 * chained, self.access)
            except BusError:
                self._lockup(exception_name(chained), exc_return, vtor + 4 * chained, "vector unreadable")
                return
            uc.reg_write(A.UC_ARM_REG_XPSR, (xpsr & ~0x1FF) | chained)
            uc.reg_write(A.UC_ARM_REG_LR, exc_return)
            self._set_pc(vector)
            self.state.activate(chained)
            return
        use_psp = bool(exc_return & 0x4)
        fp_frame = not exc_return & 0x10
        msp, psp, control = uc.reg_read_batch([A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP, A.UC_ARM_REG_CONTROL])
        sp = psp if use_psp else msp
        frame_size = 0x68 if fp_frame else 0x20
        try:
            frame = self.view.read(sp, frame_size, self.access)
        except BusError:
            self._lockup("UsageFault", exc_return, sp, f"unstacking from 0x{sp:08x} failed")
            return
        r0, r1, r2, r3, r12, lr, ret, stacked_xpsr = struct.unpack_from("<8I", frame)
        new_sp = sp + frame_size + (4 if stacked_xpsr & (1 << 9) else 0)
        if fp_frame:
            sregs = struct.unpack_from("<16I", frame, 0x20)
            fpscr = struct.unpack_from("<I", frame, 0x60)[0]
            uc.reg_write_batch(list(zip(SREG[:16], sregs)) + [(A.UC_ARM_REG_FPSCR, fpscr)])
        uc.reg_write_batch([(A.UC_ARM_REG_R0, r0), (A.UC_ARM_REG_R1, r1), (A.UC_ARM_REG_R2, r2),
                            (A.UC_ARM_REG_R3, r3), (A.UC_ARM_REG_R12, r12), (A.UC_ARM_REG_LR, lr)])
        ipsr = stacked_xpsr & 0x1FF
        if to_thread and ipsr:
            ipsr = 0  # inconsistent frame: the architecture raises INVPC; returning to thread is the safe choice
        new_control = (control & ~(CONTROL_SPSEL | CONTROL_FPCA)) | (CONTROL_FPCA if fp_frame else 0)
        if to_thread and use_psp:
            new_control |= CONTROL_SPSEL
        self._set_mode((stacked_xpsr & ~0x1FF & ~(1 << 9)) | ipsr | XPSR_T, new_control,
                       msp if use_psp else new_sp, new_sp if use_psp else psp, xpsr, control)
        self._set_pc(ret)
        if to_thread and self.scs.regs.SCR.SLEEPONEXIT and not self.state.active:
            self.wfe_sleep = False
            self.sleeping = not self._would_wake()  # SLEEPONEXIT
