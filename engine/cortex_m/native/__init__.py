"""The IO core's native library, compiled at first use like engine/cpu/native (same compiler, same cache):

- exceptions.c: exception entry, tail-chaining and return with the block budget in the same block hook (it
  includes engine/cpu/native/block_budget.h and links block_budget.c), seen from Python in
  engine/cortex_m/native_exceptions.py;
- devices.c: the device fast path (a UART's transmitter, native events, WFI sleep, the polling detector), seen from
  Python in engine/cortex_m/native_devices.py; core_state.h holds the state both share;
- code_pages.c: the TLB-fill hook that keeps stores to data pages on Unicorn's fast path (CortexM4._fast_stores);
- turn_gate.c: the gate io1's first access to memory shared with io0 (a TLB fill in code_pages.c) waits at while
  io0 takes its turn of a paired window on another thread (engine/machine/paired.py).
When no compiler is available (or MT3620_NO_NATIVE=1) the core uses the Python equivalents: same instruction
counts, same determinism, slower.
"""
from __future__ import annotations

import ctypes
import functools
from pathlib import Path

from mt3620.engine.cpu import native as cpu_native

HERE = Path(__file__).resolve().parent
SOURCES = (HERE / "exceptions.c", HERE / "devices.c", HERE / "code_pages.c", HERE / "turn_gate.c",
           cpu_native.HERE / "block_budget.c", cpu_native.HERE / "cpu_env.c")
HEADERS = (HERE / "core_state.h", HERE / "turn_gate.h", cpu_native.HERE / "block_budget.h", cpu_native.HERE / "cpu_env.h")


def build() -> Path | None:
    """Compile the library against the installed Unicorn; returns its path or None."""
    return cpu_native.build_library("cortex_m", SOURCES, HEADERS, "native IO-core library", "the Python path")


@functools.cache
def cortex_m_library() -> ctypes.CDLL | None:
    """The budget functions, the exception fast path and the TLB-fill hook in one library (one block hook per
    IO core), or None."""
    if cpu_native.native_disabled():
        return None
    lib = cpu_native.load_library(build(), "native IO-core library")
    if lib is None:
        return None
    lib.exc_install.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64,
                                ctypes.c_void_p, ctypes.c_void_p]
    lib.exc_install.restype = ctypes.c_int
    lib.exc_hook_basepri.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p]
    lib.exc_hook_basepri.restype = ctypes.c_int
    lib.exc_take_pending.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.exc_take_pending.restype = ctypes.c_int
    lib.exc_struct_size.restype = ctypes.c_uint64
    lib.cpu_env_find.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.cpu_env_find.restype = ctypes.c_int
    lib.cpu_env_find_masks.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.cpu_env_find_masks.restype = ctypes.c_int
    lib.exc_add_unmask_point.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.exc_add_unmask_point.restype = ctypes.c_int
    lib.exc_track_poll.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_int]
    lib.exc_track_poll.restype = None
    lib.dev_reschedule.argtypes = [ctypes.c_void_p]
    lib.dev_reschedule.restype = None
    lib.dev_attach_uart.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
                                    ctypes.c_uint32, ctypes.c_uint32]
    lib.dev_attach_uart.restype = ctypes.c_int
    lib.dev_hook_wfi.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p]
    lib.dev_hook_wfi.restype = ctypes.c_int
    lib.code_pages_install.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.code_pages_install.restype = ctypes.c_int
    lib.code_pages_struct_size.restype = ctypes.c_uint64
    for name in ("gate_wait", "gate_open"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
        getattr(lib, name).restype = None
    lib.code_pages_gate_close.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.code_pages_gate_close.restype = ctypes.c_int
    lib.runner_go.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
    lib.runner_go.restype = ctypes.c_int
    lib.runner_wait.argtypes = [ctypes.c_void_p]
    lib.runner_wait.restype = ctypes.c_int
    lib.runner_quit.argtypes = [ctypes.c_void_p]
    lib.runner_quit.restype = None
    lib.runner_struct_size.restype = ctypes.c_uint64
    lib.code_pages_gate.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
    lib.code_pages_gate.restype = ctypes.c_int
    lib.gate_struct_size.restype = ctypes.c_uint64
    return lib
