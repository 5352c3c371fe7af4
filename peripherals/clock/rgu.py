"""MT3620 IO-core reset/clock unit, low-power part (CM4 RGU, 0x21010000): the HCLK source of the IO core.

CodethinkLabs/mt3620-m4-drivers mt3620/clock.h: +0x0C bits[9:8] HCLK source, 0 = 26 MHz crystal, 1 = 32 kHz,
2 = PLL 197.6 MHz. MediaTek-Labs/mt3620_m4_software MT3620_M4_BSP/mt3620/inc/mt3620_cm4_hw_memmap.h names the
block's registers (CM4_SLP_CTRL 0x00, CM4_SLP_AUX 0x04, CM4_SLP_EVENT_RECORD 0x08, CM4_HCLK_CK_CTRL 0x0C, memory
power control 0x100..0x120, TOP_AON_CM4_CKGEN0 0x1B0, HCLK_2M_CKGEN 0x1B4, CM4_PWRCTLCR 0x1B8); its BSP
(src/nvic.c) selects the PLL by clearing bits[15:8] of 0x0C and setting 0x200. Only the HCLK selection has an
effect here; the other registers are plain storage.

The RGU is its core's clock source (`ClockSource`: `hz`, `add_clock_listener(fn(hz))`): the platform links the
core and the blocks that count its bus clock to it (`hclk: io0_rgu`).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind

log = logging.getLogger("mt3620.rgu")

HCLK_SOURCES = {0: 26_000_000, 1: 32_768, 2: 197_600_000}


class Rgu(Peripheral):
    SIZE = 0x1000
    IRQS = ()

    REGISTERS = (
        Register(0x000, "CM4_SLP_CTRL"),
        Register(0x004, "CM4_SLP_AUX"),
        Register(0x008, "CM4_SLP_EVENT_RECORD"),
        Register(0x00C, "CM4_HCLK_CK_CTRL", fields=(Field("UNKNOWN_7_0", 0, 8), Field("HCLK_CK_SEL", 8, 2),
                                                     Field("UNKNOWN_31_10", 10, 22)), write="_write_hclk"),
        Register(0x100, "CM4_HW_MEM_PDN"),
        Register(0x104, "CM4_HW_MEM_SLP"),
        Register(0x10C, "CM4_SW_MEM_PDN"),
        Register(0x110, "CM4_SW_MEM_SLP"),
        Register(0x114, "CM4_SW_MEM_ISO"),
        Register(0x118, "CM4_HW_MEM_PWR_CTRL_OPTION"),
        Register(0x120, "CM4_DUMMY_REGISTER"),
        Register(0x1B0, "TOP_AON_CM4_CKGEN0"),
        Register(0x1B4, "TOP_AON_HCLK_2M_CKGEN"),
        # XTAL_FREQ bits[10:0] report the crystal: bit 6 = 26 MHz (memmap.h CM4_PWRCTLCR_CM4_XTAL_FREQ_26M_OFFSET).
        Register(0x1B8, "TOP_AON_CM4_PWRCTLCR", reset=1 << 6),
    )

    STATE = ("source",)          # the HCLK source the listeners were told (HCLK_CK_SEL unless it was reserved)

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self._listeners: list[Callable[[int], None]] = []
        self.source = 0
        super().__init__(name or "rgu", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        """Every kind of reset returns HCLK to the 26 MHz crystal (emulator-defined: the OS hands the IO core over
        on the crystal, and a core reset restarts it there)."""
        old = self.source
        super().reset(kind)
        self.source = 0
        if old != self.source:
            self._notify()

    def restore(self, snap: dict[str, Any]) -> None:
        old = self.source
        super().restore(snap)
        if old != self.source:
            self._notify()

    # ---- ClockSource ------------------------------------------------------------------------------------------
    @property
    def hz(self) -> int:
        """The core's HCLK now."""
        return HCLK_SOURCES[self.source]

    def add_clock_listener(self, fn: Callable[[int], None]) -> None:
        """`fn(hz)` is called after every change of the HCLK frequency."""
        self._listeners.append(fn)

    def _notify(self) -> None:
        for fn in list(self._listeners):
            fn(self.hz)

    def _write_hclk(self, value: int) -> None:
        ctrl = self.regs.CM4_HCLK_CK_CTRL
        if ctrl.HCLK_CK_SEL not in HCLK_SOURCES:
            # Source 3 is not a documented clock: the selection keeps its previous value.
            log.info("%s: HCLK source 3 is reserved; keeping source %d", self.name, self.source)
            ctrl.HCLK_CK_SEL = self.source
        elif ctrl.HCLK_CK_SEL != self.source:
            self.source = ctrl.HCLK_CK_SEL
            self._notify()
