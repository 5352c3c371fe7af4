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

GPIOIF counters (0x100..0x154, output `cnt` = NVIC 71 + n): the event and capture counters of the block's first
three pins, in mt3620.peripherals.gpio.gpioif. A pad can be driven from outside with a waveform over virtual time
(`drive_waveform(pin, signal)`: a digital signal from mt3620.peripherals.buses.signals, edge by edge on the clock),
which is how a board feeds pulses to the counters.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterView, ResetKind, Timer
from mt3620.peripherals.buses.signals import Signal, SignalError, parse_signal

from .gpioif import COUNTER_CLOCK_HZ, GpioCounters

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
    IRQS = ("eint0", "eint1", "eint2", "eint3", "cnt")

    REGISTERS = (
        Register(0x00, "GPIO_PWM_GRP_GLOBAL_CTRL", write="_global_written", fields=(
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
        # GPIOIF counters (MediaTek hdl_gpioif.h GPIO_CNT_GRP_*; the engine is mt3620.peripherals.gpio.gpioif).
        Register(0x100, "GPIO_CNT_STATIC_CTRL0", fields=(
            Field("DGLT_MIN_PULSE_WID", 0, 14), Field("DGLT_EN", 14), Field("DGLT_INIT_VAL", 15))),
        Register(0x104, "GPIO_CNT_STATIC_CTRL1", fields=(
            Field("DGLT_MIN_PULSE_WID", 0, 14), Field("DGLT_EN", 14), Field("DGLT_INIT_VAL", 15))),
        Register(0x108, "GPIO_CNT_STATIC_CTRL2"),
        Register(0x10C, "GPIO_CNT_STATIC_CTRL3", fields=(
            Field("GPIO2_RST_LVL", 0), Field("CAP_CNT_GPIO2_RST_EN", 1), Field("EVENT_CNT_GPIO2_RST_EN", 2),
            Field("CAP_GPIO0_EDGE_TYPE", 8, 2), Field("CAP_GPIO1_EDGE_TYPE", 10, 2), Field("EVENT_EDGE_TYPE", 16, 2),
            Field("EVENT_MODE", 18, 2), Field("DIR_DEF", 20), Field("UPDOWN_DEF", 21), Field("QUAD_DEF", 22),
            Field("INT_MODE", 24, 2), Field("SAT_MODE", 28, 3))),
        Register(0x110, "GPIO_CNT_DYNAMIC_CTRL0", write="_dynamic_written", fields=(
            Field("EVENT_CNT_EN", 0), Field("CAP_CNT_EN", 1), Field("EVENT_CNT_SW_RST", 16),
            Field("CAP_CNT_SW_RST", 17))),
        Register(0x120, "GPIO_CNT_RST_VAL"),
        Register(0x124, "GPIO_CNT_LOW_LIMIT"),
        Register(0x128, "GPIO_CNT_HIGH_LIMIT"),
        Register(0x130, "GPIO_CNT_INT_EN", write="_cnt_int_written"),
        Register(0x134, "GPIO_CNT_INT_STS_CLR", write="_cnt_sts_clr"),
        Register(0x138, "GPIO_CNT_INT_STS", access="ro", read="_read_cnt_sts"),
        Register(0x140, "GPIO_CNT_CAP_FIFO_STS", access="ro", read="_read_cap_sts"),
        Register(0x144, "GPIO_CNT_CAP_VALUE_0", access="ro", read="_read_cap0"),
        Register(0x148, "GPIO_CNT_CAP_VALUE_1", access="ro", read="_read_cap1"),
        Register(0x14C, "GPIO_CNT_COUNTER_VALUE", access="ro", read="_read_counter"),
        Register(0x150, "GPIO_CNT_DBG_CTRL"),
        Register(0x154, "GPIO_CNT_DBG_OUT", access="ro"),
    )

    STATE = ("driven", "_counter_state", "_waves", "_pending_edges")

    wave = Timer("_wave_edge", count=PINS)             # the next edge of a waveform driving pin i
    deglitch = Timer("_deglitch_done", count=2)        # GPIO_0/GPIO_1 debounce windows

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
        self.counters = GpioCounters()
        self.signals: list[Signal | None] = [None] * PINS
        self._last_pads = [0] * PINS
        self._pending_edges: list[list | None] = [None, None]
        super().__init__(name or f"gpio_block{self.block}", clock, **attributes)
        self._last_pads = [self._pad(i) for i in range(PINS)]

    @property
    def pins(self) -> range:
        return range(self.first_pin, self.first_pin + PINS)

    def eint_number(self, pin: int) -> int:
        """NVIC input of a pin's EINT line (CTD mt3620/irq.h MT3620_IRQ_EINT_INTERRUPT)."""
        return 20 + self._local(pin) + self.first_pin

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        """Register reset (every kind alike); levels and waveforms driven from outside the chip stay (they are not
        part of it)."""
        super().reset(kind)
        self.counters.reset()
        self._pending_edges = [None, None]
        for i, signal in enumerate(self.signals):
            if signal is not None:
                self._schedule_wave(i)
        self._notify_outputs()
        self.update_irq()

    def restore(self, snap: dict[str, Any]) -> None:
        super().restore(snap)
        self._notify_outputs()

    @property
    def _counter_state(self) -> list:
        return self.counters.state()

    @_counter_state.setter
    def _counter_state(self, value: list) -> None:
        self.counters.load(value)

    @property
    def _waves(self) -> list:
        return [repr(s) if s is not None else None for s in self.signals]

    @_waves.setter
    def _waves(self, value: list) -> None:
        pass                                     # the Signal objects stay; their timers are restored

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
        """Drive `pin` from outside the chip (1/0/True/False), or release it (None). Stops a waveform on it."""
        i = self._local(pin)
        if level is not None and level not in (0, 1, True, False):
            raise ValueError(f"{self.name}: level must be 0, 1 or None, not {level!r}")
        self.signals[i] = None
        self.wave[i].cancel()
        self._drive(i, level)

    def drive_waveform(self, pin: int, signal: Signal | str | None) -> None:
        """Drive `pin` from outside with a digital waveform over virtual time (a Signal or a description such as
        "square(0, 1, 1kHz)" or "steps(0:1, 10ms:0, 20ms:1)"; levels above 0.5 are high). None releases it."""
        i = self._local(pin)
        if signal is None:
            self.signals[i] = None
            self.wave[i].cancel()
            self._drive(i, None)
            return
        try:
            signal = parse_signal(signal)
        except SignalError as exc:
            raise ValueError(f"{self.name}: GPIO {pin}: {exc}") from None
        self.signals[i] = signal
        self._drive(i, int(signal.value_at(self.clock.now) > 0.5))
        self._schedule_wave(i)

    def _schedule_wave(self, i: int) -> None:
        signal = self.signals[i]
        nxt = signal.next_edge(self.clock.now) if signal is not None else None
        if nxt is not None:
            self.wave[i].start_at(max(nxt, self.clock.now + 1))

    def _wave_edge(self, i: int) -> None:
        signal = self.signals[i]
        if signal is None:
            return
        self._drive(i, int(signal.value_at(self.clock.now) > 0.5))
        self._schedule_wave(i)

    def _drive(self, i: int, level: int | bool | None) -> None:
        pin = self.first_pin + i
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

    # ---- GPIOIF counters ----------------------------------------------------------------------------------------
    def _counting(self) -> bool:
        g = self.regs.GPIO_PWM_GRP_GLOBAL_CTRL
        return bool(g.GPIO_CNT_MODE_EN and g.GPIO_CNT_CLK_EN and g.GPIO_CR_SW_RST_B)

    def _pads_changed(self) -> None:
        """Feed the counters the edges of pins 0..2 (GPIO_0/1 through their debounce)."""
        for i in range(3):
            level = self._pad(i)
            if level == self._last_pads[i]:
                continue
            self._last_pads[i] = level
            ctrl = self.regs.GPIO_CNT_STATIC_CTRL0 if i == 0 else self.regs.GPIO_CNT_STATIC_CTRL1
            if i < 2 and ctrl.DGLT_EN and ctrl.DGLT_MIN_PULSE_WID:
                # Debounce: the change counts only if it lasts the minimum pulse width (a glitch cancels it).
                if self._pending_edges[i] is not None:
                    self._pending_edges[i] = None
                    self.deglitch[i].cancel()
                    continue
                self._pending_edges[i] = [level, self.clock.now]
                self.deglitch[i].start(ps_for_cycles(ctrl.DGLT_MIN_PULSE_WID, COUNTER_CLOCK_HZ))
                continue
            self._count_edge(i, level, self.clock.now)

    def _deglitch_done(self, i: int) -> None:
        pending, self._pending_edges[i] = self._pending_edges[i], None
        if pending is not None:
            self._count_edge(i, pending[0], pending[1])

    def _count_edge(self, i: int, level: int, when: int) -> None:
        if not self._counting():
            self.counters.levels[i] = level
            return
        dyn = self.regs.GPIO_CNT_DYNAMIC_CTRL0
        self.counters.edge(i, level, when, self.regs.GPIO_CNT_STATIC_CTRL3.value, bool(dyn.EVENT_CNT_EN),
                           bool(dyn.CAP_CNT_EN), self.regs.GPIO_CNT_LOW_LIMIT.value,
                           self.regs.GPIO_CNT_HIGH_LIMIT.value, self.regs.GPIO_CNT_RST_VAL.value)
        self.update_irq()

    def _global_written(self, value: int, old: RegisterView) -> None:
        if old.GPIO_CR_SW_RST_B and not self.regs.GPIO_PWM_GRP_GLOBAL_CTRL.GPIO_CR_SW_RST_B:
            # Software reset of the group's counters (MediaTek mtk_hdl_gpioif_global_reset pulses it low).
            for name in ("GPIO_CNT_STATIC_CTRL0", "GPIO_CNT_STATIC_CTRL1", "GPIO_CNT_STATIC_CTRL2",
                         "GPIO_CNT_STATIC_CTRL3", "GPIO_CNT_DYNAMIC_CTRL0", "GPIO_CNT_RST_VAL", "GPIO_CNT_LOW_LIMIT",
                         "GPIO_CNT_HIGH_LIMIT", "GPIO_CNT_INT_EN"):
                self.regs[name] = 0
            self.counters.reset()
            self.counters.levels = [self._pad(i) for i in range(3)]
            self._pending_edges = [None, None]
            for t in self.deglitch:
                t.cancel()
        self.update_irq()

    def _dynamic_written(self, value: int, old: RegisterView) -> None:
        dyn = self.regs.GPIO_CNT_DYNAMIC_CTRL0
        if (dyn.EVENT_CNT_EN and not old.EVENT_CNT_EN) or dyn.EVENT_CNT_SW_RST:
            self.counters.value = self.regs.GPIO_CNT_RST_VAL.value
        if (dyn.CAP_CNT_EN and not old.CAP_CNT_EN) or dyn.CAP_CNT_SW_RST:
            for fifo in self.counters.fifos:
                fifo.clear()
            self.counters.enabled_at = self.clock.now
        self.counters.levels = [self._pad(i) for i in range(3)]
        self.update_irq()

    def _cnt_int_written(self, value: int) -> None:
        self.update_irq()

    def _cnt_sts_clr(self, value: int) -> None:
        self.counters.status &= ~value
        self.update_irq()

    def _read_cnt_sts(self) -> int:
        return self.counters.status

    def _read_cap_sts(self) -> int:
        return self.counters.fifo_status()

    def _counter_clocked(self) -> bool:
        g = self.regs.GPIO_PWM_GRP_GLOBAL_CTRL
        return bool(g.GPIO_CNT_CLK_EN and g.GPIO_CR_SW_RST_B)

    def _read_capture(self, fifo: int) -> int:
        # With the counter clock off the capture logic does not run: a read returns 0 and flags nothing
        # (emulator-defined; MediaTek's hardware reset reads both FIFOs before it turns the clock on).
        if not self._counter_clocked():
            return 0
        value = self.counters.read_capture(fifo)
        self.update_irq()
        return value

    def _read_cap0(self) -> int:
        return self._read_capture(0)

    def _read_cap1(self) -> int:
        return self._read_capture(1)

    def _read_counter(self) -> int:
        return self.counters.value & 0xFFFFFFFF

    def counter_value(self) -> int:
        """The GPIOIF event counter (what COUNTER_VALUE reads)."""
        return self.counters.value & 0xFFFFFFFF

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
        if getattr(self, "_last_pads", None) is not None:
            self._pads_changed()
            self.irq[PINS].set(bool(self.counters.status & self.regs.GPIO_CNT_INT_EN.value))

