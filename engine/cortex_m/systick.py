"""SysTick, the ARMv7-M system timer at SCS+0x010 (ARMv7-M ARM B3.3).

A 24-bit down-counter clocked by the core clock (HCLK). It is not ticked: the current value is computed from
virtual time since it was last (re)loaded, and one event is scheduled for the next time it reaches zero.
Reaching zero sets COUNTFLAG and, with TICKINT, pends the SysTick exception; the next tick reloads from RVR.
Emulator-defined: the MT3620 reference clock is not public, so CALIB reads NOREF=1, SKEW=1, TENMS=0 and
CLKSOURCE always reads 1 (processor clock).

For the length of a machine window an IO core may serve SysTick in C (engine/cortex_m/native_devices.py,
native/devices.c): the wrap becomes a native event at the same virtual time, register reads are served there, and
the state comes back here (`_take_back`) before anything else uses the model: a register write, a read the C side
does not serve, a clock change, a snapshot or a reset.
"""
from __future__ import annotations

from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock, cycles_in, ps_for_cycles
from mt3620.engine.simulation.fast_path import NativeFastPathModel
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterView, ResetKind, Timer

CALIB_VALUE = 0xC000_0000


class SysTick(NativeFastPathModel, Peripheral):
    SIZE = 0x10
    REGISTERS = (
        Register(0x0, "SYST_CSR", fields=(
            Field("ENABLE", 0), Field("TICKINT", 1), Field("CLKSOURCE", 2, reset=1, access="ro"),
            Field("COUNTFLAG", 16, access="rc", doc="the counter reached 0 since the last read")),
                 write="_write_csr"),
        Register(0x4, "SYST_RVR", fields=(Field("RELOAD", 0, 24),), write="_write_rvr"),
        Register(0x8, "SYST_CVR", read="_read_cvr", write="_write_cvr", volatile=True),
        Register(0xC, "SYST_CALIB", reset=CALIB_VALUE, access="ro"),
    )
    # The count runs down from _anchor_value at _anchor_time, with the reload value in RVR.
    STATE = ("_anchor_time", "_anchor_value")

    wrap = Timer("_wrap")                # the counter reaches zero

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *,
                 hz: int = 26_000_000, pend: Callable[[], None] = lambda: None, **attributes) -> None:
        self.hz = hz
        self._pend = pend
        self.fast_path: Any = None       # a core serving SysTick natively (engine/cortex_m/native_devices.py)
        super().__init__(name or "systick", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        self._take_back()
        super().reset(kind)
        self._anchor_time = 0
        self._anchor_value = 0

    # The counter value at time t: counting down from _anchor_value at _anchor_time, period RVR + 1.
    def _value_at(self, now: int, enabled: int | None = None, reload: int | None = None) -> int:
        if not (self.regs.SYST_CSR.ENABLE if enabled is None else enabled):
            return self._anchor_value
        elapsed = cycles_in(now - self._anchor_time, self.hz)
        if elapsed <= self._anchor_value:
            return self._anchor_value - elapsed
        reload = self.regs.SYST_RVR.RELOAD if reload is None else reload
        if reload == 0:
            return 0
        return reload - (elapsed - self._anchor_value - 1) % (reload + 1)

    def _wrap_due(self) -> bool:
        """A wrap is due at this very instant (it fires before anything else changes the count)."""
        return self.wrap.when is not None and self.wrap.when <= self.clock.now

    def _schedule(self) -> None:
        self.wrap.cancel()
        if not self.regs.SYST_CSR.ENABLE:
            return
        reload = self.regs.SYST_RVR.RELOAD
        value = self._value_at(self.clock.now)
        if value == 0 and reload == 0:
            return
        cycles = value if value else reload + 1
        # Align to the anchor so rounding never drifts: the wrap happens at an exact cycle count from the anchor.
        elapsed = cycles_in(self.clock.now - self._anchor_time, self.hz)
        self.wrap.start_at(self._anchor_time + ps_for_cycles(elapsed + cycles, self.hz))

    def _wrap(self) -> None:
        csr = self.regs.SYST_CSR
        csr.COUNTFLAG = 1
        if csr.TICKINT:
            self._pend()
        self._schedule()

    def clock_changed(self, hz: int) -> None:
        """HCLK changed: keep the current count and continue at the new rate."""
        self._take_back()
        self._anchor_value = self._value_at(self.clock.now)
        self._anchor_time = self.clock.now
        self.hz = hz
        self._schedule()

    # ---- a core's fast path ----------------------------------------------------------------------------------

    @property
    def next_wrap(self) -> int | None:
        """When the counter reaches zero next (None: it does not)."""
        self._take_back()
        return self.wrap.when

    def fast_path_state(self) -> tuple[int, int, int, int, int, int, int, int, int | None]:
        """The state for a core's fast path, which serves SysTick from now on (the wrap timer stops): SYST_CSR as
        stored and its readable bits, what SYST_RVR and SYST_CALIB read, RVR.RELOAD, the clock, the anchor (time,
        value) and the next wrap (None: none)."""
        due = self.wrap.when
        self.wrap.cancel()
        csr, rvr, calib = self.regs.SYST_CSR, self.regs.SYST_RVR, self.regs.SYST_CALIB
        return (csr.value, csr._READABLE, rvr.value & rvr._READABLE, calib.value & calib._READABLE, rvr.RELOAD,
                self.hz, self._anchor_time, self._anchor_value, due)

    def fast_path_return(self, csr: int, due: int | None) -> None:
        """The fast path hands SysTick back: SYST_CSR (COUNTFLAG set by wraps, cleared by reads) and the next wrap.
        The anchor did not move (only register writes and clock changes move it, and they take the state back)."""
        self.regs.SYST_CSR.value = csr
        if due is not None:
            self.wrap.start_at(due)

    # ---- registers ----------------------------------------------------------------------------------------------
    def _write_csr(self, value: int, old: RegisterView) -> None:
        # Freeze the count under the old enable state, then continue (or stop) from it. Enabling with a count of
        # zero loads RVR on the first tick.
        now = self.clock.now
        due = self._wrap_due()
        current = self._value_at(now, enabled=old.ENABLE)
        if old.ENABLE and self.regs.SYST_CSR.ENABLE:
            # Still counting: a CSR write does not move the count's phase (B3.3.3), so keep the anchor time (no
            # rounding drift) and fold the wraps so far into the anchor value; a wrap due now still fires first.
            self._anchor_value = current + cycles_in(now - self._anchor_time, self.hz)
            if due:
                return
        else:
            self._anchor_value, self._anchor_time = current, now
        self._schedule()

    def _write_rvr(self, value: int, old: RegisterView) -> None:
        # RVR is loaded into the counter only when it wraps (ARMv7-M ARM B3.3.3): keep the running count (the value
        # formula assumes one reload value since the anchor, so fold the wraps so far, at the old reload value, into
        # the anchor first) and reload from the new value at the next wrap. A wrap due at this very instant still
        # fires first.
        due = self._wrap_due()
        if self.regs.SYST_CSR.ENABLE:
            # Same anchor time (no rounding drift); an anchor value that reaches the current count now.
            elapsed = cycles_in(self.clock.now - self._anchor_time, self.hz)
            self._anchor_value = self._value_at(self.clock.now, reload=old.RELOAD) + elapsed
        if not due:
            self._schedule()

    def _read_cvr(self) -> int:
        return self._value_at(self.clock.now) & 0xFFFFFF

    def _write_cvr(self, value: int) -> None:
        # Any write clears the counter to zero and COUNTFLAG; the next tick reloads from RVR.
        self.regs.SYST_CSR.COUNTFLAG = 0
        self._anchor_value = 0
        self._anchor_time = self.clock.now
        self._schedule()
