"""MT3620 ISU n configuration block (0x38070000 + n*0x10000, the first 0x200 bytes of the ISU's page).

Public facts: the block's first register ISU_GLOBAL_CTRL holds a software reset and the clock enables of the ISU's
functions: bit 0 CR_SW_RST (MediaTek hdl_i2c.c / hdl_spim.c / hdl_uart.c pulse it low then high to reset the ISU),
bit 8 the I2C clock (hdl_i2c.h ISU_I2C_CLK_EN), bits 12:9 the SPI master clocks (hdl_spim.c
mtk_hdl_spim_enable_clk sets 0x1E00), bits 14:13 the UART clocks (hdl_uart.c mtk_hdl_uart_cg_config sets 0x6000).
ISU_EA at +0xA0 enables the I2C pads (hdl_i2c.h PAD_I2C_CLK bit 1, PAD_I2C_SDA bit 2; the Azure Sphere kernel's
i2c-mt3620.c sets the same bits). The pad drive register at +0x70 is written by CodethinkLabs SPIMaster.c
(SPIMaster_ConfigureDriveStrength: "not documented in the functional spec").

The mode of an ISU is chosen here, as on the chip: a function whose clock is off does not reach the pads, so the
board's devices do not see it (its I2C transfers find no target and are not acknowledged, its SPI reads see an
undriven MISO, 0xFF). Emulator-defined (the OS configures the ISU from the app manifest, and that is not public):
bit 15 is the SPI subordinate's clock; the reset value has every function clocked and the ISU out of reset, unless
the platform names one (`mode: i2c | spi | spis | uart | all | none`) or `select_mode()` does, as the OS does for
an app that declared the ISU; writing CR_SW_RST low resets the ISU's function blocks.
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterView, ResetKind

log = logging.getLogger("mt3620.isu")

ISU_BASE = 0x38070000
ISU_STRIDE = 0x10000
ISU_COUNT = 5

CLOCK_BITS = {"i2c": 0x0100, "spim": 0x1E00, "uart": 0x6000, "spis": 0x8000}
MODES = {"all": 0xFF00, "i2c": 0x0100, "spi": 0x1E00, "spim": 0x1E00, "spis": 0x8000, "uart": 0x6000,
         "none": 0x0000}


def isu_index(base: int | None, offset: int, kind: str) -> int:
    """ISU number of a function block at `base` (the block sits at ISU base + `offset`)."""
    if base is None:
        return 0
    rel = int(base) - ISU_BASE - offset
    if rel < 0 or rel % ISU_STRIDE or rel // ISU_STRIDE >= ISU_COUNT:
        raise ValueError(f"{kind}: 0x{int(base):08x} is not an ISU {kind} base "
                         f"(0x{ISU_BASE + offset:08x} + n*0x10000, n < {ISU_COUNT})")
    return rel // ISU_STRIDE


class IsuConfig(Peripheral):
    SIZE = 0x200
    REGISTERS = (
        Register(0x00, "ISU_GLOBAL_CTRL", write="_global_written", fields=(
            Field("CR_SW_RST", 0, reset=1, doc="0 holds the ISU in reset"),
            Field("I2C_CLK_EN", 8, reset=1),
            Field("SPIM_CLK_EN", 9, 4, reset=0xF),
            Field("UART_CLK_EN", 13, 2, reset=0x3),
            Field("SPIS_CLK_EN", 15, reset=1, doc="emulator-defined"))),
        Register(0x70, "ISU_PADDRV", doc="pad drive strength (CodethinkLabs SPIMaster_ConfigureDriveStrength)"),
        Register(0xA0, "ISU_EA", fields=(Field("EA", 0, 8),)),
    )
    STATE = ()

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.isu = isu_index(attributes.get("base_address"), 0, "configuration block")
        mode = str(attributes.get("mode", "all")).lower()
        if mode not in MODES:
            raise ValueError(f"IsuConfig: mode {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self._functions: dict[str, list[Any]] = {}
        super().__init__(name or f"isu{self.isu}_cfg", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        # What the OS leaves for the app (emulator-defined, see the module docstring).
        self.regs.ISU_GLOBAL_CTRL.value = 0x1 | MODES[self.mode]

    def select_mode(self, mode: str) -> None:
        """The OS assigns the ISU to a function (an app manifest's I2cMaster/SpiMaster/Uart entry)."""
        mode = mode.lower()
        if mode not in MODES:
            raise ValueError(f"{self.name}: mode {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self.regs.ISU_GLOBAL_CTRL.value = (self.regs.ISU_GLOBAL_CTRL.value & 0x1) | MODES[mode]

    # ---- what the functions ask (IsuFunctionGate) ---------------------------------------------------------------
    def clocked(self, function: str) -> bool:
        ctrl = self.regs.ISU_GLOBAL_CTRL.value
        return bool(ctrl & 1) and bool(ctrl & CLOCK_BITS.get(function, 0))

    def attach_function(self, function: str, block: Any) -> None:
        self._functions.setdefault(function, []).append(block)

    def _global_written(self, value: int, old: RegisterView) -> None:
        if old.CR_SW_RST and not self.regs.ISU_GLOBAL_CTRL.CR_SW_RST:
            # CR_SW_RST pulled low: every function of the ISU returns to its reset state (hdl_* init_hw).
            for blocks in self._functions.values():
                for block in blocks:
                    block.isu_reset()
