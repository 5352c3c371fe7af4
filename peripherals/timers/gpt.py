"""MT3620 general-purpose timers GPT0-4 (0x21030000), IRQ 1 (GPT0/GPT1) and IRQ 2 (GPT3).

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/gpt.h (mt3620_gpt_t); control bits and clock choices:
MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/src/hdl_gpt.c.

  GPT0, GPT1  count down from ICNT at 32768/33 Hz (SPEED 0, "1 kHz") or 32768 Hz (SPEED 1); after ICNT + 1 ticks the
              ISR bit is set (IRQ 1 when enabled in IER); repeat mode reloads ICNT, one-shot mode stops.
  GPT2        free-running up-counter at 32768/33 or 32768 Hz; software sets the count by writing CNT.
  GPT3        counts up from INIT at 26 MHz / (OSC_CNT_1US + 1) (reset 0x19: 1 MHz); when EXPIRE - INIT + 1 ticks have
              elapsed IRQ 2 is raised and held until software writes CTRL.ICLR.
  GPT4        free-running up-counter from INIT at the bus clock (SPEED 1) or half of it (SPEED 0).

Counters are computed from virtual time when read: nothing ticks per count. Expiries are clock events.
"""
from __future__ import annotations

from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

MASK32 = 0xFFFFFFFF
XTAL_HZ = 26_000_000
SLOW_32K = (32768, 33)      # (numerator, denominator) Hz: 32768/33 Hz, CTD gpt.h MT3620_GPT_012_LOW_SPEED
FAST_32K = (32768, 1)


