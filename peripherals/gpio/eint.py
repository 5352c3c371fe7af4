"""MT3620 IO-core interrupt configuration block (0x21000000): EINT debounce/polarity for GPIO 0-23 and IRQ sense.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/irq.h (mt3620_irq_t: DBNC_CON[24] at 0x000, DBNC_CON_TEMP[8]
at 0x060, IRQ_SENS[4] at 0x200, WIC registers at 0x304..0x3A0, IRQ_DISABLE[4] at 0x600, WIC_DISABLE[4] at 0x620,
IRQ_TEST[4] at 0x700, IRQ_TEST_CTRL at 0x720, SOFT_RST at 0x900); use: same repository, GPIO.c EINT_ConfigurePin
(EN, POL, DUAL, PRESCAL through read-modify-write; NVIC IRQ 20 + pin) and GPIO.h (PRESCAL 0..7 = debounce clock
8 kHz, 4 kHz, ... 62.5 Hz; DUAL "detect both transitions"). POL: MediaTek-Labs/mt3620_m4_software
MT3620_Sample_Code/OS_HAL/src/os_hal_eint.c (mtk_os_hal_eint_set_type) writes POL = 1 for HAL_EINT_LEVEL_LOW,
HAL_EINT_EDGE_FALLING and both edges, 0 for LEVEL_HIGH and EDGE_RISING: POL = 1 is active low. CodethinkLabs GPIO.h
describes its `positive` (written to POL) as "triggers on logic high"; the vendor's meaning is modelled (its LP sample
sleeps until button A is pressed; Codethink's EINT sample counts one interrupt per press either way), see
docs/EMULATOR-DEFINED.md.

Inputs: `irq_input(pin, level)` from the GPIO blocks' EINT lines (pin = GPIO number 0..23). Outputs: "eint0".."eint23"
to NVIC 20..43. Behaviour (emulator-defined where the datasheet is not public, see docs/peripherals.md):
  - a pin's input must hold a new level for CNT ticks of its debounce clock (CNT = 0: no debouncing) before the
    EINT sees it;
  - the EINT is active while the debounced level differs from POL (POL 0: high or rising, POL 1: low or falling);
    with DUAL every debounced change counts (edge delivery only);
  - IRQ_SENS bit (20 + pin) selects level (1) or edge (0, the reset value) delivery: edge mode pulses the output
    when the EINT becomes active (any change with DUAL), level mode holds the output while active;
  - a disabled EINT (EN = 0) keeps its output low.
"""
from __future__ import annotations

from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterArray, ResetKind, Timer

EINTS = 24
EINT_IRQ_BASE = 20                 # CTD irq.h MT3620_IRQ_EINT_INTERRUPT
DEBOUNCE_HZ = 8000                 # PRESCAL 0; each step halves it (CTD GPIO.h gpio_eint_dbnc_freq_e)


def _dbnc_fields() -> tuple[Field, ...]:
    return (Field("CNT", 0, 4), Field("PRESCAL", 4, 3), Field("DUAL", 7), Field("POL", 8), Field("EN", 9))


class EintController(Peripheral):
    SIZE = 0x1000
    IRQS = tuple(f"eint{i}" for i in range(EINTS))

    REGISTERS = (
        RegisterArray("DBNC_CON", 0x000, count=EINTS, stride=4,
                      registers=Register(0, "DBNC_CON", fields=_dbnc_fields(), write="_config_written")),
        RegisterArray("DBNC_CON_TEMP", 0x060, count=8, stride=4, registers=Register(0, "DBNC_CON_TEMP",
                                                                                    fields=_dbnc_fields())),
        RegisterArray("IRQ_SENS", 0x200, count=4, stride=4,
                      registers=Register(0, "IRQ_SENS", write="_config_written", doc="bit n: IRQ n is level")),
        RegisterArray("WIC_REL_PEND_VAL", 0x304, count=4, stride=4, registers=Register(0, "WIC_REL_PEND_VAL")),
        RegisterArray("WIC_REL_EN_VAL", 0x324, count=4, stride=4, registers=Register(0, "WIC_REL_EN_VAL")),
        Register(0x340, "WIC_REL_CTRL"),
        RegisterArray("WIC_PEND_STAT", 0x364, count=4, stride=4, registers=Register(0, "WIC_PEND_STAT", access="ro")),
        RegisterArray("WIC_EN_STAT", 0x384, count=4, stride=4, registers=Register(0, "WIC_EN_STAT", access="ro")),
        Register(0x3A0, "WIC_WAKE_STAT", access="ro"),
        RegisterArray("IRQ_DISABLE", 0x600, count=4, stride=4, registers=Register(0, "IRQ_DISABLE")),
        RegisterArray("WIC_DISABLE", 0x620, count=4, stride=4, registers=Register(0, "WIC_DISABLE")),
        RegisterArray("IRQ_TEST", 0x700, count=4, stride=4, registers=Register(0, "IRQ_TEST")),
        Register(0x720, "IRQ_TEST_CTRL"),
        Register(0x900, "SOFT_RST"),
    )
    STATE = ("raw", "debounced", "active")

    settle = Timer("_settle", count=EINTS)       # a new input level has held for the debounce time

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.raw = [0] * EINTS
        super().__init__(name or "eint", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        """Every kind alike; the input levels stay (the pads are outside the chip) and count as debounced."""
        super().reset(kind)
        self.debounced = list(self.raw)
        self.active = [False] * EINTS
        self.update_irq()

    def irq_number(self, pin: int) -> int:
        return EINT_IRQ_BASE + pin

    # ---- configuration ------------------------------------------------------------------------------------------
    def enabled(self, n: int) -> bool:
        return bool(self.regs.DBNC_CON[n].EN)

    def level_mode(self, n: int) -> bool:
        irq = EINT_IRQ_BASE + n
        return bool(self.regs.IRQ_SENS[irq // 32].value >> (irq % 32) & 1)

    def debounce_ps(self, n: int) -> int:
        con = self.regs.DBNC_CON[n]
        if con.CNT == 0:
            return 0
        return -(-con.CNT * PS_PER_SECOND * (1 << con.PRESCAL) // DEBOUNCE_HZ)

    def _config_written(self, index: int, value: int) -> None:
        for n in range(EINTS):
            if not self.enabled(n):
                self.active[n] = False
            else:
                self.active[n] = self._is_active(n, self.debounced[n])
        self.update_irq()

    def _is_active(self, n: int, level: int) -> bool:
        return level != self.regs.DBNC_CON[n].POL      # POL 1: active low (MediaTek os_hal_eint.c)

    # ---- inputs ---------------------------------------------------------------------------------------------------
    def irq_input(self, n: int, level: bool) -> None:
        """GPIO `n`'s input level (wired from the GPIO blocks' EINT lines)."""
        if not 0 <= int(n) < EINTS:
            return
        n = int(n)
        self.raw[n] = int(bool(level))
        self.settle[n].cancel()
        if self.raw[n] == self.debounced[n]:
            return                                  # a glitch shorter than the debounce window
        delay = self.debounce_ps(n)
        if delay == 0:
            self._settle(n)
        else:
            self.settle[n].start(delay)

    def _settle(self, n: int) -> None:
        if self.raw[n] == self.debounced[n]:
            return
        self.debounced[n] = self.raw[n]
        if not self.enabled(n):
            return
        was = self.active[n]
        now = self._is_active(n, self.debounced[n])
        self.active[n] = now
        dual = bool(self.regs.DBNC_CON[n].DUAL)
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
