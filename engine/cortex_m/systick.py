"""SysTick, the ARMv7-M system timer at SCS+0x010 (ARMv7-M ARM B3.3).

A 24-bit down-counter clocked by the core clock (HCLK). It is not ticked: the current value is computed from
virtual time since it was last (re)loaded, and one event is scheduled for the next time it reaches zero.
Reaching zero sets COUNTFLAG and, with TICKINT, pends the SysTick exception; the next tick reloads from RVR.
Emulator-defined: the MT3620 reference clock is not public, so CALIB reads NOREF=1, SKEW=1, TENMS=0 and
CLKSOURCE always reads 1 (processor clock).
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.clock import VirtualClock, cycles_in, ps_for_cycles
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

CSR_ENABLE, CSR_TICKINT, CSR_CLKSOURCE, CSR_COUNTFLAG = 1 << 0, 1 << 1, 1 << 2, 1 << 16
CALIB_VALUE = 0xC000_0000


class SysTick(Peripheral):
    SIZE = 0x10
    REGISTERS = (
        Register(0x0, "SYST_CSR", read="_read_csr", write="_write_csr", fields=(
            Field("ENABLE", 0), Field("TICKINT", 1), Field("CLKSOURCE", 2, reset=1, access="ro"),
            Field("COUNTFLAG", 16, access="ro"))),
        Register(0x4, "SYST_RVR", fields=(Field("RELOAD", 0, 24),), write="_write_rvr"),
        Register(0x8, "SYST_CVR", read="_read_cvr", write="_write_cvr"),
        Register(0xC, "SYST_CALIB", reset=CALIB_VALUE, access="ro"),
    )
    STATE = ("_anchor_time", "_anchor_value", "_countflag", "_enabled", "_reload")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *,
                 hz: int = 26_000_000, pend: Callable[[], None] = lambda: None, **attributes) -> None:
        self.hz = hz
        self._pend = pend
        self._event = None
        super().__init__(name or "systick", clock, **attributes)

    def reset(self) -> None:
        super().reset()
        if self._event:
            self._event.cancel()
        self._event = None
        self._anchor_time = 0
        self._anchor_value = 0
        self._countflag = False
        self._enabled = 0
        self._reload = self.regs["SYST_RVR"]  # the reload value the anchor's count runs with

    # The counter value at time t: counting down from _anchor_value at _anchor_time, period RVR + 1.
    def _value_at(self, now: int) -> int:
        if not self.regs["SYST_CSR"] & CSR_ENABLE:
            return self._anchor_value
        elapsed = cycles_in(now - self._anchor_time, self.hz)
        if elapsed <= self._anchor_value:
            return self._anchor_value - elapsed
        reload = self.regs["SYST_RVR"]
        if reload == 0:
            return 0
        return reload - (elapsed - self._anchor_value - 1) % (reload + 1)

    def _schedule(self) -> None:
        if self._event:
            self._event.cancel()
            self._event = None
        if not self.regs["SYST_CSR"] & CSR_ENABLE:
            return
        value = self._value_at(self.clock.now)
        if value == 0 and self.regs["SYST_RVR"] == 0:
            return
        cycles = value if value else self.regs["SYST_RVR"] + 1
        # Align to the anchor so rounding never drifts: the wrap happens at an exact cycle count from the anchor.
        elapsed = cycles_in(self.clock.now - self._anchor_time, self.hz)
        when = self._anchor_time + ps_for_cycles(elapsed + cycles, self.hz)
        self._event = self.clock.schedule_at(when, self._wrap, "systick")

    def _wrap(self) -> None:
        self._event = None
        self._countflag = True
        if self.regs["SYST_CSR"] & CSR_TICKINT:
            self._pend()
        self._schedule()

    def clock_changed(self, hz: int) -> None:
        """HCLK changed: keep the current count and continue at the new rate."""
        self._anchor_value = self._value_at(self.clock.now)
        self._anchor_time = self.clock.now
        self.hz = hz
        self._schedule()

    # ---- registers ----------------------------------------------------------------------------------------------
    def _read_csr(self) -> int:
        value = (self.regs["SYST_CSR"] & (CSR_ENABLE | CSR_TICKINT)) | CSR_CLKSOURCE
        if self._countflag:
            value |= CSR_COUNTFLAG
            self._countflag = False  # COUNTFLAG clears on read
        return value

    def _write_csr(self, value: int) -> None:
        # Freeze the count under the old enable state, then continue (or stop) from it. Enabling with a count of
        # zero loads RVR on the first tick.
        now = self.clock.now
        due = self._event is not None and self._event.when <= now
        was = self._enabled
        self.regs["SYST_CSR"] = was
        current = self._value_at(now)
        self.regs["SYST_CSR"] = self._enabled = value & (CSR_ENABLE | CSR_TICKINT)
        if was & self._enabled & CSR_ENABLE:
            # Still counting: a CSR write does not move the count's phase (B3.3.3), so keep the anchor time (no
            # rounding drift) and fold the wraps so far into the anchor value; a wrap due now still fires first.
            self._anchor_value = current + cycles_in(now - self._anchor_time, self.hz)
            if due:
                return
        else:
            self._anchor_value, self._anchor_time = current, now
        self._schedule()

    def _write_rvr(self, value: int) -> None:
        # RVR is loaded into the counter only when it wraps (ARMv7-M ARM B3.3.3): keep the running count (the value
        # formula assumes one reload value since the anchor, so fold the wraps so far into the anchor first) and
        # reload from the new value at the next wrap. A wrap due at this very instant still fires first.
        due = self._event is not None and self._event.when <= self.clock.now
        self.regs["SYST_RVR"] = self._reload  # the base class stored the new value already
        if self.regs["SYST_CSR"] & CSR_ENABLE:
            # Same anchor time (no rounding drift); an anchor value that reaches the current count now.
            elapsed = cycles_in(self.clock.now - self._anchor_time, self.hz)
            self._anchor_value = self._value_at(self.clock.now) + elapsed
        self.regs["SYST_RVR"] = self._reload = value & 0xFFFFFF
        if not due:
            self._schedule()

    def _read_cvr(self) -> int:
        return self._value_at(self.clock.now) & 0xFFFFFF

    def _write_cvr(self, value: int) -> None:
        # Any write clears the counter to zero and COUNTFLAG; the next tick reloads from RVR.
        self._countflag = False
        self._anchor_value = 0
        self._anchor_time = self.clock.now
        self._schedule()
