"""MT3620 PWM controllers 0-2 (0x38011000 / 0x38021000 / 0x38031000): four channels each, on GPIO 4n..4n+3.

Register map and the bring-up sequence: CodethinkLabs/mt3620-m4-drivers mt3620/gpio.h (mt3620_pwm_t,
MT3620_PWM_*_DEF) and GPIO.c (PWM_ConfigurePin); control bits: MediaTek-Labs/mt3620_m4_software
MT3620_M4_Driver/HDL/src/hdl_pwm.c.

  0x000 GLO_CTRL      bit0 GLOBAL_KICK, bits[2:1] tick clock (0 = 32.768 kHz, 1 = 2 MHz, 2 = 26 MHz xtal),
                      bits[15:8] per-channel pad select
  0x100 + 0x10*ch     CTRL: bit0 KICK, bit1 REPLAY_MODE, bit2 POLARITY, bit3 PWM_IO_CTRL, bit4 PWM_CLOCK_EN,
                      bit5 PWM_GLOBAL_KICK_ENABLE, bits[19:8] S0_STAY_CYCLE, bits[31:20] S1_STAY_CYCLE
  +0x4 PARAM_S0, +0x8 PARAM_S1   on time [15:0], off time [31:16], in ticks

Waveform (emulator-defined where not public): once kicked with the clock enabled, a channel repeats periods of
`on` ticks active then `off` ticks inactive, using PARAM_S0 for S0_STAY_CYCLE periods and then PARAM_S1 for
S1_STAY_CYCLE periods; with S1_STAY_CYCLE = 0 it stays on S0. Without REPLAY_MODE the S0/S1 sequence runs once and
then keeps the S1 pattern. POLARITY 1 (the documented default) means active = high. Levels are computed from
virtual time on demand; no event is scheduled per edge.
"""
from __future__ import annotations

from typing import Any, Callable

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterArray, ResetKind

PWM_BASE = 0x38011000
PWM_STRIDE = 0x10000
CHANNELS = 4
TICK_HZ = {0: 32768, 1: 2_000_000, 2: 26_000_000, 3: 26_000_000}


