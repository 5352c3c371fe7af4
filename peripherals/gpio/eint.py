"""MT3620 IO-core interrupt configuration block (0x21000000): EINT debounce/polarity for GPIO 0-23 and IRQ sense.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/irq.h (mt3620_irq_t: DBNC_CON[24] at 0x000, DBNC_CON_TEMP[8]
at 0x060, IRQ_SENS[4] at 0x200, WIC registers at 0x304..0x3A0, IRQ_DISABLE[4] at 0x600, WIC_DISABLE[4] at 0x620,
IRQ_TEST[4] at 0x700, IRQ_TEST_CTRL at 0x720, SOFT_RST at 0x900); use: same repository, GPIO.c EINT_ConfigurePin
(EN, POL, DUAL, PRESCAL through read-modify-write; NVIC IRQ 20 + pin) and GPIO.h (PRESCAL 0..7 = debounce clock
8 kHz, 4 kHz, ... 62.5 Hz; POL "triggers on logic high"; DUAL "detect both transitions").

Inputs: `irq_input(pin, level)` from the GPIO blocks' EINT lines (pin = GPIO number 0..23). Outputs: "eint0".."eint23"
to NVIC 20..43. Behaviour (emulator-defined where the datasheet is not public, see docs/peripherals.md):
  - a pin's input must hold a new level for CNT ticks of its debounce clock (CNT = 0: no debouncing) before the
    EINT sees it;
  - the EINT is active while the debounced level equals POL (1 = high); with DUAL every debounced change counts
    (edge delivery only);
  - IRQ_SENS bit (20 + pin) selects level (1) or edge (0, the reset value) delivery: edge mode pulses the output
    when the EINT becomes active (any change with DUAL), level mode holds the output while active;
  - a disabled EINT (EN = 0) keeps its output low.
"""
from __future__ import annotations

from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

EINTS = 24
EINT_IRQ_BASE = 20                 # CTD irq.h MT3620_IRQ_EINT_INTERRUPT
DEBOUNCE_HZ = 8000                 # PRESCAL 0; each step halves it (CTD GPIO.h gpio_eint_dbnc_freq_e)


def _dbnc_fields() -> tuple[Field, ...]:
    return (Field("CNT", 0, 4), Field("PRESCAL", 4, 3), Field("DUAL", 7), Field("POL", 8), Field("EN", 9))


