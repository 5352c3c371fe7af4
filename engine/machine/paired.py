"""Paired windows: both IO cores in one machine window on two host threads, with the single-thread result.

When io0 and io1 both run, the A7 does not and no GDB server serves either core, the machine (machine.py,
step_window) takes a window in this order: io1 gets ready first (its turn up to the start of its first quantum:
everything that reads or writes what io0 could also touch), then io0 takes its whole turn, then io1 finishes its
turn. io1's first quantum, armed before io0's turn,
may run on a second host thread (TurnWorker: a thread of the native library) while io0 takes its turn on the
machine's thread, because nothing io1 sees in that quantum depends on io0's turn:
- what io0 sends io1 during its turn (interrupt lines, reset requests) is held and reaches io1 at its first access
  to a device another core sees, or at the end of that quantum (CortexM4.hold_inputs);
- io1's first access to memory both cores see (intercore_shared), and any access of its that reaches Python, waits
  until io0's turn is over (the turn gate, native/turn_gate.c and CortexM4._pass_gate), so it finds io0's turn
  complete, as when io1 runs after io0 on one thread;
- a stop requested during io0's turn does not cut io1's quantum, and in paired windows a line's end ends no turn.
The same order and the same rules hold when io1's quantum runs on the machine's thread (on the Python reference path,
with MT3620_SERIAL_CORES=1, or when the last such quantum was short): both give the same instructions, times,
registers and bytes.
"""
from __future__ import annotations

import ctypes
import os

import unicorn

# io1's first quantum goes to the worker thread when its previous first quantum retired at least this many instructions
# (0.2 ms at 26 MHz, 25 us at 197.6 MHz); shorter ones cost more to hand over than they gain.
PARALLEL_MIN_INSTRUCTIONS = 5_000


def parallel_allowed() -> bool:
    """Paired quanta may run on a second host thread (MT3620_SERIAL_CORES=1 keeps everything on one)."""
    return not os.environ.get("MT3620_SERIAL_CORES")


class TurnWorker:
    """A host thread of the native library (native/turn_gate.c, runner_*) that runs an armed quantum's Unicorn run
    while the machine's thread runs another core: it is started and waited for without the GIL, so the run begins at
    once. It ends with the worker (closed or collected)."""

    def __init__(self) -> None:
        self._lib = None
        self._runner = None
        self._core = None

    def start(self, core) -> None:
        """Run `core`'s armed quantum (CortexM4._arm_quantum) there; `wait` completes it."""
        if self._runner is None:
            self._lib = core._native.lib
            self._runner = ctypes.create_string_buffer(self._lib.runner_struct_size())
        core._emulated = True           # the run is this thread's (CortexM4._emulate does nothing more)
        core._emu_error = None
        core.uc._hook_exception = None
        if self._lib.runner_go(self._runner, core._uch, core._armed_pc | 1) != 0:
            core._emulated = False      # no thread: the machine's thread runs it (same result)
            return
        self._core = core

    @property
    def busy(self) -> bool:
        return self._core is not None

    def wait(self) -> None:
        """Until the quantum's Unicorn run has returned; its error, if any, is the core's (CortexM4._close_quantum)."""
        core, self._core = self._core, None
        if core is None:
            return
        err = self._lib.runner_wait(self._runner)
        core._running = False
        raised, core.uc._hook_exception = core.uc._hook_exception, None
        if raised is not None:
            raise raised                 # as Uc.emu_start re-raises what a Python hook raised
        if err:
            core._emu_error = unicorn.UcError(err)

    def close(self) -> None:
        if self._runner is not None:
            self._lib.runner_quit(self._runner)
            self._runner = None

    def __del__(self) -> None:
        self.close()
