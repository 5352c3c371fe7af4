"""The IO core's exception fast path in C (native/exceptions.c), seen from Python.

`NativeExceptions` installs the native block hook (budget + exception entry), the interrupt hook (exception return,
tail-chaining, SVC) and the SCS page with ICSR writes handled natively. The NVIC state then lives in the C struct,
and `NativeExceptionState` is engine/cortex_m/nvic.py's ExceptionState over that storage: the SCS register block
and the Python exception path (the reference, and the fallback for everything the C code leaves to Python: faults,
NMI, lockup, unprivileged Thread mode, frames outside RAM, sleep-on-exit, a debugger) read and change the same
bits the C code does.
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import MutableMapping, MutableSequence, MutableSet
from typing import Callable, Iterator

from mt3620.engine.cpu.budget import BlockBudget

from .nvic import ExceptionState

NUM_EXC = 160
WORDS = (NUM_EXC + 31) // 32
MAX_REGIONS = 16
UNMASK_SLOTS = 1024
STOP_NONE, STOP_INTR, STOP_BAIL, STOP_YIELD = 0, 1, 2, 3
CHECK_ALL = 1

PY_READ = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint32)
PY_WRITE = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint64)


UART_FIFO = 16
UART_OUT_MAX = 512
NEVER = (1 << 64) - 1


class _UartStruct(ctypes.Structure):
    """uart_t of native/core_state.h, field by field."""
    _fields_ = [
        ("attached", ctypes.c_int32), ("engaged", ctypes.c_int32), ("base", ctypes.c_uint32),
        ("page", ctypes.c_uint32), ("irq", ctypes.c_uint32), ("ier", ctypes.c_uint32), ("ier_mask", ctypes.c_uint32),
        ("fifo_on", ctypes.c_int32), ("depth", ctypes.c_int32), ("tx_trigger", ctypes.c_int32),
        ("fifo_len", ctypes.c_int32), ("fifo", ctypes.c_uint8 * UART_FIFO), ("shift", ctypes.c_int32),
        ("thre_pending", ctypes.c_int32), ("line", ctypes.c_int32), ("frame_ps", ctypes.c_uint64),
        ("due_ps", ctypes.c_uint64), ("n_out", ctypes.c_int32), ("out", ctypes.c_uint8 * UART_OUT_MAX),
        ("out_ps", ctypes.c_uint64 * UART_OUT_MAX), ("reads", ctypes.c_uint64), ("writes", ctypes.c_uint64),
        ("frames", ctypes.c_uint64), ("py_read", PY_READ), ("py_write", PY_WRITE),
    ]


class _CpuEnvStruct(ctypes.Structure):
    """cpu_env_t of engine/cpu/native/cpu_env.h."""
    _fields_ = [("found", ctypes.c_int32), ("pad", ctypes.c_int32), ("regs", ctypes.c_void_p),
                ("d0", ctypes.c_void_p), ("d_stride", ctypes.c_uint64),
                ("primask", ctypes.c_void_p), ("faultmask", ctypes.c_void_p), ("basepri", ctypes.c_void_p)]


class _SysTickStruct(ctypes.Structure):
    """systick_t of native/core_state.h, field by field."""
    _fields_ = [
        ("engaged", ctypes.c_int32), ("base", ctypes.c_uint32), ("csr", ctypes.c_uint32),
        ("csr_readable", ctypes.c_uint32), ("rvr_read", ctypes.c_uint32), ("calib_read", ctypes.c_uint32),
        ("reload", ctypes.c_uint32), ("pad", ctypes.c_uint32), ("hz", ctypes.c_uint64), ("anchor_ps", ctypes.c_uint64),
        ("anchor_value", ctypes.c_uint64), ("due_ps", ctypes.c_uint64), ("floor_ps", ctypes.c_uint64),
        ("reads", ctypes.c_uint64), ("wraps", ctypes.c_uint64),
    ]


class _ExcStruct(ctypes.Structure):
    """exc_t of native/core_state.h, field by field."""
    _fields_ = [
        ("num_irqs", ctypes.c_uint32), ("implemented_mask", ctypes.c_uint32), ("prigroup", ctypes.c_int32),
        ("n_active", ctypes.c_int32),
        ("pending", ctypes.c_uint32 * WORDS), ("enabled", ctypes.c_uint32 * WORDS),
        ("line_level", ctypes.c_uint32 * WORDS), ("priority", ctypes.c_uint8 * NUM_EXC),
        ("active", ctypes.c_int32 * NUM_EXC),
        ("vtor", ctypes.c_uint32), ("ccr", ctypes.c_uint32), ("scr", ctypes.c_uint32), ("pad0", ctypes.c_uint32),
        ("fast", ctypes.c_int32), ("check", ctypes.c_int32), ("event_register", ctypes.c_int32),
        ("python_stop", ctypes.c_int32), ("native_scs", ctypes.c_int32), ("stop_kind", ctypes.c_int32),
        ("stop_intno", ctypes.c_int32), ("stop_pc", ctypes.c_uint32),
        ("scs_writes", ctypes.c_uint64), ("clock_sync_executed", ctypes.c_uint64), ("clock_sync", ctypes.c_int32),
        ("n_regions", ctypes.c_int32),
        ("region_start", ctypes.c_uint64 * MAX_REGIONS), ("region_end", ctypes.c_uint64 * MAX_REGIONS),
        ("region_host", ctypes.c_uint64 * MAX_REGIONS), ("region_writable", ctypes.c_int32 * MAX_REGIONS),
        ("n_unmask", ctypes.c_int32), ("unmask", ctypes.c_uint32 * UNMASK_SLOTS), ("code_pages", ctypes.c_void_p),
        ("anchor_ps", ctypes.c_uint64), ("anchor_count", ctypes.c_uint64), ("hz", ctypes.c_uint64),
        ("run_base", ctypes.c_uint64), ("horizon_ps", ctypes.c_uint64), ("due_count", ctypes.c_uint64),
        ("sleeps", ctypes.c_uint64), ("slept_ps", ctypes.c_uint64),
        ("spin_address", ctypes.c_uint32), ("spin_value", ctypes.c_uint32), ("spin_count", ctypes.c_int32),
        ("skip_kind", ctypes.c_int32), ("spin_at", ctypes.c_uint64), ("spin_since", ctypes.c_uint64),
        ("skip_ps", ctypes.c_uint64), ("uart", _UartStruct), ("systick", _SysTickStruct),
        ("entries", ctypes.c_uint64), ("returns", ctypes.c_uint64), ("tail_chains", ctypes.c_uint64),
        ("bails", ctypes.c_uint64),
        ("budget", ctypes.c_void_p), ("py_read", PY_READ), ("py_write", PY_WRITE), ("env", _CpuEnvStruct),
        ("track_polls", ctypes.c_int32), ("quiet_lines", ctypes.c_int32), ("scs_reads", ctypes.c_uint64),
    ]


# ---- the NVIC state's containers over the C struct ---------------------------------------------------------------
class _Bits(MutableSet):
    """A set of small integers stored as a bitmap (bit n of word n // 32)."""

    def __init__(self, words, limit: int, offset: int, touched: Callable[[], None]) -> None:
        self._w, self._limit, self._offset, self._touched = words, limit, offset, touched

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        i = n - self._offset
        return 0 <= i < self._limit and bool(self._w[i >> 5] >> (i & 31) & 1)

    def __iter__(self) -> Iterator[int]:
        w = self._w
        for word in range(WORDS):
            bits = w[word]
            while bits:
                low = bits & -bits
                yield word * 32 + low.bit_length() - 1 + self._offset
                bits ^= low

    def __len__(self) -> int:
        return sum(bin(self._w[i]).count("1") for i in range(WORDS))

    def add(self, n: int) -> None:
        i = n - self._offset
        if 0 <= i < self._limit:
            self._w[i >> 5] |= 1 << (i & 31)
            self._touched()

    def discard(self, n: int) -> None:
        i = n - self._offset
        if 0 <= i < self._limit:
            self._w[i >> 5] &= ~(1 << (i & 31)) & 0xFFFFFFFF
            self._touched()

    def clear(self) -> None:
        for i in range(WORDS):
            self._w[i] = 0
        self._touched()

    def update(self, numbers) -> None:
        for n in numbers:
            self.add(n)

    def difference_update(self, numbers) -> None:
        for n in numbers:
            self.discard(n)

    def __repr__(self) -> str:
        return f"{{{', '.join(map(str, self))}}}"


class _Levels(MutableMapping):
    """External interrupt input levels (irq -> bool) as a bitmap."""

    def __init__(self, words, limit: int) -> None:
        self._bits = _Bits(words, limit, 0, lambda: None)

    def __getitem__(self, irq: int) -> bool:
        if not isinstance(irq, int) or not 0 <= irq < self._bits._limit:
            raise KeyError(irq)
        return irq in self._bits

    def get(self, irq, default=None):
        return irq in self._bits if isinstance(irq, int) and 0 <= irq < self._bits._limit else default

    def __setitem__(self, irq: int, level: bool) -> None:
        (self._bits.add if level else self._bits.discard)(irq)

    def __delitem__(self, irq: int) -> None:
        self._bits.discard(irq)

    def __iter__(self) -> Iterator[int]:
        return iter(self._bits)

    def __len__(self) -> int:
        return len(self._bits)


class _Priorities(MutableMapping):
    """Exception number -> 8-bit priority field (0 when never set, as the Python dict's default)."""

    def __init__(self, array, touched: Callable[[], None]) -> None:
        self._a, self._touched = array, touched

    def __getitem__(self, n: int) -> int:
        if not isinstance(n, int) or not 0 <= n < NUM_EXC or not self._a[n]:
            raise KeyError(n)
        return self._a[n]

    def get(self, n, default=None):
        return self._a[n] if isinstance(n, int) and 0 <= n < NUM_EXC and self._a[n] else default

    def __setitem__(self, n: int, value: int) -> None:
        self._a[n] = value & 0xFF
        self._touched()

    def __delitem__(self, n: int) -> None:
        self._a[n] = 0
        self._touched()

    def __iter__(self) -> Iterator[int]:
        return (n for n in range(NUM_EXC) if self._a[n])

    def __len__(self) -> int:
        return sum(1 for n in range(NUM_EXC) if self._a[n])

    def clear(self) -> None:
        ctypes.memset(ctypes.addressof(self._a), 0, NUM_EXC)
        self._touched()


class _Active(MutableSequence):
    """The active exceptions in activation order."""

    def __init__(self, s: _ExcStruct, touched: Callable[[], None]) -> None:
        self._s, self._touched = s, touched

    def __len__(self) -> int:
        return self._s.n_active

    def __getitem__(self, i):
        return list(self)[i] if isinstance(i, slice) else self._s.active[range(self._s.n_active)[i]]

    def __iter__(self) -> Iterator[int]:
        a = self._s.active
        return iter([a[i] for i in range(self._s.n_active)])

    def __setitem__(self, i: int, value: int) -> None:
        self._s.active[range(self._s.n_active)[i]] = value
        self._touched()

    def __delitem__(self, i: int) -> None:
        items = list(self)
        del items[i]
        self._store(items)

    def insert(self, i: int, value: int) -> None:
        items = list(self)
        items.insert(i, value)
        self._store(items)

    def clear(self) -> None:
        self._store([])

    def _store(self, items: list[int]) -> None:
        for i, v in enumerate(items[:NUM_EXC]):
            self._s.active[i] = v
        self._s.n_active = min(len(items), NUM_EXC)
        self._touched()

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (list, tuple, _Active)) else NotImplemented

    def __repr__(self) -> str:
        return repr(list(self))


