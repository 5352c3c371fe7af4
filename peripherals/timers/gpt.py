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
from mt3620.engine.simulation.peripheral import (COLD, Field, Link, Peripheral, Register, RegisterArray, ResetKind,
                                                 Timer)
from mt3620.engine.simulation.protocols import ClockSource

MASK32 = 0xFFFFFFFF
XTAL_HZ = 26_000_000
SLOW_32K = (32768, 33)      # (numerator, denominator) Hz: 32768/33 Hz, CTD gpt.h MT3620_GPT_012_LOW_SPEED
FAST_32K = (32768, 1)


class _Counter:
    """One timer's live count: `base` at virtual time `start` when running, counting at num/den Hz."""

    def __init__(self, down: bool) -> None:
        self.down = down
        self.running = False
        self.base = 0
        self.start = 0
        self.freq = (1, 1)
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

    def state(self) -> dict:
        return {"running": self.running, "base": self.base, "start": self.start, "freq": self.freq,
                "periods": self.periods}


class Gpt(Peripheral):
    SIZE = 0x100
    IRQS = ("gpt01", "gpt3")

    # The counters are computed from virtual time (volatile): they change without any event, so the engine treats
    # a loop polling them as waiting on time, never as idle.
    REGISTERS = (
        Register(0x00, "GPT_ISR", fields=(Field("GPT0_INT", 0, 1, "w1c"), Field("GPT1_INT", 1, 1, "w1c")),
                 write="_irq_changed"),
        Register(0x04, "GPT_IER", fields=(Field("GPT0_INT_EN", 0), Field("GPT1_INT_EN", 1)), write="_irq_changed"),
        # GPT0 and GPT1: CTRL at 0x10 / 0x20, ICNT at 0x14 / 0x24; a new ICNT takes effect at the next enable,
        # restart or repeat reload.
        RegisterArray("GPT", 0x10, count=2, stride=0x10, names="GPT{i}_{reg}", registers=(
            Register(0x0, "CTRL", write="_write_ctrl01", fields=(
                Field("EN", 0), Field("MODE", 1, doc="1 = repeat"), Field("SPEED", 2, doc="1 = 32.768 kHz"),
                Field("RESTART", 3))),
            Register(0x4, "ICNT"))),
        Register(0x30, "GPT2_CTRL", fields=(Field("EN", 0), Field("SPEED", 1)), write="_write_ctrl2"),
        Register(0x34, "GPT2_CNT", read="_read_cnt2", write="_write_cnt2", volatile=True),
        RegisterArray("CNT01", 0x40, count=2, stride=4, names="GPT{i}_CNT",
                      registers=Register(0x0, "CNT", access="ro", read="_read_cnt01", volatile=True)),
        Register(0x50, "GPT3_CTRL", fields=(Field("EN", 0), Field("GPT3_ICLR", 15, 1, "wo"),
                                            Field("OSC_CNT_1US", 16, 6, "rw", 0x19)), write="_write_ctrl3"),
        Register(0x54, "GPT3_INIT"),
        Register(0x58, "GPT3_CNT", access="ro", read="_read_cnt3", volatile=True),
        Register(0x5C, "GPT3_EXPIRE", write="_write_expire3"),
        Register(0x60, "GPT4_CTRL", fields=(Field("EN", 0), Field("SPEED", 1, doc="1 = bus clock, 0 = half")),
                 write="_write_ctrl4"),
        Register(0x64, "GPT4_INIT"),
        Register(0x68, "GPT4_CNT", access="ro", read="_read_cnt4", volatile=True),
    )
    STATE = ("gpt3_pending", "held", "counter_state", "bus_hz")

    expiry = Timer("_expire", count=5)          # GPT0, GPT1 and GPT3 expire; GPT2 and GPT4 only count
    hclk = Link(ClockSource, bind="_follow_hclk", doc="the core's bus clock (the RGU): GPT4 counts it")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.bus_hz = int(attributes.get("hclk_hz", XTAL_HZ))
        self.c = [_Counter(down=i < 2) for i in range(5)]
        super().__init__(name or "gpt", clock, **attributes)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        for c in self.c:
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
            c.running, c.base, c.start, c.freq, c.periods = (s["running"], s["base"], s["start"], tuple(s["freq"]),
                                                             s["periods"])

    def _follow_hclk(self, source: ClockSource) -> None:
        self.bus_hz = source.hz
        source.add_clock_listener(self.set_hclk)

    def set_hclk(self, hz: int) -> None:
        """The bus clock changed (RGU HCLK source); GPT4 keeps its count and continues at the new rate."""
        self.bus_hz = int(hz)
        if self.c[4].running:
            self._rebase(4, self._freq(4))

    # ---- clocks -------------------------------------------------------------------------------------------------
    def _freq(self, i: int) -> tuple[int, int]:
        regs = self.regs
        if i < 2:
            return FAST_32K if regs.GPT[i].CTRL.SPEED else SLOW_32K
        if i == 2:
            return FAST_32K if regs.GPT2_CTRL.SPEED else SLOW_32K
        if i == 3:
            return (XTAL_HZ, regs.GPT3_CTRL.OSC_CNT_1US + 1)
        return (self.bus_hz, 1) if regs.GPT4_CTRL.SPEED else (self.bus_hz, 2)

    def frequency_hz(self, i: int) -> float:
        num, den = self._freq(i)
        return num / den

    def linear_read(self, offset: int) -> tuple[int, int, int, int, bool] | None:
        """(base, start ps, num, den, down) when a read at `offset` is, until the next write or event, the pure
        function (base +- (now - start) * num // (den * 10^12)) & 0xFFFFFFFF of virtual time: the running up-counters
        GPT2-4. Renode's shim then answers a polling loop itself (engine/renode/bridge.py, `LIN`)."""
        i = {0x34: 2, 0x58: 3, 0x68: 4}.get(offset)
        if i is None or not self.c[i].running:
            return None
        c = self.c[i]
        return c.base, c.start, c.freq[0], c.freq[1], c.down

    def count(self, i: int) -> int:
        c = self.c[i]
        if not c.running:
            return self.held[i]
        if i < 2:
            t = c.ticks(self.clock.now)
            if self.regs.GPT[i].CTRL.MODE:      # repeat: base .. 0, then reloads (see _expire)
                return c.base - t % (c.base + 1)
            return max(0, c.base - t)
        return c.value(self.clock.now)

    def _start(self, i: int, base: int) -> None:
        c = self.c[i]
        c.running, c.base, c.start, c.freq, c.periods = True, base & MASK32, self.clock.now, self._freq(i), 0
        self._arm(i)

    def _stop(self, i: int) -> None:
        self.held[i] = self.count(i)
        self.expiry[i].cancel()
        self.c[i].running = False

    def _rebase(self, i: int, freq: tuple[int, int]) -> None:
        """Keep the current count and continue at a new rate (speed change while running): a down-counter's next
        expiry is then value + 1 ticks away."""
        c = self.c[i]
        c.base, c.start, c.freq, c.periods = self.count(i), self.clock.now, freq, 0
        self._arm(i)

    def _period_ticks(self, i: int) -> int:
        if i < 2:
            return self.c[i].base + 1
        return ((self.regs.GPT3_EXPIRE.value - self.c[3].base) & MASK32) + 1

    def _arm(self, i: int) -> None:
        if i not in (0, 1, 3):
            return
        c = self.c[i]
        self.expiry[i].start_at(c.time_of_tick(self._period_ticks(i) * (c.periods + 1) if i < 2
                                               else self._period_ticks(i)))

    def _expire(self, i: int) -> None:
        c = self.c[i]
        if i == 3:
            self.gpt3_pending = True
            self.update_irq()
            return
        self.regs.GPT_ISR.value |= 1 << i
        regs = self.regs.GPT[i]
        if regs.CTRL.MODE:
            # Repeat: reload from ICNT. A new ICNT written meanwhile takes effect here.
            icnt = regs.ICNT.value
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
            regs.CTRL.EN = 0
        self.update_irq()

    # ---- register callbacks -----------------------------------------------------------------------------------
    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs.GPT_ISR.value & self.regs.GPT_IER.value))
        self.irq[1].set(self.gpt3_pending)

    def _irq_changed(self, value: int) -> None:
        self.update_irq()

    def _write_ctrl01(self, i: int, value: int) -> None:
        c, ctrl = self.c[i], self.regs.GPT[i].CTRL
        if ctrl.EN and not c.running:
            self._start(i, self.regs.GPT[i].ICNT.value)      # enabling loads ICNT
        elif not ctrl.EN and c.running:
            self._stop(i)
        elif ctrl.EN and ctrl.RESTART:
            self._start(i, self.regs.GPT[i].ICNT.value)      # RESTART while running reloads ICNT
        elif ctrl.EN:
            # A speed change continues from the current count at the new rate; a mode change re-arms from the
            # current position.
            self._rebase(i, self._freq(i))

    def _read_cnt01(self, i: int) -> int:
        return self.count(i)

    def _write_ctrl2(self, value: int) -> None:
        self._enable(2, self.regs.GPT2_CTRL.EN, self.held[2])

    def _read_cnt2(self) -> int:
        return self.count(2)

    def _write_cnt2(self, value: int) -> None:
        # CTD GPT.c: "GPT2 is different; you have to write to cnt to set init count".
        if self.c[2].running:
            self._start(2, value)
        else:
            self.held[2] = value & MASK32

    def _write_ctrl3(self, value: int) -> None:
        ctrl = self.regs.GPT3_CTRL
        if ctrl.GPT3_ICLR:
            # ICLR: a write of 1 clears the GPT3 interrupt; the bit does not stay set (reads 0).
            self.gpt3_pending = False
            ctrl.GPT3_ICLR = 0
        self._enable(3, ctrl.EN, self.regs.GPT3_INIT.value)      # enabling loads INIT
        self.update_irq()

    def _read_cnt3(self) -> int:
        return self.count(3)

    def _write_expire3(self, value: int) -> None:
        c = self.c[3]
        if c.running:
            # The comparison restarts from the current count.
            c.base, c.start = self.count(3), self.clock.now
            self._arm(3)

    def _write_ctrl4(self, value: int) -> None:
        self._enable(4, self.regs.GPT4_CTRL.EN, self.regs.GPT4_INIT.value)

    def _read_cnt4(self) -> int:
        return self.count(4)

    def _enable(self, i: int, en: int, initial: int) -> None:
        """CTRL of GPT2-4: enabling starts from `initial`, disabling holds the count, a new speed continues."""
        c = self.c[i]
        if en and not c.running:
            self._start(i, initial)
        elif not en and c.running:
            self._stop(i)
        elif c.running and self._freq(i) != c.freq:
            self._rebase(i, self._freq(i))
