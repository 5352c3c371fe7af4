"""Paired windows: both IO cores in one machine window on two host threads, with the single-thread result.

When io0 and io1 both run and the A7 does not, the machine (machine.py, step_window) takes a window in this order:
io1 gets ready first (its turn up to the start of its first quantum: everything that reads or writes what io0 could
also touch), then io0 takes its whole turn, then io1 finishes its turn. io1's first quantum, armed before io0's turn,
may run on the worker thread here while io0 takes its turn on the machine's thread, because nothing io1 sees in that
quantum depends on io0's turn:
- what io0 sends io1 during its turn (interrupt lines, reset requests) is held and reaches io1 at its first access
  to a device another core sees, or at the end of that quantum (CortexM4.hold_inputs);
- io1's first access to memory both cores see (intercore_shared), and any access of its that reaches Python, waits
  until io0's turn is over (the turn gate, native/turn_gate.c and CortexM4._pass_gate), so it finds io0's turn
  complete, as when io1 runs after io0 on one thread;
- a stop requested during io0's turn does not cut io1's quantum, and in paired windows a line's end ends no turn.
The same order and the same rules hold when io1's quantum runs on the machine's thread (on the Python reference path,
with a debugger, or with MT3620_SERIAL_CORES=1): both give the same instructions, times, registers and bytes.
"""
from __future__ import annotations

import os
import queue
import threading

# io1's first quantum goes to the worker thread when its previous first quantum retired at least this many instructions
# (0.2 ms at 26 MHz, 25 us at 197.6 MHz); shorter ones cost more to hand over than they gain.
PARALLEL_MIN_INSTRUCTIONS = 5_000


def parallel_allowed() -> bool:
    """Paired quanta may run on a second host thread (MT3620_SERIAL_CORES=1 keeps everything on one)."""
    return not os.environ.get("MT3620_SERIAL_CORES")


class TurnWorker:
    """One host thread that runs an armed quantum (CortexM4._emulate) while the machine's thread runs another core.
    The thread holds neither the worker nor a core between jobs: it ends when the worker is closed or collected."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy = False

    def start(self, core) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=_serve, args=(self._jobs, self._done),
                                            name="mt3620-paired-quantum", daemon=True)
            self._thread.start()
        self._done.clear()
        self.busy = True
        self._jobs.put(core)

    def wait(self) -> None:
        """Until the quantum's Unicorn run has returned."""
        if self.busy:
            self._done.wait()
            self.busy = False

    def close(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def __del__(self) -> None:
        self.close()


def _serve(jobs: queue.SimpleQueue, done: threading.Event) -> None:
    while True:
        core = jobs.get()
        if core is None:
            return
        try:
            core._emulate()          # a Unicorn error is kept for the machine's thread (CortexM4._close_quantum)
        finally:
            core = None
            done.set()