class NativeExceptionState(ExceptionState):
    """ExceptionState whose storage is the C struct (same methods, same decisions)."""

    def __init__(self, s: _ExcStruct, num_irqs: int = 128, priority_bits: int = 3) -> None:  # noqa: D107
        self._s = s
        self.num_irqs = num_irqs
        self.priority_bits = priority_bits
        s.num_irqs = num_irqs
        s.implemented_mask = (0xFF << (8 - priority_bits)) & 0xFF
        touched = self._touched
        self.pending = _Bits(s.pending, NUM_EXC, 0, touched)
        self.enabled = _Bits(s.enabled, min(num_irqs, NUM_EXC - 16), 0, touched)
        self.line_level = _Levels(s.line_level, min(num_irqs, NUM_EXC - 16))
        self.priority = _Priorities(s.priority, touched)
        self.active = _Active(s, touched)

    def _touched(self) -> None:
        self._s.check = 1  # the C code looks at the state again at the next block

    @property
    def prigroup(self) -> int:
        return self._s.prigroup

    @prigroup.setter
    def prigroup(self, value: int) -> None:
        self._s.prigroup = value
        self._s.check = 1


class NativeExceptions:
    """The native exception hooks of one core."""

    def __init__(self, lib: ctypes.CDLL, uc, budget: BlockBudget, scs_base: int,
                 scs_read: Callable[[int, int], int], scs_write: Callable[[int, int, int], None],
                 num_irqs: int, priority_bits: int) -> None:
        self.lib = lib
        self.uc = uc
        if ctypes.sizeof(_ExcStruct) != lib.exc_struct_size():
            raise RuntimeError(f"native exception struct: {ctypes.sizeof(_ExcStruct)} bytes here, "
                               f"{lib.exc_struct_size()} in native/exceptions.c")
        self.s = _ExcStruct()
        self.state = NativeExceptionState(self.s, num_irqs=num_irqs, priority_bits=priority_bits)
        # The callbacks must outlive the hooks: keep them here.
        self._py_read = PY_READ(lambda offset, size: scs_read(offset, size) & 0xFFFFFFFFFFFFFFFF)
        self._py_write = PY_WRITE(scs_write)
        self.s.py_read = self._py_read
        self.s.py_write = self._py_write
        self._block = ctypes.c_size_t(0)
        self._intr = ctypes.c_size_t(0)
        self._basepri_hooks: list[ctypes.c_size_t] = []
        self.s.due_count = NEVER
        self.s.uart.due_ps = NEVER
        self.s.uart.shift = -1
        self.s.systick.due_ps = NEVER
        err = lib.exc_install(uc._uch, ctypes.byref(self.s), ctypes.byref(budget._s), scs_base,
                              ctypes.byref(self._block), ctypes.byref(self._intr))
        if err != 0:
            raise RuntimeError(f"installing the native exception hooks failed: uc_err {err}")
        # The register file in place (engine/cpu/native/cpu_env.h); not found or MT3620_NO_DIRECT_REGS=1: the API.
        if not os.environ.get("MT3620_NO_DIRECT_REGS"):
            if lib.cpu_env_find(uc._uch, ctypes.byref(self.s.env)) == 0:
                lib.cpu_env_find_masks(uc._uch, ctypes.byref(self.s.env))

    def set_regions(self, regions: list[tuple[int, int, int, bool]]) -> None:
        """Memories (start, end, host buffer address, writable) where frames and vectors are read and written
        natively: straight in the host buffer Unicorn maps (mem_map_ptr), through Unicorn on pages with code."""
        regions = regions[:MAX_REGIONS]
        for i, (start, end, host, writable) in enumerate(regions):
            self.s.region_start[i], self.s.region_end[i] = start, end
            self.s.region_host[i], self.s.region_writable[i] = host, int(writable)
        self.s.n_regions = len(regions)

    def set_code_pages(self, bitmap_address: int | None) -> None:
        """The TLB-fill hook's bitmap of pages code was fetched from (native/code_pages.c)."""
        self.s.code_pages = bitmap_address

    def add_unmask_point(self, address: int) -> bool:
        """The address right after an MSR to PRIMASK/BASEPRI/FAULTMASK or a CPS instruction; False when full."""
        return self.lib.exc_add_unmask_point(ctypes.byref(self.s), address) == 0

    def hook_basepri(self, address: int) -> None:
        handle = ctypes.c_size_t(0)
        err = self.lib.exc_hook_basepri(self.uc._uch, ctypes.byref(self.s), address, ctypes.byref(handle))
        if err != 0:
            raise RuntimeError(f"uc_hook_add for the BASEPRI read at 0x{address:08x} failed: {err}")
        self._basepri_hooks.append(handle)

    def take_pending(self) -> int:
        return self.lib.exc_take_pending(self.uc._uch, ctypes.byref(self.s))

    def hook_wfi(self, address: int) -> None:
        """A WFI at `address`: the native path may sleep there until a native event (native/devices.c)."""
        handle = ctypes.c_size_t(0)
        err = self.lib.dev_hook_wfi(self.uc._uch, ctypes.byref(self.s), address, ctypes.byref(handle))
        if err != 0:
            raise RuntimeError(f"uc_hook_add for the WFI at 0x{address:08x} failed: {err}")
        self._basepri_hooks.append(handle)

    def track_poll(self, address: int, value: int, varying: bool) -> None:
        """A register read served by Python, for the polling-loop detector the native reads share."""
        self.lib.exc_track_poll(ctypes.byref(self.s), address, value & 0xFFFFFFFF, int(varying))

    def reschedule(self) -> None:
        """The time base or a native event moved: recompute when the next one is due."""
        self.lib.dev_reschedule(ctypes.byref(self.s))

    def stats(self) -> dict[str, int]:
        s = self.s
        u = s.uart
        return {"direct_regs": s.env.found, "direct_masks": int(bool(s.env.basepri)), "entries": s.entries,
                "returns": s.returns, "tail_chains": s.tail_chains, "bails": s.bails, "sleeps": s.sleeps,
                "scs_reads": s.scs_reads, "uart_reads": u.reads, "uart_writes": u.writes, "uart_frames": u.frames,
                "systick_reads": s.systick.reads, "systick_wraps": s.systick.wraps}
