"""Devices served by an IO core's native path (native/devices.c) for the length of a machine window: a UART's
transmitter (NativeUart) and SysTick (NativeSysTick).

The core maps the UART's page through C: THR and IER writes and IIR, LSR, IER and TX_OFFSET reads are served there
while the transmitter is engaged, the end of each frame is a native event, and the THR-empty interrupt goes straight
into the NVIC; everything else reaches the Python model (peripherals/uart/mt3620_uart.py), which takes the state
back first. The machine engages the transmitter at the start of a window (`engage`, when the model allows it:
Mt3620Uart.tx_fast_path_state) and takes it back when the core's part of the window ends (`release`); between
windows the model alone holds the state, as on the Python path. Bytes sent reach the model's listeners (recorders:
the machine's taps) after each run, with the clock at each byte's time; a line's last byte ends the run, and the
window, as the UART's event would on the Python path, so output lines keep their times.

SysTick (engine/cortex_m/systick.py) is handed over the same way: its wrap becomes a native event at the same
virtual time (COUNTFLAG, SysTick pended in the NVIC state when TICKINT is set, the next wrap by the model's anchor
arithmetic), reads of SYST_CSR/RVR/CVR/CALIB are served in C, and any write or other use takes the state back first.
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from .native_exceptions import NEVER, PY_READ, PY_WRITE, UART_FIFO

SYSTICK_BASE = 0xE000E010

if TYPE_CHECKING:
    from .core import CortexM4

MASK64 = (1 << 64) - 1


class NativeUart:
    """The transmitter of `model` (a UART private to `core`, IRQ `irq` of its NVIC) on the core's native path."""

    def __init__(self, core: "CortexM4", model: Any, page: int, page_size: int, irq: int) -> None:
        native = core._native
        self.core, self.model, self.native = core, model, native
        self.s = native.s
        uart = self.s.uart
        # Accesses the C side does not serve: the core's usual Python MMIO path for the page (kept alive here).
        self._py_read = PY_READ(lambda offset, size: core._mmio_read(core.uc, offset, size, page) & MASK64)
        self._py_write = PY_WRITE(lambda offset, size, value: core._mmio_write(core.uc, offset, size, value, page))
        uart.py_read, uart.py_write = self._py_read, self._py_write
        core.uc.mem_unmap(page, page_size)
        err = native.lib.dev_attach_uart(core.uc._uch, ctypes.byref(self.s), page, page_size, model.base_address, irq)
        if err != 0:
            raise RuntimeError(f"mapping the UART page 0x{page:08x} natively failed: uc_err {err}")
        model.fast_path = self

    @property
    def engaged(self) -> bool:
        return bool(self.s.uart.engaged)

    def engage(self) -> bool:
        """Serve the transmitter natively from now on, if the model allows it."""
        state = self.model.tx_fast_path_state()
        if state is None:
            return False
        ier, ier_mask, fifo_on, depth, trigger, fifo, shift, thre, line, frame, due = state
        u = self.s.uart
        u.ier, u.ier_mask, u.fifo_on, u.depth, u.tx_trigger = ier, ier_mask, fifo_on, min(depth, UART_FIFO), trigger
        u.fifo_len = len(fifo)
        for i, byte in enumerate(fifo):
            u.fifo[i] = byte
        u.shift, u.thre_pending, u.line, u.frame_ps = shift, thre, line, frame
        u.due_ps = NEVER if due is None else due
        u.n_out = 0
        u.engaged = 1
        self.native.reschedule()
        return True

    def release(self) -> None:
        """Hand the transmitter back to the model: the bytes sent, then the state."""
        self.deliver()
        u = self.s.uart
        self.core._device_released(u.due_ps)
        u.engaged = 0
        self.native.reschedule()
        self.model.tx_fast_path_return(u.ier, bytes(u.fifo[:u.fifo_len]), u.shift, u.thre_pending, u.line,
                                       None if u.due_ps == NEVER else u.due_ps)

    def deliver(self) -> None:
        """The bytes sent since the last call, to the model's listeners, each with the clock at its time (its
        stop bit's end): the core ran at least that far, and its accesses never moved the clock past the next
        frame's end (CortexM4._sync_clock). The clock is the model's: the core's own (a private device)."""
        u = self.s.uart
        n = u.n_out
        if not n:
            return
        u.n_out = 0
        self.model.tx_fast_path_sent(bytes(u.out[:n]), u.out_ps[:n])


class NativeSysTick:
    """SysTick of `core` (its SCS block's) on the core's native path; the SCS page is already mapped in C."""

    def __init__(self, core: "CortexM4") -> None:
        self.native = core._native
        self.s = self.native.s
        self.s.systick.base = SYSTICK_BASE
        lib = self.native.lib
        lib.dev_fire.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]
        lib.dev_fire.restype = ctypes.c_int
        lib.dev_would_wake.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.dev_would_wake.restype = ctypes.c_int
        self.core = core
        self.model = core.scs.systick
        self.model.fast_path = self

    @property
    def engaged(self) -> bool:
        return bool(self.s.systick.engaged)

    def engage(self) -> None:
        """Serve SysTick natively from now on."""
        t = self.s.systick
        (t.csr, t.csr_readable, t.rvr_read, t.calib_read, t.reload, t.hz, t.anchor_ps, t.anchor_value,
         due) = self.model.fast_path_state()
        t.due_ps = NEVER if due is None else due
        t.floor_ps = self.model.clock.now
        t.engaged = 1
        self.native.reschedule()

    def release(self) -> None:
        """Hand SysTick back to the model: COUNTFLAG as the wraps and reads left it, the next wrap."""
        t = self.s.systick
        self.core._device_released(t.due_ps)
        t.engaged = 0
        self.native.reschedule()
        self.model.fast_path_return(t.csr, None if t.due_ps == NEVER else t.due_ps)