class EintController(Peripheral):
    SIZE = 0x1000
    IRQS = tuple(f"eint{i}" for i in range(EINTS))

    REGISTERS = (
        tuple(Register(4 * i, f"DBNC_CON{i}", fields=_dbnc_fields(), write="_config_written") for i in range(EINTS))
        + tuple(Register(0x60 + 4 * i, f"DBNC_CON_TEMP{i}", fields=_dbnc_fields()) for i in range(8))
        + tuple(Register(0x200 + 4 * i, f"IRQ_SENS{i}", write="_config_written") for i in range(4))
        + tuple(Register(0x304 + 4 * i, f"WIC_REL_PEND_VAL{i}") for i in range(4))
        + tuple(Register(0x324 + 4 * i, f"WIC_REL_EN_VAL{i}") for i in range(4))
        + (Register(0x340, "WIC_REL_CTRL"),)
        + tuple(Register(0x364 + 4 * i, f"WIC_PEND_STAT{i}", access="ro") for i in range(4))
        + tuple(Register(0x384 + 4 * i, f"WIC_EN_STAT{i}", access="ro") for i in range(4))
        + (Register(0x3A0, "WIC_WAKE_STAT", access="ro"),)
        + tuple(Register(0x600 + 4 * i, f"IRQ_DISABLE{i}") for i in range(4))
        + tuple(Register(0x620 + 4 * i, f"WIC_DISABLE{i}") for i in range(4))
        + tuple(Register(0x700 + 4 * i, f"IRQ_TEST{i}") for i in range(4))
        + (Register(0x720, "IRQ_TEST_CTRL"), Register(0x900, "SOFT_RST"))
    )

    STATE = ("raw", "debounced", "active", "pending_at")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self._events: dict[int, Any] = {}
        super().__init__(name or "eint", clock, **attributes)

    def reset(self) -> None:
        super().reset()
        for ev in getattr(self, "_events", {}).values():
            ev.cancel()
        self._events = {}
        keep = getattr(self, "raw", None)
        self.raw = list(keep) if keep is not None else [0] * EINTS     # pad levels are outside the chip
        self.debounced = list(self.raw)
        self.active = [False] * EINTS
        self.pending_at: list[int | None] = [None] * EINTS
        self.update_irq()

    def restore(self, snap: dict[str, Any]) -> None:
        for ev in self._events.values():
            ev.cancel()
        self._events = {}
        super().restore(snap)
        for n, when in enumerate(self.pending_at):
            if when is not None:
                self._events[n] = self.clock.schedule_at(when, lambda n=n: self._settle(n), f"{self.name}.dbnc{n}")

    def irq_number(self, pin: int) -> int:
        return EINT_IRQ_BASE + pin

    # ---- configuration ------------------------------------------------------------------------------------------
    def _con(self, n: int) -> int:
        return self.regs[f"DBNC_CON{n}"]

    def enabled(self, n: int) -> bool:
        return bool(self._con(n) >> 9 & 1)

    def level_mode(self, n: int) -> bool:
        irq = EINT_IRQ_BASE + n
        return bool(self.regs[f"IRQ_SENS{irq // 32}"] >> (irq % 32) & 1)

    def debounce_ps(self, n: int) -> int:
        con = self._con(n)
        cnt, prescal = con & 0xF, (con >> 4) & 7
        if cnt == 0:
            return 0
        return -(-cnt * PS_PER_SECOND * (1 << prescal) // DEBOUNCE_HZ)

    def _config_written(self, value: int) -> None:
        for n in range(EINTS):
            if not self.enabled(n):
                self.active[n] = False
            else:
                self.active[n] = self._is_active(n, self.debounced[n])
        self.update_irq()

    def _is_active(self, n: int, level: int) -> bool:
        pol = self._con(n) >> 8 & 1
        return level == pol

    # ---- inputs ---------------------------------------------------------------------------------------------------
    def irq_input(self, n: int, level: bool) -> None:
        """GPIO `n`'s input level (wired from the GPIO blocks' EINT lines)."""
        if not 0 <= int(n) < EINTS:
            return
        n = int(n)
        self.raw[n] = int(bool(level))
        ev = self._events.pop(n, None)
        if ev is not None:
            ev.cancel()
        self.pending_at[n] = None
        if self.raw[n] == self.debounced[n]:
            return                                  # a glitch shorter than the debounce window
        delay = self.debounce_ps(n)
        if delay == 0:
            self._settle(n)
        else:
            self.pending_at[n] = self.clock.now + delay
            self._events[n] = self.clock.schedule_at(self.pending_at[n], lambda n=n: self._settle(n),
                                                     f"{self.name}.dbnc{n}")

    def _settle(self, n: int) -> None:
        self._events.pop(n, None)
        self.pending_at[n] = None
        if self.raw[n] == self.debounced[n]:
            return
        self.debounced[n] = self.raw[n]
        if not self.enabled(n):
            return
        was = self.active[n]
        now = self._is_active(n, self.debounced[n])
        self.active[n] = now
        dual = bool(self._con(n) >> 7 & 1)
        if self.level_mode(n):
            self.irq[n].set(now)                    # level delivery ignores DUAL
        elif (now and not was) or dual:
            self.irq[n].pulse()

    def update_irq(self) -> None:
        for n in range(EINTS):
            if self.enabled(n) and self.level_mode(n):
                self.irq[n].set(self.active[n])
            else:
                self.irq[n].set(False)