class _Counter:
    """One timer's live count: `base` at virtual time `start` when running, counting at num/den Hz."""

    def __init__(self, name: str, down: bool) -> None:
        self.name = name
        self.down = down
        self.running = False
        self.base = 0
        self.start = 0
        self.freq = (1, 1)
        self.event = None
        self.periods = 0          # expiries already signalled since `start` (repeat mode)

    def ticks(self, now: int) -> int:
        if not self.running:
            return 0
        num, den = self.freq
        return (now - self.start) * num // (den * PS_PER_SECOND)

    def time_of_tick(self, n: int) -> int:
        num, den = self.freq
        return self.start + -(-n * den * PS_PER_SECOND // num)

    def value(self, now: int) -> int:
        t = self.ticks(now)
        return (self.base - t) & MASK32 if self.down else (self.base + t) & MASK32

    def cancel(self) -> None:
        if self.event is not None:
            self.event.cancel()
            self.event = None

    def state(self) -> dict:
        return {"running": self.running, "base": self.base, "start": self.start, "freq": self.freq,
                "periods": self.periods, "armed": self.event is not None}


def _ctrl01(reset: int = 0) -> tuple[Field, ...]:
    return (Field("EN", 0), Field("MODE", 1, doc="1 = repeat"), Field("SPEED", 2, doc="1 = 32.768 kHz"),
            Field("RESTART", 3))


class Gpt(Peripheral):
    SIZE = 0x100
    IRQS = ("gpt01", "gpt3")

    # Counters computed from virtual time: they change without any event, so the engine never treats a loop
    # polling them as idle (engine/cortex_m.py, polling-loop skip).
    TIME_VARYING_OFFSETS = frozenset({0x34, 0x40, 0x44, 0x58, 0x68})
    REGISTERS = (
        Register(0x00, "GPT_ISR", fields=(Field("GPT0_INT", 0, 1, "w1c"), Field("GPT1_INT", 1, 1, "w1c")),
                 write="_irq_changed"),
        Register(0x04, "GPT_IER", fields=(Field("GPT0_INT_EN", 0), Field("GPT1_INT_EN", 1)), write="_irq_changed"),
        Register(0x10, "GPT0_CTRL", fields=_ctrl01(), write="_write_ctrl0"),
        Register(0x14, "GPT0_ICNT", write="_write_icnt"),
        Register(0x20, "GPT1_CTRL", fields=_ctrl01(), write="_write_ctrl1"),
        Register(0x24, "GPT1_ICNT", write="_write_icnt"),
        Register(0x30, "GPT2_CTRL", fields=(Field("EN", 0), Field("SPEED", 1)), write="_write_ctrl2"),
        Register(0x34, "GPT2_CNT", read="_read_cnt2", write="_write_cnt2"),
        Register(0x40, "GPT0_CNT", access="ro", read="_read_cnt0"),
        Register(0x44, "GPT1_CNT", access="ro", read="_read_cnt1"),
        Register(0x50, "GPT3_CTRL", fields=(Field("EN", 0), Field("GPT3_ICLR", 15, 1, "wo"),
                                            Field("OSC_CNT_1US", 16, 6, "rw", 0x19)), write="_write_ctrl3"),
        Register(0x54, "GPT3_INIT"),
        Register(0x58, "GPT3_CNT", access="ro", read="_read_cnt3"),
        Register(0x5C, "GPT3_EXPIRE", write="_write_expire3"),
        Register(0x60, "GPT4_CTRL", fields=(Field("EN", 0), Field("SPEED", 1, doc="1 = bus clock, 0 = half")),
                 write="_write_ctrl4"),
        Register(0x64, "GPT4_INIT"),
        Register(0x68, "GPT4_CNT", access="ro", read="_read_cnt4"),
    )

    STATE = ("gpt3_pending", "held", "counter_state", "bus_hz")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.bus_hz = int(attributes.get("hclk_hz", XTAL_HZ))
        self.c = [_Counter(f"gpt{i}", down=i < 2) for i in range(5)]
        super().__init__(name or "gpt", clock, **attributes)
        # Follow this core's HCLK (the RGU drives the shared clock domain), see peripherals/clock/rgu.py.
        from mt3620.peripherals.clock.rgu import ClockDomain
        domain = ClockDomain.for_attributes(attributes)
        if domain is not None:
            self.bus_hz = domain.hz
            domain.add_listener(self.set_hclk)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        for c in self.c:
            c.cancel()
            c.running = False
            c.base = 0
            c.periods = 0
        self.gpt3_pending = False
        self.held = [0] * 5        # value shown while a counter is stopped
        self.update_irq()

    @property
    def counter_state(self) -> list[dict]:
        return [c.state() for c in self.c]

    @counter_state.setter
    def counter_state(self, states: list[dict]) -> None:
        for c, s in zip(self.c, states):
            c.cancel()
            c.running, c.base, c.start, c.freq, c.periods = (s["running"], s["base"], s["start"], tuple(s["freq"]),
                                                             s["periods"])
        for i in (0, 1, 3):
            if self.c[i].running and states[i]["armed"]:
                self._arm(i)

    def set_hclk(self, hz: int) -> None:
        """The bus clock changed (RGU HCLK source); GPT4 keeps its count and continues at the new rate."""
        self.bus_hz = int(hz)
        if self.c[4].running:
            self._rebase(4, self._freq(4))

    # ---- clocks -------------------------------------------------------------------------------------------------
    def _freq(self, i: int) -> tuple[int, int]:
        if i in (0, 1):
            return FAST_32K if self.regs[f"GPT{i}_CTRL"] & 4 else SLOW_32K
        if i == 2:
            return FAST_32K if self.regs["GPT2_CTRL"] & 2 else SLOW_32K
        if i == 3:
            osc = (self.regs["GPT3_CTRL"] >> 16) & 0x3F
            return (XTAL_HZ, osc + 1)
        return (self.bus_hz, 1) if self.regs["GPT4_CTRL"] & 2 else (self.bus_hz, 2)

    def frequency_hz(self, i: int) -> float:
        num, den = self._freq(i)
        return num / den

    def count(self, i: int) -> int:
        c = self.c[i]
        if not c.running:
            return self.held[i]
        if i in (0, 1):
            t = c.ticks(self.clock.now)
            if self.regs[f"GPT{i}_CTRL"] & 2:      # repeat: base .. 0, then reloads (see _expire)
                return c.base - t % (c.base + 1)
            return max(0, c.base - t)
        return c.value(self.clock.now)

    def _start(self, i: int, base: int) -> None:
        c = self.c[i]
        c.cancel()
        c.running, c.base, c.start, c.freq, c.periods = True, base & MASK32, self.clock.now, self._freq(i), 0
        if i in (0, 1, 3):
            self._arm(i)

    def _stop(self, i: int) -> None:
        self.held[i] = self.count(i)
        self.c[i].cancel()
        self.c[i].running = False

    def _rebase(self, i: int, freq: tuple[int, int]) -> None:
        """Keep the current count and continue at a new rate (speed change while running)."""
        value = self.count(i)
        c = self.c[i]
        c.cancel()
        c.base, c.start, c.freq, c.periods = value, self.clock.now, freq, 0
        if i in (0, 1):
            # Counting down from the current value: the next expiry is value + 1 ticks away.
            c.base = value
        if i in (0, 1, 3):
            self._arm(i)

    def _period_ticks(self, i: int) -> int:
        if i in (0, 1):
            return self.c[i].base + 1
        return ((self.regs["GPT3_EXPIRE"] - self.c[3].base) & MASK32) + 1

    def _arm(self, i: int) -> None:
        c = self.c[i]
        when = c.time_of_tick(self._period_ticks(i) * (c.periods + 1) if i in (0, 1) else self._period_ticks(i))
        c.event = self.clock.schedule_at(when, lambda i=i: self._expire(i), f"{self.name}.gpt{i}")

    def _expire(self, i: int) -> None:
        c = self.c[i]
        c.event = None
        if i == 3:
            self.gpt3_pending = True
            self.update_irq()
            return
        self.regs["GPT_ISR"] |= 1 << i
        ctrl = f"GPT{i}_CTRL"
        if self.regs[ctrl] & 2:
            # Repeat: reload from ICNT. A new ICNT written meanwhile takes effect here.
            icnt = self.regs[f"GPT{i}_ICNT"]
            if icnt + 1 != self._period_ticks(i):
                c.base, c.start, c.periods = icnt, c.time_of_tick(self._period_ticks(i) * (c.periods + 1)), 0
            else:
                c.periods += 1
            self._arm(i)
        else:
            # One-shot: the timer stops at 0 and clears EN, so drivers can start it again (CTD GPT.c GPT_Start
            # refuses an enabled timer and never disables a one-shot timer itself).
            c.running = False
            self.held[i] = 0
            self.regs[ctrl] &= ~1
        self.update_irq()

    # ---- register callbacks -----------------------------------------------------------------------------------
    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs["GPT_ISR"] & self.regs["GPT_IER"] & 3))
        self.irq[1].set(self.gpt3_pending)

    def _irq_changed(self, value: int) -> None:
        self.update_irq()

    def _write_ctrl01(self, i: int, value: int) -> None:
        c = self.c[i]
        en = value & 1
        if en and not c.running:
            self._start(i, self.regs[f"GPT{i}_ICNT"])           # enabling loads ICNT
        elif not en and c.running:
            self._stop(i)
        elif en and value & 8:
            self._start(i, self.regs[f"GPT{i}_ICNT"])           # RESTART while running reloads ICNT
        elif en and self._freq(i) != c.freq:
            self._rebase(i, self._freq(i))
        elif en:
            # Mode change: re-arm from the current position.
            self._rebase(i, c.freq)

    def _write_ctrl0(self, value: int) -> None:
        self._write_ctrl01(0, value)

    def _write_ctrl1(self, value: int) -> None:
        self._write_ctrl01(1, value)

    def _write_icnt(self, value: int) -> None:
        """A new ICNT takes effect at the next enable, restart or repeat reload."""

    def _write_ctrl2(self, value: int) -> None:
        c = self.c[2]
        if value & 1 and not c.running:
            self._start(2, self.held[2])
        elif not value & 1 and c.running:
            self._stop(2)
        elif c.running and self._freq(2) != c.freq:
            self._rebase(2, self._freq(2))

    def _read_cnt2(self) -> int:
        return self.count(2)

    def _write_cnt2(self, value: int) -> None:
        # CTD GPT.c: "GPT2 is different; you have to write to cnt to set init count".
        if self.c[2].running:
            self._start(2, value)
        else:
            self.held[2] = value & MASK32

    def _read_cnt0(self) -> int:
        return self.count(0)

    def _read_cnt1(self) -> int:
        return self.count(1)

    def _write_ctrl3(self, value: int) -> None:
        if value & (1 << 15):
            # ICLR: a write of 1 clears the GPT3 interrupt; the bit does not stay set (reads 0).
            self.gpt3_pending = False
            self.regs["GPT3_CTRL"] &= ~(1 << 15)
        c = self.c[3]
        if value & 1 and not c.running:
            self._start(3, self.regs["GPT3_INIT"])              # enabling loads INIT
        elif not value & 1 and c.running:
            self._stop(3)
        elif c.running and self._freq(3) != c.freq:
            self._rebase(3, self._freq(3))
        self.update_irq()

    def _read_cnt3(self) -> int:
        return self.count(3)

    def _write_expire3(self, value: int) -> None:
        c = self.c[3]
        if c.running:
            c.cancel()
            # The comparison restarts from the current count.
            now_count = self.count(3)
            c.base, c.start = now_count, self.clock.now
            self._arm(3)

    def _write_ctrl4(self, value: int) -> None:
        c = self.c[4]
        if value & 1 and not c.running:
            self._start(4, self.regs["GPT4_INIT"])
        elif not value & 1 and c.running:
            self._stop(4)
        elif c.running and self._freq(4) != c.freq:
            self._rebase(4, self._freq(4))

    def _read_cnt4(self) -> int:
        return self.count(4)
