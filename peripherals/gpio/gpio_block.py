"""MT3620 GPIO block n (0x38010000 + n*0x10000, n = 0..5): GPIO pins 4n..4n+3.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/gpio.h (mt3620_gpio_t); use: same repository, GPIO.c
(ConfigurePin: input = IES_SET + OE_RESET, output = OE_SET + IES_RESET; GPIO_Write: DOUT_SET / DOUT_RESET;
GPIO_Read: DIN). Each of DOUT, OE, PU, PD, SR, IES, EA, RSEL has SET (+4) and RESET (+8) aliases that set or clear
the written bits.

Pad model (emulator-defined where the datasheet is not public, see docs/peripherals.md):
  pad level = DOUT bit when OE is set; else the level driven from Python (`drive_input`); else 1 with PU,
  0 with PD, 0 when floating. DIN shows the pad level of pins whose input buffer is enabled (IES), 0 otherwise.
  The four EINT outputs carry the DIN level of the block's pins (EINT k = GPIO k = NVIC 20 + k); polarity, edge
  and debounce belong to the EINT configuration block at 0x21000000.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind

log = logging.getLogger("mt3620.gpio")

GPIO_BLOCK_BASE = 0x38010000
GPIO_BLOCK_STRIDE = 0x10000
GPIO_BLOCK_COUNT = 6
PINS = 4


def _with_aliases(offset: int, name: str, reset: int = 0, extra: tuple[Field, ...] = ()) -> tuple[Register, ...]:
    """A 4-bit register with its SET (+4) and RESET (+8) aliases: writing 1s sets or clears those bits of the
    register; the aliases read as 0."""
    return (
        Register(offset, name, fields=(Field(name, 0, 4, reset=reset),) + extra, write="_changed"),
        Register(offset + 4, f"{name}_SET", fields=(Field("SET", 0, 4, "w1s"),), alias_of=name, write="_changed"),
        Register(offset + 8, f"{name}_RESET", fields=(Field("RESET", 0, 4, "w1c"),), alias_of=name,
                 write="_changed"),
    )


class GpioBlock(Peripheral):
    SIZE = 0x1000
    IRQS = ("eint0", "eint1", "eint2", "eint3")

    REGISTERS = (
        Register(0x00, "GPIO_PWM_GRP_GLOBAL_CTRL", fields=(
            Field("GPIO_CNT_MODE_EN", 0), Field("GPIO_CR_SW_RST_B", 1, 1, "rw", 1),
            Field("PWM_CR_SW_RST_B", 2, 1, "rw", 1), Field("GPIO_CNT_CLK_EN", 3))),
        Register(0x04, "GPIO_PWM_GRP_DIN", access="ro", read="_read_din"),
        *_with_aliases(0x10, "DOUT"),
        *_with_aliases(0x20, "OE"),
        *_with_aliases(0x30, "PU", extra=(Field("GPIO_PAD_PU_SW", 31),)),
        *_with_aliases(0x40, "PD"),
        *_with_aliases(0x50, "SR"),
        # Input buffers enabled at reset (emulator-defined), so a pin reads back before it is configured.
        *_with_aliases(0x60, "IES", reset=0xF),
        Register(0x70, "GPIO_PWM_GRP_PADDRV", fields=(Field("PADDRV", 0, 8),)),
        Register(0x80, "GPIO_PWM_GRP_RDSEL", fields=(Field("RDSEL", 0, 8),)),
        Register(0x90, "GPIO_PWM_GRP_TDSEL", fields=(Field("TDSEL", 0, 16),)),
        *_with_aliases(0xA0, "EA"),
        *_with_aliases(0xB0, "RSEL"),
        # Event/capture counter registers (mt3620_gpio_t, 0x100..0x134): stored, the counter engine is not modelled.
        Register(0x100, "GPIO_CNT_STATIC_CTRL0"),
        Register(0x104, "GPIO_CNT_STATIC_CTRL1"),
        Register(0x108, "GPIO_CNT_STATIC_CTRL2"),
        Register(0x10C, "GPIO_CNT_STATIC_CTRL3"),
        Register(0x110, "GPIO_CNT_DYNAMIC_CTRL0"),
        Register(0x120, "GPIO_CNT_RST_VAL"),
        Register(0x124, "GPIO_CNT_LOW_LIMIT"),
        Register(0x128, "GPIO_CNT_HIGH_LIMIT"),
        Register(0x130, "GPIO_CNT_INT_EN"),
        Register(0x134, "GPIO_CNT_INT_STS_CLR", access="wo"),
        Register(0x138, "GPIO_CNT_INT_STS", access="ro"),
        Register(0x140, "GPIO_CNT_CAP_FIFO_STS", access="ro"),
        Register(0x144, "GPIO_CNT_CAP_VALUE_0", access="ro"),
        Register(0x148, "GPIO_CNT_CAP_VALUE_1", access="ro"),
        Register(0x14C, "GPIO_CNT_COUNTER_VALUE", access="ro"),
        Register(0x150, "GPIO_CNT_DBG_CTRL"),
        Register(0x154, "GPIO_CNT_DBG_OUT", access="ro"),
    )

    STATE = ("driven",)

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        base = GPIO_BLOCK_BASE if base is None else int(base)
        offset = base - GPIO_BLOCK_BASE
        if offset < 0 or offset % GPIO_BLOCK_STRIDE or offset // GPIO_BLOCK_STRIDE >= GPIO_BLOCK_COUNT:
            raise ValueError(f"GpioBlock: 0x{base:08x} is not a GPIO block base (0x38010000 + n*0x10000, n < 6)")
        self.base_address = base
        self.block = offset // GPIO_BLOCK_STRIDE
        self.first_pin = PINS * self.block
        self._listeners: list[Callable[[int, int | None], None]] = []
        self._last_out: list[int | None] = [None] * PINS
        self.driven: list[int | None] = [None] * PINS
        super().__init__(name or f"gpio_block{self.block}", clock, **attributes)

    @property
    def pins(self) -> range:
        return range(self.first_pin, self.first_pin + PINS)

    def eint_number(self, pin: int) -> int:
        """NVIC input of a pin's EINT line (CTD mt3620/irq.h MT3620_IRQ_EINT_INTERRUPT)."""
        return 20 + self._local(pin) + self.first_pin

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        """Register reset (every kind alike); levels driven from outside the chip stay (they are not part of it)."""
        super().reset(kind)
        self._notify_outputs()
        self.update_irq()

    def restore(self, snap: dict[str, Any]) -> None:
        super().restore(snap)
        self._notify_outputs()

    # ---- pins from Python -------------------------------------------------------------------------------------
    def _local(self, pin: int) -> int:
        if not isinstance(pin, int) or pin not in self.pins:
            raise ValueError(f"{self.name}: GPIO {pin!r} is not in this block (pins {self.first_pin}.."
                             f"{self.first_pin + PINS - 1})")
        return pin - self.first_pin

    def output_level(self, pin: int) -> int | None:
        """Level the chip drives on `pin` (0/1), or None when the pin's output driver is off."""
        i = self._local(pin)
        if not self.regs.OE.value >> i & 1:
            return None
        return self.regs.DOUT.value >> i & 1

    def pad_level(self, pin: int) -> int:
        """Resolved level on the pad: chip output, else external drive, else pull resistor, else 0."""
        i = self._local(pin)
        return self._pad(i)

    def _pad(self, i: int) -> int:
        if self.regs.OE.value >> i & 1:
            return self.regs.DOUT.value >> i & 1
        if self.driven[i] is not None:
            return self.driven[i]
        if self.regs.PU.value >> i & 1:
            return 1
        return 0

    def drive_input(self, pin: int, level: int | bool | None) -> None:
        """Drive `pin` from outside the chip (1/0/True/False), or release it (None)."""
        i = self._local(pin)
        if level is not None and level not in (0, 1, True, False):
            raise ValueError(f"{self.name}: level must be 0, 1 or None, not {level!r}")
        self.driven[i] = None if level is None else int(bool(level))
        if self.regs.OE.value >> i & 1 and self.driven[i] is not None and self.driven[i] != self._pad(i):
            log.info("%s: GPIO %d driven to %d from outside while the chip drives %d (contention; chip wins)",
                     self.name, pin, self.driven[i], self._pad(i))
        self.update_irq()

    def add_output_listener(self, fn: Callable[[int, int | None], None]) -> None:
        """`fn(pin, level)` is called whenever `output_level(pin)` changes."""
        self._listeners.append(fn)

    def din(self) -> int:
        value = 0
        for i in range(PINS):
            if self.regs.IES.value >> i & 1:
                value |= self._pad(i) << i
        return value

    # ---- register side ----------------------------------------------------------------------------------------
    def _read_din(self) -> int:
        return self.din()

    def _changed(self, value: int) -> None:
        self._notify_outputs()
        self.update_irq()

    def _notify_outputs(self) -> None:
        for i in range(PINS):
            out = None if not self.regs.OE.value >> i & 1 else self.regs.DOUT.value >> i & 1
            if out != self._last_out[i]:
                self._last_out[i] = out
                for fn in list(self._listeners):
                    fn(self.first_pin + i, out)

    def update_irq(self) -> None:
        din = self.din()
        for i in range(PINS):
            self.irq[i].set(din >> i & 1)

