"""MT3620 IO-core watchdog (0x21020000): IRQ 3, or a reset of the core.

Registers and keys: MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/src/hdl_wdt.c and HDL/inc/hdl_wdt.h:
  0x30 MODE     writes take effect only with key 0x22 in bits[15:8]; bit0 EN, bit3 IRQ (interrupt instead of
                reset), bit4 IRQ_OTHER_EN. Reads return the mode bits without the key.
  0x34 LENGTH   bits[15:5] timeout in ticks of the 32 Hz watchdog clock, bits[4:0] must be the key 0x08
                (WDT_LENGTH_SEC2TICK(s) = s*32 - 1: the timeout is LENGTH + 1 ticks).
  0x38 RESTART  writing 0x1971 restarts the countdown ("kick").
  0x3C STA      bit15 the last reset was a watchdog timeout, bit14 the last reset was a software reset (SWRST).
  0x40 INTERVAL stored.
  0x44 SWRST    writing 0x1209 resets the core at once.
  0x80 SWINT    stored.

Writes with a wrong key are ignored (logged once). On timeout: with MODE.IRQ the "irq" line (NVIC 3) is raised
and stays up until the watchdog is kicked or disabled; without it the "reset" line pulses and the core is reset.
STA survives the core reset it causes: `warm_reset()` / `core_reset()` (or `reset()` while the reset line is
pulsing) keep it; only a cold `reset()` clears it.
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

log = logging.getLogger("mt3620.watchdog")

MODE_KEY = 0x22
LENGTH_KEY = 0x08
RESTART_KEY = 0x1971
SWRST_KEY = 0x1209
STA_HW = 0x8000
STA_SW = 0x4000
TICK_HZ = 32
LENGTH_RESET = 0x7FF << 5 | LENGTH_KEY       # the longest timeout, 64 s (emulator-defined reset value)


class M4Watchdog(Peripheral):
    SIZE = 0x100
    IRQS = ("irq", "reset")

    REGISTERS = (
        Register(0x30, "WDT_MODE", fields=(Field("EN", 0), Field("IRQ", 3), Field("IRQ_OTHER_EN", 4)),
                 write="_write_mode"),
        Register(0x34, "WDT_LENGTH", reset=LENGTH_RESET, write="_write_length"),
        Register(0x38, "WDT_RESTART", access="wo", write="_write_restart"),
        Register(0x3C, "WDT_STA", access="ro", read="_read_sta"),
        Register(0x40, "WDT_INTERVAL", fields=(Field("LENGTH", 0, 12),)),
        Register(0x44, "WDT_SWRST", access="wo", write="_write_swrst"),
        Register(0x80, "WDT_SWINT", fields=(Field("SW_INT_CLR", 30), Field("SW_INT", 31))),
    )

    STATE = ("sta", "mode", "length", "deadline", "fired", "resets")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self._event = None
        self._in_reset_pulse = False
        self.sta = 0
        self.resets = 0
        super().__init__(name or "m4_watchdog", clock, **attributes)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        keep = self.sta if self._in_reset_pulse else 0
        super().reset()
        self._disarm()
        self.mode = 0
        self.length = LENGTH_RESET
        self.deadline: int | None = None
        self.fired = False
        self.sta = keep
        self.update_irq()

    def warm_reset(self) -> None:
        """Reset caused by this watchdog or by a core reset: every register to reset except STA."""
        keep = self.sta
        self.reset()
        self.sta = keep

    # The engine calls `core_reset()` on a core's private blocks when that core resets (engine/machine.py).
    core_reset = warm_reset

    def restore(self, snap: dict[str, Any]) -> None:
        self._disarm()
        super().restore(snap)
        if self.deadline is not None:
            self._event = self.clock.schedule_at(self.deadline, self._timeout, f"{self.name}.timeout")

    # ---- derived --------------------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.mode & 1)

    @property
    def timeout_ticks(self) -> int:
        return ((self.length >> 5) & 0x7FF) + 1

    @property
    def timeout_ps(self) -> int:
        return -(-self.timeout_ticks * PS_PER_SECOND // TICK_HZ)

    def remaining_ps(self) -> int | None:
        return None if self.deadline is None else max(0, self.deadline - self.clock.now)

    # ---- countdown ----------------------------------------------------------------------------------------------
    def _disarm(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.deadline = None

    def _arm(self) -> None:
        self._disarm()
        if self.enabled:
            self.deadline = self.clock.now + self.timeout_ps
            self._event = self.clock.schedule_at(self.deadline, self._timeout, f"{self.name}.timeout")

    def _timeout(self) -> None:
        self._event = None
        self.deadline = None
        self.sta = STA_HW
        if self.mode & 0x8:
            self.fired = True
            self.update_irq()
        else:
            self._reset_core()

    def _reset_core(self) -> None:
        self.resets += 1
        self._in_reset_pulse = True
        try:
            self.irq[1].pulse()
            # The watchdog itself is reset with the core (emulator-defined): disabled, STA kept.
            self.warm_reset()
        finally:
            self._in_reset_pulse = False

    def update_irq(self) -> None:
        self.irq[0].set(self.fired and bool(self.mode & 0x8))

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _write_mode(self, value: int) -> None:
        if (value >> 8) & 0xFF != MODE_KEY:
            log.info("%s: MODE write 0x%x without key 0x22xx ignored", self.name, value)
            self.regs["WDT_MODE"] = self.mode
            return
        was = self.enabled
        self.mode = value & 0x19
        self.regs["WDT_MODE"] = self.mode
        if not self.enabled:
            self._disarm()
            self.fired = False
        elif not was:
            self._arm()
        self.update_irq()

    def _write_length(self, value: int) -> None:
        if value & 0x1F != LENGTH_KEY:
            log.info("%s: LENGTH write 0x%x without key 0x08 ignored", self.name, value)
            self.regs["WDT_LENGTH"] = self.length
            return
        self.length = value & 0xFFFF
        self.regs["WDT_LENGTH"] = self.length
        # A new length is loaded by the next RESTART (as hdl_wdt.c follows set_length with restart).

    def _write_restart(self, value: int) -> None:
        if value & 0xFFFF != RESTART_KEY:
            log.info("%s: RESTART write 0x%x without key 0x1971 ignored", self.name, value)
            return
        self.fired = False
        self._arm()
        self.update_irq()

    def _read_sta(self) -> int:
        return self.sta

    def _write_swrst(self, value: int) -> None:
        if value & 0xFFFF != SWRST_KEY:
            log.info("%s: SWRST write 0x%x without key 0x1209 ignored", self.name, value)
            return
        self.sta = STA_SW
        self._reset_core()
