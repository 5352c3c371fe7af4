"""Instruction budget of one core for one quantum.

Every translation block is charged its instruction count when it starts. A stop requested from the block hook takes
effect before that block runs, so once the budget is spent the next block stops the core uncharged; the first block
of a quantum always runs (a quantum overshoots its budget by at most one block). The count is exact for blocks that
run to their end and charges the whole block when one is cut short by an exception or a stop from an MMIO callback:
deterministic either way.
The native hook (native/block_budget.c) and the Python fallback below charge identical counts.

This is the one budget of every core: the IO cores run Thumb-2 only (`thumb=True`); the Cortex-A7
(engine/cortex_a) mixes A32 and Thumb-2 code and passes `thumb=AUTO`, so each block is counted in the instruction
set CPSR.T gives when it is entered (4 bytes per A32 instruction, 2 or 4 per Thumb-2 one).
"""
from __future__ import annotations

import ctypes

import unicorn

from . import native

CACHE_SIZE = 8192
AUTO = 2            # `thumb` mode: per block, from CPSR.T (the A7)
CPSR_T = 1 << 5


class _CacheEntry(ctypes.Structure):
    _fields_ = [("address", ctypes.c_uint64), ("size", ctypes.c_uint32), ("count", ctypes.c_uint32)]


class _BudgetStruct(ctypes.Structure):
    _fields_ = [("remaining", ctypes.c_int64), ("executed", ctypes.c_uint64), ("blocks", ctypes.c_uint64),
                ("thumb", ctypes.c_int32), ("stop_requested", ctypes.c_int32), ("last_block", ctypes.c_uint64),
                ("cache", _CacheEntry * CACHE_SIZE)]


def count_thumb(code: bytes) -> int:
    """Instructions in a block of Thumb-2 code: 32-bit encodings start with 0b11101, 0b11110 or 0b11111."""
    n = i = 0
    size = len(code)
    while i + 1 < size:
        top = code[i + 1] >> 3
        i += 4 if top >= 0x1D else 2
        n += 1
    return n or 1


class BlockBudget:
    """Owns the budget counters of one Unicorn instance."""

    def __init__(self, uc: unicorn.Uc, thumb: bool | int, library: ctypes.CDLL | None = None,
                 install_hook: bool = True) -> None:
        """`library`: a native library with the budget functions (default: block_budget.c alone).
        `install_hook=False`: another native block hook charges this budget (the IO core's exception hook,
        engine/cortex_m/native/exceptions.c, built with block_budget.h)."""
        self.uc = uc
        self.thumb = thumb
        self._lib = library or native.block_budget_library()
        self.native = self._lib is not None
        if self.native:
            self._s = _BudgetStruct()
            self._s.thumb = AUTO if thumb == AUTO else (1 if thumb else 0)
            self._handle = ctypes.c_size_t(0)
            if install_hook:
                err = self._lib.budget_install(uc._uch, ctypes.byref(self._s), ctypes.byref(self._handle))
                if err != 0:
                    raise RuntimeError(f"uc_hook_add for the budget hook failed: {err}")
        else:
            self._py_remaining = 0
            self._py_executed = 0
            self._py_stop = False
            self._py_last_block = 0
            self._cache: dict[tuple[int, int], int] = {}
            uc.hook_add(unicorn.UC_HOOK_BLOCK, self._py_block_hook)

    def _py_block_hook(self, uc, address, size, _user):
        if self._py_remaining <= 0 and self._py_executed > 0:
            if not self._py_stop:
                self._py_stop = True
                uc.emu_stop()
            return
        key = (address, size)
        count = self._cache.get(key)
        if count is None:
            thumb = bool(self.thumb)
            if self.thumb == AUTO:
                thumb = bool(uc.reg_read(unicorn.arm_const.UC_ARM_REG_CPSR) & CPSR_T)
            if thumb:
                try:
                    count = count_thumb(bytes(uc.mem_read(address, min(size, 4096))))
                except unicorn.UcError:
                    count = max(1, size // 2)
            else:
                count = max(1, size // 4)
            self._cache[key] = count
        self._py_executed += count
        self._py_remaining -= count
        self._py_last_block = address

    # --- quantum control ---------------------------------------------------------------------------------------
    def arm(self, instructions: int) -> None:
        """Start a quantum of at most `instructions` and clear the executed counter."""
        if self.native:
            self._s.remaining = max(1, instructions)
            self._s.executed = 0
            self._s.stop_requested = 0
        else:
            self._py_remaining = max(1, instructions)
            self._py_executed = 0
            self._py_stop = False

    def cut(self, instructions_left: int = 0) -> None:
        """Shorten the running quantum (from an MMIO callback): stop after `instructions_left` more at most."""
        if self.native:
            self._s.remaining = min(self._s.remaining, instructions_left)
        else:
            self._py_remaining = min(self._py_remaining, instructions_left)

    @property
    def executed(self) -> int:
        return self._s.executed if self.native else self._py_executed

    @property
    def last_block(self) -> int:
        """Address of the last block charged (the block that was running when the core stopped)."""
        return self._s.last_block if self.native else self._py_last_block

    @property
    def spent(self) -> bool:
        """True when the quantum ended because the budget ran out."""
        return bool(self._s.stop_requested) if self.native else self._py_stop

    def flush_cache(self) -> None:
        if self.native:
            self._lib.budget_flush_cache(ctypes.byref(self._s))
        else:
            self._cache.clear()
