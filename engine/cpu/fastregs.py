"""Faster register access for one Unicorn instance: straight calls into libunicorn.

The Python binding spends about 2 us per register on choosing a register class and converting the value; the
exception model reads and writes a dozen registers per interrupt. `accelerate(uc)` gives the instance its own
reg_read / reg_write / reg_read_batch / reg_write_batch for plain integer registers (up to 64 bits: core, system
and FP registers), through ctypes into the same library. Anything else (128-bit registers, coprocessor access
with an aux argument) goes to the binding's own methods. Same library, same semantics (a PC write in a batch
restarts translation as in a single write).
"""
from __future__ import annotations

import ctypes
from typing import Sequence

import unicorn
from unicorn.unicorn_py3 import unicorn as _binding

_lib = ctypes.CDLL(_binding.uclib._name)
_lib.uc_reg_read.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_lib.uc_reg_read.restype = ctypes.c_int
_lib.uc_reg_write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_lib.uc_reg_write.restype = ctypes.c_int
_lib.uc_reg_read_batch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.uc_reg_read_batch.restype = ctypes.c_int
_lib.uc_reg_write_batch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.uc_reg_write_batch.restype = ctypes.c_int

_WIDE = set()
for _name in dir(unicorn.arm_const):
    if _name.startswith("UC_ARM_REG_Q"):
        _WIDE.add(getattr(unicorn.arm_const, _name))


class _Batch:
    """Prepared arrays for one list of register IDs (reused: the exception path asks for the same lists)."""

    def __init__(self, ids: Sequence[int]) -> None:
        n = len(ids)
        self.n = n
        self.regs = (ctypes.c_int * n)(*ids)
        self.vals = (ctypes.c_uint64 * n)()
        base = ctypes.addressof(self.vals)
        self.ptrs = (ctypes.c_void_p * n)(*(base + 8 * i for i in range(n)))


def accelerate(uc: unicorn.Uc) -> None:
    handle = uc._uch
    slow_read, slow_write = uc.reg_read, uc.reg_write
    slow_read_batch, slow_write_batch = uc.reg_read_batch, uc.reg_write_batch
    value = ctypes.c_uint64()
    value_ptr = ctypes.byref(value)
    batches: dict[tuple[int, ...], _Batch] = {}

    def batch_for(ids: tuple[int, ...]) -> _Batch:
        batch = batches.get(ids)
        if batch is None:
            batch = batches[ids] = _Batch(ids)
        return batch

    def reg_read(reg_id, aux=None):
        if aux is not None or reg_id in _WIDE:
            return slow_read(reg_id, aux) if aux is not None else slow_read(reg_id)
        value.value = 0
        err = _lib.uc_reg_read(handle, reg_id, value_ptr)
        if err:
            raise unicorn.UcError(err)
        return value.value

    def reg_write(reg_id, val):
        if reg_id in _WIDE or not isinstance(val, int):
            return slow_write(reg_id, val)
        value.value = val & 0xFFFFFFFFFFFFFFFF
        err = _lib.uc_reg_write(handle, reg_id, value_ptr)
        if err:
            raise unicorn.UcError(err)

    def reg_read_batch(reg_ids):
        ids = tuple(reg_ids)
        if any(r in _WIDE for r in ids):
            return slow_read_batch(list(ids))
        b = batch_for(ids)
        for i in range(b.n):
            b.vals[i] = 0
        err = _lib.uc_reg_read_batch(handle, b.regs, b.ptrs, b.n)
        if err:
            raise unicorn.UcError(err)
        return tuple(b.vals)

    def reg_write_batch(pairs):
        pairs = list(pairs)
        ids = tuple(r for r, _ in pairs)
        if any(r in _WIDE for r in ids) or not all(isinstance(v, int) for _, v in pairs):
            return slow_write_batch(pairs)
        b = batch_for(ids)
        for i, (_, v) in enumerate(pairs):
            b.vals[i] = v & 0xFFFFFFFFFFFFFFFF
        err = _lib.uc_reg_write_batch(handle, b.regs, b.ptrs, b.n)
        if err:
            raise unicorn.UcError(err)

    uc.reg_read = reg_read
    uc.reg_write = reg_write
    uc.reg_read_batch = reg_read_batch
    uc.reg_write_batch = reg_write_batch
