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
STA survives the core reset it causes and a chip (warm) reset: `reset(CORE)` and `reset(WARM)` keep it, and so does
any reset that arrives while the reset line is pulsing (it is the reset this watchdog caused); only a cold
(power-on) reset clears it.
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import (COLD, CORE, WARM, Field, Peripheral, Register, RegisterView,
                                                 ResetKind, Timer)

log = logging.getLogger("mt3620.watchdog")

MODE_KEY = 0x22
LENGTH_KEY = 0x08
RESTART_KEY = 0x1971
SWRST_KEY = 0x1209
TICK_HZ = 32
LENGTH_RESET = 0x7FF          # the longest timeout, 64 s (emulator-defined reset value)


class M4Watchdog(Peripheral):
    SIZE = 0x100
    IRQS = ("irq", "reset")

    REGISTERS = (
        Register(0x30, "WDT_MODE", write="_write_mode", fields=(
            Field("EN", 0), Field("IRQ", 3, doc="interrupt instead of reset"), Field("IRQ_OTHER_EN", 4),
            Field("KEY", 8, 8, "wo"))),
        Register(0x34, "WDT_LENGTH", write="_write_length", fields=(
            Field("KEY", 0, 5, reset=LENGTH_KEY), Field("LENGTH", 5, 11, reset=LENGTH_RESET))),
        Register(0x38, "WDT_RESTART", fields=(Field("KEY", 0, 16, "wo"),), write="_write_restart"),
        Register(0x3C, "WDT_STA", survives=(CORE, WARM), fields=(
            Field("SW_RST", 14, access="ro"), Field("HW_RST", 15, access="ro"))),
        Register(0x40, "WDT_INTERVAL", fields=(Field("LENGTH", 0, 12),)),
        Register(0x44, "WDT_SWRST", fields=(Field("KEY", 0, 16, "wo"),), write="_write_swrst"),
        Register(0x80, "WDT_SWINT", fields=(Field("SW_INT_CLR", 30), Field("SW_INT", 31))),
    )
    STATE = ("fired", "resets")

    countdown = Timer("_timeout")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self._in_reset_pulse = False
        self.resets = 0
        super().__init__(name or "m4_watchdog", clock, **attributes)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        """Every register to reset (disabled, the longest timeout); STA survives core and warm resets."""
        super().reset(CORE if self._in_reset_pulse else kind)
        self.fired = False
        self.update_irq()

    # ---- derived --------------------------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        return bool(self.regs.WDT_MODE.EN)

    @property
    def timeout_ticks(self) -> int:
        return self.regs.WDT_LENGTH.LENGTH + 1

    @property
    def timeout_ps(self) -> int:
        return -(-self.timeout_ticks * PS_PER_SECOND // TICK_HZ)

    def remaining_ps(self) -> int | None:
        when = self.countdown.when
        return None if when is None else max(0, when - self.clock.now)

    # ---- countdown ----------------------------------------------------------------------------------------------
    def _arm(self) -> None:
        self.countdown.cancel()
        if self.enabled:
            self.countdown.start(self.timeout_ps)

    def _timeout(self) -> None:
        sta = self.regs.WDT_STA
        sta.value = sta.encode(HW_RST=1)             # the last reset is this timeout
        if self.regs.WDT_MODE.IRQ:
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
            self.reset(CORE)
        finally:
            self._in_reset_pulse = False

    def update_irq(self) -> None:
        self.irq[0].set(self.fired and bool(self.regs.WDT_MODE.IRQ))

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _write_mode(self, value: int, old: RegisterView) -> None:
        mode = self.regs.WDT_MODE
        if mode.KEY != MODE_KEY:
            log.info("%s: MODE write 0x%x without key 0x22xx ignored", self.name, value)
            mode.value = old.value
            return
        mode.KEY = 0
        if not mode.EN:
            self.countdown.cancel()
            self.fired = False
        elif not old.EN:
            self._arm()
        self.update_irq()

    def _write_length(self, value: int, old: RegisterView) -> None:
        if self.regs.WDT_LENGTH.KEY != LENGTH_KEY:
            log.info("%s: LENGTH write 0x%x without key 0x08 ignored", self.name, value)
            self.regs.WDT_LENGTH.value = old.value
        # A new length is loaded by the next RESTART (as hdl_wdt.c follows set_length with restart).

    def _write_restart(self, value: int) -> None:
        if self.regs.WDT_RESTART.KEY != RESTART_KEY:
            log.info("%s: RESTART write 0x%x without key 0x1971 ignored", self.name, value)
            return
        self.fired = False
        self._arm()
        self.update_irq()

    def _write_swrst(self, value: int) -> None:
        if self.regs.WDT_SWRST.KEY != SWRST_KEY:
            log.info("%s: SWRST write 0x%x without key 0x1209 ignored", self.name, value)
            return
        sta = self.regs.WDT_STA
        sta.value = sta.encode(SW_RST=1)             # the last reset is this software reset
        self._reset_core()