class Pwm(Peripheral):
    SIZE = 0x1000
    IRQS = ()

    REGISTERS = (
        Register(0x000, "PWM_GLO_CTRL", write="_write_glo", fields=(
            Field("GLOBAL_KICK", 0, 1, "wo"), Field("PWM_TICK_CLOCK_SEL", 1, 2),
            Field("PWM0_DP_SEL", 8, 2, "rw", 0), Field("PWM1_DP_SEL", 10, 2, "rw", 1),
            Field("PWM2_DP_SEL", 12, 2, "rw", 2), Field("PWM3_DP_SEL", 14, 2, "rw", 3))),
        RegisterArray("PWM", 0x100, count=CHANNELS, stride=0x10, names="PWM{i}_{reg}", registers=(
            Register(0x0, "CTRL", write="_write_ctrl", fields=(
                Field("KICK", 0, 1, "wo"), Field("REPLAY_MODE", 1), Field("POLARITY", 2, 1, "rw", 1),
                Field("PWM_IO_CTRL", 3, 1, "rw", 1), Field("PWM_CLOCK_EN", 4), Field("PWM_GLOBAL_KICK_ENABLE", 5),
                Field("S0_STAY_CYCLE", 8, 12), Field("S1_STAY_CYCLE", 20, 12))),
            Register(0x4, "PARAM_S0", write="_write_param", fields=(Field("ON", 0, 16), Field("OFF", 16, 16))),
            Register(0x8, "PARAM_S1", write="_write_param", fields=(Field("ON", 0, 16), Field("OFF", 16, 16))))),
    )

    STATE = ("kicked_at",)

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        base = PWM_BASE if base is None else int(base)
        offset = base - PWM_BASE
        if offset < 0 or offset % PWM_STRIDE or offset // PWM_STRIDE > 2:
            raise ValueError(f"Pwm: 0x{base:08x} is not a PWM controller base (0x38011000 + n*0x10000, n < 3)")
        self.base_address = base
        self.controller = offset // PWM_STRIDE
        self._listeners: list[Callable[[int, dict], None]] = []
        super().__init__(name or f"pwm{self.controller}", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.kicked_at: list[int | None] = [None] * CHANNELS

    def add_change_listener(self, fn: Callable[[int, dict], None]) -> None:
        """`fn(channel, channel_state(channel))` after a write changes a channel's configuration or run state."""
        self._listeners.append(fn)

    def pin(self, ch: int) -> int:
        return 4 * self.controller + self._ch(ch)

    # ---- derived values ---------------------------------------------------------------------------------------
    def _ch(self, ch: int) -> int:
        if not isinstance(ch, int) or not 0 <= ch < CHANNELS:
            raise ValueError(f"{self.name}: PWM channel must be 0..3, not {ch!r}")
        return ch

    def tick_hz(self) -> int:
        return TICK_HZ[self.regs.PWM_GLO_CTRL.PWM_TICK_CLOCK_SEL]

    def _params(self, ch: int, state: int) -> tuple[int, int]:
        """(on, off) ticks of pattern S0 or S1."""
        param = self.regs.PWM[ch].PARAM_S1 if state else self.regs.PWM[ch].PARAM_S0
        return param.ON, param.OFF

    def running(self, ch: int) -> bool:
        ch = self._ch(ch)
        return self.kicked_at[ch] is not None and bool(self.regs.PWM[ch].CTRL.PWM_CLOCK_EN)

    def _active_high(self, ch: int) -> bool:
        return bool(self.regs.PWM[ch].CTRL.POLARITY)

    def _state_at(self, ch: int, ticks: int) -> tuple[int, int]:
        """(S0 or S1, tick position inside the current period) after `ticks` ticks of running."""
        ctrl = self.regs.PWM[ch].CTRL
        s0_stay, s1_stay = ctrl.S0_STAY_CYCLE, ctrl.S1_STAY_CYCLE
        p0, p1 = sum(self._params(ch, 0)), sum(self._params(ch, 1))
        if s1_stay == 0 or p1 == 0:
            return (0, ticks % p0) if p0 else (0, 0)
        len0, len1 = max(1, s0_stay) * p0, s1_stay * p1
        if ctrl.REPLAY_MODE:
            ticks %= (len0 + len1)
        if ticks < len0:
            return 0, ticks % p0 if p0 else 0
        return 1, (ticks - len0) % p1

    def duty_cycle(self, ch: int, state: int | None = None) -> float:
        """Fraction of each period the pin is high, for the S0 pattern (or `state`), 0.0 when stopped."""
        ch = self._ch(ch)
        if not self.running(ch):
            return 0.0 if self._active_high(ch) else 1.0
        if state is None:
            state = self.current_state(ch)
        on, off = self._params(ch, state)
        if on + off == 0:
            return 0.0 if self._active_high(ch) else 1.0
        active = on / (on + off)
        return active if self._active_high(ch) else 1.0 - active

    def frequency_hz(self, ch: int, state: int = 0) -> float:
        on, off = self._params(self._ch(ch), state)
        return self.tick_hz() / (on + off) if on + off else 0.0

    def current_state(self, ch: int) -> int:
        ch = self._ch(ch)
        if not self.running(ch):
            return 0
        return self._state_at(ch, self._ticks(ch))[0]

    def _ticks(self, ch: int) -> int:
        return (self.clock.now - self.kicked_at[ch]) * self.tick_hz() // PS_PER_SECOND

    def output_level(self, ch: int) -> int:
        """Pin level of channel `ch` now (virtual time). A stopped channel rests at its inactive level."""
        ch = self._ch(ch)
        high = self._active_high(ch)
        if not self.running(ch):
            return 0 if high else 1
        state, pos = self._state_at(ch, self._ticks(ch))
        on, off = self._params(ch, state)
        active = pos < on
        return int(active == high)

    def channel_state(self, ch: int) -> dict:
        ch = self._ch(ch)
        return {"running": self.running(ch), "duty_cycle": self.duty_cycle(ch, 0),
                "frequency_hz": self.frequency_hz(ch, 0), "level": self.output_level(ch),
                "pin": self.pin(ch)}

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _notify(self, ch: int) -> None:
        info = self.channel_state(ch)
        for fn in list(self._listeners):
            fn(ch, info)

    def _write_glo(self, value: int) -> None:
        glo = self.regs.PWM_GLO_CTRL
        if glo.GLOBAL_KICK:
            # Global kick starts every channel that opted in with PWM_GLOBAL_KICK_ENABLE; the bit self-clears.
            glo.GLOBAL_KICK = 0
            for ch in range(CHANNELS):
                if self.regs.PWM[ch].CTRL.PWM_GLOBAL_KICK_ENABLE:
                    self.kicked_at[ch] = self.clock.now
        for ch in range(CHANNELS):
            self._notify(ch)

    def _write_ctrl(self, ch: int, value: int) -> None:
        ctrl = self.regs.PWM[ch].CTRL
        if ctrl.KICK:
            ctrl.KICK = 0                       # self-clearing
            self.kicked_at[ch] = self.clock.now
        if not ctrl.PWM_CLOCK_EN:
            self.kicked_at[ch] = None           # clock gated: the channel stops
        self._notify(ch)

    def _write_param(self, ch: int, value: int) -> None:
        self._notify(ch)
